import keras
import numpy as np
import pytest

from imgdenoise.inference import Denoiser
from imgdenoise.models import build_model, get_spec, list_models
from imgdenoise.pretrained import card_for_model

pytestmark = pytest.mark.backend

# Tiny configurations so every registered model runs in a test in well under a second.
TINY = {"seed": {"filters": 4}, "dncnn": {"depth": 4, "filters": 8}, "unet": {"preset": "tiny"}}


def tiny_denoiser(name, channels):
    config = {"channels": channels, **TINY.get(name, {})}
    model = build_model(name, **config)
    spec = get_spec(name)
    card = {"architecture": {"name": name, **config}, "noise_conditional": spec.noise_conditional,
            "multiple": spec.multiple_for(config), "channels": channels}
    return Denoiser({channels: (model, card)})


def test_every_model_has_a_tiny_test_config():
    assert set(list_models()) <= set(TINY)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [(17, 23), (32, 32), (9, 40)])
def test_every_model_keeps_shape_on_odd_sizes(name, channels, size):
    image = np.random.default_rng(0).random(size + (channels,)).astype(np.float32)
    out = tiny_denoiser(name, channels).denoise(image, sigma=25)
    assert out.shape == image.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", list_models())
def test_config_and_keras_file_round_trip(name, tmp_path):
    model = build_model(name, channels=1, **TINY[name])
    clone = model.__class__.from_config(model.get_config())
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    inputs = np.full((1, 8, 8, 1), 0.5, np.float32)
    if get_spec(name).noise_conditional:
        inputs = [inputs, np.full((1, 8, 8, 1), 0.1, np.float32)]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(inputs)),
                               keras.ops.convert_to_numpy(model(inputs)), atol=1e-6)
    assert card_for_model(loaded).architecture == {"name": name, **TINY[name], "channels": 1}  # how it was built
    assert loaded.get_config() == {"architecture": name, "config": {"channels": 1, **TINY[name]}, "name": model.name}


def test_residual_models_are_identity_at_initialisation_scale():
    # DnCNN and the U-Net predict a residual: a zero last layer gives the input back.
    for name in ("dncnn", "unet"):
        model = build_model(name, channels=1, **TINY[name])
        last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
        last.set_weights([np.zeros_like(w) for w in last.get_weights()])
        denoiser = tiny_denoiser(name, 1)
        denoiser = Denoiser({1: (model, denoiser.card)})
        image = np.random.default_rng(1).random((16, 16, 1)).astype(np.float32)
        np.testing.assert_allclose(denoiser.denoise(image, 10), image, atol=1e-6)


def test_unet_presets_and_errors():
    assert build_model("unet", preset="small").count_params() < build_model("unet", preset="base").count_params()
    with pytest.raises(ValueError, match="unknown unet preset 'huge'"):
        build_model("unet", preset="huge")
    with pytest.raises(ValueError, match="unknown model 'unt'; available: dncnn, level, seed, unet"):
        build_model("unt")


def test_unet_takes_one_block_count_per_scale():
    def blocks(model, stage):
        return sum(1 for layer in model.layers if layer.name.startswith(stage) and layer.name.endswith("_add"))

    model = build_model("unet", widths=[8, 16, 32], blocks=[1, 2, 3])
    assert (blocks(model, "enc0"), blocks(model, "enc1"), blocks(model, "bottleneck")) == (1, 2, 3)
    assert (blocks(model, "dec0"), blocks(model, "dec1")) == (1, 2)
    same = build_model("unet", widths=[8, 16, 32], blocks=2)
    assert same.count_params() == build_model("unet", widths=[8, 16, 32], blocks=[2, 2, 2]).count_params()
    for wrong in ([1, 2], [1, 0, 1]):
        with pytest.raises(ValueError, match="one per scale \\(3\\)"):
            build_model("unet", widths=[8, 16, 32], blocks=wrong)


def test_dncnn_has_the_published_size():
    assert build_model("dncnn").count_params() == 558_016 - 64 * 2 * 15 + 64 * 2 * 15  # 17 layers, 64 channels
    assert len([layer for layer in build_model("dncnn").layers if isinstance(layer, keras.layers.Conv2D)]) == 17


def test_a_saved_model_loads_by_path_in_a_fresh_process(tmp_path):
    import subprocess
    import sys

    build_model("unet", channels=1, preset="tiny").save(tmp_path / "m.keras")
    code = (f"from imgdenoise import load_model; d = load_model({str(tmp_path / 'm.keras')!r}); "
            "print(d.card.architecture['preset'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "tiny"  # the builder's arguments came back from the file
