"""The plan of a file job, shared by every engine: which inputs, which outputs, which are skipped.

    plan = plan_jobs(["photos/", "extra.png"], "clean/")
    plan.jobs       # [(source, target), ...] still to run
    plan.skipped    # [(source, target), ...] whose output already exists

One plan for ``imgdenoise denoise`` whatever runs it: the local pipeline (:func:`imgdenoise.batch.denoise_files`)
and Ray (:func:`imgdenoise.distributed.denoise_with_ray`) execute ``plan.jobs``. Planning expands inputs
(files, folders, globs, and for Ray URIs such as ``s3://bucket/raw/``), maps each to its output by one rule
(:func:`output_for`), refuses what would fail or lose a result before any work (an output format that is
read-only, two inputs writing one output, an input that would be replaced, a folder that cannot be
written), skips outputs that exist (outputs are written atomically, so an existing one is complete) and
removes the temporary files a killed run left beside local outputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def is_uri(text) -> bool:
    """Whether ``text`` names an object by URI (``s3://...``, ``file://...``) rather than a local path."""
    return "://" in str(text)


def _filesystem(uri: str):
    from pyarrow import fs

    return fs.FileSystem.from_uri(uri)


def expand_inputs(inputs) -> list[Path]:
    """Local files, folders (their image files) and glob patterns -> a list of paths, in the order given
    (each folder and glob sorted). Raises FileNotFoundError for a pattern that matches nothing."""
    import glob

    from imgdenoise.io import is_image_file

    paths: list[Path] = []
    for item in inputs:
        item = str(item)
        matches = sorted(glob.glob(item)) if any(c in item for c in "*?[") else [item]
        if not matches:
            raise FileNotFoundError(f"{item}: no file matches")
        for match in matches:
            p = Path(match)
            if p.is_dir():
                paths.extend(sorted(q for q in p.iterdir() if q.is_file() and is_image_file(q)))
            else:
                paths.append(p)
    return paths


def expand_sources(inputs) -> list[str]:
    """As :func:`expand_inputs`, plus URIs of single files or folders (any file system pyarrow reads:
    ``file://``, ``s3://``, ``gs://``, ``hdfs://``, ...)."""
    from imgdenoise.io import is_image_file

    sources = []
    for item in map(str, inputs):
        if not is_uri(item) or item.startswith("file://"):
            sources += [str(p) for p in expand_inputs([item.removeprefix("file://")])]
            continue
        from pyarrow import fs

        filesystem, path = _filesystem(item)
        if filesystem.get_file_info(path).type == fs.FileType.Directory:
            scheme = item.split("://", 1)[0]
            entries = filesystem.get_file_info(fs.FileSelector(path))
            sources += sorted(f"{scheme}://{e.path}" for e in entries if e.is_file and is_image_file(e.path))
        else:
            sources.append(item)
    return sources


def output_for(source: str, output: str, many: bool = True) -> str:
    """Where ``source``'s result goes: ``output`` itself (one input, and ``output`` an image file name), or
    ``output/NAME`` (a local folder or a URI prefix), NAME the source's file name (a camera RAW file's
    result is a TIFF: :func:`~imgdenoise.io.output_name`)."""
    from imgdenoise.io import is_image_file, output_name

    output = str(output)
    if not many and not is_uri(output) and is_image_file(output) and not Path(output).is_dir():
        return output
    name = output_name(str(source).rstrip("/").rsplit("/", 1)[-1])
    return f"{output.rstrip('/')}/{name}" if is_uri(output) else str(Path(output) / name)


def exists(target: str) -> bool:
    """Whether ``target`` (a path or a URI) exists."""
    if not is_uri(target):
        return Path(target).exists()
    from pyarrow import fs

    filesystem, path = _filesystem(target)
    return filesystem.get_file_info(path).type != fs.FileType.NotFound


def read_bytes(source: str) -> bytes:
    """The bytes of ``source`` (a path or a URI)."""
    if not is_uri(source):
        return Path(source).read_bytes()
    filesystem, path = _filesystem(source)
    with filesystem.open_input_file(path) as f:
        return f.read()


def write_bytes(target: str, data: bytes, overwrite: bool = False) -> None:
    """Write ``data`` to ``target`` whole or not at all: a local file atomically
    (:func:`~imgdenoise.files.atomic_write_bytes`), an object in one put (object stores make it visible
    only when complete)."""
    if not is_uri(target):
        from imgdenoise.files import atomic_write_bytes

        atomic_write_bytes(target, data, overwrite=overwrite)
        return
    filesystem, path = _filesystem(target)
    with filesystem.open_output_stream(path) as f:
        f.write(data)


def check_collisions(jobs) -> None:
    """Refuse a plan in which two inputs would write the same output (``a/x.png`` and ``b/x.png``
    into one folder): one result would be lost. Raises ValueError naming the inputs, before any work."""
    seen = {}
    clashes = []
    for src, dst in jobs:
        key = str(dst) if is_uri(dst) else Path(dst).resolve()
        if key in seen:
            clashes.append(f"{seen[key]} and {src} -> {dst}")
        else:
            seen[key] = src
    if clashes:
        shown = "; ".join(clashes[:3]) + (f"; and {len(clashes) - 3} more" if len(clashes) > 3 else "")
        raise ValueError(f"two inputs would write the same output, so one result would be lost: {shown}. "
                         "Rename one, or denoise each folder into its own output folder")


def check_writable(jobs) -> None:
    """Refuse a plan whose local outputs cannot be written (a folder that is read-only, a file where a
    folder is needed, an output that is a folder), before any work: found after the network has
    run, the time is lost. Raises ValueError naming the output."""
    checked = set()
    for _, dst in jobs:
        if is_uri(dst):
            continue
        dst = Path(dst)
        if dst.is_dir():
            raise ValueError(f"{dst}: the output is a folder, not a file")
        folder = dst.parent
        if folder in checked:
            continue
        checked.add(folder)
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if not existing.is_dir():
            raise ValueError(f"{dst}: cannot create its folder: {existing} is a file")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"{dst}: cannot write into {existing} (permission denied)")


def check_outputs(jobs, overwrite: bool = False) -> None:
    """Everything about a plan's outputs that can fail, checked before any work: a format that is read,
    never written (camera RAW), an output that would replace its own input (unless ``overwrite``),
    :func:`check_collisions` and :func:`check_writable`. Raises ValueError naming the file."""
    from imgdenoise.io import check_writable_format

    for src, dst in jobs:
        check_writable_format(dst)
        if not overwrite and not is_uri(dst) and not is_uri(src) and Path(dst).resolve() == Path(src).resolve():
            raise ValueError(f"{src}: the output would replace the input (overwrite to allow it)")
    check_collisions(jobs)
    check_writable(jobs)


@dataclass
class Plan:
    """A checked file job: ``jobs`` to run and ``skipped`` (outputs that exist), each ``(source, target)``
    (paths or URIs, as strings); ``many``: the output is a folder (or URI prefix) rather than one file."""

    jobs: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    many: bool = True

    @property
    def total(self) -> int:
        return len(self.jobs) + len(self.skipped)


def plan_jobs(inputs, output, *, overwrite: bool = False, uris: bool = False) -> Plan:
    """Plan denoising ``inputs`` into ``output`` (see the module's docstring).

    ``uris``: whether the engine reads and writes URIs (Ray does; the local pipeline works on local files
    and refuses them). Raises ValueError (or FileNotFoundError for an input that matches nothing) naming
    the problem, before any work.
    """
    named = [str(i) for i in inputs]
    remote = [i for i in named + [str(output)] if is_uri(i) and not i.startswith("file://")]
    if remote and not uris:
        raise ValueError(f"{remote[0]}: URIs are read and written by the Ray engine only (--engine ray)")
    output = str(output).removeprefix("file://")
    sources = expand_sources(named)
    if not sources:
        raise ValueError("no input images")
    many = len(sources) > 1 or any(Path(i).is_dir() for i in named)
    if many and Path(output).suffix and not is_uri(output) and not Path(output).is_dir():
        raise ValueError(f"{output}: several inputs need an output folder, not a file name")
    jobs = [(src, output_for(src, output, many)) for src in sources]
    check_outputs(jobs, overwrite)
    plan = Plan(many=many)
    for src, dst in jobs:
        (plan.jobs if overwrite or not exists(dst) else plan.skipped).append((src, dst))
    for _, dst in plan.jobs + plan.skipped:  # a kill after the rename but before the clean-up leaves both
        if not is_uri(dst):
            from imgdenoise.files import remove_stale_temporaries

            remove_stale_temporaries(Path(dst))
    return plan
