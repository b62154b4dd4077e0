import numpy as np
import pytest

from imgdenoise.noise import estimate_sigma


@pytest.mark.parametrize("sigma", [5, 15, 25, 50, 75])
def test_estimate_sigma_on_a_natural_image(sigma):
    from skimage import data

    clean = data.camera()[128:384, 128:384].astype(np.float64) / 255.0
    noisy = clean + np.random.default_rng(sigma).normal(0, sigma / 255.0, clean.shape)
    assert abs(estimate_sigma(noisy) - sigma) < max(1.0, 0.05 * sigma)


def test_estimate_sigma_is_near_zero_on_a_clean_smooth_image():
    y, x = np.mgrid[0:64, 0:64] / 64.0
    assert estimate_sigma(0.5 * x + 0.3 * y) < 1.0


@pytest.mark.parametrize("shape", [(7, 7), (3, 500), (1, 20000), (1, 1), (5, 5, 3)])
def test_small_and_thin_images_get_an_estimate_not_an_error(shape):
    rng = np.random.default_rng(0)
    noisy = 0.5 + rng.normal(0, 20 / 255, shape)
    sigma = estimate_sigma(noisy)
    assert np.isfinite(sigma) and sigma >= 0
    if np.prod(shape) >= 1000:
        assert abs(sigma - 20) < 3


def test_the_stored_energy_threshold_is_scipys():
    from scipy.stats import gamma

    from imgdenoise.noise.estimation import _QUANTILES_999

    for (shape, scale), value in _QUANTILES_999.items():  # what the core install (no SciPy) uses
        assert value == float(gamma.ppf(0.999, a=shape, scale=scale))
