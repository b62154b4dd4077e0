"""`imgdenoise finetune`: adapt a shipped model to your own noisy images (self-supervised)."""

from __future__ import annotations

import argparse

from imgdenoise.cli.options import UsageError
from imgdenoise.selfsupervised import METHODS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="unet", help="shipped model to start from")
    p.add_argument("--train", nargs="+", required=True, help="folder(s) of your noisy images")
    p.add_argument("--color", action="store_true", help="fine-tune the colour weights (default: gray)")
    p.add_argument("--method", default="neighbor2neighbor", choices=METHODS)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps", type=int, default=200, help="batches per epoch")
    p.add_argument("--patch-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--out", default="runs/finetune", help="run folder")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])


def run(args):
    """A shipped model adapted to a folder of the user's noisy images (self-supervised)."""
    from imgdenoise.pretrained import shipped_cards
    from imgdenoise.train import TrainConfig, train

    channels = 3 if args.color else 1
    cards = [c for c in shipped_cards().values() if c.name == args.model]
    card = next((c for c in cards if c.channels == channels), None)
    if card is None:
        raise UsageError(f"no shipped {'colour' if args.color else 'gray'} weights for model {args.model!r}")
    architecture = {k: v for k, v in card.builder_arguments.items() if k != "channels"}
    config = TrainConfig(model=args.model, model_config=architecture, train=args.train, channels=channels,
                         self_supervised=args.method, patch_size=args.patch_size, batch_size=args.batch_size,
                         epochs=args.epochs, steps_per_epoch=args.steps, learning_rate=args.lr, ema=0.999,
                         val_fraction=args.val_fraction, init_from=args.model, out=args.out)
    try:
        run = train(config, resume=args.resume, verbose=args.verbose)
    except KeyboardInterrupt:
        return 130
    print(f"fine-tuned model: {run / 'best.keras'} (use it with --model {run / 'best.keras'})")
    return 0
