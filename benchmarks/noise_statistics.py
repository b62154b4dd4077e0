"""How much synthetic camera noise looks like real camera noise: the statistics of noisy - clean.

For each synthetic noise model (``imgdenoise.noise``) applied to clean training photographs, and for
real noisy/clean pairs (PolyU-dev: reported beside, never fitted), this measures the residual
``noisy - clean`` (0-255):

- its standard deviation (the noise level);
- the correlation of its luminance (channel mean) with itself one and two pixels away (horizontal and
  vertical averaged): white noise 0, camera noise spread by demosaicing and noise reduction more;
- the share of its variance that is colour (deviation from the channel mean): about 2/3 for noise
  independent across channels, less where the camera smooths chroma noise;
- how much of its luminance and of its colour (red minus blue) survives averaging over 8x8 blocks: the
  share of variance at coarse scales, 1/64 = 0.016 for white noise; colour blotches (chroma noise
  smoothed by the camera, JPEG's chroma subsampling) keep much more.

Real pairs' clean images are means of hundreds of shots, so their residual is the noise alone; a
synthetic pair's residual is taken against the expectation of the noisy image
(``imgdenoise.noise.expected_clean``), and for the camera JPEG pairs training uses
(``imgdenoise.noise.camera_jpeg_pair``) against the clean image through the same JPEG, as
synthesize_pairs.py makes them.

Usage: python benchmarks/noise_statistics.py [--train ../shared/datasets/train/BSD432 ...]
         [--paired ../shared/datasets/real/PolyU-dev] [--patches 300] [--size 128] [--update-docs]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, machine, today, update_section  # noqa: E402

from imgdenoise.data import list_images  # noqa: E402
from imgdenoise.io import read_image, to_channels  # noqa: E402
from imgdenoise.noise import (  # noqa: E402
    CameraNoise,
    camera_jpeg_noise,
    camera_jpeg_pair,
    expected_clean,
    realistic_noise,
)


def against_expectation(model):
    """A pair maker from noise model ``model``: (noisy, its expected clean image)."""
    def pair(clean, rng):
        noisy, _ = model(clean[None], rng)
        return noisy[0], expected_clean(clean, noisy[0])
    return pair


PAIRS = {"camera pipeline alone (CameraNoise)": against_expectation(CameraNoise()),
         "camera + camera JPEG 90-98 (camera_jpeg_noise)": against_expectation(camera_jpeg_noise()),
         "camera + camera JPEG 90-98, target through the same JPEG (camera_jpeg_pair: training pairs)":
             camera_jpeg_pair,
         "camera + JPEG 75-98": against_expectation(camera_jpeg_noise(quality=(75, 98))),
         "the real-photo mix (realistic_noise)": against_expectation(realistic_noise())}


def lag_correlation(residual: np.ndarray, lag: int) -> float:
    """Correlation of the luminance of ``residual`` (H, W, C) with itself ``lag`` pixels away
    (horizontal and vertical pooled)."""
    y = residual.mean(axis=-1)
    y = y - y.mean()
    pairs = ((y[:, :-lag], y[:, lag:]), (y[:-lag], y[lag:]))
    return float(sum((a * b).sum() for a, b in pairs) / sum(np.sqrt((a * a).sum() * (b * b).sum()) for a, b in pairs))


def coarse_share(plane: np.ndarray, block: int = 8) -> float:
    """Share of the variance of ``plane`` (H, W) left after averaging over ``block`` x ``block`` blocks
    (1 / block**2 for white noise)."""
    h, w = plane.shape[0] // block * block, plane.shape[1] // block * block
    means = plane[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))
    return float(means.var() / max(plane[:h, :w].var(), 1e-12))


def statistics(residual: np.ndarray) -> dict:
    """The statistics of one residual (H, W, 3), 0-255 scale."""
    chroma = residual - residual.mean(axis=-1, keepdims=True)
    return {"std": float(residual.std()), "lag1": lag_correlation(residual, 1), "lag2": lag_correlation(residual, 2),
            "colour": float((chroma ** 2).mean() / max(residual.var(), 1e-12)),
            "luma8": coarse_share(residual.mean(axis=-1)), "colour8": coarse_share(residual[..., 0] - residual[..., 2])}


def summary(rows: list[dict]) -> dict:
    """Median and 10-90% range of each statistic over ``rows``."""
    return {key: np.percentile([r[key] for r in rows], (10, 50, 90)) for key in rows[0]}


def real_rows(root: Path) -> list[dict]:
    from imgdenoise.evaluate import load_pairs

    pairs, problems = load_pairs(root)
    for line in problems:
        print(line, file=sys.stderr)
    return [statistics((noisy.astype(np.float64) - clean) * 255.0) for _, noisy, clean in pairs]


def synthetic_rows(pair, folders, patches: int, size: int, seed: int = 0) -> list[dict]:
    """Statistics of ``noisy - target`` for ``pair(clean, rng) -> (noisy, target)`` on ``patches`` random
    ``size`` crops of the images in ``folders``."""
    rng = np.random.default_rng(seed)
    paths = [p for folder in folders for p in list_images(folder)]
    rows = []
    for path in rng.choice(paths, patches, replace=False):
        image = to_channels(read_image(path).pixels, 3)
        h, w = image.shape[:2]
        top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
        clean = image[top:top + size, left:left + size]
        noisy, target = pair(clean, rng)
        rows.append(statistics((noisy.astype(np.float64) - target) * 255.0))
    return rows


STATISTICS = ("std", "lag1", "lag2", "colour", "luma8", "colour8")  # the table's columns, in order


def table(results: dict) -> str:
    lines = ["| noise | std (0-255) | lag-1 correlation | lag-2 correlation | colour share "
             "| luminance left at 8x8 | colour left at 8x8 |", "|---|---|---|---|---|---|---|"]
    for name, s in results.items():
        cells = [f"{s[k][1]:.2f} ({s[k][0]:.2f}-{s[k][2]:.2f})" for k in STATISTICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", nargs="+", default=[str(DATASETS / "train" / f) for f in ("BSD432", "photos")],
                        help="clean photographs the synthetic noise is put on")
    parser.add_argument("--paired", default=str(DATASETS / "real" / "PolyU-dev"), help="real pairs, reported beside")
    parser.add_argument("--patches", type=int, default=300, help="crops per synthetic noise model")
    parser.add_argument("--size", type=int, default=128, help="crop size (pixels)")
    parser.add_argument("--update-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = time.time()
    results = {}
    if Path(args.paired).is_dir():
        results[f"real: {Path(args.paired).name} (reported, never fitted)"] = summary(real_rows(Path(args.paired)))
    for name, pair in PAIRS.items():
        results[name] = summary(synthetic_rows(pair, args.train, args.patches, args.size))
    text = table(results)
    print(text)
    if args.update_docs:
        update_section("noise-statistics", f"""
Median (10th-90th percentile) over the real images, or over {args.patches} random {args.size}x{args.size} crops
of {', '.join(Path(f).name for f in args.train)} per synthetic model (seeded).
Command: `python benchmarks/noise_statistics.py --update-docs`, {today()}, {machine()}; {time.time() - started:.0f} s.

{text}
""")


if __name__ == "__main__":
    main()
