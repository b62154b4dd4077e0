"""Inference speed on this machine, all figures from one run.

1. Peak: float32 matrix multiply (4096 x 4096) through the same Keras backend, best of 5.
2. Each shipped model (gray and colour networks) and DnCNN: network passes, FLOPs per pixel (all
   passes), and megapixels per second through ``Denoiser.denoise`` (the path users take: automatic
   tiling, default runtime) on random images of each --sizes megapixels; ours at the default
   quality (standard) and at one pass (fast), DnCNN and the seed model at one pass; "% of peak" is
   FLOPs/pixel x pixels/s over the measured peak.
3. Runtimes: the flagship gray network (one pass) at 2 MP under each runtime, with its PSNR on a
   noisy natural image (so a faster runtime that costs quality shows it). Keras backends: the same.
4. Folder pipeline: ``imgdenoise denoise`` on a folder (decode, denoise, encode, with I/O
   overlapped with compute) against the model-only time for the same images.

Usage: python benchmarks/speed.py [--sizes 0.15 2 12 50] [--repeats 3] [--update-docs]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, today, update_section  # noqa: E402

from imgdenoise.loading import load_model  # noqa: E402
from imgdenoise.models.complexity import flops_per_pixel  # noqa: E402

# (shipped name, quality): ours at the default and at one pass; DnCNN (the reference) and the seed
# model at one pass, as published
MODELS = [("unet", "standard"), ("unet", "fast"), ("dncnn", "fast"), ("seed", "fast")]
RUNTIMES = ["keras", "xla", "eager", "bf16", "onnx"]


def peak_flops(n: int = 4096, repeats: int = 5) -> float:
    """Best float32 matmul FLOP/s through the Keras backend."""
    import keras

    a = keras.ops.convert_to_tensor(np.random.default_rng(0).random((n, n), np.float32))
    b = keras.ops.convert_to_tensor(np.random.default_rng(1).random((n, n), np.float32))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def image_of(megapixels: float, channels: int) -> np.ndarray:
    width = int(round(np.sqrt(megapixels * 1e6 * 3 / 2)))
    height = int(round(megapixels * 1e6 / width))
    return np.random.default_rng(0).random((height, width, channels), np.float32)


def seconds(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after one warm-up (none for single runs)."""
    if repeats > 1:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pipeline_flops(denoiser, channels: int, quality: str) -> float:
    """FLOPs per pixel of one image through ``denoiser`` at ``quality``: every network pass counted."""
    passes = denoiser.passes(channels, quality)
    flops = flops_per_pixel(denoiser.variants[channels].model)
    if passes.luminance_weight:
        flops += flops_per_pixel(denoiser.variants[1].model)
    shuffled = len(passes.shuffled) * flops_per_pixel(denoiser.variants[channels].model)  # camera noise only
    return len(passes.modes) * flops + shuffled


def model_rows(sizes, repeats, peak):
    rows = []
    for name, quality in MODELS:
        denoiser = load_model(name)
        for channels, variant in sorted(denoiser.variants.items()):
            flops = pipeline_flops(denoiser, channels, quality)
            speeds = []
            for mp in sizes:
                image = image_of(mp, channels)
                reps = repeats if mp <= 2 else 1
                run = functools.partial(denoiser.denoise, image, 25.0, quality=quality)
                speeds.append(image.shape[0] * image.shape[1] / 1e6 / seconds(run, reps))
            label = f"{name} ({'gray' if channels == 1 else 'colour'}), {quality}"
            rows.append((label, denoiser.passes(channels, quality).count, flops, speeds))
            print(label, f"{flops / 1e6:.3f} MFLOP/px", " ".join(f"{s:.2f}" for s in speeds), "MP/s", flush=True)
    lines = ["| model, quality | network passes | MFLOP / pixel | "
             + " | ".join(f"MP/s at {mp:g} MP" for mp in sizes)
             + " | % of peak (largest) | speed vs DnCNN |", "|---|---|---|" + "---|" * len(sizes) + "---|---|"]
    reference = next(r for r in rows if r[0].startswith("dncnn"))
    for label, passes, flops, speeds in rows:
        ratio = statistics.mean(s / r for s, r in zip(speeds, reference[3]))
        lines.append(f"| {label} | {passes} | {flops / 1e6:.3f} | " + " | ".join(f"{s:.2f}" for s in speeds)
                     + f" | {100 * flops * speeds[-1] * 1e6 / peak:.0f}% | {ratio:.2f}x |")
    return "\n".join(lines)


def noisy_natural(sigma: float = 25.0):
    from skimage import data

    clean = data.camera().astype(np.float32) / 255.0
    return clean[..., None], clean[..., None] + np.random.default_rng(0).normal(0, sigma / 255, clean[..., None].shape)


def runtime_rows(repeats):
    from imgdenoise.metrics import psnr

    clean, noisy = noisy_natural()
    image = image_of(2.0, 1)
    lines = ["| runtime | MP/s at 2 MP | speed vs keras | PSNR on camera, sigma 25 (dB) |", "|---|---|---|---|"]
    reference = None
    for runtime in RUNTIMES:
        try:
            denoiser = load_model("unet", runtime=runtime)
        except Exception as error:  # noqa: BLE001 - a runtime that cannot load is reported, not fatal
            lines.append(f"| {runtime} | unavailable: {type(error).__name__} | | |")
            continue
        run = functools.partial(denoiser.denoise, image, 25.0, quality="fast")
        speed = image.shape[0] * image.shape[1] / 1e6 / seconds(run, repeats)
        reference = reference or speed
        quality = psnr(clean, np.clip(denoiser.denoise(noisy.astype(np.float32), 25.0, quality="fast"), 0, 1))
        lines.append(f"| {runtime} | {speed:.2f} | {speed / reference:.2f}x | {quality:.2f} |")
        print(runtime, f"{speed:.2f} MP/s", f"{quality:.2f} dB", flush=True)
    return "\n".join(lines)


BACKEND_PROBE = """
import sys, time, numpy as np
from imgdenoise.loading import load_model
denoiser = load_model("unet")
image = np.random.default_rng(0).random((1155, 1732, 1), np.float32)
denoiser.denoise(image, 25.0, quality="fast")
times = []
for _ in range({repeats}):
    start = time.perf_counter()
    denoiser.denoise(image, 25.0, quality="fast")
    times.append(time.perf_counter() - start)
print("MPS", image.shape[0] * image.shape[1] / 1e6 / sorted(times)[len(times) // 2])
"""


def backend_rows(repeats):
    """The flagship gray network at 2 MP on each Keras backend installed, each in its own process."""
    import os
    import subprocess

    lines = ["| Keras backend | MP/s at 2 MP |", "|---|---|"]
    for backend in ("tensorflow", "torch", "jax"):
        result = subprocess.run([sys.executable, "-c", BACKEND_PROBE.format(repeats=repeats)], capture_output=True,
                                text=True, env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"})
        found = [line for line in result.stdout.splitlines() if line.startswith("MPS")]
        cell = f"{float(found[0].split()[1]):.2f}" if found else "not installed" if "No module named" in result.stderr \
            else f"failed: {(result.stderr.strip().splitlines() or [str(result.returncode)])[-1][:80]}"
        lines.append(f"| {backend} | {cell} |")
        print(backend, cell, flush=True)
    return "\n".join(lines)


def pipeline_rows(count: int = 24, megapixels: float = 0.5):
    """Folder pipeline vs model only, on ``count`` gray 8-bit PNGs of ``megapixels``."""
    from imgdenoise.batch import denoise_files
    from imgdenoise.io import read_image, write_image

    denoiser = load_model("unet")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(count):
            write_image(folder / "in" / f"{i:03d}.png", rng.random(image_of(megapixels, 1).shape))
        images = [read_image(p).pixels for p in sorted((folder / "in").iterdir())]
        denoiser.denoise(images[0], 25.0)  # warm-up
        start = time.perf_counter()
        for image in images:
            denoiser.denoise(image, 25.0)
        model_only = time.perf_counter() - start
        jobs = [(p, folder / "out" / p.name) for p in sorted((folder / "in").iterdir())]
        start = time.perf_counter()
        failures = [r for _, r in denoise_files(denoiser, jobs, sigma=25.0) if isinstance(r, Exception)]
        pipeline = time.perf_counter() - start
        assert not failures, failures
        start = time.perf_counter()
        for src, dst in jobs:  # the same work without overlap: read, denoise, write, one after another
            image = read_image(src)
            write_image(dst, denoiser.denoise(image.pixels, 25.0), overwrite=True)
        sequential = time.perf_counter() - start
    return "\n".join([
        f"| {count} gray PNGs of {megapixels:g} MP | seconds | vs model only |", "|---|---|---|",
        f"| model only (arrays in memory) | {model_only:.1f} | 1.00x |",
        f"| `denoise_files` pipeline (decode ahead, encode behind, same-size batches) | {pipeline:.1f} | "
        f"{pipeline / model_only:.2f}x |",
        f"| read, denoise, write one after another | {sequential:.1f} | {sequential / model_only:.2f}x |"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.15, 2, 12, 50], help="image sizes, megapixels")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size up to 2 MP (larger: one run)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["models", "runtimes", "backends", "pipeline"])
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    started = time.time()
    peak = peak_flops()
    print(f"peak: {peak / 1e9:.0f} GFLOP/s float32 matmul", flush=True)
    parts = [f"Peak of this machine through the same backend (float32 4096x4096 matmul, best of 5): "
             f"**{peak / 1e9:.0f} GFLOP/s**."]
    if "models" not in args.skip:
        parts.append("Models (`Denoiser.denoise`, default runtime, automatic tiling; median of "
                     f"{args.repeats} runs up to 2 MP, one run above):\n\n"
                     + model_rows(args.sizes, args.repeats, peak))
    if "runtimes" not in args.skip:
        parts.append("Runtimes (`--runtime`), flagship gray network, one pass:\n\n" + runtime_rows(args.repeats))
    if "backends" not in args.skip:
        parts.append("Keras backends (flagship gray network, one pass, default runtime, each in its own process):\n\n"
                     + backend_rows(args.repeats))
    if "pipeline" not in args.skip:
        parts.append("Folder pipeline (`imgdenoise denoise FOLDER`):\n\n" + pipeline_rows())
    text = "\n\n".join(parts)
    print(text)
    if args.update_docs:
        update_section("speed", f"""
## Inference speed

Command: `python benchmarks/speed.py {' '.join(sys.argv[1:])}`, {today()}, {machine()};
{time.time() - started:.0f} s in all. FLOPs count the convolutions (2 x multiply-adds per pixel).

{text}
""")


if __name__ == "__main__":
    main()
