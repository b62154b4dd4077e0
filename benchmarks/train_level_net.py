"""Train a learned level reader for the default path: the noise level of camera photographs, sharp or soft.

``level-std`` reads the deviation of an image's flattest blocks. On a camera's own photographs (soft at
the pixel scale) those blocks hold noise and the reading is right; on sharp photographs (downscaled,
web-sized, daylight) they hold texture, the reading is several times the noise and the default removes
texture (``benchmarks/level_sweep.py``). This trains the ``level`` network (:mod:`imgdenoise.models.level`)
to read the level from the image itself.

1. ``label``: random ``--size`` patches of synthetic camera JPEG pairs made by
   ``benchmarks/synthesize_pairs.py --noise camera-soft`` (pictures of the training photographs, most of them
   softened as a camera's lens does, a quarter left sharp) or ``--noise camera-edge`` (the same from cameras
   whose noise reduction and sharpening follow the picture: the shipped ``level-net``'s), the ``train/`` and
   ``val/`` folders; only the patches the default calls camera noise. Each is labelled with its true level
   (the standard deviation of noisy - clean, 0-255) and with the level the default path restores it best
   at: it is denoised told each level of :data:`GRID` (``Denoiser.denoise_batch(patches, sigmas=...)``: the
   same passes and Gaussian-equivalent law as blind use), and the PSNR-best level is the vertex of a
   parabola in log level through the best grid point and its neighbours. Cached in ``--cache`` with each
   patch's PSNR curve.
2. ``train``: the ``level`` network on those patches (random flips and rotations) to read ``--target``
   (``true``: the true level, as ``level-std`` means a level; ``best``: the default path's best level),
   log-L1 loss, Adam with cosine decay; the weights of the lowest validation loss are kept in ``--out``,
   with a card naming ``level-std`` as the test for camera noise (a :class:`imgdenoise.estimator.CameraLevelEstimator`).

No test set and no real pair is used. Usage:
  python benchmarks/train_level_net.py label [--pairs data/camera-soft-pairs] [--patches 1600]
  python benchmarks/train_level_net.py train [--target true] [--out runs/level-net]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import ROOT  # noqa: E402
from train_level_equivalent import augmented_batches  # noqa: E402 - random flips and rotations, levels / 255

GRID = np.array([0.5, 0.8, 1.25, 2.0, 3.2, 5.0, 8.0, 12.5, 20.0])  # levels told (0-255), a factor 1.6 apart
TARGET_KEYS = {"true": "true", "best": "target"}  # --target: the cache's key of each patch's label
PREDICTS = {
    "true": "the standard deviation (0-255) of an image's camera noise (noisy - clean), what a given sigma means; "
            "level-std tells camera noise from white noise, reads white noise, and holds the law from this level "
            "to the sigma the Gaussian U-Nets are told",
    "best": "the level (0-255, as a given sigma means it) at which the default path restores an image with camera "
            "noise best; level-std tells camera noise from white noise and reads white noise",
}
TARGETS = {"true": "each patch's noise standard deviation (noisy - clean)",
           "best": f"the default path's PSNR-best level on the grid {GRID.tolist()} + parabola"}


def pair_paths(folder: Path) -> list[tuple[Path, Path]]:
    """``(noisy, clean)`` file pairs of ``folder/noisy`` and ``folder/clean``, matched by name."""
    from imgdenoise.io import is_image_file

    names = sorted(p.name for p in (folder / "noisy").iterdir() if is_image_file(p))
    return [(folder / "noisy" / n, folder / "clean" / n) for n in names if (folder / "clean" / n).is_file()]


def random_patches(pairs, count: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` aligned ``size`` x ``size`` patches (noisy, clean), float32 in [0, 1], a few from each of a
    random selection of ``pairs`` (read one pair at a time)."""
    from imgdenoise.checks import pixel_scale
    from imgdenoise.io import read_image

    rng = np.random.default_rng(seed)
    per_pair = max(1, -(-count // len(pairs)))
    noisy, clean = [], []
    for index in rng.permutation(len(pairs)):
        images = [read_image(path).pixels for path in pairs[index]]
        h, w = images[0].shape[:2]
        if h < size or w < size:
            continue
        for _ in range(per_pair):
            top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
            a, b = (im[top:top + size, left:left + size].astype(np.float32) * np.float32(pixel_scale(im))
                    for im in images)
            noisy.append(a)
            clean.append(b)
        if len(noisy) >= count:
            break
    return np.stack(noisy[:count]), np.stack(clean[:count])


def psnr_curves(denoiser, noisy, clean, batch: int = 16) -> np.ndarray:
    """PSNR (dB, outputs rounded to 8 bits) of each patch restored by ``denoiser`` told each level of
    :data:`GRID`: (patches, levels)."""
    scores = np.zeros((len(noisy), len(GRID)))
    for g, level in enumerate(GRID):
        for start in range(0, len(noisy), batch):
            x = list(noisy[start:start + batch])
            out = np.stack(denoiser.denoise_batch(x, sigmas=[float(level)] * len(x)))
            out = np.round(out * 255) / 255
            mse = ((out - clean[start:start + batch]) ** 2).mean(axis=(1, 2, 3))
            scores[start:start + batch, g] = 10 * np.log10(1.0 / np.maximum(mse, 1e-12))
        print(f"  level {level:g} done", flush=True)
    return scores


def best_levels(scores: np.ndarray) -> np.ndarray:
    """Each row's PSNR-best level of :data:`GRID`: the vertex of the parabola (in log level) through the best
    grid point and its neighbours, or the grid point itself at the grid's ends."""
    logs = np.log(GRID)
    targets = []
    for row in scores:
        b = int(row.argmax())
        if 0 < b < len(GRID) - 1:
            a2, a1, _ = np.polyfit(logs[b - 1:b + 2], row[b - 1:b + 2], 2)
            vertex = -a1 / (2 * a2) if a2 < 0 else logs[b]
            targets.append(float(np.exp(np.clip(vertex, logs[b - 1], logs[b + 1]))))
        else:
            targets.append(float(GRID[b]))
    return np.array(targets, np.float32)


def label(args):
    import imgdenoise

    denoiser = imgdenoise.load_model("default")
    data = {}
    for split, count, seed in (("train", args.patches, 1), ("val", args.patches // 8, 2)):
        started = time.time()
        noisy, clean = random_patches(pair_paths(Path(args.pairs) / split), count, args.size, seed)
        camera = np.array([denoiser.correlated_noise(x) for x in noisy])
        noisy, clean = noisy[camera], clean[camera]
        true = np.std((noisy - clean).reshape(len(noisy), -1), axis=1) * 255
        data.update({f"{split}_noisy": noisy.astype(np.float16), f"{split}_true": true.astype(np.float32)})
        if args.curves:
            scores = psnr_curves(denoiser, noisy, clean)
            data.update({f"{split}_target": best_levels(scores), f"{split}_scores": scores.astype(np.float32)})
        print(f"{split}: {len(noisy)} camera-noise patches of {count} in {time.time() - started:.0f} s; true level "
              f"median {np.median(true):.2f}" + (f", best level median {np.median(data[f'{split}_target']):.2f}"
                                                  if args.curves else ""), flush=True)
    cache = Path(args.cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **data, grid=GRID, pairs=np.array(shown(args.pairs)), label_command=np.array(this_command()))


def shown(path) -> str:
    """``path`` as the docs show it: relative to the repository when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def this_command() -> str:
    return "python benchmarks/train_level_net.py " + " ".join(sys.argv[1:])


def train(args):
    import keras

    from imgdenoise.losses import log_l1
    from imgdenoise.models import build_model

    data = dict(np.load(args.cache))
    keras.utils.set_random_seed(args.seed)
    model = (keras.saving.load_model(args.init_from, safe_mode=True) if args.init_from
             else build_model("level", channels=3))
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=args.epochs * args.steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=log_l1)
    key = TARGET_KEYS[args.target]
    val = (data["val_noisy"].astype(np.float32), (data[f"val_{key}"] / 255.0)[:, None])
    run = Path(args.out)
    run.mkdir(parents=True, exist_ok=True)
    model.fit(augmented_batches(data["train_noisy"], data[f"train_{key}"], args.batch, args.seed),
              steps_per_epoch=args.steps, epochs=args.epochs, validation_data=val, verbose=2,
              callbacks=[keras.callbacks.ModelCheckpoint(str(run / "best.keras"), monitor="val_loss",
                                                         save_best_only=True),
                         keras.callbacks.CSVLogger(str(run / "log.csv"))])
    write_card(keras.saving.load_model(run / "best.keras", safe_mode=True), data, args, run)


def write_card(model, data, args, run: Path):
    """``run/best.json`` (what ``imgdenoise pack RUN`` ships) and the float16 weights with their card, with the
    held-out patches' median |log error|."""
    from imgdenoise.pretrained import save_pretrained

    key = TARGET_KEYS[args.target]
    pairs = str(data["pairs"]) if "pairs" in data else shown(args.pairs)  # caches before session 16 lack it
    commands = [str(data.get("label_command", "python benchmarks/train_level_net.py label")), this_command()]
    predicted = model.predict(data["val_noisy"].astype(np.float32), verbose=0)[:, 0] * 255
    error = np.abs(np.log(predicted) - np.log(data[f"val_{key}"]))
    card = {
        "architecture": {"name": "level", "channels": 3}, "task": "noise-level", "noise_conditional": False,
        "multiple": 4, "channels": 3, "camera_noise_test": "level-std",
        "predicts": PREDICTS[args.target],
        "training": {"pairs": pairs, "patches": int(len(data[f"train_{key}"])), "patch_size": args.size,
                     "noise": "synthetic camera JPEG pairs (benchmarks/synthesize_pairs.py; runs/README.md names "
                              "the command of each folder), the patches level-std calls camera noise",
                     "targets": TARGETS[args.target],
                     "loss": "log-l1", "epochs": args.epochs, "steps_per_epoch": args.steps,
                     "batch_size": args.batch, "learning_rate": args.lr, "schedule": "cosine", "seed": args.seed,
                     "command": " && ".join(commands)},
        "validation": {"patches": int(len(predicted)), "median_abs_log_error": float(np.median(error)),
                       "mean_abs_log_error": float(np.mean(error)), "data": f"{pairs}/val"},
    }
    if args.init_from:  # a further stage: the card keeps the stages before it
        earlier = json.loads((Path(args.init_from).parent / "best.json").read_text())
        card["training"]["init_from"] = shown(args.init_from)
        card["training"]["earlier_stages"] = [*earlier["training"].pop("earlier_stages", []), earlier["training"]]
    (run / "best.json").write_text(json.dumps(card, indent=2) + "\n")  # what `imgdenoise pack RUN` ships
    save_pretrained(model, card, run, run.name)
    print(f"validation: median |log error| {np.median(error):.3f} ({len(predicted)} held-out patches); "
          f"wrote {run / run.name}.npz and its card")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=("label", "train"))
    parser.add_argument("--pairs", default=str(ROOT / "data" / "camera-soft-pairs"))
    parser.add_argument("--patches", type=int, default=1600)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--no-curves", dest="curves", action="store_false",
                        help="label: true levels only (no denoising: fast, for --target true)")
    parser.add_argument("--cache", default=str(ROOT / "data" / "level-net-targets.npz"))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=sorted(TARGET_KEYS), default="true",
                        help="train: what the network reads: each patch's true noise level, or the level the "
                             "default path restores it best at")
    parser.add_argument("--init-from", help="train: start from this run's best.keras (a further stage)")
    parser.add_argument("--out", default=str(ROOT / "runs" / "level-net"))
    args = parser.parse_args()
    label(args) if args.stage == "label" else train(args)


if __name__ == "__main__":
    main()
