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
