import numpy as np
import pytest

from imgdenoise.noise import (
    GaussianNoise,
    PoissonGaussianNoise,
    PoissonNoise,
    add_protocol_noise,
    protocol_noise,
)


def test_gaussian_noise_has_the_requested_sigma():
    clean = np.full((4, 64, 64, 1), 0.5, np.float32)
    noisy, sigmas = GaussianNoise(25.0)(clean, np.random.default_rng(0))
    assert np.allclose(sigmas, 25.0)
    assert abs(np.std(noisy - clean) * 255 - 25.0) < 0.5
    assert abs(np.mean(noisy - clean)) < 0.005


def test_gaussian_noise_range_draws_one_sigma_per_image():
    clean = np.full((64, 32, 32, 1), 0.5, np.float32)
    noisy, sigmas = GaussianNoise((0.0, 75.0))(clean, np.random.default_rng(0))
    assert sigmas.min() >= 0 and sigmas.max() <= 75 and np.std(sigmas) > 10
    measured = np.std(noisy - clean, axis=(1, 2, 3)) * 255
    np.testing.assert_allclose(measured, sigmas, rtol=0.08, atol=0.5)


def test_negative_sigma_is_refused():
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(-1.0)(np.zeros((1, 4, 4, 1), np.float32), np.random.default_rng(0))


def test_poisson_noise_variance_follows_the_signal():
    clean = np.concatenate([np.full((1, 64, 64, 1), 0.2), np.full((1, 64, 64, 1), 0.8)]).astype(np.float32)
    noisy, _ = PoissonNoise(peak=30.0)(clean, np.random.default_rng(0))
    var = np.var(noisy - clean, axis=(1, 2, 3))
    np.testing.assert_allclose(var, [0.2 / 30, 0.8 / 30], rtol=0.1)


def test_poisson_gaussian_variance_is_ax_plus_b():
    clean = np.full((1, 128, 128, 1), 0.5, np.float32)
    noisy, _ = PoissonGaussianNoise(a=0.01, b=0.0004)(clean, np.random.default_rng(0))
    assert abs(np.var(noisy - clean) - (0.01 * 0.5 + 0.0004)) < 0.0005


def test_protocol_noise_is_the_published_scripts_noise():
    clean = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    np.random.seed(0)
    expected = clean.astype(np.float64) + np.random.normal(0, 25 / 255.0, clean.shape)
    noisy = add_protocol_noise(clean, 25)
    np.testing.assert_allclose(noisy, expected.astype(np.float32))
    assert noisy.min() < 0 or noisy.max() > 1  # not clipped by default
    np.testing.assert_array_equal(protocol_noise((3, 3), 10), protocol_noise((3, 3), 10))  # same per image


def test_protocol_noise_options_clip_and_quantize():
    noisy = add_protocol_noise(np.full((8, 8, 1), 0.5, np.float32), 50, clip=True, quantize=True)
    assert noisy.min() >= 0 and noisy.max() <= 1
    np.testing.assert_allclose(noisy * 255, np.round(noisy * 255), atol=1e-4)
