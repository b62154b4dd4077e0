"""Data-parallel training: every distributed run is compared with single-process training on the
same global batches, in subprocesses (each backend and device layout needs a fresh process)."""

import csv
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from imgdenoise import parallel

# One short run (2 epochs of 3 steps, EMA on, float32), then the final weights as one vector.
SCRIPT = """
import json, sys
import numpy as np
args = json.loads(sys.argv[1])
if args.get("split_cpu"):
    from imgdenoise.parallel import split_cpu
    split_cpu(args["split_cpu"])
import keras
from imgdenoise.train import TrainConfig, train
config = TrainConfig(model="unet", model_config={"preset": "tiny"}, train=args["train"], sigma=(10.0, 40.0),
    loss="mse", patch_size=32, batch_size=4, epochs=args["epochs"], steps_per_epoch=3, learning_rate=1e-3,
    ema=0.999, precision="float32", out=args["out"], distribute=args["mode"], val_fraction=0.34,
    coordinator=args.get("coordinator"), num_processes=args.get("processes", 1), process_id=args.get("pid", 0))
run = train(config, resume=args.get("resume", False), verbose=0)
model = keras.saving.load_model(run / "checkpoint.keras")
np.save(args["weights"], np.concatenate([np.ravel(w) for w in model.get_weights()]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(backend: str, env: dict | None = None, **args) -> subprocess.Popen:
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "2",
           **(env or {})}
    args = {"epochs": 2, **{k: str(v) if k in ("train", "out", "weights") else v for k, v in args.items()}}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, json.dumps(args)], env=env, stderr=subprocess.PIPE,
                            text=True)


def _wait(*processes):
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]


def _log(run) -> np.ndarray:
    with open(run / "log.csv") as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(row[k]) for k in ("loss", "psnr", "val_loss", "val_psnr")] for row in rows])


def _tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


@pytest.fixture(scope="module")
def tensorflow_single(module_image_folder, tmp_path_factory):
    """The reference: one process, one device, TensorFlow."""
    root = tmp_path_factory.mktemp("tf-single")
    _wait(_start("tensorflow", train=module_image_folder, out=root / "run", weights=root / "w.npy", mode="none"))
    return root


def test_tensorflow_mirrored_on_two_devices_equals_one_device(module_image_folder, tensorflow_single, tmp_path):
    """MirroredStrategy over the CPU split in two: the same weights and logs as one device."""
    _wait(_start("tensorflow", train=module_image_folder, out=tmp_path / "run", weights=tmp_path / "w.npy",
                 mode="data-parallel", split_cpu=2))
    np.testing.assert_allclose(np.load(tmp_path / "w.npy"), np.load(tensorflow_single / "w.npy"), atol=1e-5)
    np.testing.assert_allclose(_log(tmp_path / "run"), _log(tensorflow_single / "run"), rtol=1e-4)


def test_tensorflow_two_workers_on_loopback_stay_in_sync_equal_one_process_and_resume(
        module_image_folder, tensorflow_single, tmp_path):
    """MultiWorkerMirroredStrategy, the cluster in TF_CONFIG: both workers end with identical
    weights equal to one process's, the chief's log equals one process's; a resumed run too."""
    out = tmp_path / "run"

    def workers(**args):
        ports = [_free_port(), _free_port()]
        return [_start("tensorflow", env={"TF_CONFIG": _tf_config(ports, i)}, train=module_image_folder, out=out,
                       weights=tmp_path / f"w{i}.npy", mode="multi-worker", **args) for i in (0, 1)]

    _wait(*workers())
    w0, w1 = np.load(tmp_path / "w0.npy"), np.load(tmp_path / "w1.npy")
    np.testing.assert_array_equal(w0, w1)
    np.testing.assert_allclose(w0, np.load(tensorflow_single / "w.npy"), atol=1e-5)
    np.testing.assert_allclose(_log(out), _log(tensorflow_single / "run"), rtol=1e-4)
    assert json.loads((out / "config.json").read_text())["num_processes"] == 2
    assert (out / ".worker-1" / "checkpoint.keras").is_file()  # one writer per file

    _wait(*workers(epochs=3, resume=True))  # both resume from their own checkpoints
    single = tmp_path / "single"
    _wait(_start("tensorflow", train=module_image_folder, out=single, weights=single / "w.npy", mode="none", epochs=2))
    _wait(_start("tensorflow", train=module_image_folder, out=single, weights=single / "w.npy", mode="none", epochs=3,
                 resume=True))
    w0, w1 = np.load(tmp_path / "w0.npy"), np.load(tmp_path / "w1.npy")
    np.testing.assert_array_equal(w0, w1)
    np.testing.assert_allclose(w0, np.load(single / "w.npy"), atol=1e-5)
    assert len(_log(out)) == 3


def test_jax_data_parallel_on_two_devices_equals_one_device(module_image_folder, tmp_path):
    """The Keras distribution API with the CPU host split into 2 JAX devices."""
    pytest.importorskip("jax")
    for devices, mode in ((1, "none"), (2, "data-parallel")):
        flags = {"XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
        _wait(_start("jax", env=flags, train=module_image_folder, out=tmp_path / f"run{devices}",
                     weights=tmp_path / f"w{devices}.npy", mode=mode))
    np.testing.assert_allclose(np.load(tmp_path / "w2.npy"), np.load(tmp_path / "w1.npy"), atol=1e-5)
    np.testing.assert_allclose(_log(tmp_path / "run2"), _log(tmp_path / "run1"), rtol=1e-4)


def test_jax_two_worker_processes_on_loopback_stay_in_sync_and_equal_one_process(module_image_folder, tmp_path):
    """Two processes joined by jax.distributed on 127.0.0.1, each feeding its slice of every batch."""
    pytest.importorskip("jax")
    coordinator = f"127.0.0.1:{_free_port()}"
    single = _start("jax", train=module_image_folder, out=tmp_path / "single", weights=tmp_path / "single.npy",
                    mode="none")
    workers = [_start("jax", train=module_image_folder, out=tmp_path / "run", weights=tmp_path / f"w{pid}.npy",
                      mode="multi-worker", coordinator=coordinator, processes=2, pid=pid) for pid in (0, 1)]
    _wait(single, *workers)
    w0, w1 = np.load(tmp_path / "w0.npy"), np.load(tmp_path / "w1.npy")
    np.testing.assert_array_equal(w0, w1)
    np.testing.assert_allclose(w0, np.load(tmp_path / "single.npy"), atol=1e-5)
    assert (tmp_path / "run" / "checkpoint.keras").is_file() and (tmp_path / "run" / ".worker-1").is_dir()


# --- the pieces ----------------------------------------------------------------------------------

def test_tf_config_gives_this_workers_index_and_the_cluster_size(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", _tf_config([1000, 1001, 1002], 2))
    assert parallel.tf_config_task() == (2, 3)


@pytest.mark.parametrize("value, message", [
    (None, "TF_CONFIG, which is not set"),
    ("{not json", "not a valid cluster description"),
    (json.dumps({"task": {"type": "worker", "index": 0}}), "not a valid cluster description"),
    (json.dumps({"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "ps", "index": 0}}),
     "task type 'ps'"),
])
def test_a_missing_or_bad_tf_config_is_a_clear_error(monkeypatch, value, message):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(ValueError, match=message):
        parallel.tf_config_task()


def test_no_distribution_is_one_replica_and_unknown_modes_are_refused():
    assert parallel.setup("none", batch_size=3) == parallel.Parallelism()
    with pytest.raises(ValueError, match="available: none, data-parallel, multi-worker"):
        parallel.setup("ring", batch_size=4)


def test_batches_split_into_equal_parts_and_cut_or_repeat_to_a_multiple():
    batch = ((np.arange(6)[:, None], np.arange(6)[:, None] * 10), np.arange(6))
    (a, b), y = parallel.split_batch(batch, 1, 3)
    assert a.ravel().tolist() == [2, 3] and b.ravel().tolist() == [20, 30] and y.tolist() == [2, 3]
    assert parallel.multiple_of(batch, 4)[1].tolist() == [0, 1, 2, 3]
    assert parallel.multiple_of((np.arange(3), np.arange(3)), 4)[1].tolist() == [0, 1, 2, 0]
