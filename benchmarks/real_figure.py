"""Before/after figure of real photographs at 100%: the noisy input, the default path reading camera noise
with ``level-std`` (the flattest blocks' deviation: the default of the last release) and the default
command now (its learned reader, ``level-net``), crop by crop.

The photographs are real camera output that the project may redistribute: scikit-image's sample
photographs (shipped with the dependency) and any files given with ``--image PATH:TOP:LEFT``
(e.g. Debian's wallpaper photographs at full resolution, whose dark areas show sensor noise).
Each whole photograph is denoised as the command would (the level read on the whole image), then the
crops are shown pixel for pixel (no resampling), each panel labelled with the sigma the network was told
(and, for the default, the noise level it reads and reports).

Usage: python benchmarks/real_figure.py [--image PATH:TOP:LEFT ...] [--size 160] [-o docs/figures/real-photos.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import ROOT  # noqa: E402

from imgdenoise import load_model  # noqa: E402
from imgdenoise.estimator import load_level_estimator  # noqa: E402
from imgdenoise.io import read_image, write_image  # noqa: E402

# scikit-image's sample photographs (real camera images; see skimage/data/README.txt for their
# sources and licences) and a crop of each where noise shows.
SKIMAGE_CROPS = (("chelsea.png", 40, 120), ("coffee.png", 150, 300), ("motorcycle_left.png", 300, 900),
                 ("rocket.jpg", 60, 150))


def photographs(specs):
    """``(name, image, (top, left))`` for each spec: the whole photograph (H, W, 3) float32 and where to crop."""
    import skimage

    out = []
    for path, top, left in specs:
        path = Path(path)
        if not path.is_file():
            path = Path(skimage.__file__).parent / "data" / path.name
        pixels = read_image(path).pixels
        out.append((path.name, np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels, (top, left)))
    return out


def crop(image, at, size: int):
    top, left = (max(0, min(a, n - size)) for a, n in zip(at, image.shape[:2]))
    return image[top:top + size, left:left + size]


def figure(rows, path: Path):
    """A grid (one row per image, one column per method) drawn pixel for pixel with Matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = rows[0][1][0][1].shape[0]
    columns = len(rows[0][1])
    dpi = 100
    fig, axes = plt.subplots(len(rows), columns, figsize=(columns * (size + 20) / dpi, len(rows) * (size + 48) / dpi),
                             dpi=dpi, squeeze=False)
    for r, (name, panels) in enumerate(rows):
        for c, (title, image) in enumerate(panels):
            ax = axes[r][c]
            ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
            ax.set_title(f"{name}\n{title}" if c == 0 else title, fontsize=6.5)
            ax.axis("off")
    fig.tight_layout(pad=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def levels(denoiser, image) -> str:
    """What ``denoiser`` reads on ``image`` blind (the noise level it reports) and the sigma its network is told."""
    level = denoiser.noise_level(image)
    told = denoiser.estimator.gaussian_equivalent(level) if denoiser.correlated_noise(image) else level
    return f"noise {level:.1f}, told {told:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", action="append", default=[], metavar="PATH:TOP:LEFT")
    parser.add_argument("--size", type=int, default=160, help="crop size in pixels (shown at 100%%)")
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "figures" / "real-photos.png"))
    parser.add_argument("--save-crops", help="also write each panel as a PNG into this folder (to look at)")
    args = parser.parse_args()
    specs = list(SKIMAGE_CROPS) + [(p, int(t), int(left)) for p, t, left in (s.rsplit(":", 2) for s in args.image)]
    default, previous = load_model("default"), load_model("default")
    previous.estimator = load_level_estimator("level-std")
    rows = []
    for name, image, at in photographs(specs):
        panels = [("input (100%)", crop(image, at, args.size)),
                  (f"last release (level-std)\n{levels(previous, image)}",
                   crop(previous.denoise(image), at, args.size)),
                  (f"default now (level-net)\n{levels(default, image)}", crop(default.denoise(image), at, args.size))]
        rows.append((name, panels))
        if args.save_crops:
            for title, image in panels:
                write_image(Path(args.save_crops) / f"{Path(name).stem}-{title.split()[0]}.png", image,
                            overwrite=True)
    figure(rows, Path(args.output))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
