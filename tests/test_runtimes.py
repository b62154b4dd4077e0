import numpy as np
import pytest

from imgdenoise.loading import load_model
from imgdenoise.models import build_model

pytestmark = pytest.mark.backend


def test_a_keras_file_without_a_card_runs_in_bfloat16_whatever_its_preset(tmp_path):
    model = build_model("unet", channels=1, preset="tiny")  # not the preset a bare card would assume
    model.save(tmp_path / "tiny.keras")
    image = 0.25 + 0.5 * np.random.default_rng(0).random((32, 40)).astype(np.float32)
    full = load_model(tmp_path / "tiny.keras").denoise(image, 20, quality="fast")
    half = load_model(tmp_path / "tiny.keras", runtime="bf16")
    assert {layer.dtype_policy.name for layer in half.variants[1].model.layers} >= {"mixed_bfloat16"}
    np.testing.assert_allclose(half.denoise(image, 20, quality="fast"), full, atol=0.03)
