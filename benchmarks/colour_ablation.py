"""Colour-training ablation: does pooling gray images into colour training help?

Two runs from the same initialisation (a gray U-Net checkpoint) with the same budget, schedule
and seed, differing only in their training images:

  colour-only   color-small (35 training images)
  colour+gray   color-small pooled with Train400 (gray images replicated to RGB)

Both hold out the same last three color-small images, and are scored on them (never on a test
set) at sigma 15, 25 and 50 with the benchmark protocol.

Usage:
  python benchmarks/colour_ablation.py --init runs/unet-color-init.keras            # train + score
  python benchmarks/colour_ablation.py --init runs/unet-color-init.keras --update-docs

Each run resumes from its checkpoint, so the command can be repeated after an interruption.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, ROOT, machine, today, update_section  # noqa: E402

ARMS = {"colour-only": ["color-small"], "colour+gray": ["color-small", "Train400"]}
RUN_DIRS = {"colour-only": "runs/ablation-colour-only", "colour+gray": "runs/ablation-colour-gray"}
VAL_FRACTION = 0.1


def train_arm(arm: str, args) -> Path:
    out = ROOT / RUN_DIRS[arm]
    cli = [sys.executable, "-m", "imgdenoise", "train", "--out", str(out), "--verbose", "2"]
    if (out / "checkpoint.keras").is_file():
        cli += ["--resume"]
    else:
        folders = [str(Path(args.train_root) / name) for name in ARMS[arm]]
        cli += ["--model", "unet", "--model-config", "preset=base", "--color", "--train", *folders,
                "--val-fraction", str(VAL_FRACTION), "--sigma", "0", "75", "--val-sigmas", "10", "25", "50", "75",
                "--loss", "l1", "--patch-size", "96", "--batch-size", "8", "--steps", "500",
                "--epochs", str(args.epochs), "--lr", str(args.lr), "--ema", "0.999", "--init-from", args.init]
    subprocess.run(cli, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return out


def held_out_images(train_root: str) -> list[Path]:
    """The colour images every arm holds out (the same rule as ``imgdenoise train --val-fraction``)."""
    from imgdenoise.data import list_images, split_held_out

    return split_held_out(list_images(Path(train_root) / "color-small"), VAL_FRACTION)[1]


def score(model_path: Path, images, sigmas) -> list[dict]:
    import imgdenoise.losses  # noqa: F401  (registers the custom losses for loading)
    from imgdenoise import load_model
    from imgdenoise.evaluate import evaluate

    return evaluate(load_model(str(model_path)), [str(p) for p in images], sigmas,
                    method=model_path.parent.name, dataset="held-out colour", progress=False,
                    quality="fast")  # the networks themselves: one pass each


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init", required=True, help="gray .keras model both arms start from")
    parser.add_argument("--train-root", default=str(DATASETS / "train"))
    parser.add_argument("--epochs", type=int, default=12, help="epochs of 500 steps per arm")
    parser.add_argument("--lr", type=float, default=4e-4)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[15.0, 25.0, 50.0])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--score-only", action="store_true", help="score finished runs without training")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()

    images = held_out_images(args.train_root)
    rows = []
    for arm in args.arms:
        out = ROOT / RUN_DIRS[arm] if args.score_only else train_arm(arm, args)
        records = score(out / "best.keras", images, args.sigmas)
        steps = json.loads((out / "best.json").read_text()).get("steps", "?")
        rows.append((arm, ", ".join(ARMS[arm]), records, steps))
        print(arm, " ".join(f"{r['sigma']:g}: {r['psnr']:.2f}" for r in records), flush=True)

    header = "| training images | folders | " + " | ".join(f"sigma {s:g}" for s in args.sigmas) + " | mean |"
    lines = [header, "|---|---|" + "---|" * (len(args.sigmas) + 1)]
    for arm, folders, records, _ in rows:
        mean = sum(r["psnr"] for r in records) / len(records)
        lines.append(f"| {arm} | {folders} | " + " | ".join(f"{r['psnr']:.2f}" for r in records) + f" | {mean:.2f} |")
    table = "\n".join(lines)
    print(table)
    if args.update_docs:
        update_section("colour-ablation", f"""
## Colour training: colour images only, or pooled with gray images (issue 3 ablation)

Command: `python benchmarks/colour_ablation.py {' '.join(sys.argv[1:])}`, {today()}, {machine()}.
Both runs start from the same gray U-Net checkpoint (`--init`) and train {args.epochs} x 500 steps
(batch 8 of 96x96, L1, cosine from {args.lr:g}, EMA 0.999, seed 0); they differ only in the training
images. PSNR (dB) on the held-out colour images ({', '.join(p.name for p in images)}; never a test
set), benchmark protocol noise.

{table}
""")


if __name__ == "__main__":
    main()
