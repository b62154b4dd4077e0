"""Denoising files: inputs and outputs of a batch, one file, and a folder as a pipeline.

Outputs keep their input's format, bit depth and alpha, are written atomically, and never replace
an existing file unless asked; a batch that was killed is finished by running it again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imgdenoise.checks import pixel_scale
from imgdenoise.files import remove_stale_temporaries
from imgdenoise.passes import DEFAULT_QUALITY
from imgdenoise.tiling import DEFAULT_MAX_MEMORY, tile_for_budget


def expand_inputs(inputs) -> list[Path]:
    """Files, folders (their image files) and glob patterns -> a sorted list of paths, in order given."""
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


def output_path_for(src: Path, output, many: bool) -> Path:
    """Where ``src``'s result goes: ``output`` itself (one input, image extension) or ``output/NAME`` (``src``'s
    name; a camera RAW file's result is a TIFF: :func:`~imgdenoise.io.output_name`)."""
    from imgdenoise.io import is_image_file, output_name

    output = Path(output)
    if not many and is_image_file(output) and not output.is_dir():
        return output
    return output / output_name(src.name)


def check_collisions(jobs) -> None:
    """Refuse a plan in which two inputs would write the same output (``a/x.png`` and ``b/x.png``
    into one folder): one result would be lost. Raises ValueError naming the inputs, before any work."""
    seen = {}
    clashes = []
    for src, dst in jobs:
        key = Path(dst).resolve()
        if key in seen:
            clashes.append(f"{seen[key]} and {src} -> {dst}")
        else:
            seen[key] = src
    if clashes:
        shown = "; ".join(clashes[:3]) + (f"; and {len(clashes) - 3} more" if len(clashes) > 3 else "")
        raise ValueError(f"two inputs would write the same output, so one result would be lost: {shown}. "
                         "Rename one, or denoise each folder into its own output folder")


def check_writable(jobs) -> None:
    """Refuse a plan whose outputs cannot be written (a folder that is read-only, a file where a
    folder is needed, an output that is a folder), before any work: found after the network has
    run, the time is lost. Raises ValueError naming the output."""
    checked = set()
    for _, dst in jobs:
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


def check_outputs(jobs) -> None:
    """Everything about a plan's outputs that can fail, checked before any work: a format that is read,
    never written (camera RAW), :func:`check_collisions` and :func:`check_writable`."""
    from imgdenoise.io import check_writable_format

    for _, dst in jobs:
        check_writable_format(dst)
    check_collisions(jobs)
    check_writable(jobs)


def _denoise_to_file(denoiser, image, sigma, dst, overwrite: bool, **kwargs):
    """Denoise a read :class:`~imgdenoise.io.Image` band by band straight into ``dst``."""
    from imgdenoise.io import write_image_rows

    if hasattr(denoiser, "denoise_rows"):
        bands = denoiser.denoise_rows(image.pixels, sigma, **kwargs)
    else:  # classical methods work on the whole image
        bands = [(0, denoiser.denoise(image.pixels.astype(np.float32) * pixel_scale(image.pixels), sigma))]
    write_image_rows(dst, bands, image.pixels.shape, bit_depth=image.bit_depth, alpha=image.alpha,
                     overwrite=overwrite, metadata=image.metadata)


class Skipped(str):
    """Why a job was not run (its output already exists); yielded by :func:`denoise_files`."""


def denoise_files(denoiser, jobs, *, sigma=None, overwrite: bool = False, max_pixels=None, batch_size: int = 8,
                  max_memory: int = DEFAULT_MAX_MEMORY, **kwargs):
    """Denoise many files as a pipeline; yields ``(src, result)`` per job, in order, where
    ``result`` is the file's summary dict, the exception that stopped it, or a :class:`Skipped`.

    Restartable: an output that already exists is complete (outputs are written atomically), so
    its job is skipped (a :class:`Skipped` is yielded) unless ``overwrite``; temporary files left
    by a run that was killed are removed. A batch killed at any moment and run again ends with
    every output complete.

    ``jobs``: ``(src, dst)`` pairs. Files are decoded (and their noise estimated) ahead on a
    thread pool and encoded behind on another while the network computes, so I/O overlaps
    compute; consecutive small images of the same size go through the network as one batch of
    up to ``batch_size``. A file that fails yields its exception and the rest go on. Large images
    are denoised band by band straight into their file (:func:`_denoise_to_file`). Other keyword
    arguments as :meth:`Denoiser.denoise`.
    """
    import time
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from imgdenoise.io import DEFAULT_MAX_PIXELS, read_image, write_image

    jobs = [(Path(src), Path(dst)) for src, dst in jobs]
    denoiser = denoiser.for_sigma(sigma)  # the network that runs, and whose noise level is reported
    limit = max_pixels or DEFAULT_MAX_PIXELS
    can_batch = hasattr(denoiser, "denoise_batch") and kwargs.get("tile") in (None, "auto")
    quality = kwargs.get("quality", DEFAULT_QUALITY)

    def load(src, dst):
        if dst.resolve() == src.resolve() and not overwrite:
            raise FileExistsError(f"{src}: output would replace the input (use overwrite to allow it)")
        if dst.exists() and not overwrite:
            return None, Skipped(f"{dst}: exists (overwrite to redo it)")
        remove_stale_temporaries(dst)
        image = read_image(src, max_pixels=limit, native=True)
        return image, denoiser.resolve(image.pixels, sigma).sigma

    def summary(src, dst, image, used, seconds):
        return {"input": str(src), "output": str(dst), "size": image.pixels.shape, "sigma": used, "seconds": seconds}

    def save(src, dst, image, used, clean, seconds):
        write_image(dst, clean, bit_depth=image.bit_depth, alpha=image.alpha, overwrite=overwrite,
                    metadata=image.metadata)
        return summary(src, dst, image, used, seconds)

    with ThreadPoolExecutor(2, thread_name_prefix="read") as readers, \
            ThreadPoolExecutor(1, thread_name_prefix="write") as writers:
        reads = deque()
        upcoming = iter(jobs)
        results = deque()  # (src, future or value), in job order
        group = []  # (src, dst, image, sigma) waiting to share a batch

        def fill():
            while len(reads) < 2 * batch_size:
                job = next(upcoming, None)
                if job is None:
                    return
                reads.append((job, readers.submit(load, *job)))

        def flush():
            if not group:
                return
            start = time.perf_counter()
            try:
                outputs = denoiser.denoise_batch([g[2].pixels for g in group], [g[3] for g in group],
                                                 max_memory=max_memory, quality=quality,
                                                 strength=kwargs.get("strength", 1.0))
                if outputs is None:  # channels to adapt: one image at a time
                    outputs = [denoiser.denoise(g[2].pixels, g[3], max_memory=max_memory, **kwargs) for g in group]
            except Exception as error:  # noqa: BLE001 - reported per file
                outputs = [error] * len(group)
            seconds = (time.perf_counter() - start) / len(group)
            for (src, dst, image, used), clean in zip(group, outputs):
                if isinstance(clean, Exception):
                    results.append((src, clean))
                else:
                    results.append((src, writers.submit(save, src, dst, image, used, clean, seconds)))
            group.clear()

        def ready():
            while results and (not hasattr(results[0][1], "done") or results[0][1].done()):
                src, item = results.popleft()
                if hasattr(item, "result"):
                    error = item.exception()
                    item = error if error is not None else item.result()
                yield src, item

        fill()
        while reads:
            (src, dst), future = reads.popleft()
            fill()
            error = future.exception()
            if error is not None:
                flush()
                results.append((src, error))
                yield from ready()
                continue
            image, used = future.result()
            if image is None:  # output exists: skipped
                flush()
                results.append((src, used))
                yield from ready()
                continue
            shape = image.pixels.shape
            # 64 channels: a conservative width for the memory estimate of any shipped network
            small = can_batch and tile_for_budget(64, (shape[0], shape[1] * batch_size), max_memory) is None
            if group and (not small or group[0][2].pixels.shape != shape or len(group) == batch_size):
                flush()
            if small:
                group.append((src, dst, image, used))
            else:
                try:
                    start = time.perf_counter()
                    _denoise_to_file(denoiser, image, used, dst, overwrite, max_memory=max_memory, **kwargs)
                    results.append((src, summary(src, dst, image, used, time.perf_counter() - start)))
                except Exception as error:  # noqa: BLE001 - reported per file
                    results.append((src, error))
            yield from ready()
        flush()
        for src, item in results:
            if hasattr(item, "result"):
                error = item.exception()
                item = error if error is not None else item.result()
            yield src, item
