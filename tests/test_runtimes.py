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


@pytest.mark.parametrize("openvino, bfloat16, onnx_shipped, expected", [
    (True, True, True, "openvino-bf16"),
    (True, False, True, "openvino"),
    (False, True, True, "onnx"),
    (True, True, False, "keras"),  # no .onnx beside the weights: Keras
])
def test_auto_takes_the_fastest_validated_runtime_the_machine_has(monkeypatch, openvino, bfloat16, onnx_shipped,
                                                                  expected):
    import imgdenoise.runtimes as runtimes

    monkeypatch.setattr(runtimes, "installed", lambda module: module == "onnxruntime" or openvino)
    monkeypatch.setattr(runtimes, "cpu_has_bfloat16", lambda: bfloat16)
    assert runtimes.resolve_runtime("auto", onnx_shipped) == expected
    assert runtimes.resolve_runtime("float32", onnx_shipped) == ("onnx" if onnx_shipped else "keras")
    assert runtimes.resolve_runtime("bf16", onnx_shipped) == "bf16"


def test_bfloat16_units_are_read_from_the_cpu_flags():
    from imgdenoise.runtimes import has_bfloat16_flags

    assert has_bfloat16_flags("flags\t\t: fpu sse2 avx512f avx512_bf16 avx512_vnni\n")
    assert has_bfloat16_flags("flags : fpu amx_bf16 amx_tile\n")
    assert not has_bfloat16_flags("flags\t\t: fpu sse2 avx512f avx512_vnni\n")
    assert not has_bfloat16_flags("")


def test_openvino_runs_the_shipped_onnx_like_the_float32_reference():
    pytest.importorskip("openvino")
    image = np.random.default_rng(0).random((45, 61, 3)).astype(np.float32)
    reference = load_model("unet", runtime="float32").denoise(image, 25)
    f32 = load_model("unet", runtime="openvino")
    np.testing.assert_allclose(f32.denoise(image, 25), reference, atol=1e-5)
    np.testing.assert_allclose(f32.denoise(image[:32], 25), load_model("unet", runtime="float32").denoise(
        image[:32], 25), atol=1e-5)  # a second shape: compiled again
    bf16 = load_model("unet", runtime="openvino-bf16").denoise(image, 25)
    assert 0 < np.abs(bf16 - reference).max() < 0.02  # bfloat16 rounding, not another network
