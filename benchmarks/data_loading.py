"""Is the data loader the bottleneck of colour training on 2 cores? (issue 18)

Loads the colour training pool of `benchmarks/train_colour_bsd.sh` (BSD432, photos, color-small: images of
mixed sizes, JPEG and PNG), then, in one run: the time to prepare one batch (`data.PatchDataset`: random
patches across all images, flips/rotations, Gaussian noise of sigma 0-50 drawn per patch, the sigma map)
against the time of one training step of the colour U-Net on such a batch (mixed bfloat16, L1, Adam, as the
run trains). Keras prepares batches on its own worker thread(s) while the step runs, so preparation is
hidden as long as it takes less than a step.

Usage: python benchmarks/data_loading.py [--datasets ../shared/datasets] [--batches 30] [--update-docs]
         [--context "what else ran"]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, machine, today, update_section  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=str(DATASETS))
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--patch-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--update-docs", action="store_true")
    parser.add_argument("--context", default="", help="what else ran on the machine (said in the docs)")
    args = parser.parse_args()

    import keras

    from imgdenoise.data import PatchDataset, list_images, load_images
    from imgdenoise.losses import get_loss
    from imgdenoise.models import build_model
    from imgdenoise.noise import GaussianNoise
    from imgdenoise.train import dtype_policy

    folders = [Path(args.datasets) / "train" / name for name in ("BSD432", "photos", "color-small")]
    paths = [p for folder in folders for p in list_images(folder)]
    start = time.perf_counter()
    images = load_images(paths, channels=3)
    load_seconds = time.perf_counter() - start
    megapixels = sum(image.shape[0] * image.shape[1] for image in images) / 1e6
    data = PatchDataset(images, noise=GaussianNoise((0.0, 50.0)), patch_size=args.patch_size,
                        batch_size=args.batch_size, steps=args.batches, noise_conditional=True, seed=1)
    prepare = []
    for index in range(args.batches):
        start = time.perf_counter()
        batch = data[index]
        prepare.append(time.perf_counter() - start)
    with dtype_policy("mixed_bfloat16"):
        model = build_model("unet", channels=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=get_loss("l1"))
    (noisy, sigma), clean = batch
    model.train_on_batch([noisy, sigma], clean)  # compiles the step
    steps = []
    for index in range(min(args.batches, 10)):
        (noisy, sigma), clean = data[index]
        start = time.perf_counter()
        model.train_on_batch([noisy, sigma], clean)
        steps.append(time.perf_counter() - start)
    prepare_ms, step_ms = 1000 * statistics.median(prepare), 1000 * statistics.median(steps)
    text = f"""
## Training data loading: batch preparation against the step (issue 18)

`python benchmarks/data_loading.py --update-docs` ({today()}; {machine()}). The colour training pool of
`benchmarks/train_colour_bsd.sh`: {len(images)} images (BSD432, photos, color-small; mixed sizes, JPEG and
PNG), {megapixels:.0f} MP, decoded into memory in {load_seconds:.0f} s at the start of a run. Batches of
{args.batch_size} patches of {args.patch_size}x{args.patch_size} (random image and place, flips and
rotations, Gaussian noise of sigma 0-50 per patch, the sigma map), medians of {args.batches} batches and
{len(steps)} steps, in the same process{"; " + args.context if args.context else ""}:

| | ms |
|---|---|
| prepare one batch (`data.PatchDataset`, one thread) | {prepare_ms:.1f} |
| one training step (colour U-Net, mixed bfloat16, L1, Adam) | {step_ms:.0f} |
| preparation / step | {prepare_ms / step_ms:.1%} |

Keras prepares the next batches on a worker thread while the step runs, so the loader is not the
bottleneck: the step is (`--data-threads` raises the preparing threads for a GPU, whose steps are ~100x
shorter).
"""
    print(text)
    if args.update_docs:
        update_section("Data loading", text)


if __name__ == "__main__":
    main()
