"""Exported models reload in their own runtimes and match the Keras model (TensorFlow backend)."""

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from imgdenoise.export import export_denoiser
from imgdenoise.loading import load_model
from tests.test_models import tiny_denoiser

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="export needs TensorFlow")

SIZE = (37, 45)  # odd on both sides: the export pads and crops inside


def run_savedmodel(path, image, sigma):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # keep a reference: its variables live in it
    return loaded.serve(image if sigma is None else [image, sigma]).numpy()


def run_onnx(path, image, sigma):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feeds = {names[0]: image} if sigma is None else {names[0]: image, names[1]: sigma}
    return session.run(None, feeds)[0]


def run_tflite(path, image, sigma):
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    details = interpreter.get_input_details()
    arrays = [image] if sigma is None else [image, sigma]
    by_name = dict(zip(["image", "sigma"], arrays))
    feeds = {d["index"]: next(a for n, a in by_name.items() if n in d["name"]) for d in details}
    for index, array in feeds.items():
        interpreter.resize_tensor_input(index, array.shape)
    interpreter.allocate_tensors()
    for index, array in feeds.items():
        interpreter.set_tensor(index, array)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


RUNNERS = {"savedmodel": run_savedmodel, "onnx": run_onnx, "tflite": run_tflite}


@pytest.mark.parametrize("fmt", list(RUNNERS))
@pytest.mark.parametrize("name, channels", [("unet", 3), ("dncnn", 1)])
def test_export_reloads_in_its_runtime_and_matches_keras(tmp_path, fmt, name, channels):
    denoiser = tiny_denoiser(name, channels)
    image = np.random.default_rng(0).random(SIZE + (channels,)).astype(np.float32)
    expected = denoiser.denoise(image, 20.0, tile=None, quality="fast")  # one pass, as exported
    (path,) = export_denoiser(denoiser, tmp_path / f"model-{fmt}", fmt)
    sigma = np.full((1,) + SIZE + (1,), 20.0, np.float32) if denoiser.noise_conditional else None
    got = RUNNERS[fmt](path, image[None], sigma)[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(np.clip(got, 0, 1), expected, atol=1e-4)  # exports are not clipped; denoise() is


def test_export_carries_the_model_card(tmp_path):
    denoiser = tiny_denoiser("unet", 1)
    saved = export_denoiser(denoiser, tmp_path / "sm", "savedmodel")[0]
    tflite = export_denoiser(denoiser, tmp_path / "m", "tflite")[0]
    assert tflite.name == "m.tflite"
    for card_file in (saved / "imgdenoise.json", tflite.with_suffix(".json")):
        card = json.loads(card_file.read_text())
        assert card["architecture"]["name"] == "unet" and card["exported"]["inputs"] == ["image", "sigma"]


def test_onnx_denoiser_matches_keras_also_when_tiled(tmp_path):
    keras_denoiser = tiny_denoiser("unet", 1)
    (path,) = export_denoiser(keras_denoiser, tmp_path / "m.onnx", "onnx")
    onnx_denoiser = load_model(path)
    image = np.random.default_rng(1).random((70, 90)).astype(np.float32)
    for tile in (None, 48):
        np.testing.assert_allclose(onnx_denoiser.denoise(image, 15.0, tile=tile, overlap=32),
                                   keras_denoiser.denoise(image, 15.0, tile=tile, overlap=32), atol=1e-4)


def test_onnx_runtime_runs_the_cli_without_tensorflow(tmp_path, gray_image):
    from imgdenoise.io import read_image, write_image

    keras_denoiser = tiny_denoiser("unet", 1)
    (model,) = export_denoiser(keras_denoiser, tmp_path / "m.onnx", "onnx")
    write_image(tmp_path / "in.png", gray_image)
    script = (
        "import sys; from imgdenoise.cli import main\n"
        f"code = main(['denoise', {str(tmp_path / 'in.png')!r}, '-o', {str(tmp_path / 'out.png')!r}, '--model',"
        f" {str(model)!r}, '--runtime', 'onnx', '--sigma', '20', '-q'])\n"
        "assert code == 0, code\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = np.round(np.clip(keras_denoiser.denoise(read_image(tmp_path / "in.png").pixels, 20.0), 0, 1) * 255)
    got = read_image(tmp_path / "out.png").pixels * 255
    assert np.abs(got - expected).max() <= 1


def test_shipped_weights_run_their_shipped_onnx_and_match_keras(tmp_path, monkeypatch, gray_image):
    from imgdenoise.pretrained import WEIGHTS_DIR

    monkeypatch.setenv("IMGDENOISE_CACHE", str(tmp_path / "cache"))
    onnx = load_model("unet", runtime="onnx")  # the .onnx shipped beside the weights
    assert type(onnx.variants[1]).__name__ == "OnnxVariant" and not (tmp_path / "cache").exists()
    np.testing.assert_allclose(onnx.denoise(gray_image, 25), load_model("unet", runtime="keras").denoise(
        gray_image, 25), atol=1e-4)
    damaged = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, damaged)
    data = bytearray((damaged / "seed-gray.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (damaged / "seed-gray.onnx").write_bytes(bytes(data))
    monkeypatch.setattr("imgdenoise.pretrained.WEIGHTS_DIR", damaged)
    with pytest.raises(ValueError, match="SHA-256"):
        load_model("seed", runtime="onnx")


def test_weights_shipped_without_onnx_are_exported_once_to_the_cache(tmp_path, monkeypatch, gray_image):
    import json

    from imgdenoise.pretrained import WEIGHTS_DIR

    weights = tmp_path / "weights"
    weights.mkdir()
    shutil.copy(WEIGHTS_DIR / "seed-gray.npz", weights)
    card = json.loads((WEIGHTS_DIR / "seed-gray.json").read_text())
    (weights / "seed-gray.json").write_text(json.dumps({k: v for k, v in card.items() if not k.startswith("onnx")}))
    monkeypatch.setattr("imgdenoise.pretrained.WEIGHTS_DIR", weights)
    monkeypatch.setenv("IMGDENOISE_CACHE", str(tmp_path / "cache"))
    first = load_model("seed", runtime="onnx")
    (cached,) = list((tmp_path / "cache").glob("seed-gray-*.onnx"))
    stamp = cached.stat().st_mtime_ns
    second = load_model("seed", runtime="onnx")
    assert cached.stat().st_mtime_ns == stamp
    np.testing.assert_allclose(second.denoise(gray_image), first.denoise(gray_image))
    np.testing.assert_allclose(first.denoise(gray_image), load_model("seed", runtime="keras").denoise(gray_image),
                               atol=1e-4)


def test_export_cli_writes_the_file(tmp_path, capsys):
    from imgdenoise.cli import main

    assert main(["export", "seed", "--format", "onnx", "-o", str(tmp_path / "seed")]) == 0
    assert (tmp_path / "seed.onnx").is_file() and "wrote" in capsys.readouterr().out
    assert main(["export", "nonexistent-model", "--format", "onnx", "-o", str(tmp_path / "x")]) == 2


def test_a_level_estimator_exports_to_onnx_and_reads_what_keras_reads(tmp_path):
    """The core install runs a learned level estimator's shipped ``.onnx`` (no TensorFlow)."""
    from imgdenoise.cards import ModelCard
    from imgdenoise.estimator import LevelEstimator
    from imgdenoise.models import build_model
    from imgdenoise.pretrained import save_pretrained, ship_onnx
    from imgdenoise.runtimes import OnnxVariant

    keras.utils.set_random_seed(3)
    model = build_model("level", channels=3)
    card = {"architecture": {"name": "level", "channels": 3}, "task": "noise-level", "noise_conditional": False,
            "multiple": 4, "channels": 3}
    card_path = save_pretrained(model, card, tmp_path, "level-test")
    onnx = ship_onnx("level-test", tmp_path)
    shipped = ModelCard.read(card_path)
    image = np.random.default_rng(0).random((50, 37, 3)).astype(np.float32)  # not a multiple of 4
    read_by_onnx = LevelEstimator(OnnxVariant(onnx, card=shipped)).estimate(image)
    read_by_keras = LevelEstimator(model, shipped).estimate(image)
    assert read_by_onnx > 0 and read_by_onnx == pytest.approx(read_by_keras, rel=5e-3)
