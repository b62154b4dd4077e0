"""What several commands share: option parsers, option groups and the one error type of the command line."""

from __future__ import annotations

import argparse
import json

from imgdenoise.passes import DEFAULT_QUALITY, QUALITIES
from imgdenoise.runtimes import DEFAULT_RUNTIME, RUNTIMES
from imgdenoise.tiling import DEFAULT_MAX_MEMORY, DEFAULT_OVERLAP


class UsageError(Exception):
    """A problem with a command's options or inputs: :func:`imgdenoise.cli.main` prints it as one line and
    exits 2."""


def sigma_range(values) -> tuple[float, float]:
    """``--sigma S`` or ``--sigma LOW HIGH`` -> ``(low, high)``."""
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def model_config(items) -> dict:
    """``key=value`` pairs -> dict, values parsed as JSON where possible (``widths=[16,32]``)."""
    config = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError:
            config[key] = value
    return config


def strength(text: str) -> float:
    """``--strength``: a number in [0, 4] (:func:`~imgdenoise.checks.check_strength`)."""
    from imgdenoise.checks import check_strength

    try:
        return check_strength(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class _RenamedOption(argparse.Action):
    """An option's old spelling: refused with the new one named (each option has one meaning across commands)."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs):
        super().__init__(option_strings, dest, nargs="?", help=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} was renamed: use {self.new}")


def renamed(p: argparse.ArgumentParser, old: str, new: str) -> None:
    """Refuse ``old``, an option's former spelling, naming ``new``."""
    p.add_argument(old, action=_RenamedOption, new=new, dest=f"renamed_{old.strip('-').replace('-', '_')}")


def add_quality_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quality", default=DEFAULT_QUALITY, choices=QUALITIES,
                   help="network passes per image: fast: one; standard (default): two, fused (a gray image and "
                        "its transpose; a colour image's luminance also through the gray network; camera noise: "
                        "full resolution and the pixel-shuffled sub-images); "
                        "best: the standard passes under the 8 flips and rotations (8x the time)")


def add_denoise_options(p: argparse.ArgumentParser) -> None:
    """The options of every command that denoises files: model, tiling, memory, runtime."""
    p.add_argument("--model", default="default", help="shipped model name (unet, dncnn, seed), .keras path, "
                   "or classical method (bm3d, nlm, tv, wavelet)")
    p.add_argument("--tile", type=int, default=None,
                   help="tile size in pixels (default: automatic, tiles only images too big for --max-memory)")
    p.add_argument("--max-memory", type=float, default=DEFAULT_MAX_MEMORY / 2**30,
                   help="GiB of activations per forward pass (auto tiling)")
    p.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, help="tile overlap in pixels")
    p.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=RUNTIMES,
                   help="keras: compiled Keras predict step (default); xla: XLA-compiled; eager: plain calls; "
                        "bf16: mixed bfloat16 (CPUs with AMX/AVX512-BF16); "
                        "onnx: ONNX Runtime (an exported .onnx --model, or shipped weights exported once to a cache)")
