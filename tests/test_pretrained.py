import json
import shutil

import numpy as np
import pytest

from imgdenoise import load_model
from imgdenoise.metrics import psnr
from imgdenoise.noise import add_protocol_noise
from imgdenoise.pretrained import WEIGHTS_DIR, load_pretrained, save_pretrained, shipped_cards

SHIPPED = sorted(shipped_cards())


def test_something_is_shipped_and_one_default():
    assert SHIPPED
    assert sum(bool(card.get("default")) for card in shipped_cards().values()) <= 1


@pytest.mark.parametrize("stem", SHIPPED)
def test_shipped_cards_describe_their_weights(stem):
    card = shipped_cards()[stem]
    for key in ("architecture", "channels", "training", "weights", "sha256", "parameters"):
        assert key in card, key
    assert (WEIGHTS_DIR / card["weights"]).stat().st_size < 20_000_000


@pytest.mark.parametrize("stem", SHIPPED)
def test_shipped_model_raises_psnr_on_a_natural_image(stem):
    from skimage import data

    card = shipped_cards()[stem]
    clean = data.camera()[:128, 200:328].astype(np.float32) / 255.0
    clean = clean[..., None] if card["channels"] == 1 else np.repeat(clean[..., None], 3, axis=-1)
    sigma = float(np.mean(card["training"]["sigma_range"])) or 25.0
    noisy = add_protocol_noise(clean, sigma)
    denoiser = load_model(WEIGHTS_DIR / f"{stem}.json")
    assert psnr(clean, denoiser.denoise(noisy, sigma)) > psnr(clean, noisy) + 4


def test_default_model_loads():
    assert load_model().denoise(np.zeros((9, 11), np.float32), 10).shape == (9, 11)


def test_damaged_weights_are_detected(tmp_path):
    stem = SHIPPED[0]
    shutil.copy(WEIGHTS_DIR / f"{stem}.json", tmp_path)
    data = bytearray((WEIGHTS_DIR / shipped_cards()[stem]["weights"]).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / shipped_cards()[stem]["weights"]).write_bytes(bytes(data))
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
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-3, rtol=1e-3)
