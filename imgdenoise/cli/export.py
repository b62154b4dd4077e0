"""`imgdenoise export`: export a model for deployment (SavedModel, ONNX, TFLite)."""

from __future__ import annotations

import argparse

from imgdenoise.cli.options import UsageError
from imgdenoise.export import FORMATS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="shipped model name (unet, dncnn, ...) or .keras path")
    p.add_argument("--format", required=True, choices=list(FORMATS))
    p.add_argument("-o", "--output", required=True,
                   help="output path; a model with gray and colour weights writes PATH-gray and PATH-color")


def run(args):
    from imgdenoise import load_model
    from imgdenoise.export import export_denoiser

    try:
        written = export_denoiser(load_model(args.model, runtime="keras"), args.output, args.format)
    except RuntimeError as error:  # e.g. exporting needs the TensorFlow backend
        raise UsageError(str(error)) from None
    for path in written:
        print(f"wrote {path}")
    return 0
