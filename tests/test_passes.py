import numpy as np
import pytest

from imgdenoise.passes import fuse_luminance, split_quality


def test_fuse_luminance_moves_only_the_luminance():
    rng = np.random.default_rng(0)
    colour, luminance = rng.random((5, 7, 3)), rng.random((5, 7, 1))
    fused = fuse_luminance(colour, luminance, 0.25)
    np.testing.assert_allclose(fused.mean(-1, keepdims=True), 0.75 * colour.mean(-1, keepdims=True) + 0.25 * luminance)
    np.testing.assert_allclose(fused - fused.mean(-1, keepdims=True), colour - colour.mean(-1, keepdims=True),
                               atol=1e-12)


@pytest.mark.parametrize("name, expected", [
    ("dncnn:fast", ("dncnn", "fast")), ("unet:best", ("unet", "best")), ("unet", ("unet", None)),
    ("runs/a:b/best.keras", ("runs/a:b/best.keras", None)),
    ("C:/models/m.keras:standard", ("C:/models/m.keras", "standard")),
    ("unet:fastest", ("unet:fastest", None)),
])
def test_split_quality(name, expected):
    assert split_quality(name) == expected
