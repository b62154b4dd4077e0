"""Figures (Matplotlib, headless): training curves, side-by-side comparisons, PSNR vs sigma."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imgdenoise.files import atomic_target  # noqa: E402


def _save(fig, path):
    path = Path(path)
    try:
        with atomic_target(path) as target:
            fig.savefig(target, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def plot_training_curves(csv_path, png_path):
    """Loss and validation PSNR per epoch from a Keras ``CSVLogger`` file."""
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (ax_loss, ax_psnr) = plt.subplots(1, 2, figsize=(10, 3.5))
    def series(key):
        points = [(e, float(r[key])) for e, r in zip(epochs, rows) if r.get(key) not in (None, "")]
        return list(zip(*points)) if points else None

    for key in ("loss", "val_loss"):
        if series(key):
            ax_loss.plot(*series(key), label=key)
    ax_loss.set_xlabel("epoch"), ax_loss.set_yscale("log"), ax_loss.legend(), ax_loss.set_title("loss")
    for key in ("psnr", "val_psnr"):
        if series(key):
            ax_psnr.plot(*series(key), label=key)
    ax_psnr.set_xlabel("epoch"), ax_psnr.set_ylabel("dB"), ax_psnr.set_title("PSNR")
    if ax_psnr.lines:
        ax_psnr.legend()
    return _save(fig, png_path)


def _show(ax, image, title):
    ax.imshow(np.clip(image.squeeze(), 0, 1), cmap="gray" if image.shape[-1] == 1 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def plot_comparison(panels, png_path, crop=None):
    """Side-by-side figure: ``panels`` is a list of ``(title, image (H, W, C))``.

    ``crop`` = ``(top, left, size)`` adds a second row with that zoomed region.
    """
    rows = 2 if crop else 1
    fig, axes = plt.subplots(rows, len(panels), figsize=(3.2 * len(panels), 3.4 * rows), squeeze=False)
    for col, (title, image) in enumerate(panels):
        _show(axes[0, col], image, title)
        if crop:
            top, left, size = crop
            axes[0, col].add_patch(plt.Rectangle((left, top), size, size, fill=False, edgecolor="red", lw=1))
            _show(axes[1, col], image[top:top + size, left:left + size], "zoom")
    fig.tight_layout()
    return _save(fig, png_path)


def plot_psnr_vs_sigma(records, png_path):
    """PSNR versus sigma, one line per method, from ``evaluate`` records."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    methods = sorted({r["method"] for r in records})
    for method in methods:
        points = sorted((r["sigma"], r["psnr"]) for r in records if r["method"] == method)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=method)
    ax.set_xlabel("sigma (0-255)"), ax.set_ylabel("PSNR (dB)"), ax.grid(alpha=0.3), ax.legend()
    return _save(fig, png_path)
