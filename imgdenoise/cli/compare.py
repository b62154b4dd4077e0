"""`imgdenoise compare`: side-by-side figure of methods on a clean image with added noise."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("clean", help="clean image")
    p.add_argument("--sigma", type=float, default=25.0)
    p.add_argument("--methods", default="bm3d,dncnn", help="comma-separated models/methods, each optionally "
                   "NAME:QUALITY (e.g. dncnn:fast; default quality: standard)")
    p.add_argument("--crop", type=int, nargs=3, metavar=("TOP", "LEFT", "SIZE"), help="zoomed region")
    p.add_argument("--gray", action="store_true")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--overwrite", action="store_true")


def run(args):
    from imgdenoise.figures import comparison_figure

    path, rows = comparison_figure(args.clean, args.sigma, args.methods.split(","), args.output,
                                   crop=args.crop, gray=args.gray, overwrite=args.overwrite)
    for method, p, s in rows:
        print(f"{method:10s} PSNR {p:6.2f} dB  SSIM {s:.4f}")
    print(f"wrote {path}")
    return 0
