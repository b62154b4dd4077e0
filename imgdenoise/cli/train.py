"""`imgdenoise train`: train a denoiser on a folder of clean images or noisy/clean pairs."""

from __future__ import annotations

import argparse

from imgdenoise.cli.options import UsageError, model_config, renamed, sigma_range
from imgdenoise.losses import LOSSES
from imgdenoise.noise import TRAINING_NOISES
from imgdenoise.parallel import MODES
from imgdenoise.selfsupervised import METHODS
from imgdenoise.train import PRECISIONS, SCHEDULES, TOLD_LEVELS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="dncnn", help="registered model name (see `imgdenoise models`)")
    p.add_argument("--model-config", nargs="*", metavar="KEY=VALUE", help="builder options, e.g. preset=small")
    p.add_argument("--train", nargs="+",
                   help="folder(s) of clean images, pooled (or, with --paired, one folder with noisy/ and clean/)")
    p.add_argument("--val", help="validation folder (default: hold out --val-fraction of --train)")
    p.add_argument("--val-fraction", type=float, default=0.05, help="share of --train held out for validation")
    p.add_argument("--paired", action="store_true", help="folders hold noisy/ and clean/ pairs matched by name")
    p.add_argument("--color", action="store_true", help="train an RGB model (default: gray)")
    p.add_argument("--sigma", type=float, nargs="+", default=[25.0], metavar="S",
                   help="noise sigma (0-255), or LOW HIGH for a blind range")
    p.add_argument("--noise", default="gaussian", choices=TRAINING_NOISES,
                   help="training noise: gaussian (AWGN in --sigma), or realistic (camera pipeline, correlated "
                        "noise and JPEG; --sigma bounds its Gaussian parts)")
    p.add_argument("--level-estimator", metavar="NAME",
                   help="with --paired: the shipped noise-level estimator (e.g. level-std) blind use will read, "
                        "recorded in the card; with --told-level estimated, its reading of each noisy image is "
                        "what the network is told (default: classical)")
    p.add_argument("--told-level", default="estimated", choices=TOLD_LEVELS,
                   help="with --paired: the level each pair's network input says: what the level estimator reads "
                        "on the noisy image (estimated), or the pair's true level, the standard deviation of "
                        "noisy - clean (true: the network learns what a level means, and an estimator that reads "
                        "real noise truly serves it)")
    p.add_argument("--val-sigmas", type=float, nargs="+", help="sigmas of the fixed validation noise")
    p.add_argument("--loss", default=None, choices=list(LOSSES),
                   help="default mse; with --resume, switches the run's loss (optimizer state kept)")
    p.add_argument("--patch-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--epochs", type=int, default=None, help="default 10; with --resume, the run's own")
    p.add_argument("--steps", type=int, default=500, help="batches per epoch")
    p.add_argument("--lr", type=float, default=1e-3, help="initial learning rate")
    p.add_argument("--schedule", default="cosine", choices=SCHEDULES)
    p.add_argument("--ema", type=float, default=0.0, help="EMA momentum of the weights, e.g. 0.999 (0: off)")
    p.add_argument("--precision", default="auto", choices=PRECISIONS)
    p.add_argument("--init-from", help=".keras file, packed card .json, or shipped model name to start from "
                   "(gray -> colour works)")
    p.add_argument("--self-supervised", choices=METHODS,
                   help="train from noisy images only: --train holds the noisy images; no clean ones needed")
    p.add_argument("--distribute", default="none", choices=MODES,
                   help="split each batch over replicas: data-parallel: this process's devices; multi-worker: "
                        "several processes (JAX: --coordinator, --num-processes, --process-id; TensorFlow: "
                        "the cluster in TF_CONFIG). Keras distribution API on JAX, tf.distribute on TensorFlow")
    p.add_argument("--data-threads", type=int, default=1,
                   help="threads preparing training batches (raise it to keep a GPU busy)")
    renamed(p, "--workers", "--data-threads")
    p.add_argument("--coordinator", help="multi-worker on JAX: host:port of process 0")
    p.add_argument("--num-processes", type=int, default=1, help="multi-worker on JAX: how many processes")
    p.add_argument("--process-id", type=int, default=0, help="multi-worker on JAX: this process's index")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/run", help="run folder (checkpoints, logs, best model)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2], help="1: progress bar, 2: a line per epoch")


def run(args):
    from imgdenoise.train import TrainConfig, train

    if not args.train and not args.resume:
        raise UsageError("--train is required (unless --resume continues a run)")

    config = TrainConfig(
        model=args.model, model_config=model_config(args.model_config),
        train=(args.train[0] if len(args.train) == 1 else args.train) if args.train else "",
        val=args.val, val_fraction=args.val_fraction,
        paired=args.paired, channels=3 if args.color else 1, sigma=sigma_range(args.sigma), noise=args.noise,
        level_estimator=args.level_estimator, told_level=args.told_level, loss=args.loss,
        val_sigmas=tuple(args.val_sigmas) if args.val_sigmas else None,
        patch_size=args.patch_size, batch_size=args.batch_size, epochs=args.epochs,
        steps_per_epoch=args.steps, learning_rate=args.lr, schedule=args.schedule, ema=args.ema,
        precision=args.precision, seed=args.seed, out=args.out, init_from=args.init_from,
        self_supervised=args.self_supervised, distribute=args.distribute, coordinator=args.coordinator,
        num_processes=args.num_processes, process_id=args.process_id, workers=args.data_threads)
    try:
        train(config, resume=args.resume, verbose=args.verbose)
    except KeyboardInterrupt:
        return 130
    return 0
