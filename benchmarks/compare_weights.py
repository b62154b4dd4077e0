"""Should a new checkpoint replace the shipped U-Net weights? Scored on validation images only.

Candidate gray and/or colour weights (a run's ``best.keras``) take the place of the shipped ones
in the ``unet`` denoiser, and both denoisers are scored on the validation images of
``benchmarks/inference_passes.py`` (scikit-image pictures plus the images training held out;
never a test set), at sigma 15/25/50 (``--sigmas``), protocol noise, at each quality level asked
for. The colour candidate keeps the shipped card's ``luminance_weight``, so at the standard quality a
colour image goes through the candidate colour network *and* the (shipped or candidate) gray one.

Usage:
  python benchmarks/compare_weights.py --color runs/unet-color-photos/best.keras
  python benchmarks/compare_weights.py --gray runs/unet-gray-photos/best.keras --qualities fast standard
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference_passes import SIGMAS, held_out, mean_psnr, skimage_pictures  # noqa: E402
from report import DATASETS  # noqa: E402

from imgdenoise.inference import Denoiser  # noqa: E402
from imgdenoise.loading import load_model  # noqa: E402


def with_candidates(shipped: Denoiser, gray: str | None, colour: str | None) -> Denoiser:
    """``shipped`` with its gray and/or colour network replaced by the ``.keras`` files given."""
    variants = dict(shipped.variants)
    for channels, path in ((1, gray), (3, colour)):
        if path:
            candidate = load_model(path).variants[channels]
            candidate.card = candidate.card.replace(luminance_weight=shipped.variants[channels].card.luminance_weight)
            variants[channels] = candidate
    return Denoiser(variants, name=shipped.name)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gray", help="candidate gray weights (.keras)")
    parser.add_argument("--color", help="candidate colour weights (.keras)")
    parser.add_argument("--qualities", nargs="+", default=["fast", "standard"])
    parser.add_argument("--sigmas", nargs="+", type=float, default=list(SIGMAS), help="0-255 scale")
    parser.add_argument("--train", default=str(DATASETS / "train"), help="folder holding Train400/ and color-small/")
    args = parser.parse_args()
    if not (args.gray or args.color):
        parser.error("give --gray and/or --color")
    started = time.time()
    shipped = load_model("unet", runtime="float32")
    candidate = with_candidates(shipped, args.gray, args.color)
    # colour images always: at the standard quality the gray network refines their luminance
    sets = {"colour": skimage_pictures() + held_out(Path(args.train) / "color-small", 0.1, 3)}
    if args.gray:
        sets["gray"] = held_out(Path(args.train) / "Train400", 0.05, 1) + [
            p.mean(-1, keepdims=True) for p in skimage_pictures()]
    print("| images | quality | " + " | ".join(f"sigma {s:g}: shipped / candidate / gain" for s in args.sigmas) + " |")
    print("|---|---|" + "---|" * len(args.sigmas))
    for label, images in sets.items():
        for quality in args.qualities:
            cells = []
            for sigma in args.sigmas:
                before, after = mean_psnr(shipped, images, sigma, quality), mean_psnr(candidate, images, sigma, quality)
                cells.append(f"{before:.3f} / {after:.3f} / {after - before:+.3f}")
            print(f"| {label} ({len(images)}) | {quality} | " + " | ".join(cells) + " |", flush=True)
    print(f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
