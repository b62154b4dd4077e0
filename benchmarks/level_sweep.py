"""How much the default path should be told, against what it reads: the blind default told a grid of
noise levels, on real camera pairs and on synthetic camera pairs of held-out photographs.

For every pair (``noisy``, ``clean``), this measures:

- the true level: the standard deviation of noisy - clean (0-255, :func:`imgdenoise.data.true_level`);
- what the default reads (``imgdenoise info``'s level: ``level-std``);
- the default path's PSNR told each level of ``--grid`` (``denoise(noisy, sigma=level)``, which takes the
  same passes and Gaussian-equivalent law as blind use), and blind; the best of the grid is a per-image
  oracle;
- two readings of the noise against the true level: ``level-std``'s own (the deviation of the flattest 4x4
  blocks) and the smallest eigenvalue of the luminance's 5x5 patch covariance (the patch-PCA reading of
  noise-level estimation: texture lies in a few principal directions, noise in all of them), each also on
  the clean image: how much of a reading is the picture rather than the noise;
- whether a reading calibrated on synthetic pairs alone reads real camera noise right: each reading mapped to
  the true level by a power law fitted on ``--calibration`` camera JPEG pairs of the training photographs,
  sharp as they are (:func:`~imgdenoise.noise.camera_jpeg_pair`) or softened first as a camera's lens does
  (:func:`~imgdenoise.noise.soft_camera_jpeg_pair`), then applied to PolyU-dev.

Sets: PolyU-dev (real camera JPEGs; a validation set: reported, never fitted) and ``--pairs`` random crops
(128-320 pixels) of the held-out training photographs (the last 5% of each folder, as ``imgdenoise train``
holds them out) made into camera JPEG pairs as the real-photo training pairs are
(:func:`imgdenoise.noise.camera_jpeg_pair`). No test set is read.

Usage: python benchmarks/level_sweep.py [--pairs 96] [--update-docs]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, machine, today, update_section  # noqa: E402

from imgdenoise.data import list_images, load_images, split_held_out, true_level  # noqa: E402
from imgdenoise.estimator import block_deviation, estimation_window  # noqa: E402
from imgdenoise.metrics import psnr  # noqa: E402
from imgdenoise.noise import camera_jpeg_pair, soft_camera_jpeg_pair  # noqa: E402

GRID = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 11.0)
FOLDERS = ("BSD432", "photos", "color-small")
CROPS = (128, 192, 256, 320)
BINS = ((0, 2), (2, 3), (3, 5), (5, 8), (8, 255))
LABELS = (("blocks", "flattest 4x4 blocks (level-std's)"), ("pca", "smallest patch-PCA eigenvalue"))


def photograph_pairs(datasets: Path, count: int, seed: int, held_out: bool = True,
                     pair=camera_jpeg_pair) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` synthetic pairs ``pair(clean, rng) -> (noisy, target)`` of random crops of the held-out
    photographs (the last 5% of each folder), or of the training ones (the rest)."""
    rng = np.random.default_rng(seed)
    paths = []
    for folder in FOLDERS:
        kept, held = split_held_out(list_images(datasets / "train" / folder), 0.05)
        paths += held if held_out else kept
    if not held_out:  # hundreds of photographs: read only as many as pairs are made
        paths = [paths[i] for i in rng.choice(len(paths), min(count, len(paths)), replace=False)]
    images = load_images(paths, 3)
    pairs = []
    for _ in range(count):
        image = images[rng.integers(len(images))]
        size = min(int(rng.choice(CROPS)), *image.shape[:2])
        top, left = rng.integers(0, image.shape[0] - size + 1), rng.integers(0, image.shape[1] - size + 1)
        pairs.append(pair(image[top:top + size, left:left + size], rng))
    return pairs


def readings(noisy: np.ndarray, clean: np.ndarray) -> dict:
    """The true level and both readings of a pair, and the readings of its clean image."""
    return {"true": true_level(noisy, clean), "blocks": block_deviation(estimation_window(noisy), 4, 25),
            "pca": patch_pca_reading(noisy), "clean_blocks": block_deviation(estimation_window(clean), 4, 25),
            "clean_pca": patch_pca_reading(clean)}


def patch_pca_reading(image: np.ndarray, size: int = 5) -> float:
    """The square root of the smallest eigenvalue of the covariance of ``size`` x ``size`` patches
    (every second one) of ``image``'s luminance (channel mean), 0-255."""
    y = estimation_window(image).mean(-1) * 255.0
    patches = sliding_window_view(y, (size, size))[::2, ::2].reshape(-1, size * size)
    patches = patches - patches.mean(0)
    return float(np.sqrt(max(np.linalg.eigvalsh(patches.T @ patches / len(patches))[0], 0.0)))


def sweep(denoiser, pairs, grid) -> list[dict]:
    """One record per pair: true level, readings, input / blind / per-level PSNR (8-bit, :func:`psnr`)."""
    records = []
    for noisy, clean in pairs:
        records.append({**readings(noisy, clean), "read": float(denoiser.noise_level(noisy)),
                        "input": psnr(clean, noisy), "blind": psnr(clean, denoiser.denoise(noisy)),
                        "levels": [psnr(clean, denoiser.denoise(noisy, sigma=level)) for level in grid]})
    return records


def level_row(name: str, label: str, rows: list[dict], grid) -> str:
    """One line of :func:`level_table`: medians and mean PSNRs of ``rows``."""
    scores = np.array([r["levels"] for r in rows])
    best = np.median(np.array(grid)[scores.argmax(1)])
    medians = [np.median([r[key] for r in rows]) for key in ("true", "read")]
    means = [np.mean([r[key] for r in rows]) for key in ("input", "blind")]
    return (f"| {name} | {label} | {len(rows)} | {medians[0]:.2f} | {medians[1]:.2f} | {best:.1f} "
            f"| {means[0]:.2f} | {means[1]:.2f} | {scores.max(1).mean():.2f} |")


def level_table(sets: dict, grid) -> str:
    lines = ["| pairs | true level | n | median true | default reads | best level (oracle) | noisy input | default "
             "| best level per image (oracle) |", "|---|---|---|---|---|---|---|---|---|"]
    for name, records in sets.items():
        for low, high in BINS:
            rows = [r for r in records if low <= r["true"] < high]
            if rows:
                lines.append(level_row(name, f"{low}-{high}" if high < 255 else f"{low}+", rows, grid))
        lines.append(level_row(name, "all", records, grid))
    return "\n".join(lines)


def grid_table(sets: dict, grid) -> str:
    lines = ["| pairs | " + " | ".join(f"{g:g}" for g in grid) + " |", "|---" * (len(grid) + 1) + "|"]
    for name, records in sets.items():
        means = np.mean([r["levels"] for r in records], axis=0)
        lines.append(f"| {name} | " + " | ".join(f"{m:.2f}" for m in means) + " |")
    return "\n".join(lines)


def reading_table(sets: dict) -> str:
    lines = ["| pairs | reading | reading / true level: median (10-90%) | correlation with the true level (log) "
             "| the clean image's reading / the noisy one's |", "|---|---|---|---|---|"]
    for name, records in sets.items():
        true = np.array([r["true"] for r in records])
        for key, label in LABELS:
            values = np.maximum([r[key] for r in records], 1e-3)
            ratio = np.percentile(values / true, (10, 50, 90))
            corr = np.corrcoef(np.log(values), np.log(true))[0, 1]
            content = np.median([r["clean_" + key] / max(r[key], 1e-3) for r in records])
            lines.append(f"| {name} | {label} | {ratio[1]:.2f} ({ratio[0]:.2f}-{ratio[2]:.2f}) | {corr:.2f} "
                         f"| {content:.2f} |")
    return "\n".join(lines)


def transfer_table(calibrations: dict, real: list[dict], name: str) -> str:
    """Each reading mapped to the true level by a power law fitted (least squares in log-log) on each set of
    ``calibrations`` (synthetic pairs of training photographs), applied to ``real``'s pairs."""
    lines = [f"| fitted on | reading | {name}: read / true level, median (10-90%) | correlation (log) |",
             "|---|---|---|---|"]
    true = np.log([r["true"] for r in real])
    for fitted_on, records in calibrations.items():
        for key, label in LABELS:
            x = np.log(np.maximum([r[key] for r in records], 1e-3))
            b, a = np.polyfit(x, np.log([r["true"] for r in records]), 1)
            read = a + b * np.log(np.maximum([r[key] for r in real], 1e-3))
            ratio = np.percentile(np.exp(read - true), (10, 50, 90))
            lines.append(f"| {fitted_on} | {label} | {ratio[1]:.2f} ({ratio[0]:.2f}-{ratio[2]:.2f}) "
                         f"| {np.corrcoef(read, true)[0, 1]:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="the shared datasets folder")
    parser.add_argument("--paired", type=Path, default=None, help="real pairs (default: DATASETS/real/PolyU-dev)")
    parser.add_argument("--pairs", type=int, default=96, help="synthetic pairs of held-out photographs")
    parser.add_argument("--calibration", type=int, default=300,
                        help="synthetic pairs of training photographs each reading is calibrated on")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--grid", type=float, nargs="+", default=list(GRID), help="levels told (0-255)")
    parser.add_argument("--update-docs", action="store_true", help="write the tables into docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = time.time()
    import imgdenoise
    from imgdenoise.evaluate import load_pairs

    denoiser = imgdenoise.load_model("default")
    real, problems = load_pairs(args.paired or args.datasets / "real" / "PolyU-dev")
    for line in problems:
        print(line, file=sys.stderr)
    sets = {"PolyU-dev (real)": sweep(denoiser, [(n, c) for _, n, c in real], args.grid),
            "held-out photographs, synthetic camera JPEG": sweep(
                denoiser, photograph_pairs(args.datasets, args.pairs, args.seed), args.grid)}
    calibrations = {f"{args.calibration} {name} pairs of training photographs": [
        readings(*pair) for pair in photograph_pairs(args.datasets, args.calibration, args.seed + 1, False, maker)]
        for name, maker in (("camera JPEG", camera_jpeg_pair), ("camera-soft JPEG", soft_camera_jpeg_pair))}
    text = (f"{level_table(sets, args.grid)}\n\nMean PSNR (dB) told each level:\n\n{grid_table(sets, args.grid)}"
            f"\n\nReadings against the true level:\n\n{reading_table(sets)}"
            f"\n\nA reading calibrated on synthetic pairs alone, read on real camera noise:\n\n"
            f"{transfer_table(calibrations, sets['PolyU-dev (real)'], 'PolyU-dev')}")
    print(text)
    if args.update_docs:
        update_section("level-sweep", f"""
Command: `python benchmarks/level_sweep.py --update-docs`, {today()}, {machine()}; {time.time() - started:.0f} s.
PSNR (dB) on RGB, outputs rounded to 8 bits; "default" is blind (what it reads); the oracle columns choose
the level on the pairs themselves.

{text}
""")


if __name__ == "__main__":
    main()
