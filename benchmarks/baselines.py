"""Issue-2 baselines: the protocol check with the DnCNN authors' weights, and our trained
`seed` and `dncnn` against BM3D on BSD68, all in one run on identical noisy inputs.

Usage: python benchmarks/baselines.py [--data DIR] [--reference H5] [--sigma 25] [--update-docs]
Models are the shipped `seed` and `dncnn` weights (trained by benchmarks/train_baselines.sh).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, ROOT, machine, today, update_section  # noqa: E402

from imgdenoise import load_model  # noqa: E402
from imgdenoise.classical import ClassicalDenoiser  # noqa: E402
from imgdenoise.evaluate import evaluate, format_table  # noqa: E402
from imgdenoise.inference import Denoiser  # noqa: E402
from imgdenoise.legacy import import_keras2_weights  # noqa: E402
from imgdenoise.pretrained import card_for_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATASETS / "test" / "BSD68"))
    parser.add_argument("--reference", default=str(ROOT.parent / "shared" / "reference" / "dncnn_sigma25_keras2.h5"))
    parser.add_argument("--sigma", type=float, nargs="+", default=[25.0])
    parser.add_argument("--json", help="also write the records here")
    parser.add_argument("--update-docs", action="store_true", help="rewrite the section in docs/benchmarks.md")
    args = parser.parse_args()

    methods = []
    if Path(args.reference).is_file():
        official = import_keras2_weights("dncnn", args.reference)
        authors = Denoiser({1: (official, card_for_model(official))})
        methods.append(("dncnn (authors' Keras 2 weights, sigma 25)", authors))
    methods += [("seed (ours, BCE)", load_model("seed")), ("dncnn (ours, DnCNN-S)", load_model("dncnn")),
                ("bm3d", ClassicalDenoiser("bm3d")), ("noisy input", ClassicalDenoiser("noisy"))]
    started = time.time()
    records = []
    for name, denoiser in methods:
        records += evaluate(denoiser, args.data, args.sigma, method=name, progress=False,
                            quality="fast")  # one network pass, as the baselines are published
        print(format_table(records[-len(args.sigma):]).splitlines()[-1], flush=True)
    table = format_table(records)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1) + "\n")
    if args.update_docs:
        sigmas = " ".join(f"{s:g}" for s in args.sigma)
        update_section("baselines", f"""
## Baselines (issue 2): the original `seed` model, DnCNN-S and BM3D, BSD68

Command: `python benchmarks/baselines.py --sigma {sigmas} --update-docs` (models trained by
`benchmarks/train_baselines.sh`), {today()}, {machine()}; {time.time() - started:.0f} s in all.
Seconds per megapixel are wall-clock on this machine, for comparison within the table only.

{table}

The first row reproduces the DnCNN paper's protocol with the authors' own weights (imported with
`imgdenoise import-weights`; their README reports 29.24 dB at sigma 25), which validates our noise,
rounding and PSNR code and our DnCNN architecture.
""")
        print("updated docs/benchmarks.md")


if __name__ == "__main__":
    main()
