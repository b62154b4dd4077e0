"""Command line: a thin layer over the Python API (``imgdenoise --help``).

One module per command (``imgdenoise/cli/denoise.py`` for ``imgdenoise denoise``), each with
``add_arguments(parser)`` and ``run(args) -> exit status``; :data:`COMMANDS` lists them with their one-line
help. Only the command that runs is imported, so ``imgdenoise denoise`` never loads what ``train`` needs.
Errors in options, inputs or data (:data:`USER_ERRORS`) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from imgdenoise.cli.options import UsageError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

COMMANDS = {
    "denoise": "denoise image files, folders or globs",
    "evaluate": "PSNR/SSIM on a benchmark folder with the field's protocol",
    "train": "train a denoiser on a folder of clean images or noisy/clean pairs",
    "finetune": "adapt a shipped model to your own noisy images (self-supervised)",
    "import-weights": "import legacy Keras 2 .h5 weights into a registered model",
    "pack": "package a run's best model as shippable float16 weights + model card",
    "models": "list architectures and shipped weights",
    "info": "size, mode, bit depth and estimated noise level of images",
    "compare": "side-by-side figure of methods on a clean image with added noise",
    "export": "export a model for deployment (SavedModel, ONNX, TFLite)",
    "serve": "HTTP service with a web page (FastAPI on uvicorn)",
    "demo": "denoise a sample image with the shipped default model",
}

USER_ERRORS = (UsageError, ValueError, FileNotFoundError, FileExistsError)  # one line, exit 2, no traceback

# The extra that installs each library a command may need beyond the core (pyproject.toml).
EXTRA_OF = {"keras": "train", "tensorflow": "train", "scipy": "train", "skimage": "train", "matplotlib": "train",
            "h5py": "train", "tensorboard": "train", "imagecodecs": "tiff", "onnx": "export", "tf2onnx": "export",
            "fastapi": "service", "uvicorn": "service", "multipart": "service", "bm3d": "classical",
            "ray": "scale", "jax": "scale"}


def command_module(name: str):
    """The module of command ``name`` (``import-weights`` -> ``imgdenoise.cli.import_weights``)."""
    return importlib.import_module(f"imgdenoise.cli.{name.replace('-', '_')}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, with the options of ``command`` (all commands' when None, none when it
    names no command: ``imgdenoise --help`` lists the commands without importing them)."""
    parser = argparse.ArgumentParser(prog="imgdenoise", description="CNN image denoising (Keras 3).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if command in (None, name):
            module = command_module(name)
            module.add_arguments(p)
            p.set_defaults(func=module.run)
    return parser


CORE_COMMANDS = ("denoise", "info", "serve")  # run without Keras on shipped weights (ONNX Runtime)


def _needs_keras(args) -> bool:
    """Whether the command will load Keras: any but the core commands, or those with a Keras runtime or a
    ``.keras``/card ``--model``."""
    from imgdenoise.runtimes import KERAS_RUNTIMES

    model = str(getattr(args, "model", "") or "")
    return (args.command not in CORE_COMMANDS or getattr(args, "runtime", "auto") in KERAS_RUNTIMES
            or model.endswith((".keras", ".json")))


@contextlib.contextmanager
def _native_stderr_silenced():
    """Silence what native code writes to the process's stderr (file descriptor 2) inside the block:
    TensorFlow's start-up lines (absl, oneDNN, CPU features), which no setting turns off."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_keras_quietly() -> None:
    """Import Keras (and its backend) now, without TensorFlow's start-up lines on the user's terminal."""
    from imgdenoise.runtimes import installed

    if installed("keras") and "keras" not in sys.modules:
        with _native_stderr_silenced():
            importlib.import_module("keras")


def _safe_streams():
    """Print any file name: characters the terminal's encoding cannot show are escaped, not fatal."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a detached or closed stream: leave it
                pass


def main(argv=None) -> int:
    _safe_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in COMMANDS and command not in CORE_COMMANDS:  # their options come from modules importing Keras
        _import_keras_quietly()
    args = build_parser(command if command in COMMANDS else "").parse_args(argv)  # "": only the command list
    if _needs_keras(args):
        _import_keras_quietly()
    try:
        return args.func(args)
    except USER_ERRORS as error:  # bad options, inputs or data: one line, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:  # a library of an extra this install does not have
        extra = EXTRA_OF.get((error.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"error: {error.name} is not installed: pip install 'imgdenoise[{extra}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback; finished outputs are complete
        print("\ninterrupted: finished outputs are complete; run the same command again to resume "
              "(existing outputs are skipped)", file=sys.stderr)
        return 130


__all__ = ["COMMANDS", "USER_ERRORS", "UsageError", "build_parser", "main"]
