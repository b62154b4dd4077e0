"""Self-supervised against supervised training, from the same noisy images.

For each noise (AWGN sigma 25; Poisson-Gaussian with variance a*x + b), a noisy copy of
Train400 is made once (seeded, 16-bit PNG, under runs/ssl-data/). The same U-Net (preset
--preset) is trained with the same budget by:

  supervised          the noisy copies paired with their clean originals (the upper bound)
  n2v                 Noise2Void on the noisy copies only
  neighbor2neighbor   Neighbor2Neighbor on the noisy copies only

Each run (runs/ssl-NOISE-METHOD-EPOCHSxSTEPS) resumes from its checkpoint, so the script can be
repeated across sessions. Then every model and BM3D are scored on BSD68 with the same noise (seeded per
image; for Poisson-Gaussian every method is blind: the noise level is estimated from the image).

Usage: python benchmarks/selfsupervised.py [--noises awgn25 pg] [--epochs 20] [--update-docs]
       python benchmarks/selfsupervised.py --report-only --update-docs   # the table of the saved results
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
from report import DATASETS, ROOT, hardware, machine, today, update_section  # noqa: E402

NOISES = {
    "awgn25": {"label": "AWGN sigma 25", "sigma": 25.0},
    "pg": {"label": "Poisson-Gaussian a=0.01, b=0.0004 (about sigma 15-28)", "a": 0.01, "b": 0.0004},
}
METHODS = ["supervised", "n2v", "neighbor2neighbor"]
# The shipped U-Net as it is (trained on clean images with AWGN), and adapted to the noisy copies with
# `imgdenoise finetune` at its defaults (Neighbor2Neighbor, 5 x 200 steps from the shipped weights).
SHIPPED = ["shipped", "finetune"]
FINETUNE_BUDGET = (5, 200)


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


def run_folder(noise: str, method: str, args) -> Path:
    return ROOT / "runs" / f"ssl-{noise}-{method}-{args.epochs}x{args.steps}"


def _run_cli(command: list[str], out: Path) -> Path:
    """``imgdenoise COMMAND ...`` into the run folder ``out``, resumed where it has a checkpoint."""
    command = [sys.executable, "-m", "imgdenoise", *command, "--out", str(out), "--verbose", "2"]
    if (out / "checkpoint.keras").is_file():
        command += ["--resume"]
    subprocess.run(command, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return out


def train_run(noise: str, method: str, data: Path, args) -> Path:
    out = run_folder(noise, method, args)
    command = ["train"]
    if not (out / "checkpoint.keras").is_file():  # a resumed run keeps its own options
        command += ["--model", "unet", "--model-config", f"preset={args.preset}", "--patch-size", "64",
                    "--batch-size", "8", "--steps", str(args.steps), "--epochs", str(args.epochs), "--lr", "5e-4",
                    "--ema", "0.999", "--loss", "mse"]
        command += (["--train", str(data), "--paired"] if method == "supervised"
                    else ["--train", str(data / "noisy"), "--self-supervised", method])
    return _run_cli(command, out)


def finetune_run(noise: str, data: Path) -> Path:
    epochs, steps = FINETUNE_BUDGET
    out = ROOT / "runs" / f"ssl-{noise}-finetune-{epochs}x{steps}"
    return _run_cli(["finetune", "--model", "unet", "--train", str(data / "noisy"), "--epochs", str(epochs),
                     "--steps", str(steps)], out)


def _model_row(noise: str, method: str, data: Path, args) -> tuple:
    """``(model to score, row fields)`` of one method."""
    from imgdenoise.loading import load_model

    if method == "shipped":
        return load_model("unet"), {"source": "none of these (shipped weights)", "steps": "-"}
    if method == "finetune":
        out = ROOT / "runs" / f"ssl-{noise}-finetune-{FINETUNE_BUDGET[0]}x{FINETUNE_BUDGET[1]}"
        out = out if args.score_only else finetune_run(noise, data)
        budget = FINETUNE_BUDGET[0] * FINETUNE_BUDGET[1]
        source = "shipped weights + noisy only"
    else:
        out = run_folder(noise, method, args) if args.score_only else train_run(noise, method, data, args)
        budget = args.epochs * args.steps
        source = "noisy + clean pairs" if method == "supervised" else "noisy only"
    steps = json.loads((out / "best.json").read_text()).get("steps", "?")
    return load_model(out / "best.keras"), {"source": source, "steps": steps, "budget": budget}


RESULTS = ROOT / "benchmarks" / "results" / "selfsupervised.json"


def score_noise(noise: str, args) -> list[dict]:
    """Train (or resume) every method on one noise and score it and BM3D on the test set."""
    from quality import CACHE, measure

    from imgdenoise.classical import ClassicalDenoiser
    from imgdenoise.evaluate import evaluate

    data = noisy_train400(noise, Path(args.train))
    blind = "sigma" not in NOISES[noise]
    sigma = NOISES[noise].get("sigma", 0.0)
    noise_fn = None if not blind else (lambda clean, s, _n=noise: add_noise(clean, _n, 0))
    rows = []
    for method in args.methods:
        model, fields = _model_row(noise, method, data, args)
        record = evaluate(model, args.test, [sigma], method=method, blind=blind, noise=noise_fn, progress=False,
                          quality="fast")[0]  # training methods compared: one network pass each
        rows.append({"noise": noise, "method": method, **fields, "psnr": record["psnr"], "ssim": record["ssim"],
                     "hardware": hardware()})
        print(noise, method, f"{record['psnr']:.2f}", flush=True)
    if args.skip_bm3d:
        return rows
    bm3d = ClassicalDenoiser("bm3d")
    if blind:
        record = evaluate(bm3d, args.test, [sigma], method="bm3d", blind=True, noise=noise_fn, progress=False)[0]
    else:  # the protocol's AWGN, as in the quality table: its cached BM3D record when there is one
        cache = json.loads(CACHE.read_text()) if CACHE.is_file() else {}
        record = measure("bm3d", bm3d, Path(args.test), False, [sigma], cache)[0]
    rows.append({"noise": noise, "method": "BM3D" + (" (estimated sigma)" if blind else ""), "source": "none",
                 "steps": "-", "psnr": record["psnr"], "ssim": record["ssim"]})
    return rows


def _key(row: dict) -> tuple:
    return row["noise"], row["method"], row.get("budget")


def save_rows(rows: list[dict]):
    """Merge ``rows`` into the results file, replacing the earlier rows of the same noise, method and
    training budget (runs of other budgets stay, so the table shows how the gap changes with it)."""
    new = {_key(r) for r in rows}
    kept = [r for r in (json.loads(RESULTS.read_text()) if RESULTS.is_file() else []) if _key(r) not in new]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_name(f".{RESULTS.name}.tmp")
    tmp.write_text(json.dumps(kept + rows, indent=1) + "\n")
    tmp.replace(RESULTS)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--noises", nargs="+", default=list(NOISES), choices=list(NOISES))
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS + SHIPPED)
    parser.add_argument("--skip-bm3d", action="store_true", help="keep the saved BM3D rows")
    parser.add_argument("--train", default=str(DATASETS / "train" / "Train400"))
    parser.add_argument("--test", default=str(DATASETS / "test" / "BSD68"))
    parser.add_argument("--preset", default="small")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--score-only", action="store_true", help="score the runs as they are")
    parser.add_argument("--report-only", action="store_true",
                        help="only print (and with --update-docs, write) the table of the saved results")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()

    import imgdenoise.selfsupervised  # noqa: F401  (custom objects for loading)

    if not args.report_only:
        for noise in args.noises:
            save_rows(score_noise(noise, args))
    lines = ["| noise | method | training data | steps (best model at) | BSD68 PSNR (dB) | SSIM |",
             "|---|---|---|---|---|---|"]
    order = {m: i for i, m in enumerate(METHODS + SHIPPED)}
    group = {m: 0 for m in METHODS} | {m: 1 for m in SHIPPED}  # trained from scratch; shipped; BM3D
    rows = sorted(json.loads(RESULTS.read_text()),
                  key=lambda r: (list(NOISES).index(r["noise"]), group.get(r["method"], 2), r.get("budget", 0),
                                 order.get(r["method"], len(order))))
    for r in rows:
        steps = f"{r['budget']} ({r['steps']})" if "budget" in r else "-"
        lines.append(f"| {NOISES[r['noise']]['label']} | {r['method']} | {r['source']} | {steps} | "
                     f"{r['psnr']:.2f} | {r['ssim']:.4f} |")
    table = "\n".join(lines)
    where = {}
    for r in rows:
        if "budget" in r:
            where.setdefault(r["hardware"], set()).add(r["budget"])
    measured = "; ".join(f"{', '.join(str(b) for b in sorted(budgets))}-step runs on {machine_}"
                         for machine_, budgets in where.items())
    print(table)
    if args.update_docs:
        update_section("self-supervised", f"""
## Self-supervised training (no clean images)

Commands: `python benchmarks/selfsupervised.py --noises NOISE --epochs E --steps S` for each
noise and training budget E x S (trains, scores, saves the rows), then
`python benchmarks/selfsupervised.py {' '.join(sys.argv[1:])}`; table written {today()}, {machine()};
trained and scored: {measured}.
U-Net preset `{args.preset}`, E x S steps of batch 8 (64x64), MSE, cosine from 5e-4, EMA 0.999,
the same for every method of a budget; all trained on the same noisy copies of Train400 (the
supervised run also sees their clean originals); the best model of each run by its validation
loss. `shipped` is the shipped U-Net as it is (trained on clean images with AWGN) and `finetune`
the same adapted to the noisy copies by `imgdenoise finetune` at its defaults (Neighbor2Neighbor,
{FINETUNE_BUDGET[0]} x {FINETUNE_BUDGET[1]} steps). BSD68 with the same noise, seeded per image. Results are kept in
`benchmarks/results/selfsupervised.json` (one script run per noise and budget can fill it).

{table}

Supervised runs (paired data) give the model, as its sigma input, the noise level estimated from
each whole noisy image since 2026-11-25 (commit 043c540), the value blind denoising gives it; before,
each patch's true noise level. The AWGN 3000- and 20000-step supervised rows and the Poisson-Gaussian
3000-step one were trained the earlier way. Under signal-dependent noise that mismatch cost the
Poisson-Gaussian 20000-step supervised run its gain (28.88 dB, below its 3000-step 28.94); it was
retrained the new way, the row shown.
""")


if __name__ == "__main__":
    main()
