"""Batch denoising on a local Ray instance (2 CPUs)."""

import numpy as np
import pytest

from imgdenoise.io import read_image, write_image

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray")
    rng = np.random.default_rng(0)
    for i in range(6):
        write_image(root / "in" / f"{i}.png", rng.random((40, 48)))
    (root / "in" / "bad.png").write_bytes(b"not an image")
    return root


def test_ray_engine_denoises_like_the_local_path_and_restarts(folder):
    from imgdenoise.distributed import denoise_with_ray
    from imgdenoise.inference import load_model

    out = folder / "out"
    records = denoise_with_ray("seed", [str(folder / "in")], str(out), sigma=20.0, workers=2, batch_size=2)
    statuses = {r["source"].rsplit("/", 1)[-1]: r["status"] for r in records}
    assert statuses.pop("bad.png") == "error" and set(statuses.values()) == {"ok"} and len(statuses) == 6
    bad = next(r for r in records if str(r["source"]).endswith("bad.png"))
    assert "bad.png" in bad["message"] and "not a PNG" in bad["message"]
    assert len({r["worker"] for r in records}) <= 2 and {int(r["loads"]) for r in records} == {1}
    expected = np.clip(load_model("seed").denoise(read_image(folder / "in" / "3.png").pixels, 20.0), 0, 1)
    np.testing.assert_allclose(read_image(out / "3.png").pixels, expected, atol=1 / 255 + 1e-6)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries
    (out / "2.png").unlink()  # as if the job had stopped before this file
    again = denoise_with_ray("seed", [str(folder / "in")], str(out), sigma=20.0, workers=2)
    assert sorted(r["source"].rsplit("/", 1)[-1] for r in again) == ["2.png", "bad.png"]  # only what is missing
    assert (out / "2.png").is_file()


def test_uris_of_files_and_folders_are_expanded(folder):
    from imgdenoise.distributed import expand_sources, output_for

    sources = expand_sources([f"file://{folder / 'in'}"])
    assert len(sources) == 7 and all(s.endswith(".png") for s in sources)
    assert output_for("s3://bucket/raw/a.tif", "s3://bucket/clean/") == "s3://bucket/clean/a.tif"


def test_data_parallel_training_on_two_devices_equals_one_device(tmp_path, image_folder):
    """JAX with the host split into 2 devices: replicas stay identical and match one device."""
    import os
    import subprocess
    import sys

    pytest.importorskip("jax")
    script = (
        "import sys, numpy as np, jax, keras\n"
        "from imgdenoise.train import TrainConfig, train\n"
        "config = TrainConfig(model='unet', model_config={'preset': 'tiny'}, train=sys.argv[1], sigma=(10.0, 40.0),\n"
        "    loss='mse', patch_size=32, batch_size=4, epochs=1, steps_per_epoch=3, learning_rate=1e-3,\n"
        "    precision='float32', out=sys.argv[2], distribute=sys.argv[3], val_fraction=0.2)\n"
        "run = train(config, verbose=0)\n"
        "model = keras.saving.load_model(run / 'checkpoint.keras')\n"
        "for v in model.weights:  # every device holds the same copy of every weight\n"
        "    shards = [np.asarray(s.data) for s in v.value.addressable_shards]\n"
        "    assert all(np.array_equal(shards[0], s) for s in shards), v.path\n"
        "np.save(sys.argv[4], np.concatenate([np.ravel(w) for w in model.get_weights()]))\n"
        "print('devices', len(jax.devices()))\n")
    results = {}
    for devices, mode in ((1, "none"), (2, "data-parallel")):
        env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": os.getcwd(),
               "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
        out = tmp_path / f"w{devices}.npy"
        done = subprocess.run([sys.executable, "-c", script, str(image_folder), str(tmp_path / f"run{devices}"), mode,
                               str(out)], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"devices {devices}" in done.stdout
        results[devices] = np.load(out)
    np.testing.assert_allclose(results[2], results[1], atol=1e-5)


def test_two_worker_processes_on_loopback_stay_in_sync_and_equal_one_process(tmp_path, image_folder):
    """Multi-worker JAX training: 2 processes joined by jax.distributed on 127.0.0.1."""
    import os
    import socket
    import subprocess
    import sys

    pytest.importorskip("jax")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = (
        "import sys, numpy as np, keras\n"
        "from imgdenoise.train import TrainConfig, train\n"
        "mode, pid, n = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])\n"
        "config = TrainConfig(model='unet', model_config={'preset': 'tiny'}, train=sys.argv[1], sigma=(10.0, 40.0),\n"
        "    loss='mse', patch_size=32, batch_size=4, epochs=1, steps_per_epoch=3, learning_rate=1e-3,\n"
        "    precision='float32', out=sys.argv[2], distribute=mode, val_fraction=0.34,\n"
        f"    coordinator='127.0.0.1:{port}', num_processes=n, process_id=pid)\n"
        "run = train(config, verbose=0)\n"
        "model = keras.saving.load_model(run / 'checkpoint.keras')\n"
        "np.save(sys.argv[6], np.concatenate([np.ravel(w) for w in model.get_weights()]))\n")
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": os.getcwd()}

    def start(mode, pid, n, out):
        return subprocess.Popen([sys.executable, "-c", script, str(image_folder), str(tmp_path / f"run-{n}"), mode,
                                 str(pid), str(n), str(out)], env=env, stderr=subprocess.PIPE, text=True)

    single = start("none", 0, 1, tmp_path / "single.npy")
    workers = [start("multi-worker", pid, 2, tmp_path / f"worker{pid}.npy") for pid in (0, 1)]
    for process in [single, *workers]:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
    w0, w1, one = (np.load(tmp_path / f) for f in ("worker0.npy", "worker1.npy", "single.npy"))
    np.testing.assert_array_equal(w0, w1)  # the workers hold identical weights
    np.testing.assert_allclose(w0, one, atol=1e-5)  # and the same as one process on the same global batches
    assert (tmp_path / "run-2" / "checkpoint.keras").is_file() and (tmp_path / "run-2" / ".worker-1").is_dir()
