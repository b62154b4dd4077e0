import json
import shutil

import numpy as np
import pytest

from imgdenoise import load_model
from imgdenoise.metrics import psnr
from imgdenoise.noise import add_protocol_noise
from imgdenoise.pretrained import WEIGHTS_DIR, aliases, load_pretrained, save_pretrained, shipped_cards, shipped_names

SHIPPED = sorted(shipped_cards())


def test_something_is_shipped_and_the_default_alias_names_it():
    assert SHIPPED
    assert aliases()["default"]["model"] in shipped_names()


@pytest.mark.parametrize("stem", SHIPPED)
def test_shipped_cards_describe_their_weights(stem):
    card = shipped_cards()[stem]
    assert card.architecture["name"] == card.name and card.channels in (1, 3) and card.sha256
    assert "training" in card.extra and "parameters" in card.extra
    assert (WEIGHTS_DIR / card.weights).stat().st_size < 20_000_000


@pytest.mark.parametrize("stem", SHIPPED)
def test_shipped_model_raises_psnr_on_a_natural_image(stem):
    from skimage import data

    card = shipped_cards()[stem]
    clean = data.camera()[:128, 200:328].astype(np.float32) / 255.0
    clean = clean[..., None] if card.channels == 1 else np.repeat(clean[..., None], 3, axis=-1)
    sigma = float(np.mean(card.extra["training"]["sigma_range"])) or 25.0
    noisy = add_protocol_noise(clean, sigma)
    denoiser = load_model(WEIGHTS_DIR / f"{stem}.json")
    assert psnr(clean, denoiser.denoise(noisy, sigma)) > psnr(clean, noisy) + 4


def test_default_model_loads():
    assert load_model().denoise(np.zeros((9, 11), np.float32), 10).shape == (9, 11)


def test_damaged_weights_are_detected(tmp_path):
    stem = SHIPPED[0]
    shutil.copy(WEIGHTS_DIR / f"{stem}.json", tmp_path)
    data = bytearray((WEIGHTS_DIR / shipped_cards()[stem].weights).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / shipped_cards()[stem].weights).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_pretrained(tmp_path / f"{stem}.json")


def test_save_and_load_pretrained_round_trip(tmp_path):
    from imgdenoise.models import build_model

    model = build_model("dncnn", channels=1, depth=3, filters=4)
    card = {"architecture": {"name": "dncnn", "channels": 1, "depth": 3, "filters": 4}, "channels": 1,
            "noise_conditional": False, "multiple": 1, "training": {"sigma_range": [25, 25]}}
    path = save_pretrained(model, card, tmp_path, "tiny")
    loaded, loaded_card = load_pretrained(path)
    assert json.loads(path.read_text())["weights_dtype"] == "float16"
    assert loaded_card.name == "dncnn" and loaded_card.extra["training"] == {"sigma_range": [25, 25]}
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("stem", SHIPPED)
def test_shipped_models_hold_no_code_layers(stem):
    import keras

    model, _ = load_pretrained(WEIGHTS_DIR / f"{stem}.json")
    assert not [layer.name for layer in model.layers if isinstance(layer, keras.layers.Lambda)]


def test_a_keras_file_with_code_is_refused_not_run(tmp_path):
    import keras

    marker = tmp_path / "executed"
    inputs = keras.Input((None, None, 1))
    payload = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x)[1]")
    outputs = keras.layers.Lambda(payload)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "evil.keras")
    marker.unlink(missing_ok=True)
    with pytest.raises(ValueError, match="not a loadable Keras model"):
        load_model(tmp_path / "evil.keras")
    assert not marker.exists()


@pytest.mark.parametrize("name, content, message", [
    ("junk.keras", b"PK\x03\x04 not really a zip", "not a loadable Keras model"),
    ("junk.onnx", b"\x08\x07 not a protobuf model", "not a loadable ONNX model"),
    ("missing.keras", None, "no such model file"),
])
def test_a_model_file_that_is_not_a_model_is_a_clear_error(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        load_model(tmp_path / name)


def test_same_input_model_and_seed_give_bit_identical_output():
    from skimage import data

    clean = data.camera()[:96, :128].astype(np.float32) / 255.0
    noisy = add_protocol_noise(clean[..., None], 25)
    np.testing.assert_array_equal(add_protocol_noise(clean[..., None], 25), noisy)  # seeded noise
    first, second = load_model(), load_model()
    np.testing.assert_array_equal(first.denoise(noisy, 25), second.denoise(noisy, 25))
    np.testing.assert_array_equal(first.denoise(noisy, 25), first.denoise(noisy, 25))


def test_an_alias_loads_its_model_under_its_name(tmp_path, monkeypatch):
    import imgdenoise.pretrained as pretrained

    table = tmp_path / "aliases.json"
    table.write_text(json.dumps({"quick": {"model": "seed"}, "broken": {"model": "nothing"}}))
    monkeypatch.setattr(pretrained, "ALIASES", table)
    quick = load_model("quick")
    assert quick.name == "quick" and 1 in quick.variants
    assert "quick" in shipped_names()
    with pytest.raises(ValueError, match="no shipped weights for model 'broken'"):
        load_model("broken")


def test_the_default_alias_is_resolved_in_one_place_with_everything_it_loads():
    from imgdenoise.pretrained import alias, stems_of

    default = alias("default")
    assert default.model in shipped_names() and alias("unet") is None
    stems = stems_of("default")
    assert set(stems) >= set(stems_of(default.model)) and (default.level_estimator or "") in stems + [""]
    assert {"unet-color", "unet-gray"} <= set(stems_of("unet"))


def test_every_shipped_card_names_its_task_and_loads():
    from imgdenoise.estimator import load_level_estimator

    for stem, card in shipped_cards(task=None).items():
        assert card.task in ("denoise", "noise-level"), stem
        if card.task == "noise-level":
            assert hasattr(load_level_estimator(stem), "estimate")
        else:
            load_pretrained(WEIGHTS_DIR / f"{stem}.json")


def test_the_default_reads_real_noise_levels_with_the_shipped_estimator():
    from skimage import data

    default = load_model()
    assert default.estimator is not None and default.estimator.card.task == "noise-level"
    clean = data.astronaut()[100:228, 100:228].astype(np.float32) / 255.0
    rng = np.random.default_rng(0)
    levels = [default.noise_level(clean + rng.normal(0, s / 255, clean.shape).astype(np.float32)) for s in (5, 25)]
    assert 2 < levels[0] < 12 and 12 < levels[1] < 50  # white noise: about its own sigma
    assert default.noise_level(clean) < levels[0]  # a clean photo reads lower than a noisy one
    noisy = clean + rng.normal(0, 15 / 255, clean.shape).astype(np.float32)
    assert psnr(clean, default.denoise(noisy)) > psnr(clean, noisy) + 4  # blind, through the estimator


def test_the_default_estimator_tells_camera_noise_from_white_noise_reading_each_image_once(monkeypatch):
    from scipy.ndimage import uniform_filter
    from skimage import data

    from imgdenoise import estimator as estimators

    estimator = load_model().estimator
    clean = data.astronaut()[100:228, 100:228].astype(np.float32) / 255.0
    rng = np.random.default_rng(0)
    white = rng.normal(0, 10 / 255, clean.shape).astype(np.float32)
    correlated = uniform_filter(rng.normal(0, 30 / 255, clean.shape), size=(3, 3, 1)).astype(np.float32)
    assert not estimator.correlated(clean + white)
    assert estimator.correlated(clean + correlated)
    reads = []
    monkeypatch.setattr(estimators.CalibratedEstimator, "reading", staticmethod(lambda x, f: reads.append(f) or 1.0))
    monkeypatch.setattr(estimators, "block_deviation", lambda x, b, p: reads.append("blocks") or 1.0)
    fresh = clean + 2 * white
    estimator.estimate(fresh), estimator.correlated(fresh), estimator.estimate(fresh.copy())
    assert reads == [1, 2, "blocks"]  # each reading once for the same pixels


def test_the_default_reports_camera_noise_by_its_std_and_tells_the_network_its_gaussian_equivalent():
    from scipy.ndimage import uniform_filter
    from skimage import data

    default = load_model()
    clean = data.astronaut()[100:228, 100:228].astype(np.float32) / 255.0
    noise = uniform_filter(np.random.default_rng(0).normal(0, 24 / 255, clean.shape), size=(3, 3, 1))
    noisy = np.clip(clean + noise, 0, 1).astype(np.float32)
    level = default.noise_level(noisy)
    assert default.estimator.correlated(noisy)
    assert 0.7 < level / (np.std(noise) * 255) < 1.4  # the noise's standard deviation
    equivalent = default.estimator.gaussian_equivalent(level)
    assert equivalent > 1.5 * level  # correlated noise: a Gaussian network is told more
    # the level reported is the level used: blind denoising equals denoising told that level
    np.testing.assert_allclose(default.denoise(noisy), default.denoise(noisy, sigma=level), atol=1e-6)


def test_the_default_reads_camera_noise_with_its_network_and_white_noise_as_level_std_does():
    from skimage import data

    from imgdenoise.estimator import load_level_estimator

    default, level_std = load_model(), load_level_estimator("level-std")
    cat = data.chelsea().astype(np.float32) / 255.0  # a camera JPEG: fur from edge to edge, little noise
    assert default.estimator.correlated(cat)
    assert default.noise_level(cat) < 0.7 * level_std.estimate(cat)  # texture is not read as noise
    clean = data.astronaut()[100:228, 100:228].astype(np.float32) / 255.0
    noisy = clean + np.random.default_rng(0).normal(0, 15 / 255, clean.shape).astype(np.float32)
    assert not default.estimator.correlated(noisy)
    assert default.noise_level(noisy) == level_std.estimate(noisy)  # the Gaussian benchmarks' path is unchanged
