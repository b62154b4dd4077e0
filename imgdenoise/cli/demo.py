"""`imgdenoise demo`: denoise a sample image with the shipped default model."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="demo-output")
    p.add_argument("--sigma", type=float, default=25.0)
    p.add_argument("--model", default="default")


def run(args):
    from imgdenoise.figures import demo

    return demo(args.output, sigma=args.sigma, model=args.model)
