"""imgdenoise.estimator: the classical readings the real-photo level is calibrated from."""

import numpy as np
import pytest

from imgdenoise.estimator import block_deviation


def test_block_deviation_reads_the_noise_of_a_flat_image():
    rng = np.random.default_rng(0)
    noisy = (0.5 + rng.normal(0, 10 / 255, (128, 128, 3))).astype(np.float32)
    # a block's own mean is removed: 10 * sqrt(63/64) for 8x8 blocks, up to the spread of the percentile
    assert block_deviation(noisy, 8, 50) == pytest.approx(10 * np.sqrt(63 / 64), rel=0.03)
    assert block_deviation(noisy, 4, 25) < block_deviation(noisy, 4, 50) < block_deviation(noisy, 4, 75)


def test_block_deviation_at_a_low_percentile_reads_the_flat_part_not_the_texture():
    rng = np.random.default_rng(1)
    image = np.full((128, 128, 3), 0.5, np.float32)
    image[:, 64:] += 0.3 * np.sin(np.arange(64) * 1.3)[None, :, None]  # half the image strongly textured
    noisy = (image + rng.normal(0, 5 / 255, image.shape)).astype(np.float32)
    assert block_deviation(noisy, 4, 25) == pytest.approx(5 * np.sqrt(15 / 16), rel=0.15)
    assert block_deviation(noisy, 4, 90) > 5 * block_deviation(noisy, 4, 25)


def test_block_deviation_of_an_image_smaller_than_a_block_is_zero():
    assert block_deviation(np.ones((3, 7, 1), np.float32), 4, 25) == 0.0


class _FixedNetwork:
    """Stands for a ``level`` network's :class:`~imgdenoise.estimator.LevelEstimator`: reads every image 7."""

    card = None

    def estimate(self, image):
        return 7.0


def _camera_like_noise(rng, shape, std):
    """Noise correlated over a couple of pixels (a 3x3 box filter of white noise), of deviation ``std``/255."""
    from scipy.ndimage import uniform_filter

    white = rng.normal(0, 1, shape)
    smooth = uniform_filter(white, size=(3, 3, 1))
    return (smooth / smooth.std() * std / 255).astype(np.float32)


def test_camera_level_estimator_reads_camera_noise_with_its_network_and_white_noise_classically():
    from imgdenoise.estimator import CameraLevelEstimator, load_level_estimator

    classical = load_level_estimator("level-std")
    estimator = CameraLevelEstimator(classical, _FixedNetwork())
    rng = np.random.default_rng(2)
    camera = np.clip(0.5 + _camera_like_noise(rng, (128, 128, 3), 6.0), 0, 1)
    white = np.clip(0.5 + rng.normal(0, 12 / 255, (128, 128, 3)), 0, 1).astype(np.float32)
    assert estimator.correlated(camera) and not estimator.correlated(white)
    assert estimator.estimate(camera) == 7.0
    assert estimator.estimate(white) == pytest.approx(classical.estimate(white)) == pytest.approx(12, rel=0.1)
    assert estimator.gaussian_equivalent(4.0) == pytest.approx(classical.gaussian_equivalent(4.0))
