"""`imgdenoise info`: size, mode, bit depth and estimated noise level of images."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+")
    p.add_argument("--model", default="default",
                   help="whose noise estimate to report (the level blind `denoise --model` uses)")


def run(args):
    from imgdenoise import load_model
    from imgdenoise.io import read_image

    denoiser = load_model(args.model)
    status = 0
    for path in args.images:
        try:
            image = read_image(path)
            resolved = denoiser.resolve(image.pixels)  # what blind denoising would use
            level = resolved.sigma
        except (ValueError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)  # one line per bad image; the others are reported
            status = 1
            continue
        h, w, c = image.pixels.shape
        mode = {1: "gray", 3: "RGB"}[c] + ("+alpha" if image.alpha is not None else "")
        noise = "n/a" if level is None else f"{level:.1f} (0-255, as {resolved.denoiser.name} reads it)"
        print(f"{path}: {w}x{h} {mode}, {image.bit_depth}-bit {image.format}, estimated noise sigma {noise}")
    return status
