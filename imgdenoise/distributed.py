"""Scaling out: batch denoising of large collections on Ray Data.

    imgdenoise denoise photos/ -o clean/ --engine ray --ray-workers 8        # this machine
    imgdenoise denoise "s3://bucket/raw/*.tif" -o s3://bucket/clean --engine ray --ray-address auto

Each Ray worker (an actor) loads the model once and denoises the files of the batches it is
given; outputs are written atomically (local files: temporary name, then rename; object
stores: one put per object), and files whose output already exists are not even scheduled, so
a job that was stopped can simply be run again. Inputs are local paths, folders, globs, or any
URI that pyarrow's file systems read (``file://``, ``s3://``, ``gs://``, ``hdfs://``, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

from imgdenoise.files import remove_stale_temporaries
from imgdenoise.passes import DEFAULT_QUALITY


def _is_uri(text: str) -> bool:
    return "://" in str(text)


def _filesystem(uri: str):
    from pyarrow import fs

    return fs.FileSystem.from_uri(uri)


def expand_sources(inputs) -> list[str]:
    """Local files, folders and globs (as ``imgdenoise denoise``) and URIs of single files or folders."""
    from imgdenoise.batch import expand_inputs
    from imgdenoise.io import is_image_file

    sources = []
    for item in inputs:
        item = str(item)
        if not _is_uri(item) or item.startswith("file://"):
            sources += [str(p) for p in expand_inputs([item.removeprefix("file://")])]
            continue
        from pyarrow import fs

        filesystem, path = _filesystem(item)
        info = filesystem.get_file_info(path)
        if info.type == fs.FileType.Directory:
            scheme = item.split("://", 1)[0]
            entries = filesystem.get_file_info(fs.FileSelector(path))
            sources += sorted(f"{scheme}://{e.path}" for e in entries if e.is_file and is_image_file(e.path))
        else:
            sources.append(item)
    return sources


def output_for(source: str, output: str) -> str:
    """Where a source's result goes: ``output/<file name>`` (a local folder or a URI prefix)."""
    from imgdenoise.io import output_name

    name = output_name(source.rstrip("/").rsplit("/", 1)[-1])
    return f"{output.rstrip('/')}/{name}" if _is_uri(output) else str(Path(output) / name)


def _exists(target: str) -> bool:
    if not _is_uri(target):
        return Path(target).exists()
    from pyarrow import fs

    filesystem, path = _filesystem(target)
    return filesystem.get_file_info(path).type != fs.FileType.NotFound


def _read_bytes(source: str) -> bytes:
    if not _is_uri(source):
        return Path(source).read_bytes()
    filesystem, path = _filesystem(source)
    with filesystem.open_input_file(path) as f:
        return f.read()


def _write_bytes(target: str, data: bytes, overwrite: bool):
    if not _is_uri(target):
        from imgdenoise.files import atomic_write_bytes

        atomic_write_bytes(target, data, overwrite=overwrite)
        return
    filesystem, path = _filesystem(target)
    with filesystem.open_output_stream(path) as f:  # object stores make the object visible only when complete
        f.write(data)


def _limit_threads(threads: int):
    """Keep this process's math libraries to ``threads`` threads (the CPUs Ray reserved for it), so
    that several workers on one machine do not each try to use all of its cores."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already ran in this process: its thread pools are fixed
            pass
    elif keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)


class DenoiseWorker:
    """A Ray Data actor: loads the model once, then denoises batches of ``{"source", "target"}`` rows."""

    def __init__(self, model: str, runtime: str = "keras", sigma=None, overwrite: bool = False,
                 max_pixels: int | None = None, threads: int | None = None, quality: str = DEFAULT_QUALITY,
                 options: dict | None = None):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if threads:
            _limit_threads(threads)
        from imgdenoise.loading import load_model

        self.denoiser = load_model(model, runtime=runtime)
        self.sigma, self.overwrite, self.max_pixels, self.quality = sigma, overwrite, max_pixels, quality
        self.options = options or {}  # tile, overlap, max_memory, strength: as the local pipeline's
        self.loads = 1  # the model is loaded once per worker, whatever the number of batches

    def __call__(self, batch: dict) -> dict:
        import time

        statuses, messages, seconds = [], [], []
        for source, target in zip(batch["source"], batch["target"]):
            start = time.perf_counter()
            try:
                self._denoise_one(str(source), str(target))
                statuses.append("ok")
                messages.append("")
            except Exception as error:  # noqa: BLE001 - reported per file, the job goes on
                statuses.append("error")
                messages.append(str(error) if str(source) in str(error) else f"{source}: {error}")
            seconds.append(time.perf_counter() - start)
        return {"source": list(batch["source"]), "target": list(batch["target"]), "status": statuses,
                "message": messages, "seconds": seconds, "worker": [os.getpid()] * len(statuses),
                "loads": [self.loads] * len(statuses)}

    def _denoise_one(self, source: str, target: str):
        from imgdenoise.io import DEFAULT_MAX_PIXELS, decode_image, encode_image

        image = decode_image(_read_bytes(source), source, max_pixels=self.max_pixels or DEFAULT_MAX_PIXELS)
        run = self.denoiser.resolve(image.pixels, self.sigma)
        clean = run.denoiser.denoise(image.pixels, run.sigma, quality=self.quality, **self.options)
        fmt = image.format if Path(target).suffix.lower() in ("", Path(source).suffix.lower()) else None
        if fmt is None:
            from imgdenoise.io import image_format

            fmt = image_format(target)
        if not _is_uri(target):
            remove_stale_temporaries(Path(target))
        _write_bytes(target, encode_image(clean, fmt, bit_depth=image.bit_depth, alpha=image.alpha,
                                          metadata=image.metadata), self.overwrite)


def denoise_with_ray(model: str, inputs, output: str, *, sigma=None, overwrite: bool = False, workers: int = 2,
                     cpus_per_worker: int = 1, batch_size: int = 4, runtime: str = "keras",
                     address: str | None = None, max_pixels: int | None = None,
                     quality: str = DEFAULT_QUALITY, **options) -> list[dict]:
    """Denoise ``inputs`` (paths, folders, globs, URIs) into ``output`` on Ray Data with ``workers``
    actors (one model load each), each given ``cpus_per_worker`` CPUs and as many compute threads.
    Returns one record per scheduled file (``status`` ok/error, ``message``); files whose output
    exists are skipped unless ``overwrite``.

    ``address``: an existing Ray cluster (``"auto"``, ``"ray://head:10001"``); default: a local
    Ray instance with ``workers * cpus_per_worker`` CPUs. ``options``: ``tile``, ``overlap``, ``max_memory``
    and ``strength``, as :meth:`~imgdenoise.inference.Denoiser.denoise` takes them (the local pipeline's).
    """
    import ray

    from imgdenoise.batch import check_collisions, check_writable

    jobs = [(s, output_for(s, output)) for s in expand_sources(inputs)]
    check_collisions(jobs)
    if not _is_uri(output):
        check_writable(jobs)
    todo = [(s, t) for s, t in jobs if overwrite or not _exists(t)]
    if not todo:
        return []
    if not _is_uri(output):
        Path(output).mkdir(parents=True, exist_ok=True)
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else workers * cpus_per_worker, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    try:
        rows = ray.data.from_items([{"source": s, "target": t} for s, t in todo],
                                   override_num_blocks=max(1, min(len(todo), workers * 4)))
        results = rows.map_batches(
            DenoiseWorker, fn_constructor_kwargs={"model": model, "runtime": runtime, "sigma": sigma,
                                                  "overwrite": overwrite, "max_pixels": max_pixels,
                                                  "threads": cpus_per_worker, "quality": quality,
                                                  "options": options},
            batch_size=batch_size, concurrency=workers, num_cpus=cpus_per_worker, batch_format="numpy")
        return sorted(results.take_all(), key=lambda r: str(r["source"]))
    finally:
        if started_here:
            ray.shutdown()
