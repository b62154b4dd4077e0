"""The pictures users want: method comparisons and the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgdenoise.evaluate import method_labels
from imgdenoise.io import read_image, to_channels, write_image
from imgdenoise.metrics import psnr, ssim
from imgdenoise.noise import add_protocol_noise
from imgdenoise.passes import DEFAULT_QUALITY, split_quality
from imgdenoise.plotting import plot_comparison


def detailed_crop(image: np.ndarray, size: int) -> tuple[int, int, int]:
    """``(top, left, size)`` of the most textured square region (highest variance), on a coarse grid."""
    h, w = image.shape[:2]
    size = min(size, h, w)
    gray = image.mean(axis=-1)
    best, best_var = (0, 0), -1.0
    for top in range(0, h - size + 1, max(1, size // 2)):
        for left in range(0, w - size + 1, max(1, size // 2)):
            var = float(gray[top:top + size, left:left + size].var())
            if var > best_var:
                best, best_var = (top, left), var
    return best[0], best[1], size


def comparison_figure(clean_path, sigma: float, methods, output, *, crop=None, gray=False, overwrite=False):
    """Noisy / each method / clean side by side with PSNR and SSIM, plus a zoomed crop.

    ``methods``: names for :func:`imgdenoise.load_model`, each optionally with a quality suffix
    (``"dncnn:fast"``), labelled as :func:`imgdenoise.evaluate.method_labels` says. Returns the
    figure path and ``[(label, psnr, ssim)]`` (noisy first).
    """
    from imgdenoise import load_model

    output = Path(output)
    if output.exists() and not overwrite:
        raise FileExistsError(f"{output}: already exists (use --overwrite)")
    clean = read_image(clean_path).pixels
    if gray:
        clean = to_channels(clean, 1)
    noisy = add_protocol_noise(clean, sigma)
    rows = [("noisy", psnr(clean, noisy), ssim(clean, noisy))]
    panels = [(f"noisy (sigma {sigma:g})\n{rows[0][1]:.2f} dB / {rows[0][2]:.3f}", noisy)]
    for name, label in zip(methods, method_labels(methods)):
        base, quality = split_quality(name)
        restored = load_model(base).denoise(noisy, sigma, quality=quality or DEFAULT_QUALITY)
        rows.append((label, psnr(clean, restored), ssim(clean, restored)))
        panels.append((f"{label}\n{rows[-1][1]:.2f} dB / {rows[-1][2]:.3f}", restored))
    panels.append(("clean\nPSNR / SSIM", clean))
    region = tuple(crop) if crop else detailed_crop(clean, max(32, min(clean.shape[:2]) // 4))
    return plot_comparison(panels, output, crop=region), rows


def demo(output="demo-output", sigma: float = 25.0, model: str = "default") -> int:
    """Denoise scikit-image's ``camera`` with the shipped model; write noisy, output and a figure."""
    from skimage import data

    from imgdenoise import load_model

    out = Path(output)
    clean = (data.camera().astype(np.float32) / 255.0)[..., None]
    noisy = add_protocol_noise(clean, sigma, clip=True, quantize=True)  # what a real 8-bit file holds
    denoiser = load_model(model)
    restored = denoiser.denoise(noisy)  # blind: sigma estimated from the image
    from imgdenoise.noise import estimate_sigma

    estimated = estimate_sigma(noisy)
    for name, image in (("clean.png", clean), ("noisy.png", noisy), ("denoised.png", restored)):
        write_image(out / name, image, overwrite=True)  # the demo's own folder: refreshed each run
    figure = plot_comparison([(f"noisy\n{psnr(clean, noisy):.2f} dB", noisy),
                              (f"{denoiser.name}\n{psnr(clean, restored):.2f} dB", restored),
                              ("clean", clean)], out / "comparison.png", crop=(100, 200, 128))
    print(f"Denoised scikit-image's 'camera' (512x512 gray) with added Gaussian noise, sigma {sigma:g} "
          f"(estimated from the image: {estimated:.1f}), using the shipped model '{denoiser.name}'.")
    print(f"PSNR: noisy {psnr(clean, noisy):.2f} dB -> denoised {psnr(clean, restored):.2f} dB")
    print(f"Wrote {out / 'noisy.png'}, {out / 'denoised.png'} and the side-by-side figure {figure}")
    return 0
