"""`imgdenoise pack`: package a run's best model as shippable float16 weights + model card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imgdenoise.files import atomic_write_text
from imgdenoise.pretrained import WEIGHTS_DIR


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run folder holding best.keras and best.json")
    p.add_argument("--stem", required=True, help="file stem, e.g. unet-gray")
    p.add_argument("-o", "--output", default=str(WEIGHTS_DIR), help="folder of the weights (default: the package's)")
    p.add_argument("--default", action="store_true", help="make these weights' family the `default` alias "
                                                          "(aliases.json beside the weights)")
    p.add_argument("--family", help="the name these weights load by with others (default: the architecture's)")
    p.add_argument("--level-estimator", help="shipped noise-level estimator (stem) that blind use of these weights "
                                             "reads the noise level with (default: the classical estimator)")
    p.add_argument("--evaluation", help="`evaluate --json` file whose PSNR table goes into the card")
    p.add_argument("--evaluation-method", help="only the records of this method name")
    p.add_argument("--evaluation-datasets", nargs="+", help="only the records of these datasets")


def run(args):
    """Turn a run's best model into shippable float16 weights + model card."""
    from imgdenoise.loading import load_model
    from imgdenoise.pretrained import save_pretrained, ship_onnx

    run = Path(args.run)
    denoiser = load_model(run / "best.keras")
    variant = next(iter(denoiser.variants.values()))
    model, card = variant.model, variant.card
    card = card.replace(**{key: getattr(args, key) for key in ("family", "level_estimator") if getattr(args, key)})
    if args.evaluation:
        records = json.loads(Path(args.evaluation).read_text())
        card = card.replace(benchmarks=[{k: r[k] for k in ("dataset", "sigma", "psnr", "ssim")} for r in records
                                        if r["method"] in (args.evaluation_method or r["method"],)
                                        and r["dataset"] in (args.evaluation_datasets or [r["dataset"]])])
    path = save_pretrained(model, card, args.output, args.stem)
    onnx = ship_onnx(args.stem, args.output)  # what the core install runs (no TensorFlow)
    print(f"wrote {path}, {path.with_suffix('.npz')} and {onnx}")
    if args.default:
        aliases_path = Path(args.output) / "aliases.json"
        table = json.loads(aliases_path.read_text()) if aliases_path.is_file() else {}
        table["default"] = {"model": card.family_name}
        atomic_write_text(aliases_path, json.dumps(table, indent=2) + "\n")
        print(f"{aliases_path}: default is now {table['default']['model']}")
    return 0
