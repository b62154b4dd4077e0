"""Inference cost of each architecture on this machine: parameters, FLOPs per pixel, throughput.

Throughput is measured through the same path users take (``Denoiser.denoise``, float32, whole image)
on gray images of 0.26 and 1.05 megapixels; the median of --repeats runs after a warm-up.
Speed is reported as a ratio to DnCNN measured in the same run.

Usage: python benchmarks/speed.py [--sizes 512 1024] [--repeats 3] [--update-docs]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, today, update_section  # noqa: E402

from imgdenoise.inference import Denoiser  # noqa: E402
from imgdenoise.models import build_model, get_spec  # noqa: E402
from imgdenoise.models.complexity import flops_per_pixel  # noqa: E402

ARCHITECTURES = {
    "dncnn": {"name": "dncnn"},
    "unet (base, flagship)": {"name": "unet", "preset": "base"},
    "unet (small)": {"name": "unet", "preset": "small"},
    "seed": {"name": "seed"},
}


def denoiser_for(architecture: dict) -> Denoiser:
    config = {**architecture, "channels": 1}
    model = build_model(**config)
    spec = get_spec(config["name"])
    card = {"architecture": config, "noise_conditional": spec.noise_conditional,
            "multiple": spec.multiple_for(config), "channels": 1}
    return Denoiser({1: (model, card)})


def throughput(denoiser: Denoiser, size: int, repeats: int) -> float:
    image = np.random.default_rng(0).random((size, size, 1)).astype(np.float32)
    denoiser.denoise(image, 25)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        denoiser.denoise(image, 25)
        times.append(time.perf_counter() - start)
    return size * size / 1e6 / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    rows = []
    for label, architecture in ARCHITECTURES.items():
        denoiser = denoiser_for(architecture)
        model = next(iter(denoiser.variants.values())).model
        speeds = [throughput(denoiser, size, args.repeats) for size in args.sizes]
        rows.append((label, model.count_params(), flops_per_pixel(model), speeds))
        print(label, f"{rows[-1][2] / 1e6:.3f} MFLOP/px", " ".join(f"{s:.2f} MP/s" for s in speeds), flush=True)
    reference = rows[0]
    header = ("| model | parameters | MFLOP / pixel | " + " | ".join(f"MP/s at {s}x{s}" for s in args.sizes)
              + " | speed vs DnCNN |")
    lines = [header, "|---|---|---|" + "---|" * len(args.sizes) + "---|"]
    for label, params, flops, speeds in rows:
        ratio = statistics.mean(s / r for s, r in zip(speeds, reference[3]))
        lines.append(f"| {label} | {params:,} | {flops / 1e6:.3f} | " + " | ".join(f"{s:.2f}" for s in speeds)
                     + f" | {ratio:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.update_docs:
        update_section("speed", f"""
## Inference cost

Command: `python benchmarks/speed.py {' '.join(sys.argv[1:])}`, {today()}, {machine()}.
FLOPs count the convolutions (2 x multiply-adds per input pixel). Throughput: gray images through
`Denoiser.denoise` in float32, median of {args.repeats} runs; "speed vs DnCNN" is the ratio of
throughputs measured in this same run.

{table}
""")


if __name__ == "__main__":
    main()
