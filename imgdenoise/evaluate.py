"""Benchmark evaluation with the field's protocol.

For each image: noise = ``np.random.RandomState(0).normal(0, sigma/255, shape)``
added in float (not clipped or quantised); the output is clipped to [0, 1] and
rounded to 8 bits; PSNR on the 0-255 scale per image, then averaged; colour
PSNR on RGB. Every method sees the identical noisy inputs.
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
    from imgdenoise.inference import split_quality

    def short(name):
        base, quality = split_quality(name)
        if not Path(base).is_file():
            return str(name)
        return f"{Path(base).name}:{quality}" if quality else Path(base).name

    labels = [short(n) for n in names]
    return labels if len(set(labels)) == len(labels) else [str(n) for n in names]


def load_benchmark(source, gray: bool = False) -> list[tuple[str, np.ndarray]]:
    """``(name, clean image)`` pairs of a folder, a file, a glob or a list of them; ``gray`` converts to luma."""
    from imgdenoise.batch import expand_inputs

    sources = [source] if isinstance(source, (str, Path)) else list(source)
    paths = [p for src in sources for p in (list_images(src) if Path(src).is_dir() else expand_inputs([src]))]
    images = []
    for path in paths:
        pixels = read_image(path).pixels
        images.append((path.name, to_channels(pixels, 1) if gray else pixels))
    return images


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
        lines.append(f"| {r['method']} | {r['dataset']} | {r['sigma']:g} | {r['psnr']:.2f} | {r['ssim']:.4f} | "
                     f"{r['seconds_per_mpix']:.2f} | {r['images']} |")
    return "\n".join(lines)
