"""Level readers for the default path, side by side: what each reads and what the default scores with it.

Every reader is plugged into the default denoiser in place of its estimator (the same passes, the same
Gaussian-equivalent law), blind, on three sets of pairs:

- PolyU-dev: real camera JPEGs (a validation set: reported and used to choose, never fitted);
- sharp: synthetic camera JPEG pairs of crops of the held-out training photographs (downscaled, so sharp
  at the pixel scale: :func:`level_sweep.photograph_pairs` with :func:`~imgdenoise.noise.camera_jpeg_pair`);
- soft: the same crops softened first as a camera's lens does (:func:`~imgdenoise.noise.soft_camera_jpeg_pair`).

Readers: ``level-std``, the shipped default's (when it is another) and each ``--candidate`` (a ``level``
network's ``.keras`` run file, a kept card ``.json`` or a shipped stem, read through
:class:`~imgdenoise.estimator.CameraLevelEstimator`: ``level-std`` tests for camera noise and reads white
noise, the network reads camera noise). For each: mean PSNR of the default path blind, and the level read
against the true level (standard deviation of noisy - clean): median ratio, mean absolute error, correlation
of the logs. No test set is read.

Usage: python benchmarks/level_readers.py --candidate runs/level-net/best.keras [--pairs 96] [--update-docs]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from level_sweep import photograph_pairs  # noqa: E402
from report import DATASETS, machine, today, update_section  # noqa: E402

from imgdenoise.data import true_level  # noqa: E402
from imgdenoise.metrics import psnr  # noqa: E402
from imgdenoise.noise import camera_jpeg_pair, soft_camera_jpeg_pair  # noqa: E402


def candidate_reader(spec: str, classical):
    """The default's estimator with camera noise read by the ``level`` network ``spec``: a ``.keras`` run file, a
    card ``.json`` beside its float16 weights (what a run keeps), or a shipped stem."""
    from imgdenoise.estimator import CameraLevelEstimator, LevelEstimator, load_level_estimator

    if spec.endswith(".json"):
        from imgdenoise.pretrained import load_pretrained

        return CameraLevelEstimator(classical, LevelEstimator(*load_pretrained(spec)))
    if not spec.endswith(".keras"):
        return load_level_estimator(spec)
    import keras

    import imgdenoise.losses  # noqa: F401 - the loss a run file was compiled with
    import imgdenoise.models  # noqa: F401 - registers the architectures

    model = keras.saving.load_model(spec, safe_mode=True, compile=False)
    card = {"architecture": {"name": "level", "channels": 3}, "task": "noise-level", "channels": 3, "multiple": 4}
    return CameraLevelEstimator(classical, LevelEstimator(model, card))


def score(denoiser, pairs) -> dict:
    """Mean PSNR blind and the level read against the true level, over ``pairs``."""
    true = np.array([true_level(noisy, clean) for noisy, clean in pairs])
    read = np.array([denoiser.noise_level(noisy) for noisy, _ in pairs])
    scores = [psnr(clean, denoiser.denoise(noisy)) for noisy, clean in pairs]
    return {"psnr": float(np.mean(scores)), "ratio": float(np.median(read / true)),
            "error": float(np.mean(np.abs(read - true))),
            "correlation": float(np.corrcoef(np.log(np.maximum(read, 1e-3)), np.log(true))[0, 1])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="the shared datasets folder")
    parser.add_argument("--candidate", action="append", default=[], metavar="READER")
    parser.add_argument("--pairs", type=int, default=96, help="synthetic pairs of held-out photographs per set")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--update-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    started = time.time()
    import imgdenoise
    from imgdenoise.evaluate import load_pairs

    real, problems = load_pairs(args.datasets / "real" / "PolyU-dev")
    for line in problems:
        print(line, file=sys.stderr)
    sets = {"PolyU-dev (real)": [(n, c) for _, n, c in real],
            "sharp (synthetic)": photograph_pairs(args.datasets, args.pairs, args.seed, pair=camera_jpeg_pair),
            "soft (synthetic)": photograph_pairs(args.datasets, args.pairs, args.seed + 1, pair=soft_camera_jpeg_pair)}
    inputs = {name: float(np.mean([psnr(c, n) for n, c in pairs])) for name, pairs in sets.items()}
    from imgdenoise.estimator import load_level_estimator
    from imgdenoise.pretrained import alias

    denoiser = imgdenoise.load_model("default")
    classical, shipped = load_level_estimator("level-std"), alias("default").level_estimator
    readers = {"level-std" + (" (shipped)" if shipped == "level-std" else ""): classical}
    if shipped != "level-std":
        readers[f"{shipped} (shipped)"] = denoiser.estimator
    readers.update({c: candidate_reader(c, classical) for c in args.candidate})
    lines = ["| reader | pairs | n | noisy input | default path, blind | read / true level (median) "
             "| mean abs error | correlation (log) |", "|---|---|---|---|---|---|---|---|"]
    for reader_name, reader in readers.items():
        denoiser.estimator = reader
        for set_name, pairs in sets.items():
            s = score(denoiser, pairs)
            lines.append(f"| {reader_name} | {set_name} | {len(pairs)} | {inputs[set_name]:.2f} | {s['psnr']:.2f} "
                         f"| {s['ratio']:.2f} | {s['error']:.2f} | {s['correlation']:.2f} |")
            print(lines[-1], flush=True)
    table = "\n".join(lines)
    print(table)
    if args.update_docs:
        command = " ".join(["python benchmarks/level_readers.py", *(f"--candidate {c}" for c in args.candidate)])
        update_section("level-readers", f"""
Command: `{command} --update-docs`,
{today()}, {machine()}; {time.time() - started:.0f} s. PSNR (dB) on RGB, outputs rounded to 8 bits, default quality.

{table}
""")


if __name__ == "__main__":
    main()
