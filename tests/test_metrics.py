import keras
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from imgdenoise.metrics import psnr, psnr_metric, ssim, ssim_index

pytestmark = pytest.mark.backend


def _pair(channels, seed=0):
    rng = np.random.default_rng(seed)
    clean = np.round(rng.random((40, 36, channels)) * 255) / 255
    noisy = np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1)
    return clean.astype(np.float32), noisy.astype(np.float32)


@pytest.mark.parametrize("channels", [1, 3])
def test_psnr_matches_scikit_image(channels):
    clean, noisy = _pair(channels)
    expected = peak_signal_noise_ratio(np.round(clean * 255), np.round(noisy * 255), data_range=255)
    assert abs(psnr(clean, noisy) - expected) < 1e-4


def test_psnr_clips_and_rounds_the_output():
    clean = np.full((4, 4, 1), 0.5, np.float32)
    assert psnr(clean, clean + 0.0001) == float("inf")  # rounds to the same 8-bit value
    assert psnr(np.ones((4, 4, 1)), np.full((4, 4, 1), 1.7)) == float("inf")  # clipped to 1


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_matches_scikit_image(channels):
    clean, noisy = _pair(channels)
    a, b = np.round(clean * 255), np.round(noisy * 255)
    expected = structural_similarity(a.squeeze(), b.squeeze(), data_range=255, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, channel_axis=-1 if channels == 3 else None)
    assert abs(ssim(clean, noisy) - expected) < 1e-4


@pytest.mark.parametrize("channels", [1, 3])
def test_keras_ssim_matches_scikit_image(channels):
    clean, noisy = _pair(channels, seed=1)
    expected = structural_similarity(clean.squeeze(), noisy.squeeze(), data_range=1.0, gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False,
                                     channel_axis=-1 if channels == 3 else None)
    value = keras.ops.convert_to_numpy(ssim_index(clean[None], noisy[None]))[0]
    assert abs(value - expected) < 1e-4


def test_keras_psnr_metric_matches_numpy():
    clean, noisy = _pair(1)
    expected = peak_signal_noise_ratio(clean, noisy, data_range=1.0)
    value = keras.ops.convert_to_numpy(psnr_metric(clean[None], noisy[None]))[0]
    assert abs(value - expected) < 1e-3
