"""The noise-model API's helpers (imgdenoise.noise.base)."""

import numpy as np


def test_expected_clean_is_the_mean_of_the_noisy_image_clipping_bias_included():
    """Clipped noise has a positive mean near black: the target takes it, as a mean of many shots does."""
    from imgdenoise.noise import expected_clean

    rng = np.random.default_rng(0)
    clean = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (256, 1))[..., None].repeat(3, -1)
    noisy = np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1).astype(np.float32)
    target = expected_clean(clean, noisy)
    dark, middle = np.s_[:, :8], np.s_[:, 96:160]
    assert target[dark].mean() > clean[dark].mean() + 0.01  # the clipped noise's bias is kept
    assert abs(target[middle].mean() - clean[middle].mean()) < 0.002  # unbiased where nothing clips
    assert abs((noisy - target).mean()) < 0.002 and target.min() >= 0 and target.max() <= 1
    np.testing.assert_array_equal(expected_clean(clean, clean), clean)  # no noise, no change
