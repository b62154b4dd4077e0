"""Shared helpers for benchmark scripts: machine description and docs/benchmarks.md sections."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
DOC = ROOT / "docs" / "benchmarks.md"


def hardware() -> str:
    """CPU model, cores and memory of this machine, e.g. ``AMD EPYC, 2 cores, 24 GiB RAM, no GPU``."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, no GPU"


def machine() -> str:
    """:func:`hardware` plus the Python and Keras versions and backend."""
    import keras

    return (f"{hardware()}; Python {platform.python_version()}, "
            f"Keras {keras.__version__} on {keras.backend.backend()}")


def today() -> str:
    return datetime.date.today().isoformat()


def update_section(name: str, text: str, doc: Path = DOC):
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``doc`` (append if absent)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.strip()}\n{end}"
    content = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if start in content and end in content:
        content = content[:content.index(start)] + block + content[content.index(end) + len(end):]
    else:
        content = content.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(content)
