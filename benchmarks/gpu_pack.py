"""Pack what a GPU lease needs into one git-ignored folder (default ``.gpu/``), and check that it travels.

A device call sends the working tree (tracked files, untracked files git does not ignore, and the
ignored paths it carries) and at most 64 MiB of it; ``../shared`` does not travel. This script writes:

- ``.gpu/data.tar``: the colour training photographs, ``BSD432/`` as their original JPEG bytes and
  ``photos/`` re-encoded as JPEG at quality 95 without chroma subsampling (their PNGs would not fit;
  the re-encoding error, a PSNR of about 47 dB, is far below the lightest noise trained on),
  with ``--debian FOLDER`` Debian's photographs the same way (``benchmarks/debian_photos.py``: 51 images,
  9.6 MiB, which takes a call over the limit today: 70.4 MiB; at quality 90 everything would fit, but
  the re-encoding error, as low as 34 dB on some images, is then noise of its own), and, with
  ``--train400``, ``Train400/`` as lossless WebP. The gray network trains on BSD432 read as gray
  (what DnCNN-B and DRUNet trained on; Train400 is 400 gray crops of the same BSDS photographs);
- ``.gpu/wheels/``: the wheels the device image lacks (Keras and its two small dependencies, pypng),
  for its Python 3.12, fetched with ``pip download`` (nothing is fetched on the device).

Then it adds up what a call would send, leaving out what ``benchmarks/gpu_tree.sh hide`` takes out of
the tree for the call (files training does not read: exported ``.onnx`` weights, figures, records), and
fails if that is over the limit. Usage::

    python benchmarks/gpu_pack.py [--data ../shared/datasets] [--out .gpu] [--train400]
    bash benchmarks/gpu_tree.sh hide     # before the device call
    # device run: carry [".gpu"], command: bash benchmarks/gpu_session.sh .gpu SECONDS
    bash benchmarks/gpu_tree.sh restore  # after it (git checkout of what hide removed)
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, ROOT  # noqa: E402

LIMIT = 64 * 2 ** 20  # bytes a device call may send
# The device image's Python and what it lacks of the training path (it has NumPy, Pillow, h5py, rich,
# absl-py, ml-dtypes, tifffile, SciPy, JAX and PyTorch); versions pinned to what this project tests with.
PYTHON_VERSION = "3.12"
WHEELS = ("keras=={keras}", "namex", "optree", "pypng")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64", "any")
PHOTO_QUALITY = 95


def hidden_paths() -> list[str]:
    """The tracked files ``gpu_tree.sh hide`` removes for a call (``gpu_tree.sh list``)."""
    out = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_tree.sh"), "list"], capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def travel_size(pack: Path) -> int:
    """Bytes a device call would send: tracked and unignored files present, less the hidden ones, plus
    ``pack``."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    hidden = set(hidden_paths())
    tree = sum((ROOT / p).stat().st_size for p in listed if p and p not in hidden and (ROOT / p).is_file())
    return tree + sum(f.stat().st_size for f in pack.rglob("*") if f.is_file())


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def encoded(path: Path, fmt: str, **options) -> bytes:
    with Image.open(path) as image:
        image = image.convert("L" if image.mode in ("L", "I;16", "I") else "RGB")
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
    return buffer.getvalue()


def pack_data(data: Path, out: Path, train400: bool, debian: Path | None = None) -> dict[str, int]:
    """Write ``out/data.tar``; returns the images per folder."""
    counts = {}
    with tarfile.open(out / "data.tar", "w") as tar:
        for path in sorted((data / "train" / "BSD432").glob("*.jpg")):
            add_bytes(tar, f"BSD432/{path.name}", path.read_bytes())
            counts["BSD432"] = counts.get("BSD432", 0) + 1
        for folder in [data / "train" / "photos"] + ([debian] if debian else []):
            for path in sorted(folder.glob("*.png")):
                jpeg = encoded(path, "JPEG", quality=PHOTO_QUALITY, subsampling=0)
                add_bytes(tar, f"{folder.name}/{path.stem}.jpg", jpeg)
                counts[folder.name] = counts.get(folder.name, 0) + 1
        if train400:
            for path in sorted((data / "train" / "Train400").glob("*.png")):
                add_bytes(tar, f"Train400/{path.stem}.webp", encoded(path, "WEBP", lossless=True))
                counts["Train400"] = counts.get("Train400", 0) + 1
    return counts


def download_wheels(out: Path) -> None:
    import keras

    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    specs = [w.format(keras=keras.__version__) for w in WHEELS]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", PYTHON_VERSION, "--implementation", "cp", *platforms, "-d", str(wheels),
                    *specs], check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DATASETS), help="the datasets folder (holds train/)")
    parser.add_argument("--out", default=str(ROOT / ".gpu"))
    parser.add_argument("--train400", action="store_true", help="also pack Train400 (7.8 MB)")
    parser.add_argument("--debian", help="also pack this folder of Debian's photographs (benchmarks/debian_photos.py)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    counts = pack_data(Path(args.data), out, args.train400, args.debian and Path(args.debian))
    download_wheels(out)
    size = travel_size(out)
    print(f"packed {counts} into {out}/data.tar ({(out / 'data.tar').stat().st_size / 2**20:.1f} MiB); wheels: "
          f"{', '.join(sorted(p.name for p in (out / 'wheels').iterdir()))}")
    print(f"a call would send {size / 2**20:.1f} MiB of {LIMIT / 2**20:.0f} (after gpu_tree.sh hide)")
    if size > LIMIT:
        print("over the limit: pack less (no --train400) or hide more in gpu_tree.sh", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
