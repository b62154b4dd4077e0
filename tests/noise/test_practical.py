import numpy as np
import pytest

from imgdenoise.noise import (
    CameraNoise,
    Compose,
    CrossChannelNoise,
    GaussianNoise,
    JpegCompression,
    RandomMix,
    SpatiallyCorrelatedNoise,
    camera_jpeg_noise,
    camera_jpeg_pair,
    expected_clean,
    lens_softened,
    realistic_noise,
    residual_level,
    soft_camera_jpeg_pair,
    training_noise,
)
from imgdenoise.noise.practical import jpeg_roundtrip, random_covariance

FLAT = np.full((1, 128, 128, 3), 0.5, np.float32)


def _neighbour_correlation(noise):
    return np.corrcoef(noise[..., :-1, 0].ravel(), noise[..., 1:, 0].ravel())[0, 1]


def test_cross_channel_noise_has_its_sigma_and_correlated_channels():
    noisy, levels = CrossChannelNoise(10.0)(FLAT, np.random.default_rng(0))
    noise = (noisy - FLAT)[0]
    assert levels[0] == pytest.approx(10.0, rel=0.2)
    channels = np.corrcoef(noise.reshape(-1, 3).T)
    assert np.abs(channels[np.triu_indices(3, 1)]).max() > 0.2
    assert abs(_neighbour_correlation(noise)) < 0.05  # white in space


def test_random_covariance_is_a_covariance():
    cov = random_covariance(np.random.default_rng(0))
    np.testing.assert_allclose(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0 and np.trace(cov) == pytest.approx(3.0)


def test_spatially_correlated_noise_is_correlated_and_white_noise_is_not():
    noisy, levels = SpatiallyCorrelatedNoise(12.0, spread=(1.0, 1.0))(FLAT, np.random.default_rng(0))
    assert _neighbour_correlation((noisy - FLAT)[0]) > 0.5
    assert levels[0] == pytest.approx(12.0, rel=0.2)
    white, _ = GaussianNoise(12.0)(FLAT, np.random.default_rng(0))
    assert abs(_neighbour_correlation((white - FLAT)[0])) < 0.05


def test_jpeg_compression_is_applied(rgb_image):
    noisy, levels = JpegCompression(30)(rgb_image[None], np.random.default_rng(0))
    np.testing.assert_array_equal(noisy[0], jpeg_roundtrip(rgb_image, 30))
    np.testing.assert_allclose(noisy * 255, np.round(noisy * 255), atol=1e-4)  # 8-bit
    assert levels[0] > 1.0
    with pytest.raises(ValueError, match="JPEG quality"):
        JpegCompression((0, 50))(rgb_image[None], np.random.default_rng(0))


def test_camera_jpeg_noise_is_camera_noise_then_a_camera_quality_jpeg(rgb_image):
    camera, _ = CameraNoise()(rgb_image[None], np.random.default_rng(4))
    plain, _ = camera_jpeg_noise(jpeg_probability=0.0)(rgb_image[None], np.random.default_rng(4))
    np.testing.assert_array_equal(plain, camera)  # no JPEG drawn: the camera noise alone
    jpeg, _ = camera_jpeg_noise(jpeg_probability=1.0, quality=(95, 95))(rgb_image[None], np.random.default_rng(4))
    np.testing.assert_array_equal(jpeg[0], jpeg_roundtrip(camera[0], 95))


def test_a_camera_jpeg_pair_targets_the_clean_picture_through_the_same_jpeg(rgb_image):
    noisy, target = camera_jpeg_pair(rgb_image, np.random.default_rng(5), jpeg_probability=1.0, quality=(92, 92))
    camera, _ = CameraNoise()(rgb_image[None], np.random.default_rng(5))
    np.testing.assert_array_equal(noisy, jpeg_roundtrip(np.clip(camera[0], 0, 1), 92))  # a camera's 8-bit JPEG
    np.testing.assert_allclose(target, expected_clean(jpeg_roundtrip(rgb_image, 92), noisy), atol=1e-6)
    # The JPEG of the picture is in the target, not in the residual: closer to the noisy image than the clean is.
    assert np.abs(noisy - target).mean() < np.abs(noisy - expected_clean(rgb_image, noisy)).mean()
    plain, plain_target = camera_jpeg_pair(rgb_image, np.random.default_rng(5), jpeg_probability=0.0)
    np.testing.assert_allclose(plain * 255, np.round(np.clip(camera[0], 0, 1) * 255), atol=1e-3)  # 8-bit
    np.testing.assert_allclose(plain_target, expected_clean(rgb_image, plain), atol=1e-6)


def test_lens_softening_blurs_by_the_drawn_spread_or_leaves_the_picture(rgb_image):
    def fine_detail(x):  # energy of the finest scale: neighbour differences
        return float(np.mean(np.diff(x, axis=0) ** 2) + np.mean(np.diff(x, axis=1) ** 2))

    soft = lens_softened(rgb_image, np.random.default_rng(0), probability=1.0, spread=(1.0, 1.0))
    softer = lens_softened(rgb_image, np.random.default_rng(0), probability=1.0, spread=(2.0, 2.0))
    assert soft.shape == rgb_image.shape and soft.dtype == np.float32
    assert fine_detail(softer) < fine_detail(soft) < 0.5 * fine_detail(rgb_image)
    np.testing.assert_allclose(soft.mean(axis=(0, 1)), rgb_image.mean(axis=(0, 1)), atol=0.01)  # no colour shift
    assert lens_softened(rgb_image, np.random.default_rng(0), probability=0.0) is rgb_image


def test_a_soft_camera_jpeg_pair_is_the_camera_pair_of_the_softened_picture(rgb_image):
    noisy, target = soft_camera_jpeg_pair(rgb_image, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    expected = camera_jpeg_pair(lens_softened(rgb_image, rng), rng)
    np.testing.assert_array_equal(noisy, expected[0])
    np.testing.assert_array_equal(target, expected[1])


def test_compose_applies_in_order_and_measures_the_total_level():
    model = Compose((GaussianNoise(5.0), JpegCompression(90)))
    noisy, levels = model(FLAT, np.random.default_rng(0))
    np.testing.assert_allclose(levels, residual_level(noisy, FLAT))
    np.testing.assert_allclose(noisy * 255, np.round(noisy * 255), atol=1e-4)  # JPEG came last


def test_random_mix_draws_steps_by_probability():
    always, never = GaussianNoise(10.0), GaussianNoise(200.0)
    noisy, levels = RandomMix((always, never), (1.0, 0.0))(np.repeat(FLAT, 4, axis=0), np.random.default_rng(0))
    np.testing.assert_allclose(levels, 10.0, rtol=0.1)
    _, none = RandomMix((never,), (0.0,), at_least_one=False)(FLAT, np.random.default_rng(0))
    assert none[0] == 0.0
    with pytest.raises(ValueError, match="probabilities"):
        RandomMix((always,), (1.5,))


def test_realistic_noise_is_seeded_and_varied():
    images = np.repeat(FLAT[:, :64, :64], 8, axis=0)
    a, levels = realistic_noise()(images, np.random.default_rng(5))
    b, _ = realistic_noise()(images, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert np.all(levels > 0) and levels.std() > 0.5  # every image degraded, by different amounts


def test_training_noise_by_name():
    assert training_noise("gaussian", (0, 50)) == GaussianNoise((0, 50))
    assert isinstance(training_noise("realistic", (1, 25)), Compose)
    with pytest.raises(ValueError, match="unknown training noise 'poisson'; available: gaussian, realistic"):
        training_noise("poisson")
