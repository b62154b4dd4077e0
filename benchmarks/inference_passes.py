"""How the default ("standard") inference passes were chosen: on validation images only.

Validation images, never used to train the shipped networks nor part of a test set:
- colour: scikit-image's astronaut, chelsea, coffee and motorcycle (left view), and the images
  the colour U-Net's training held out (the last 10% of color-small);
- gray: the images the gray U-Net's training held out (the last 5% of Train400), and the four
  scikit-image pictures above as gray (mean of the channels).

Measured, at sigma 15/25/50 with the benchmark protocol's noise:
1. Colour: the colour network's output with its luminance moved a share ``w`` of the way to the
   gray network's estimate from the noisy luminance (sigma / sqrt 3), for w = 0, 0.1, ..., 1. The
   best w is what the colour card's ``luminance_weight`` holds.
2. Each quality level (fast, standard, best) of the shipped U-Nets, gray and colour.

Usage: python benchmarks/inference_passes.py [--train ../shared/datasets/train] [--update-docs]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, machine, today, update_section  # noqa: E402

from imgdenoise.data import list_images, load_images, split_held_out  # noqa: E402
from imgdenoise.loading import load_model  # noqa: E402
from imgdenoise.metrics import psnr  # noqa: E402
from imgdenoise.noise import add_protocol_noise  # noqa: E402
from imgdenoise.passes import QUALITIES, fuse_luminance  # noqa: E402

SIGMAS = (15.0, 25.0, 50.0)
WEIGHTS = np.round(np.linspace(0, 1, 11), 2)


def skimage_pictures() -> list[np.ndarray]:
    """Colour pictures shipped with scikit-image (in no training or test set), float32 in [0, 1]."""
    from skimage import data

    pictures = [data.astronaut(), data.chelsea(), data.coffee(), data.stereo_motorcycle()[0]]
    return [p[..., :3].astype(np.float32) / 255.0 for p in pictures]


def held_out(folder: Path, fraction: float, channels: int) -> list[np.ndarray]:
    """The images ``imgdenoise train`` holds out of ``folder`` for validation (its last ``fraction``)."""
    return load_images(split_held_out(list_images(folder), fraction)[1], channels)


def mean_psnr(denoiser, images, sigma: float, quality: str) -> float:
    """Mean PSNR (dB) of ``denoiser`` at ``quality`` on ``images`` with protocol noise of ``sigma``."""
    return float(np.mean([psnr(clean, np.clip(denoiser.denoise(add_protocol_noise(clean, sigma), sigma,
                                                                  quality=quality), 0, 1)) for clean in images]))


def weight_rows(denoiser, images) -> tuple[str, float]:
    """Markdown rows of mean PSNR per luminance weight and sigma, and the best weight (mean over sigmas)."""
    scores = np.zeros((len(SIGMAS), len(WEIGHTS)))
    for i, sigma in enumerate(SIGMAS):
        for clean in images:
            noisy = add_protocol_noise(clean, sigma)
            colour = denoiser.denoise(noisy, sigma, quality="fast")
            luminance = denoiser.denoise(noisy.mean(-1), sigma / np.sqrt(3), quality="fast")[..., None]
            scores[i] += [psnr(clean, np.clip(fuse_luminance(colour, luminance, w), 0, 1)) for w in WEIGHTS]
        scores[i] /= len(images)
        print(f"sigma {sigma:g}: " + " ".join(f"{v:.3f}" for v in scores[i]), flush=True)
    best = float(WEIGHTS[scores.mean(0).argmax()])
    lines = ["| luminance weight | " + " | ".join(f"sigma {s:g}" for s in SIGMAS) + " | mean |",
             "|---|" + "---|" * (len(SIGMAS) + 1)]
    for j, w in enumerate(WEIGHTS):
        cells = [f"{scores[i, j]:.3f}" for i in range(len(SIGMAS))] + [f"{scores[:, j].mean():.3f}"]
        mark = " (best)" if w == best else (" (one pass)" if w == 0 else "")
        lines.append(f"| {w:g}{mark} | " + " | ".join(cells) + " |")
    return "\n".join(lines), best


def quality_rows(denoiser, sets: dict) -> str:
    """Markdown rows of mean PSNR of each quality level on each validation set."""
    lines = ["| images | quality | network passes | " + " | ".join(f"sigma {s:g}" for s in SIGMAS) + " |",
             "|---|---|---|" + "---|" * len(SIGMAS)]
    for label, images in sets.items():
        for quality in QUALITIES:
            cells = [f"{mean_psnr(denoiser, images, sigma, quality):.3f}" for sigma in SIGMAS]
            passes = denoiser.passes(images[0].shape[-1], quality).count
            lines.append(f"| {label} | {quality} | {passes} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(DATASETS / "train"), help="folder holding Train400/ and color-small/")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    started = time.time()
    denoiser = load_model("unet", runtime="float32")
    colour = skimage_pictures() + held_out(Path(args.train) / "color-small", 0.1, 3)
    gray = held_out(Path(args.train) / "Train400", 0.05, 1) + [p.mean(-1, keepdims=True) for p in skimage_pictures()]
    weights, best = weight_rows(denoiser, colour)
    card = denoiser.variants[3].card.luminance_weight
    qualities = quality_rows(denoiser, {f"colour ({len(colour)})": colour, f"gray ({len(gray)})": gray})
    text = f"""
## Inference passes: how the default was chosen (validation images only)

Command: `python benchmarks/inference_passes.py {' '.join(sys.argv[1:])}`, {today()}, {machine()};
{time.time() - started:.0f} s in all. Mean PSNR (dB) on validation images that neither trained the
shipped U-Nets nor belong to a test set: scikit-image's astronaut, chelsea, coffee and motorcycle,
plus the images each network's training held out (colour: the last 3 of color-small; gray: the
last 20 of Train400, with the four pictures above as gray). Protocol noise, sigma given.

Colour images: the colour network's luminance moved a share of the way to the gray network's
estimate from the noisy luminance (sigma / sqrt 3). Best weight here: **{best:g}**; the shipped
colour card holds {card}.

{weights}

Each quality level (`--quality`): fast = one pass; standard (the default) = a gray image and its
transpose, or a colour image fused with the gray network's luminance; best = the standard passes
under the 8 flips and rotations.

{qualities}
"""
    print(text)
    if args.update_docs:
        update_section("inference-passes", text)


if __name__ == "__main__":
    main()
