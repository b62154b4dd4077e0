"""Self-supervised against supervised training, from the same noisy images.

For each noise (AWGN sigma 25; Poisson-Gaussian with variance a*x + b), a noisy copy of
Train400 is made once (seeded, 16-bit PNG, under runs/ssl-data/). The same U-Net (preset
--preset) is trained with the same budget by:

  supervised          the noisy copies paired with their clean originals (the upper bound)
  n2v                 Noise2Void on the noisy copies only
  neighbor2neighbor   Neighbor2Neighbor on the noisy copies only

Each run resumes from its checkpoint (runs/ssl-NOISE-METHOD), so the script can be repeated
across sessions. Then every model and BM3D are scored on BSD68 with the same noise (seeded per
image; for Poisson-Gaussian every method is blind: the noise level is estimated from the image).

Usage: python benchmarks/selfsupervised.py [--noises awgn25 pg] [--epochs 20] [--update-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, ROOT, machine, today, update_section  # noqa: E402

NOISES = {
    "awgn25": {"label": "AWGN sigma 25", "sigma": 25.0},
    "pg": {"label": "Poisson-Gaussian a=0.01, b=0.0004 (about sigma 15-28)", "a": 0.01, "b": 0.0004},
}
METHODS = ["supervised", "n2v", "neighbor2neighbor"]


def add_noise(clean: np.ndarray, noise: str, seed: int) -> np.ndarray:
    from imgdenoise.noise import add_poisson_gaussian_noise, add_protocol_noise

    spec = NOISES[noise]
    if "sigma" in spec:
        return add_protocol_noise(clean, spec["sigma"], seed=seed)
    return add_poisson_gaussian_noise(clean, spec["a"], spec["b"], seed=seed)


def noisy_train400(noise: str, train: Path) -> Path:
    """runs/ssl-data/NOISE/{noisy,clean}/ (made once): the noisy copies, and the originals for supervision."""
    from imgdenoise.data import list_images
    from imgdenoise.io import read_image, write_image

    root = ROOT / "runs" / "ssl-data" / noise
    if (root / "done").exists():
        return root
    for i, path in enumerate(list_images(train)):
        clean = read_image(path).pixels
        write_image(root / "noisy" / f"{path.stem}.png", np.clip(add_noise(clean, noise, 1000 + i), 0, 1),
                    bit_depth=16, overwrite=True)
        write_image(root / "clean" / f"{path.stem}.png", clean, overwrite=True)
    (root / "done").write_text("")
    return root


def train_run(noise: str, method: str, data: Path, args) -> Path:
    out = ROOT / "runs" / f"ssl-{noise}-{method}"
    command = [sys.executable, "-m", "imgdenoise", "train", "--out", str(out), "--verbose", "2"]
    if (out / "checkpoint.keras").is_file():
        command += ["--resume"]
    else:
        command += ["--model", "unet", "--model-config", f"preset={args.preset}", "--patch-size", "64",
                    "--batch-size", "8", "--steps", str(args.steps), "--epochs", str(args.epochs), "--lr", "5e-4",
                    "--ema", "0.999", "--loss", "mse"]
        command += (["--train", str(data), "--paired"] if method == "supervised"
                    else ["--train", str(data / "noisy"), "--self-supervised", method])
    subprocess.run(command, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--noises", nargs="+", default=list(NOISES), choices=list(NOISES))
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--train", default=str(DATASETS / "train" / "Train400"))
    parser.add_argument("--test", default=str(DATASETS / "test" / "BSD68"))
    parser.add_argument("--preset", default="small")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--score-only", action="store_true", help="score the runs as they are")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()

    import imgdenoise.selfsupervised  # noqa: F401  (custom objects for loading)
    from imgdenoise.classical import ClassicalDenoiser
    from imgdenoise.evaluate import evaluate
    from imgdenoise.inference import load_model

    lines = ["| noise | method | training data | steps | BSD68 PSNR (dB) | SSIM |", "|---|---|---|---|---|---|"]
    for noise in args.noises:
        data = noisy_train400(noise, Path(args.train))
        spec = NOISES[noise]
        blind = "sigma" not in spec
        sigma = spec.get("sigma", 0.0)
        noise_fn = None if not blind else (lambda clean, s, _n=noise: add_noise(clean, _n, 0))
        scored = []
        for method in args.methods:
            out = ROOT / "runs" / f"ssl-{noise}-{method}" if args.score_only else train_run(noise, method, data, args)
            steps = json.loads((out / "best.json").read_text()).get("steps", "?")
            record = evaluate(load_model(out / "best.keras"), args.test, [sigma], method=method, blind=blind,
                              noise=noise_fn, progress=False)[0]
            source = "noisy + clean pairs" if method == "supervised" else "noisy only"
            scored.append((method, source, steps, record))
            print(noise, method, f"{record['psnr']:.2f}", flush=True)
        bm3d = evaluate(ClassicalDenoiser("bm3d"), args.test, [sigma], method="bm3d", blind=blind, noise=noise_fn,
                        progress=False)[0]
        scored.append(("BM3D" + (" (estimated sigma)" if blind else ""), "none", "-", bm3d))
        for method, source, steps, record in scored:
            lines.append(f"| {spec['label']} | {method} | {source} | {steps} | {record['psnr']:.2f} | "
                         f"{record['ssim']:.4f} |")
    table = "\n".join(lines)
    print(table)
    if args.update_docs:
        update_section("self-supervised", f"""
## Self-supervised training (no clean images)

Command: `python benchmarks/selfsupervised.py {' '.join(sys.argv[1:])}`, {today()}, {machine()}.
U-Net preset `{args.preset}`, {args.epochs} x {args.steps} steps of batch 8 (64x64), MSE, cosine from 5e-4,
EMA 0.999, for every method; all trained on the same noisy copies of Train400 (the supervised
run also sees their clean originals). BSD68 with the same noise, seeded per image.

{table}
""")


if __name__ == "__main__":
    main()
