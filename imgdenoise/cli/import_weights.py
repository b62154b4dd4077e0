"""`imgdenoise import-weights`: import legacy Keras 2 .h5 weights into a registered model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imgdenoise.cli.options import UsageError
from imgdenoise.files import atomic_target, atomic_write_text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="registered architecture, e.g. dncnn")
    p.add_argument("weights", help="Keras 2 .h5 file")
    p.add_argument("-o", "--output", required=True, help="output .keras file (a model card .json goes beside it)")
    p.add_argument("--sigma", type=float, help="the sigma the weights were trained for (recorded in the card)")
    p.add_argument("--overwrite", action="store_true")


def run(args):
    from imgdenoise.legacy import import_keras2_weights
    from imgdenoise.pretrained import card_for_model

    try:
        model = import_keras2_weights(args.model, args.weights)
    except (ValueError, OSError, KeyError) as error:
        raise UsageError(f"{args.weights}: {error}") from None
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out}: already exists (use --overwrite)")
    with atomic_target(out) as target:
        model.save(target)
    card = card_for_model(model).replace(source=f"imported from Keras 2 weights {Path(args.weights).name}")
    if args.sigma is not None:
        card = card.replace(training={"sigma_range": [args.sigma, args.sigma]})
    atomic_write_text(out.with_suffix(".json"), json.dumps(card.to_dict(), indent=2) + "\n")
    print(f"imported {args.weights} into {args.model}: {out} (+ {out.with_suffix('.json').name})")
    return 0
