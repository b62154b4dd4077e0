"""Training cost on this machine: time per step of each model in float32 and mixed bfloat16,
and the cost of producing a batch (patches + augmentation + noise) from in-memory data.

Usage: python benchmarks/training_speed.py [--steps 20] [--update-docs]
Each precision runs in its own subprocess (Keras' dtype policy is global).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, today, update_section  # noqa: E402

from imgdenoise.runtimes import cpu_has_bfloat16  # noqa: E402

CASES = [  # label, architecture, patch, batch
    ("unet base", {"name": "unet", "preset": "base"}, 96, 8),
    ("unet 24-48-128-256, blocks 2-2-2-4 (benchmarks/unet_shapes.sh)",
     {"name": "unet", "widths": [24, 48, 128, 256], "blocks": [2, 2, 2, 4]}, 96, 8),
    ("dncnn", {"name": "dncnn"}, 40, 32),
]


def step_time(architecture: dict, patch: int, batch: int, precision: str, steps: int) -> float:
    """Seconds per training step (median over ``steps`` after a warm-up), run in this process."""
    import keras

    from imgdenoise.models import build_model, get_spec
    from imgdenoise.train import dtype_policy

    with dtype_policy(precision):
        model = build_model(channels=1, **architecture)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mae")
    rng = np.random.default_rng(0)
    x = rng.random((batch, patch, patch, 1), dtype=np.float32)
    inputs = [x, np.full_like(x, 0.1)] if get_spec(architecture["name"]).noise_conditional else x
    model.train_on_batch(inputs, x)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(inputs, x)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def batch_time(patch: int = 96, batch: int = 8, batches: int = 200) -> float:
    from imgdenoise.data import PatchDataset
    from imgdenoise.noise import GaussianNoise

    images = [np.random.default_rng(i).random((180, 180, 1), dtype=np.float32) for i in range(400)]
    data = PatchDataset(images, noise=GaussianNoise((0, 75)), patch_size=patch, batch_size=batch,
                        steps=batches, noise_conditional=True)
    start = time.perf_counter()
    for i in range(batches):
        data[i]
    return (time.perf_counter() - start) / batches


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--update-docs", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one measurement, printed as JSON for the parent
        label, precision = json.loads(args.child)
        _, architecture, patch, batch = next(c for c in CASES if c[0] == label)
        print(json.dumps(step_time(architecture, patch, batch, precision, args.steps)))
        return
    lines = ["| model | patch x batch | float32 s/step | mixed bfloat16 s/step | speed-up | "
             "bfloat16 Mpixel/s |", "|---|---|---|---|---|---|"]
    for label, _, patch, batch in CASES:
        times = {}
        for precision in ("float32", "mixed_bfloat16"):
            child = [sys.executable, __file__, "--steps", str(args.steps), "--child", json.dumps([label, precision])]
            out = subprocess.run(child, capture_output=True, text=True, check=True)
            times[precision] = json.loads(out.stdout.strip().splitlines()[-1])
        pixels = patch * patch * batch
        bf16 = times["mixed_bfloat16"]
        lines.append(f"| {label} | {patch}x{patch} x {batch} | {times['float32']:.3f} | {bf16:.3f}"
                     f" | {times['float32'] / bf16:.1f}x | {pixels / bf16 / 1e6:.2f} |")
        print(lines[-1], flush=True)
    data_ms = batch_time() * 1000
    text = "\n".join(lines) + (f"\n\nProducing one 8 x 96 x 96 noise-conditional batch from in-memory images "
                               f"(crop, flip/rotate, noise, sigma map): {data_ms:.2f} ms.")
    print(text)
    if args.update_docs:
        update_section("training-speed", f"""
## Training cost

Command: `python benchmarks/training_speed.py --steps {args.steps} --update-docs`, {today()}, {machine()}.
Median seconds per training step (forward + backward + Adam), each precision in its own process.
Mixed bfloat16 is what `--precision auto` picks on CPUs with AMX or AVX512-BF16 units
({"as here" if cpu_has_bfloat16() else "this CPU has none: auto trains in float32"}).

{text}
""")


if __name__ == "__main__":
    main()
