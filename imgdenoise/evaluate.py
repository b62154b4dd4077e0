"""Benchmark evaluation with the field's protocol, on synthetic noise or on real pairs.

Synthetic: for each image, noise = ``np.random.RandomState(0).normal(0, sigma/255, shape)``
added in float (not clipped or quantised). Real pairs (:func:`evaluate_paired`): a folder's
``noisy/`` and ``clean/`` images matched by file name, nothing added. Either way the output is
clipped to [0, 1] and rounded to 8 bits; PSNR on the 0-255 scale per image, then averaged;
colour PSNR on RGB. Every method sees the identical noisy inputs.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from imgdenoise.data import list_images
from imgdenoise.io import read_image, to_channels
from imgdenoise.metrics import psnr, ssim
from imgdenoise.noise import add_protocol_noise


def method_labels(names) -> list[str]:
    """Labels for methods in tables and figures: each name as given, but a model file by its file
    name (``runs/x/dncnn.keras:fast`` -> ``dncnn.keras:fast``) unless two labels would then clash."""
    from imgdenoise.passes import split_quality

    def short(name):
        base, quality = split_quality(name)
        if not Path(base).is_file():
            return str(name)
        return f"{Path(base).name}:{quality}" if quality else Path(base).name

    labels = [short(n) for n in names]
    return labels if len(set(labels)) == len(labels) else [str(n) for n in names]


def load_benchmark(source, gray: bool = False) -> list[tuple[str, np.ndarray]]:
    """``(name, clean image)`` pairs of a folder, a file, a glob or a list of them; ``gray`` converts to luma."""
    from imgdenoise.jobs import expand_inputs

    sources = [source] if isinstance(source, (str, Path)) else list(source)
    paths = [p for src in sources for p in (list_images(src) if Path(src).is_dir() else expand_inputs([src]))]
    images = []
    for path in paths:
        pixels = read_image(path).pixels
        images.append((path.name, to_channels(pixels, 1) if gray else pixels))
    return images


def load_pairs(root, gray: bool = False) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], list[str]]:
    """Real noisy/clean pairs of ``root`` (``root/noisy/NAME`` with ``root/clean/NAME``).

    Returns ``(pairs, problems)``: ``(name, noisy, clean)`` for each usable pair, and one line for
    each file left out (no partner, unreadable, sizes differ), so the rest can still be scored.
    Raises ValueError when ``root`` has no ``noisy/`` or ``clean/`` folder.
    """
    from imgdenoise.io import ImageReadError, is_image_file

    root = Path(root)
    folders = {kind: root / kind for kind in ("noisy", "clean")}
    for kind, folder in folders.items():
        if not folder.is_dir():
            raise ValueError(f"{root}: no {kind}/ folder (paired data is DIR/noisy/ + DIR/clean/, matched by name)")
    files = {kind: {p.name: p for p in folder.iterdir() if p.is_file() and is_image_file(p)}
             for kind, folder in folders.items()}
    problems = [f"{files[kind][name]}: no partner in {other}/"
                for kind, other in (("noisy", "clean"), ("clean", "noisy"))
                for name in sorted(files[kind].keys() - files[other].keys())]
    pairs = []
    for name in sorted(files["noisy"].keys() & files["clean"].keys()):
        try:
            noisy, clean = (read_image(files[kind][name]).pixels for kind in ("noisy", "clean"))
        except ImageReadError as error:  # names the file
            problems.append(str(error))
            continue
        if noisy.shape[:2] != clean.shape[:2]:
            problems.append(f"{files['noisy'][name]}: {noisy.shape[1]}x{noisy.shape[0]} but its clean partner is "
                            f"{clean.shape[1]}x{clean.shape[0]}")
            continue
        channels = 1 if gray or min(noisy.shape[-1], clean.shape[-1]) == 1 else 3
        pairs.append((name, to_channels(noisy, channels), to_channels(clean, channels)))
    return pairs, problems


def evaluate_paired(denoiser, pairs, *, method: str, dataset: str, sigma: float | None = None,
                    progress=None, **denoise_kwargs) -> dict:
    """Score ``denoiser`` on real ``(name, noisy, clean)`` pairs; one record, as :func:`evaluate_denoiser`'s.

    ``sigma`` None (the default) is blind: the denoiser estimates the noise of each image; a number
    (0-255) is told to it for every image. The record's ``sigma`` is ``"blind"`` or that number, and
    each per-image entry has the ``sigma`` the denoiser used where it reports one.
    """
    per_image, seconds, pixels = [], 0.0, 0
    for name, noisy, clean in pairs:
        start = time.perf_counter()
        restored = denoiser.denoise(noisy, sigma, **denoise_kwargs)
        seconds += time.perf_counter() - start
        pixels += clean.shape[0] * clean.shape[1]
        entry = {"image": name, "psnr": psnr(clean, restored), "ssim": ssim(clean, restored),
                 "noisy_psnr": psnr(clean, noisy),
                 "residual_std": float(np.std(noisy.astype(np.float64) - clean) * 255.0)}
        per_image.append(entry)
        if progress:
            progress()
    return {
        "method": method, "dataset": dataset, "sigma": "blind" if sigma is None else float(sigma),
        "psnr": float(np.mean([r["psnr"] for r in per_image])),
        "ssim": float(np.mean([r["ssim"] for r in per_image])),
        "seconds_per_mpix": seconds / max(pixels / 1e6, 1e-12), "images": len(per_image), "per_image": per_image,
    }


def evaluate_denoiser(denoiser, images, sigma: float, *, method: str, dataset: str,
                      blind: bool = False, progress=None, noise=None, **denoise_kwargs) -> dict:
    """Score ``denoiser`` on ``images`` at ``sigma`` (0-255); returns one record.

    ``blind``: the denoiser is not told sigma (it estimates it). ``noise``: another seeded noise,
    a function ``(clean, sigma) -> noisy`` (default: the protocol's AWGN).
    """
    per_image, seconds, pixels = [], 0.0, 0
    for name, clean in images:
        noisy = add_protocol_noise(clean, sigma) if noise is None else noise(clean, sigma)
        start = time.perf_counter()
        restored = denoiser.denoise(noisy, None if blind else sigma, **denoise_kwargs)
        seconds += time.perf_counter() - start
        pixels += clean.shape[0] * clean.shape[1]
        per_image.append({"image": name, "psnr": psnr(clean, restored), "ssim": ssim(clean, restored)})
        if progress:
            progress()
    return {
        "method": method, "dataset": dataset, "sigma": sigma,
        "psnr": float(np.mean([r["psnr"] for r in per_image])),
        "ssim": float(np.mean([r["ssim"] for r in per_image])),
        "seconds_per_mpix": seconds / (pixels / 1e6), "images": len(per_image), "per_image": per_image,
    }


def evaluate(denoiser, folder, sigmas, *, method: str | None = None, gray: bool = False, blind: bool = False,
             progress: bool = True, dataset: str | None = None, noise=None, **denoise_kwargs) -> list[dict]:
    """Evaluate a denoiser on a folder (or files, globs) at each sigma; a list of records
    (see :func:`evaluate_denoiser`). ``dataset`` names the set in the records (default: the folder name)."""
    images = load_benchmark(folder, gray=gray)
    if not images:
        raise ValueError(f"{folder}: no images to evaluate")
    dataset = dataset or (Path(folder).name if isinstance(folder, (str, Path)) else "images")
    method = method or getattr(denoiser, "name", "model")
    records = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(images) * len(sigmas), desc=f"{method} on {dataset}", unit="img", leave=False)
    for sigma in sigmas:
        records.append(evaluate_denoiser(denoiser, images, float(sigma), method=method, dataset=dataset,
                                         blind=blind, progress=bar.update if bar else None, noise=noise,
                                         **denoise_kwargs))
    if bar:
        bar.close()
    return records


def format_table(records) -> str:
    """Markdown table of records: method, dataset, sigma, PSNR, SSIM, s/MP."""
    lines = ["| method | dataset | sigma | PSNR (dB) | SSIM | s / MP | images |", "|---|---|---|---|---|---|---|"]
    for r in records:
        sigma = r["sigma"] if isinstance(r["sigma"], str) else f"{r['sigma']:g}"
        lines.append(f"| {r['method']} | {r['dataset']} | {sigma} | {r['psnr']:.2f} | {r['ssim']:.4f} | "
                     f"{r['seconds_per_mpix']:.2f} | {r['images']} |")
    return "\n".join(lines)
