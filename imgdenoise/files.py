"""The one place that writes files atomically: an output is either absent, its old self, or complete.

Everything the package writes (images, model files and cards, exported models, figures, training logs)
goes through :func:`atomic_target`: the content is written under a private temporary folder beside the
destination (same file name, so writers that choose the format by suffix work), then renamed onto it
in one step; if writing fails, the temporary is deleted and the destination is untouched. A run killed
mid-write leaves a ``.NAME.*.tmp`` entry, which :func:`remove_stale_temporaries` clears.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_target(path):
    """Yield a temporary path to write ``path``'s content to (a file, or a folder for formats that are
    folders); on success it replaces ``path``, on any failure it is deleted and ``path`` is left as it was.

    A file gets the mode a new file gets under the umask, or the replaced file's mode. A folder replaces
    an existing folder by removing it first (the only step that is not atomic).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    target = staging / path.name
    try:
        yield target
        if target.is_dir():
            if path.is_dir():
                shutil.rmtree(path)
        else:
            os.chmod(target, new_file_mode(path))
        os.replace(target, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def atomic_write_bytes(path, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; with ``overwrite`` False an existing ``path`` is refused
    (FileExistsError)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (use overwrite to replace it)")
    with atomic_target(path) as target:
        target.write_bytes(data)
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, replacing it if present."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=True)


def new_file_mode(path: Path) -> int:
    """The mode ``path`` should get: its current one when it is replaced, else 0o666 less the umask
    (what ``open()`` would give a new file; temporaries are private until renamed)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def remove_stale_temporaries(path: Path):
    """Delete what interrupted writes of ``path`` left beside it (``.NAME.*.tmp`` files or folders)."""
    path = Path(path)
    if path.parent.is_dir():
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
