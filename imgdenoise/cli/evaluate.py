"""`imgdenoise evaluate`: PSNR/SSIM on a benchmark folder with the field's protocol."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imgdenoise.cli.options import UsageError, add_quality_option
from imgdenoise.files import atomic_write_text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", nargs="+", help="shipped model names or .keras paths; NAME:QUALITY (e.g. dncnn:fast) "
                   "overrides --quality for that model")
    p.add_argument("--method", nargs="+", help="classical methods: bm3d, nlm, tv, wavelet, noisy")
    p.add_argument("--paired", nargs="+", metavar="DIR",
                   help="real pairs: DIR/noisy/ and DIR/clean/ matched by file name; nothing added, blind "
                        "unless --sigma is given")
    p.add_argument("--data", nargs="+",
                   help="folders of clean test images (each scored as a set), or image files/globs (one set)")
    p.add_argument("--sigma", type=float, nargs="+", default=None,
                   help="noise sigma(s) added to --data (default 25); with --paired, told to every method")
    p.add_argument("--gray", action="store_true", help="convert colour images to gray (luma)")
    p.add_argument("--blind", action="store_true", help="do not tell the methods sigma (they estimate it)")
    p.add_argument("--tile", type=int, default=None)
    add_quality_option(p)
    p.add_argument("--json", help="write the records (with per-image values) to this JSON file")
    p.add_argument("--plot", help="write a PSNR-versus-sigma PNG")


def run(args):
    from imgdenoise import load_model
    from imgdenoise.evaluate import evaluate, evaluate_paired, format_table, load_pairs, method_labels
    from imgdenoise.passes import split_quality

    names = (args.model or []) + (args.method or [])
    if not names:
        raise UsageError("give --model and/or --method")
    if bool(args.data) == bool(args.paired):
        raise UsageError("give --data (clean images, noise added) or --paired (real noisy/clean pairs), not both")
    paired = {}
    for root in args.paired or []:
        pairs, problems = load_pairs(root, gray=args.gray)
        for problem in problems:
            print(f"skipped: {problem}", file=sys.stderr)
        if pairs:
            paired[root] = pairs
    if args.paired and not paired:
        raise UsageError("no usable noisy/clean pairs")
    sigmas = args.sigma or ([] if args.paired else [25.0])
    records = []
    for name, label in zip(names, method_labels(names)):
        base, quality = split_quality(name)
        denoiser = load_model(base)
        options = dict(tile=args.tile, quality=quality or args.quality)
        for root, pairs in paired.items():
            for sigma in sigmas or [None]:  # no --sigma: blind
                records.append(evaluate_paired(denoiser, pairs, method=label, dataset=Path(root).name,
                                               sigma=sigma, **options))
        all_folders = all(Path(d).is_dir() for d in args.data or [])
        for data in (args.data if all_folders else [args.data]) if args.data else []:
            records += evaluate(denoiser, data, sigmas, method=label, gray=args.gray, blind=args.blind, **options)
    print(format_table(records))
    if args.json:
        atomic_write_text(args.json, json.dumps(records, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.plot:
        from imgdenoise.plotting import plot_psnr_vs_sigma

        print(f"wrote {plot_psnr_vs_sigma(records, args.plot)}")
    return 0
