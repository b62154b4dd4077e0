"""Training throughput: one process against two workers of tf.distribute.MultiWorkerMirroredStrategy.

Trains the same model on the same data three ways with ``imgdenoise train`` (TensorFlow backend,
float32, the global batch the same in all three), each in fresh processes:

  1 process, 1 thread      the per-core reference
  1 process, 2 threads     the whole machine in one process (``TF_NUM_INTRAOP_THREADS=2``)
  2 workers, 1 thread each ``--distribute multi-worker``, two processes joined through TF_CONFIG on
                           loopback: each computes half of every batch, gradients all-reduced

The figure is the wall-clock time of the second epoch (the first one includes tracing) divided by
its steps: from the moment worker 0 prints "Epoch 2/2" to its end-of-epoch line (so it includes
the epoch's validation pass, the same in every setup); patches/s is the global batch divided by it.

Usage: python benchmarks/training_scaling.py [--train DIR] [--steps 30] [--update-docs]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, today, update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TRAIN = ROOT.parent / "shared" / "datasets" / "train" / "Train400"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(args, out: Path, mode: str) -> list[str]:
    return [sys.executable, "-m", "imgdenoise", "train", "--model", "unet", "--model-config",
            f"preset={args.preset}", "--train", str(args.train), "--sigma", "25", "--loss", "l1",
            "--patch-size", str(args.patch_size), "--batch-size", str(args.batch_size), "--epochs", "2",
            "--steps", str(args.steps), "--precision", "float32", "--distribute", mode, "--out", str(out),
            "--verbose", "2"]


def _timed_lines(process: subprocess.Popen) -> list[tuple[float, str]]:
    """Every output line of ``process`` with the time it arrived (the output must be unbuffered)."""
    return [(time.monotonic(), line) for line in process.stdout]


def _ms_per_step(lines: list[tuple[float, str]], steps: int) -> float:
    """The second epoch's wall-clock time per step, from its "Epoch 2/2" line to its summary line."""
    begin = next((t for t, line in lines if line.startswith("Epoch 2/")), None)
    end = next((t for t, line in lines if begin is not None and t > begin and re.match(r"\d+/\d+ - ", line)), None)
    if begin is None or end is None:
        raise RuntimeError("no second epoch in the training output:\n" + "".join(line for _, line in lines)[-2000:])
    return (end - begin) * 1000.0 / steps


def run(args, name: str, threads: int, workers: int, root: Path) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1",
           "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": str(threads)}
    out = root / name.replace(" ", "-").replace(",", "")
    if workers == 1:
        processes = [subprocess.Popen(_command(args, out, "none"), env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)]
    else:
        ports = [_free_port() for _ in range(workers)]
        cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
        processes = [subprocess.Popen(_command(args, out, "multi-worker"), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True,
                                      env={**env, "TF_CONFIG": json.dumps({"cluster": cluster,
                                                                           "task": {"type": "worker", "index": i}})})
                     for i in range(workers)]
    with concurrent.futures.ThreadPoolExecutor(len(processes)) as pool:
        outputs = list(pool.map(_timed_lines, processes))
    for p, lines in zip(processes, outputs):
        if p.wait():
            raise RuntimeError(f"{name}: training failed:\n" + "".join(line for _, line in lines)[-3000:])
    ms = _ms_per_step(outputs[0], args.steps)
    return {"setup": name, "processes": workers, "threads": threads, "ms_per_step": ms,
            "images_per_s": args.batch_size / (ms / 1000.0)}


def table(records: list[dict]) -> str:
    base = records[0]["images_per_s"]
    lines = ["| setup | processes x threads | ms / step | patches / s | vs 1 x 1 |", "|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['setup']} | {r['processes']} x {r['threads']} | {r['ms_per_step']:.0f} | "
                     f"{r['images_per_s']:.1f} | {r['images_per_s'] / base:.2f}x |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN, help="clean training images")
    parser.add_argument("--preset", default="base")
    parser.add_argument("--patch-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16, help="the global batch, the same in every setup")
    parser.add_argument("--steps", type=int, default=30, help="steps per epoch (2 epochs, the second timed)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "training-scaling.json")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    if not args.train.is_dir():
        parser.error(f"--train {args.train}: not a folder of training images")

    with tempfile.TemporaryDirectory() as tmp:
        records = [run(args, "one process", 1, 1, Path(tmp)),
                   run(args, "one process, all cores", 2, 1, Path(tmp)),
                   run(args, "two workers (MultiWorkerMirroredStrategy, loopback)", 1, 2, Path(tmp))]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(records, indent=1) + "\n")
    text = table(records)
    print(text)
    if args.update_docs:
        options = {"--preset": (args.preset, "base"), "--patch-size": (args.patch_size, 64),
                   "--batch-size": (args.batch_size, 16), "--steps": (args.steps, 30)}
        command = "python benchmarks/training_scaling.py" + "".join(
            f" {flag} {value}" for flag, (value, default) in options.items() if value != default)
        body = (f"## Scaling out: data-parallel training with tf.distribute (issue 8)\n\n"
                f"Command: `{command} --update-docs`, {today()}, {machine()}.\n"
                f"U-Net `{args.preset}`, L1, sigma 25, global batch {args.batch_size} of {args.patch_size}x"
                f"{args.patch_size} patches of Train400, float32, TensorFlow; wall-clock time per step of the "
                f"second epoch of {args.steps} steps (validation included), seen by worker 0.\n\n{text}\n")
        update_section("training-scaling", body)


if __name__ == "__main__":
    main()
