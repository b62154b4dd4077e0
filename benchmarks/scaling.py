"""Batch denoising throughput: the local pipeline against Ray Data with 1 and 2 workers.

Writes --images synthetic noisy gray PNGs (crops of scikit-image's test pictures plus AWGN sigma
25, --size pixels square) to a temporary folder, then denoises the folder with the same model
(sigma given, so no estimation) three ways, each into a fresh output folder:

  local         ``denoise_files``, the pipeline behind ``imgdenoise denoise FOLDER`` (one process)
  ray, N x C    ``denoise_with_ray`` (``imgdenoise denoise --engine ray --ray-workers N --cpus-per-worker C``)
                on a local Ray instance with N x C CPUs: N actors of C compute threads, one model
                load each; 1 x 1 against 2 x 1 is the scaling from one worker to two

Wall-clock time covers everything the user waits for (for Ray: starting Ray, the actors, the
model loads); "denoise" is the time the workers spent inside their per-file loop (summed over
workers, then divided by N), which is what a long job on a cluster converges to.

Usage: python benchmarks/scaling.py [--images 48] [--size 384] [--update-docs]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, today, update_section  # noqa: E402


def write_images(folder: Path, count: int, size: int, seed: int = 0) -> list[Path]:
    """``count`` noisy ``size`` x ``size`` gray PNGs cut from scikit-image's pictures."""
    from skimage import data

    from imgdenoise.io import to_channels, write_image

    def gray(name):
        picture = np.asarray(getattr(data, name)(), np.float32) / 255.0
        return to_channels(picture if picture.ndim == 3 else picture[..., None], 1)

    pictures = [gray(n) for n in ("camera", "astronaut", "coffee", "rocket")]  # all at least 400 px a side
    if size > min(min(p.shape[:2]) for p in pictures):
        raise ValueError(f"--size {size} is larger than the test pictures")
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        picture = pictures[i % len(pictures)]
        top = rng.integers(0, picture.shape[0] - size + 1)
        left = rng.integers(0, picture.shape[1] - size + 1)
        crop = picture[top:top + size, left:left + size]
        noisy = np.clip(crop + rng.normal(0, 25 / 255, crop.shape).astype(np.float32), 0, 1)
        path = folder / f"{i:04d}.png"
        write_image(path, noisy)
        paths.append(path)
    return paths


def run_local(model: str, paths: list[Path], out: Path, sigma: float) -> dict:
    from imgdenoise import load_model
    from imgdenoise.batch import denoise_files

    start = time.perf_counter()
    denoiser = load_model(model)
    out.mkdir()
    results = list(denoise_files(denoiser, [(p, out / p.name) for p in paths], sigma=sigma))
    wall = time.perf_counter() - start
    failed = [r for r in results if isinstance(r[1], Exception)]
    if failed:
        raise RuntimeError(f"local pipeline: {len(failed)} files failed, e.g. {failed[0]}")
    return {"engine": "local pipeline (one process)", "workers": 1, "cpus": "all", "wall": wall, "denoise": None}


def run_ray(model: str, folder: Path, out: Path, sigma: float, workers: int, cpus: int) -> dict:
    from imgdenoise.distributed import denoise_with_ray
    from imgdenoise.jobs import plan_jobs

    start = time.perf_counter()
    plan = plan_jobs([folder], out, uris=True)
    records = denoise_with_ray(model, plan.jobs, sigma=sigma, workers=workers, cpus_per_worker=cpus)
    wall = time.perf_counter() - start
    failed = [r for r in records if r["status"] != "ok"]
    if failed:
        raise RuntimeError(f"ray, {workers} workers: {len(failed)} files failed, e.g. {failed[0]['message']}")
    busy = sum(float(r["seconds"]) for r in records) / workers
    return {"engine": "Ray Data", "workers": workers, "cpus": cpus, "wall": wall, "denoise": busy,
            "loads": len({int(r["worker"]) for r in records})}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--model", default="default")
    parser.add_argument("--sigma", type=float, default=25.0)
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "noisy"
        folder.mkdir()
        paths = write_images(folder, args.images, args.size)
        results = [run_local(args.model, paths, tmp / "local", args.sigma)]
        for workers, cpus in ((1, 1), (2, 1), (1, 2)):
            results.append(run_ray(args.model, folder, tmp / f"ray{workers}x{cpus}", args.sigma, workers, cpus))
    megapixels = args.images * args.size ** 2 / 1e6
    reference = results[0]["wall"]
    lines = ["| engine | workers x CPUs each | wall-clock (s) | images/s (wall) | MP/s (wall) | vs local pipeline "
             "| denoise time per worker (s) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        busy = "-" if r["denoise"] is None else f"{r['denoise']:.1f}"
        lines.append(f"| {r['engine']} | {r['workers']} x {r['cpus']} | {r['wall']:.1f} | "
                     f"{args.images / r['wall']:.2f} | {megapixels / r['wall']:.3f} | {reference / r['wall']:.2f}x "
                     f"| {busy} |")
    table = "\n".join(lines)
    print(table)
    if args.update_docs:
        command = "python benchmarks/scaling.py " + " ".join(sys.argv[1:])
        update_section("scaling", f"""
## Scaling out: batch denoising with Ray Data (issue 8)

Command: `{command.strip()}`, {today()}, {machine()}.
{args.images} noisy gray PNGs of {args.size}x{args.size} ({megapixels:.1f} MP in all), model `{args.model}`,
sigma {args.sigma:g} given. Wall-clock includes starting Ray, its actors and one model load per actor;
"denoise time per worker" is the time the actors spent in their per-file loop, divided by the workers.
What this means on a cluster: [scaling.md](scaling.md).

{table}
""")


if __name__ == "__main__":
    main()
