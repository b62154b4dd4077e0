"""Scaling out: batch denoising of large collections on Ray Data.

    imgdenoise denoise photos/ -o clean/ --engine ray --ray-workers 8        # this machine
    imgdenoise denoise s3://bucket/raw/ -o s3://bucket/clean --engine ray --ray-address auto

The job is planned as the local engine's (:func:`imgdenoise.jobs.plan_jobs`: same outputs, same checks,
existing outputs skipped, so a job that was stopped can simply be run again); inputs are local paths,
folders, globs, or URIs of files and folders on any file system pyarrow reads (``file://``, ``s3://``,
``gs://``, ``hdfs://``, ...). Each Ray worker (an actor) loads the model once and denoises the files of
the batches it is given: local files band by band into their output, as the local engine does
(:func:`imgdenoise.batch.denoise_into_file`: same tiling, same memory bound); objects of a store are
decoded from and encoded to memory (one put per object).
"""

from __future__ import annotations

import os

from imgdenoise.jobs import is_uri, read_bytes, write_bytes
from imgdenoise.passes import DEFAULT_QUALITY


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

    def __init__(self, model: str, runtime: str = "auto", sigma=None, overwrite: bool = False,
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
        from imgdenoise.io import DEFAULT_MAX_PIXELS, decode_image, encode_image, image_format, read_image

        limit = self.max_pixels or DEFAULT_MAX_PIXELS
        if not is_uri(source) and not is_uri(target):
            from imgdenoise.batch import denoise_into_file

            image = read_image(source, max_pixels=limit, native=True)
            run = self.denoiser.resolve(image.pixels, self.sigma)
            denoise_into_file(run.denoiser, image, run.sigma, target, self.overwrite, quality=self.quality,
                              **self.options)
            return
        image = decode_image(read_bytes(source), source, max_pixels=limit)
        run = self.denoiser.resolve(image.pixels, self.sigma)
        clean = run.denoiser.denoise(image.pixels, run.sigma, quality=self.quality, **self.options)
        data = encode_image(clean, image_format(target), bit_depth=image.bit_depth, alpha=image.alpha,
                            metadata=image.metadata)
        write_bytes(target, data, self.overwrite)


def denoise_with_ray(model: str, jobs, *, sigma=None, overwrite: bool = False, workers: int = 2,
                     cpus_per_worker: int = 1, batch_size: int = 4, runtime: str = "auto",
                     address: str | None = None, max_pixels: int | None = None,
                     quality: str = DEFAULT_QUALITY, **options) -> list[dict]:
    """Denoise ``jobs`` (``(source, target)`` pairs of paths or URIs: a plan's jobs,
    :func:`~imgdenoise.jobs.plan_jobs` with ``uris=True``) on Ray Data with ``workers`` actors (one model
    load each), each given ``cpus_per_worker`` CPUs and as many compute threads. Returns one record per
    job (``source``, ``target``, ``status`` ok/error, ``message``, ``seconds``), sorted by source.

    ``address``: an existing Ray cluster (``"auto"``, ``"ray://head:10001"``); default: a local
    Ray instance with ``workers * cpus_per_worker`` CPUs. ``options``: ``tile``, ``overlap``, ``max_memory``
    and ``strength``, as :meth:`~imgdenoise.inference.Denoiser.denoise` takes them (the local pipeline's).
    """
    import ray

    todo = [(str(s), str(t)) for s, t in jobs]
    if not todo:
        return []
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
