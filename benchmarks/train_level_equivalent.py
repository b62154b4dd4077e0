"""Fit the real-photo noise-level estimators: for each noisy image, the sigma at which the shipped
Gaussian colour U-Net restores it best (its Gaussian-equivalent sigma).

Camera noise after demosaicing, in-camera processing and JPEG is correlated and signal-dependent: a
Gaussian denoiser must be told a sigma well above its standard deviation to remove it, and the
classical estimator reads almost none of it. So the estimator learns the sigma the denoiser needs:

1. targets: random patches of the clean colour training photographs (the last 5% of each folder held
   out for validation), each given realistic synthetic noise (:func:`imgdenoise.noise.realistic_noise`;
   a fifth of them white Gaussian noise, whose answer is its own sigma), denoised by the shipped colour
   U-Net (one pass) at a grid of sigmas; the target is the PSNR-best sigma (a parabola through the best
   grid point and its neighbours, in log sigma). Cached in ``--cache``.
2. ``--coarse`` (the shipped ``level-coarse``): the classical estimator on 2x2-averaged patches, mapped
   to the targets by a power law fitted in log-log on the training patches (least squares), checked on
   the held-out ones; written as a card (``--card``). With ``--target std`` a reading is mapped to each
   patch's noise standard deviation (of noisy - clean) instead: a level that means the noise's size, as
   reported to users; its card also holds the law from that level to the Gaussian-equivalent sigma (both
   power laws of the same reading). With ``--blocks`` the reading is the deviation of the flattest blocks
   (:func:`imgdenoise.estimator.block_deviation`; size and percentile chosen on the held-out patches)
   instead of the coarse one; with ``--fit-on correlated`` the laws are fitted on the patches the estimator
   calls correlated, the only ones they are applied to. The shipped ``level-std`` (the default's) is
   ``--coarse --target std --blocks --fit-on correlated``.
3. otherwise: the ``level`` network (:mod:`imgdenoise.models.level`) on those patches (random flips and
   rotations), log-L1 loss, Adam with cosine decay; the weights of the lowest validation loss are kept.

No test set and no real pair is used. Usage:
  python benchmarks/train_level_equivalent.py --coarse [--card imgdenoise/weights/level-coarse.json]
  python benchmarks/train_level_equivalent.py --coarse --target std --blocks --fit-on correlated \\
      --card imgdenoise/weights/level-std.json
  python benchmarks/train_level_equivalent.py [--train DIR ...] [--patches 2000] [--out runs/level-real]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, ROOT  # noqa: E402

from imgdenoise.data import list_images, load_images, split_held_out  # noqa: E402
from imgdenoise.noise import GaussianNoise, realistic_noise  # noqa: E402
from imgdenoise.transforms import dihedral  # noqa: E402

GRID = np.array([1.5, 2.5, 4.0, 6.0, 9.0, 13.0, 19.0, 27.0, 38.0, 54.0])
FOLDERS = ("BSD432", "photos", "color-small")


def split_images(folders, held_out: float = 0.05):
    """Clean training images and held-out ones: the last ``held_out`` of each folder, as ``imgdenoise train``."""
    train, val = [], []
    for folder in folders:
        kept, held = split_held_out(list_images(folder), held_out)
        train += kept
        val += held
    return load_images(train, 3), load_images(val, 3)


def noisy_patches(images, count: int, size: int, seed: int):
    """``count`` clean ``size`` patches with realistic noise (a fifth white Gaussian, sigma 1-40)."""
    rng = np.random.default_rng(seed)
    areas = np.array([im.shape[0] * im.shape[1] for im in images], np.float64)
    realistic, white = realistic_noise(), GaussianNoise((1.0, 40.0))
    clean, noisy = [], []
    for _ in range(count):
        image = images[rng.choice(len(images), p=areas / areas.sum())]
        top, left = rng.integers(0, image.shape[0] - size + 1), rng.integers(0, image.shape[1] - size + 1)
        patch = dihedral(image[top:top + size, left:left + size], int(rng.integers(0, 8)))[None]
        model = white if rng.random() < 0.2 else realistic
        out, _ = model(patch.astype(np.float32), rng)
        clean.append(patch[0])
        noisy.append(out[0])
    return np.stack(clean).astype(np.float32), np.stack(noisy).astype(np.float32)


def best_sigmas(network, clean, noisy, batch: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Each patch's PSNR-best sigma for ``network`` (one pass, a grid then a parabola in log sigma),
    and the PSNR there."""
    scores = np.zeros((len(clean), len(GRID)))
    for g, sigma in enumerate(GRID):
        for start in range(0, len(clean), batch):
            x = noisy[start:start + batch]
            s = np.full(x.shape[:3] + (1,), sigma / 255.0, np.float32)
            out = np.clip(network.predict_on_batch([x, s]), 0, 1)
            mse = ((out - clean[start:start + batch]) ** 2).mean(axis=(1, 2, 3))
            scores[start:start + batch, g] = 10 * np.log10(1.0 / np.maximum(mse, 1e-12))
        print(f"  sigma {sigma:g} done", flush=True)
    logs = np.log(GRID)
    best = scores.argmax(axis=1)
    targets = []
    for i, b in enumerate(best):
        if 0 < b < len(GRID) - 1:  # vertex of the parabola through three points
            y0, y1, y2 = scores[i, b - 1:b + 2]
            x0, x1, x2 = logs[b - 1:b + 2]
            denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
            a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
            bb = (x2 ** 2 * (y0 - y1) + x1 ** 2 * (y2 - y0) + x0 ** 2 * (y1 - y2)) / denom
            vertex = -bb / (2 * a) if a < 0 else logs[b]
            targets.append(float(np.exp(np.clip(vertex, x0, x2))))
        else:
            targets.append(float(GRID[b]))
    return np.array(targets, np.float32), scores.max(axis=1)


def make_targets(args, cache: Path):
    from imgdenoise.pretrained import WEIGHTS_DIR, load_pretrained
    from imgdenoise.runtimes import bfloat16_copy

    train, val = split_images([Path(f) for f in args.train])
    model, card = load_pretrained(WEIGHTS_DIR / "unet-color.json")
    network = bfloat16_copy(model) if args.bf16 else model
    data = {}
    for split, images, count, seed in (("train", train, args.patches, 1), ("val", val, args.patches // 8, 2)):
        started = time.time()
        clean, noisy = noisy_patches(images, count, args.size, seed)
        targets, best_psnr = best_sigmas(network, clean, noisy)
        std = np.std((noisy - clean).reshape(len(clean), -1), axis=1) * 255
        print(f"{split}: {count} patches in {time.time() - started:.0f} s; target sigma median "
              f"{np.median(targets):.1f}, residual std median {np.median(std):.1f}", flush=True)
        data.update({f"{split}_noisy": noisy.astype(np.float16), f"{split}_target": targets,
                     f"{split}_std": std.astype(np.float32), f"{split}_psnr": best_psnr.astype(np.float32)})
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **data)
    return dict(np.load(cache))


def augmented_batches(noisy, targets, batch: int, seed: int):
    rng = np.random.default_rng(seed)
    while True:
        picks = rng.choice(len(noisy), batch)
        x = np.stack([dihedral(noisy[i].astype(np.float32), int(rng.integers(0, 8))) for i in picks])
        yield x, (targets[picks] / 255.0)[:, None]


def train_estimator(data, args, run: Path):
    import keras

    from imgdenoise.losses import log_l1
    from imgdenoise.models import build_model, get_spec
    from imgdenoise.pretrained import save_pretrained

    keras.utils.set_random_seed(args.seed)
    model = build_model("level", channels=3)
    steps = args.epochs * args.steps
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=log_l1)
    val = (data["val_noisy"].astype(np.float32), (data["val_target"] / 255.0)[:, None])
    run.mkdir(parents=True, exist_ok=True)
    best = keras.callbacks.ModelCheckpoint(str(run / "best.keras"), monitor="val_loss", save_best_only=True)
    history = model.fit(augmented_batches(data["train_noisy"], data["train_target"], args.batch, args.seed),
                        steps_per_epoch=args.steps, epochs=args.epochs, validation_data=val, verbose=2,
                        callbacks=[best, keras.callbacks.CSVLogger(str(run / "log.csv"))])
    model = keras.saving.load_model(run / "best.keras", safe_mode=True)
    predicted = model.predict(val[0], verbose=0)[:, 0] * 255
    error = np.abs(np.log(predicted) - np.log(data["val_target"]))
    card = {
        "architecture": {"name": "level", "channels": 3}, "task": "noise-level", "noise_conditional": False,
        "multiple": get_spec("level").multiple_for({}), "channels": 3,
        "predicts": "the Gaussian-equivalent sigma (0-255) of an image's noise: the sigma at which the shipped "
                    "Gaussian colour U-Net (unet-color, one pass) restores it best",
        "training": {"data": [str(f) for f in args.train], "patches": int(len(data["train_target"])),
                     "patch_size": args.size, "noise": "realistic (imgdenoise.noise.realistic_noise); a fifth white "
                     "Gaussian, sigma 1-40", "targets": f"PSNR-best sigma on the grid {GRID.tolist()} + parabola",
                     "loss": "log-l1", "epochs": args.epochs, "steps_per_epoch": args.steps, "batch_size": args.batch,
                     "learning_rate": args.lr, "schedule": "cosine",
                     "command": "python benchmarks/train_level_equivalent.py " + " ".join(sys.argv[1:])},
        "validation": {"patches": int(len(predicted)), "median_abs_log_error": float(np.median(error)),
                       "mean_abs_log_error": float(np.mean(error)),
                       "val_loss": float(min(history.history["val_loss"]))},
    }
    (run / "best.json").write_text(json.dumps(card, indent=2) + "\n")
    save_pretrained(model, card, run, "level-real")
    print(f"validation: median |log error| {np.median(error):.3f} ({len(predicted)} held-out patches)")


PREDICTS = {
    "equivalent": "the Gaussian-equivalent sigma (0-255) of an image's noise: the sigma at which the shipped "
                  "Gaussian colour U-Net (unet-color, one pass) restores it best",
    "std": "the standard deviation (0-255) of an image's noise (noisy - clean), camera noise included",
}
TARGETS = {"equivalent": "PSNR-best sigma on the grid " + str(GRID.tolist()) + " + parabola",
           "std": "each patch's noise standard deviation (noisy - clean)"}


BLOCK_GRID = tuple((block, percentile) for block in (4, 8, 16) for percentile in (10, 25, 50))


def level_readings(data, split: str, blocks: dict | None, factor: int) -> np.ndarray:
    """The reading each ``split`` patch's level is mapped from: the coarse one, or the block deviation."""
    from imgdenoise.estimator import MIN_READING, CalibratedEstimator, block_deviation

    def read(x):
        if blocks is None:
            return CalibratedEstimator.reading(x, factor)
        return block_deviation(x, blocks["block"], blocks["percentile"])

    return np.array([max(read(x.astype(np.float32)), MIN_READING) for x in data[f"{split}_noisy"]])


def correlated_mask(data, split: str, factor: int) -> np.ndarray:
    """Which ``split`` patches the estimator calls correlated (the only ones its law is applied to)."""
    from imgdenoise.estimator import CalibratedEstimator, correlated_readings

    def correlated(x):
        return correlated_readings(CalibratedEstimator.reading(x, 1), CalibratedEstimator.reading(x, factor))

    return np.array([correlated(x.astype(np.float32)) for x in data[f"{split}_noisy"]])


def fit_law(readings: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of ``log(target) = a + b log(reading)`` by least squares."""
    b, a = np.polyfit(np.log(readings), np.log(targets), 1)
    return float(a), float(b)


def median_log_error(a: float, b: float, readings: np.ndarray, targets: np.ndarray) -> float:
    return float(np.median(np.abs(a + b * np.log(readings) - np.log(targets))))


def select_blocks(data, key: str, masks: dict, factor: int) -> dict:
    """The block reading (size, percentile of :data:`BLOCK_GRID`) whose law fitted on the training patches
    has the lowest median |log error| on the held-out ones; prints the grid."""
    scores = {}
    for block, percentile in BLOCK_GRID:
        blocks = {"block": block, "percentile": percentile}
        train_r, val_r = (level_readings(data, split, blocks, factor)[masks[split]] for split in ("train", "val"))
        a, b = fit_law(train_r, data[f"train_{key}"][masks["train"]])
        scores[(block, percentile)] = median_log_error(a, b, val_r, data[f"val_{key}"][masks["val"]])
        print(f"block {block:2d}, percentile {percentile:2d}: held-out median |log error| "
              f"{scores[(block, percentile)]:.3f}", flush=True)
    block, percentile = min(scores, key=scores.get)
    return {"block": block, "percentile": percentile}


def calibrate_classical(data, args, card_path: Path, factor: int = 2):
    """Fit ``log(target) = a + b log(reading)`` for :class:`imgdenoise.estimator.CalibratedEstimator`; the
    target is the Gaussian-equivalent sigma or the noise's standard deviation (``args.target``); the
    reading the coarse one or, with ``--blocks``, the block deviation chosen on held-out patches."""
    key = "target" if args.target == "equivalent" else "std"
    masks = {split: (correlated_mask(data, split, factor) if args.fit_on == "correlated"
                     else np.ones(len(data[f"{split}_{key}"]), bool)) for split in ("train", "val")}
    blocks = None
    if args.blocks:
        blocks = ({"block": args.block, "percentile": args.percentile} if args.block
                  else select_blocks(data, key, masks, factor))
    train_r, val_r = (level_readings(data, split, blocks, factor)[masks[split]] for split in ("train", "val"))
    a, b = fit_law(train_r, data[f"train_{key}"][masks["train"]])
    name = "classical-blocks" if blocks else "classical-coarse"
    card = {"architecture": {"name": name, "channels": 3}, "task": "noise-level",
            "kind": "calibrated-classical", "factor": factor, "a": a, "b": b, "channels": 3,
            "predicts": PREDICTS[args.target],
            "training": {"data": [str(f) for f in args.train], "patches": int(len(train_r)),
                         "patch_size": args.size, "noise": "realistic (imgdenoise.noise.realistic_noise); a fifth "
                         "white Gaussian, sigma 1-40", "targets": TARGETS[args.target],
                         "fit": "least squares of log(target) on log(reading)"
                         + (", on the patches it calls correlated" if args.fit_on == "correlated" else ""),
                         "command": "python benchmarks/train_level_equivalent.py " + " ".join(sys.argv[1:])
                         + " (after the run that labelled the cached patches, --bf16)"}}
    if blocks:
        card["reading"] = blocks
        card["training"]["selection"] = (f"block size and percentile of {[list(g) for g in BLOCK_GRID]}: the lowest "
                                         "held-out median |log error|")
    if args.target == "std":  # the law from this level to the Gaussian-equivalent sigma, via the same reading
        a_eq, b_eq = fit_law(train_r, data["train_target"][masks["train"]])
        card["gaussian_equivalent"] = {
            "a": a_eq - a * b_eq / b, "b": b_eq / b,
            "predicts": "the sigma (0-255) at which the shipped Gaussian colour U-Net restores correlated (camera) "
                        "noise of standard deviation std best: exp(a) * std ** b",
            "derived": "from the power laws of the same reading to the Gaussian-equivalent sigma (a_eq, b_eq) and to "
                       "the std (a, b): a_eq - a * b_eq / b, b_eq / b; on correlated noise, exp(a) * estimate ** b is "
                       "the Gaussian-equivalent sigma fitted to that reading"}
    for split, r in (("train", train_r), ("val", val_r)):
        error = np.abs(a + b * np.log(r) - np.log(data[f"{split}_{key}"][masks[split]]))
        card.setdefault("validation" if split == "val" else "fit_error", {}).update(
            {"patches": int(len(r)), "median_abs_log_error": float(np.median(error)),
             "mean_abs_log_error": float(np.mean(error))})
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {card_path}: level = {np.exp(a):.3f} * reading ^ {b:.3f}; held-out median |log error| "
          f"{card['validation']['median_abs_log_error']:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", nargs="+", default=[str(DATASETS / "train" / f) for f in FOLDERS])
    parser.add_argument("--patches", type=int, default=2400)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--cache", default=str(ROOT / "data" / "level-targets.npz"))
    parser.add_argument("--bf16", action="store_true", help="label with the mixed-bfloat16 network (faster)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "runs" / "level-real"))
    parser.add_argument("--coarse", action="store_true", help="fit a calibrated classical estimator")
    parser.add_argument("--blocks", action="store_true",
                        help="--coarse: map the flattest blocks' deviation (size and percentile chosen on held-out "
                             "patches), not the coarse reading")
    parser.add_argument("--block", type=int, help="--blocks: this block size (with --percentile), not the grid's best")
    parser.add_argument("--percentile", type=float, default=25.0)
    parser.add_argument("--fit-on", choices=("all", "correlated"), default="all",
                        help="--coarse: the patches the law is fitted on (correlated: those it is applied to)")
    parser.add_argument("--target", choices=sorted(PREDICTS), default="equivalent",
                        help="--coarse: what the reading is mapped to (default: the Gaussian-equivalent sigma)")
    parser.add_argument("--card", default=str(ROOT / "imgdenoise" / "weights" / "level-coarse.json"))
    args = parser.parse_args()
    cache = Path(args.cache)
    data = dict(np.load(cache)) if cache.is_file() else make_targets(args, cache)
    if args.coarse:
        calibrate_classical(data, args, Path(args.card))
    else:
        train_estimator(data, args, Path(args.out))


if __name__ == "__main__":
    main()
