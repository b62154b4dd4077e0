"""Realistic noisy/clean training pairs, made once, for `imgdenoise train --paired`.

The realistic noise (:func:`imgdenoise.noise.realistic_noise`: camera pipeline, correlated noise,
JPEG) costs about 80 ms per 96x96 patch on this CPU, five times a training step of the U-Net, so
making it afresh for every batch leaves the network waiting. This script applies it to whole
clean photographs ``--draws`` times each (a new camera, noise mix and JPEG quality per draw,
seeded by folder, file and draw) and writes the results as 8-bit PNGs (what a camera writes),
in the layout `imgdenoise train --paired` reads, the last ``--val-fraction`` of each folder's
images (as the trainer holds them out of clean folders) going to a separate validation set::

    OUT/train/noisy/FOLDER-NAME-dK.png    OUT/train/clean/FOLDER-NAME-dK.png
    OUT/val/noisy/...                     OUT/val/clean/...

The clean image of each pair is the expectation of its noisy image
(:func:`imgdenoise.noise.expected_clean`), as in real-noise datasets (PolyU, SIDD: the mean of
hundreds of shots): the bias the camera pipeline gives the noise (clipping, the tone curve) belongs
to the picture, and a network trained to remove it shifts real photographs' colours. Camera noise
(``--noise camera``, :func:`imgdenoise.noise.camera_jpeg_pair`) also puts the clean image through the
noisy image's JPEG, as the mean of a camera's JPEGs holds their chroma subsampling and quantisation;
``--noise camera-soft`` (:func:`imgdenoise.noise.soft_camera_jpeg_pair`) first softens most clean images as
a camera's lens does at full resolution (the training photographs are downscaled, sharp at the pixel scale);
``--noise camera-edge`` makes those pairs with cameras whose noise reduction and sharpening follow the
picture (:data:`imgdenoise.noise.EDGE_AWARE`: their noise is stronger at edges, as real cameras' is).

Whole images, not patches: the network is told the noise level its blind estimator reads on the
whole noisy image, as it will be at inference. Pairs already written are kept (resumable); a pair
with a file missing is made again from its seed.

Usage: python benchmarks/synthesize_pairs.py --out data/realistic-pairs [--draws 3] [--workers 2]
         [--train ../shared/datasets/train/BSD432 ...]
       imgdenoise train --paired --train data/realistic-pairs/train --val data/realistic-pairs/val ...
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS  # noqa: E402

from imgdenoise.data import list_images, split_held_out  # noqa: E402
from imgdenoise.io import read_image, to_channels, write_image  # noqa: E402
from imgdenoise.noise import EDGE_AWARE, camera_jpeg_pair, expected_clean, realistic_noise, soft_camera_jpeg_pair  # noqa: E402
from imgdenoise.noise.base import as_8bit  # noqa: E402


def realistic_pair(clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(noisy as 8-bit values, its expected clean image) for :func:`realistic_noise`."""
    noisy, _ = realistic_noise()(clean[None], rng)
    noisy = as_8bit(noisy[0])
    return noisy, expected_clean(clean, noisy)


def edge_camera_jpeg_pair(clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`soft_camera_jpeg_pair` from cameras whose processing follows the picture (``EDGE_AWARE``)."""
    return soft_camera_jpeg_pair(clean, rng, processing=EDGE_AWARE)


PAIRS = {"realistic": realistic_pair, "camera": camera_jpeg_pair, "camera-soft": soft_camera_jpeg_pair,
         "camera-edge": edge_camera_jpeg_pair}

FOLDERS = ("train/BSD432", "train/photos", "train/color-small")


def jobs(folders, out: Path, draws: int, val_fraction: float) -> list[tuple]:
    """(clean path, noisy path, clean target path, seed) for every image and draw not yet written."""
    todo = []
    for f, folder in enumerate(folders):
        paths = list_images(folder)
        kept, _ = split_held_out(paths, val_fraction)
        for i, path in enumerate(paths):
            split = out / ("val" if i >= len(kept) else "train")
            for k in range(draws):
                name = f"{Path(folder).name}-{path.stem}-d{k}.png"
                if not (split / "noisy" / name).exists() or not (split / "clean" / name).exists():
                    todo.append((path, split / "noisy" / name, split / "clean" / name, (f, i, k)))
    return todo


def synthesize(job) -> str:
    """Write one noisy draw of one clean image (8-bit, as a camera writes it), and its clean target."""
    path, noisy_path, clean_path, seed, noise = job
    noisy, target = PAIRS[noise](to_channels(read_image(path).pixels, 3), np.random.default_rng(seed))
    write_image(noisy_path, noisy, overwrite=True)
    write_image(clean_path, target, overwrite=True)
    return noisy_path.name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", nargs="+", default=[str(DATASETS / f) for f in FOLDERS],
                        help="folders of clean colour photographs (default: BSD432, photos, color-small)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--draws", type=int, default=3, help="noisy versions of each image")
    parser.add_argument("--val-fraction", type=float, default=0.05,
                        help="share of each folder's images (the last ones) kept for validation")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--noise", choices=sorted(PAIRS), default="realistic",
                        help="realistic: imgdenoise.noise.realistic_noise; camera: camera_jpeg_pair; "
                             "camera-soft: soft_camera_jpeg_pair; camera-edge: the same from edge-aware cameras")
    args = parser.parse_args(argv)
    for split in ("train", "val"):
        for sub in ("noisy", "clean"):
            (args.out / split / sub).mkdir(parents=True, exist_ok=True)
    todo = [job + (args.noise,) for job in jobs(args.train, args.out, args.draws, args.val_fraction)]
    print(f"{len(todo)} noisy images to write into {args.out}", flush=True)
    with ProcessPoolExecutor(args.workers) as pool:
        for n, name in enumerate(pool.map(synthesize, todo, chunksize=4), 1):
            if n % 50 == 0 or n == len(todo):
                print(f"{n}/{len(todo)} {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
