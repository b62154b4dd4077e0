"""Data-parallel training over several devices or processes (``imgdenoise train --distribute``).

One option, the engine of the Keras backend underneath:

=================  ==============================================  =============================================
``--distribute``   JAX (``KERAS_BACKEND=jax``)                     TensorFlow (the default backend)
=================  ==============================================  =============================================
``data-parallel``  ``keras.distribution.DataParallel`` over this   ``tf.distribute.MirroredStrategy`` over this
                   process's devices                               process's GPUs, else its logical CPUs
``multi-worker``   processes joined by ``jax.distributed`` at      ``tf.distribute.MultiWorkerMirroredStrategy``,
                   ``--coordinator``                               the cluster described by ``TF_CONFIG``
=================  ==============================================  =============================================

Either way every process builds the same global batches (a batch depends only on the seed, the
epoch and its index), feeds only its slice of each, and the gradients are averaged over all
replicas, so a distributed run equals single-process training on the same global batches.
(On a CPU host, ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` splits it into N JAX
devices, and :func:`split_cpu` into N TensorFlow devices, which is how the tests run both.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os

import keras
import numpy as np

MODES = ("none", "data-parallel", "multi-worker")


@dataclasses.dataclass
class Parallelism:
    """How a run is spread: ``replicas`` devices in all, over ``processes`` processes, this one
    being ``process_id``. ``strategy`` is the ``tf.distribute.Strategy`` on TensorFlow, else None."""

    replicas: int = 1
    processes: int = 1
    process_id: int = 0
    strategy: object | None = None

    @property
    def local_replicas(self) -> int:
        return self.replicas // self.processes

    def scope(self):
        """Where models and optimizers must be built (and checkpoints loaded) for ``strategy``."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()


def setup(mode: str, *, batch_size: int, coordinator: str | None = None, num_processes: int = 1,
          process_id: int = 0) -> Parallelism:
    """Start the distribution ``mode`` (one of :data:`MODES`) on the current backend.

    Call it before anything else runs on the backend: TensorFlow's multi-worker strategy must be
    created first, and JAX processes must join before any computation. ``batch_size`` (the global
    batch) must split evenly over the replicas.
    """
    if mode in ("none", None):
        return Parallelism()
    if mode not in MODES:
        raise ValueError(f"unknown distribution {mode!r}; available: {', '.join(MODES)}")
    backend = keras.backend.backend()
    if backend == "jax":
        parallel = _setup_jax(mode, coordinator, num_processes, process_id)
    elif backend == "tensorflow":
        parallel = _setup_tensorflow(mode)
    else:
        raise ValueError(f"--distribute {mode} needs KERAS_BACKEND=jax or tensorflow, not {backend}")
    if batch_size % parallel.replicas:
        raise ValueError(f"batch size {batch_size} must be a multiple of the {parallel.replicas} replicas")
    return parallel


def _setup_jax(mode: str, coordinator, num_processes: int, process_id: int) -> Parallelism:
    import jax

    if mode == "multi-worker" and not jax.distributed.is_initialized():
        if not coordinator:
            raise ValueError("--distribute multi-worker on JAX needs --coordinator HOST:PORT (process 0's address)")
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                                   process_id=process_id)
    devices = jax.devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    distribution.auto_shard_dataset = False  # each process's dataset yields its own slice
    keras.distribution.set_distribution(distribution)
    return Parallelism(replicas=len(devices), processes=jax.process_count(), process_id=jax.process_index())


def tf_config_task() -> tuple[int, int]:
    """``(index, number of workers)`` of this process in the ``TF_CONFIG`` cluster."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ValueError("--distribute multi-worker on TensorFlow reads the cluster from TF_CONFIG, which is not set: "
                         'e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                         '"task": {"type": "worker", "index": 0}}\'')
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        if task["type"] != "worker":
            raise ValueError(f"task type {task['type']!r}: imgdenoise runs every process as a 'worker'")
        return int(task["index"]), len(workers)
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"TF_CONFIG is not a valid cluster description ({error!r}): {text}") from None


def split_cpu(count: int):
    """Make TensorFlow see this machine's CPU as ``count`` devices (before TensorFlow starts), so
    that ``data-parallel`` can run ``count`` replicas on a machine without GPUs."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


def _setup_tensorflow(mode: str) -> Parallelism:
    import tensorflow as tf

    if mode == "multi-worker":
        index, workers = tf_config_task()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        return Parallelism(replicas=strategy.num_replicas_in_sync, processes=workers, process_id=index,
                           strategy=strategy)
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
    return Parallelism(replicas=strategy.num_replicas_in_sync, strategy=strategy)


def split_batch(batch, index: int, count: int):
    """Part ``index`` of ``count`` equal parts of an ``(inputs, targets)`` batch."""
    per = len(keras.tree.flatten(batch)[0]) // count
    return keras.tree.map_structure(lambda a: a[index * per:(index + 1) * per], batch)


def multiple_of(batch, n: int):
    """An ``(inputs, targets)`` batch cut (or, if smaller, repeated) to a multiple of ``n`` samples."""
    size = len(keras.tree.flatten(batch)[0])
    keep = max(n, size // n * n)
    return keras.tree.map_structure(lambda a: np.resize(a, (keep,) + a.shape[1:]) if keep > size else a[:keep], batch)


def _signature(batch):
    import tensorflow as tf

    return keras.tree.map_structure(lambda a: tf.TensorSpec((None,) + a.shape[1:], tf.as_dtype(a.dtype)), batch)


def _per_replica_dataset(parallel: Parallelism, generator, example):
    """A ``tf.distribute`` dataset from ``generator``, which yields, step after step, the batch of
    each of this process's replicas in turn (``distribute_datasets_from_function`` hands a
    pipeline's consecutive elements to its consecutive replicas)."""
    import tensorflow as tf

    def dataset(_context):
        return tf.data.Dataset.from_generator(generator, output_signature=_signature(example)).prefetch(2)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return parallel.strategy.distribute_datasets_from_function(dataset, options)


def work_around_multi_worker_fit(model: keras.Model, example_batch):
    """Make ``model.fit`` work under ``MultiWorkerMirroredStrategy`` on Keras 3 (keras-team/keras#20585,
    tensorflow/tensorflow#72388, open), without changing what it computes:

    - before the first step, ``fit`` and ``evaluate`` draw a batch and all-reduce it as one nested
      structure to learn the input shapes, which that strategy rejects: the model learns them from
      ``example_batch`` (one replica's batch, NumPy) instead;
    - after each step, the replicas' metric values are averaged along an axis 0 that scalars do
      not have: inside a replica, the metric values are returned with shape (1,). The epoch logs
      are read across replicas (Keras' metric variables are summed on read), as before.
    """
    import tensorflow as tf

    build, results = model._maybe_symbolic_build, model.get_metrics_result

    def symbolic_build(iterator=None, data_batch=None):
        return build(data_batch=example_batch if iterator is not None else data_batch)

    def metrics_result():
        values = results()
        if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
            return values
        return {name: tf.reshape(value, (1,)) for name, value in values.items()}

    model._maybe_symbolic_build, model.get_metrics_result = symbolic_build, metrics_result


def training_input(parallel: Parallelism, data, first_step: int):
    """``data`` (a :class:`imgdenoise.data.PatchDataset` already cut to this process's slice of
    every global batch) as an endless ``tf.distribute`` input starting at step ``first_step``:
    each step, every local replica gets an equal part of the slice. The epoch of each batch
    follows from the step, so no callback needs to set it."""
    steps, local = len(data), parallel.local_replicas

    def batches():
        for step in itertools.count(first_step):
            epoch, index = divmod(step, steps)
            data.set_epoch(epoch)
            batch = data[index]
            for replica in range(local):
                yield split_batch(batch, replica, local)

    return _per_replica_dataset(parallel, batches, split_batch(data[0], 0, local))


def validation_input(parallel: Parallelism, batch, batch_size: int):
    """The fixed validation ``batch`` as a ``tf.distribute`` input; returns ``(input, steps)``.

    Every replica evaluates an equal share (so all take the same number of steps, as collective
    ops need), ``batch_size // replicas`` samples at a time; the input repeats, so each epoch's
    validation sees the same samples."""
    batch = multiple_of(batch, parallel.replicas)
    mine = split_batch(batch, parallel.process_id, parallel.processes)
    local = parallel.local_replicas
    shares = [split_batch(mine, r, local) for r in range(local)]
    share_size = len(keras.tree.flatten(shares[0])[0])
    per_step = max(1, batch_size // parallel.replicas)
    steps = -(-share_size // per_step)

    def batches():
        while True:
            for start in range(0, share_size, per_step):
                for share in shares:
                    yield keras.tree.map_structure(lambda a, s=start: a[s:s + per_step], share)

    return _per_replica_dataset(parallel, batches, shares[0]), steps
