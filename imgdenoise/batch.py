"""Denoising files on this machine: the local engine that executes a job plan (:mod:`imgdenoise.jobs`)
as a pipeline, and one image denoised band by band into its file (what the Ray engine runs too).

Outputs keep their input's format, bit depth and alpha, are written atomically, and never replace
an existing file unless asked; a batch that was killed is finished by running it again (its plan skips
what is done).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgdenoise.checks import pixel_scale
from imgdenoise.passes import DEFAULT_QUALITY
from imgdenoise.tiling import DEFAULT_MAX_MEMORY, tile_for_budget


def denoise_into_file(denoiser, image, sigma, dst, overwrite: bool = False, **kwargs) -> None:
    """Denoise a read :class:`~imgdenoise.io.Image` band by band straight into ``dst`` (memory: a row of
    tiles, whatever the image size), keeping its bit depth, alpha and metadata. ``sigma`` as
    :meth:`~imgdenoise.inference.Denoiser.denoise` (0-255, None estimates it); other keyword arguments too."""
    from imgdenoise.io import write_image_rows

    if hasattr(denoiser, "denoise_rows"):
        bands = denoiser.denoise_rows(image.pixels, sigma, **kwargs)
    else:  # classical methods work on the whole image
        bands = [(0, denoiser.denoise(image.pixels.astype(np.float32) * pixel_scale(image.pixels), sigma))]
    write_image_rows(dst, bands, image.pixels.shape, bit_depth=image.bit_depth, alpha=image.alpha,
                     overwrite=overwrite, metadata=image.metadata)


def denoise_files(denoiser, jobs, *, sigma=None, overwrite: bool = False, max_pixels=None, batch_size: int = 8,
                  max_memory: int = DEFAULT_MAX_MEMORY, **kwargs):
    """Denoise many files as a pipeline; yields ``(src, result)`` per job, in order, where
    ``result`` is the file's summary dict or the exception that stopped it.

    ``jobs``: ``(src, dst)`` pairs of local files, a plan's jobs (:func:`~imgdenoise.jobs.plan_jobs`:
    existing outputs skipped, so a batch killed at any moment and run again ends with every output
    complete). An output that exists when it is written is an error unless ``overwrite``.

    Files are decoded (and their noise estimated) ahead on a thread pool and encoded behind on another
    while the network computes, so I/O overlaps compute; consecutive small images of the same size
    go through the network as one batch of up to ``batch_size``. A file that fails yields its
    exception and the rest go on. Large images are denoised band by band straight into their file
    (:func:`denoise_into_file`). Other keyword arguments as :meth:`Denoiser.denoise`.
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
                    denoise_into_file(denoiser, image, used, dst, overwrite, max_memory=max_memory, **kwargs)
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
