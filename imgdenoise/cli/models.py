"""`imgdenoise models`: list architectures and shipped weights."""

from __future__ import annotations

import argparse
import json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the full model cards")


def run(args):
    from imgdenoise.pretrained import alias, aliases, shipped_cards, shipped_names
    from imgdenoise.runtimes import installed

    if installed("keras"):
        from imgdenoise.models import get_spec, list_models

        print("architectures:")
        for name in list_models(task=None):
            print(f"  {name:8s} {get_spec(name).description}")
    else:
        print("architectures: the training extra lists and builds them (pip install 'imgdenoise[train]')")
    print("shipped weights (load by stem, or by family to get a family's gray and colour networks together):")
    for stem, card in shipped_cards(task=None).items():
        training = card.extra.get("training", {})
        noise = training.get("noise", "gaussian")
        psnr = card.extra.get("validation_psnr")
        print(f"  {stem:14s} family {card.family_name}, {card.task}, {noise} noise, "
              f"sigma {training.get('sigma_range')}, {card.extra.get('parameters', '?')} parameters"
              + (f", validation PSNR {psnr:.2f} dB" if psnr else ""))
    for name in aliases():
        entry = alias(name)
        blind = entry.level_estimator or entry.blind_model or "the classical estimator"
        print(f"alias {name}: {entry.model}, blind through {blind}")
    print(f"names: {', '.join(shipped_names())}")
    if args.json:
        print(json.dumps({stem: card.to_dict() for stem, card in shipped_cards(task=None).items()}, indent=2))
    return 0
