import numpy as np
import pytest

from imgdenoise.noise import CameraNoise, random_camera
from imgdenoise.noise.camera import (
    EDGE_AWARE,
    UNIFORM,
    Camera,
    add_camera_noise,
    bayer_masks,
    demosaic,
    in_camera_processing,
    inverse_tone,
    mosaic,
    process,
    raw_noise,
    tone,
    unprocess,
)


def test_tone_curve_and_its_inverse_round_trip():
    y = np.linspace(0, 1, 101)
    np.testing.assert_allclose(tone(inverse_tone(y)), y, atol=1e-6)


def test_unprocess_then_process_returns_the_image(rgb_image):
    camera = random_camera(np.random.default_rng(3))
    np.testing.assert_allclose(process(unprocess(rgb_image, camera), camera), rgb_image, atol=2e-4)


def test_random_cameras_follow_the_published_ranges():
    rng = np.random.default_rng(0)
    cameras = [random_camera(rng) for _ in range(300)]
    shots = np.array([c.shot for c in cameras])
    assert shots.min() >= 1e-4 and shots.max() <= 0.012
    # log(read) is linear in log(shot) (slope 2.18) with scatter
    slope = np.polyfit(np.log(shots), np.log([c.read for c in cameras]), 1)[0]
    assert abs(slope - 2.18) < 0.1
    for c in cameras[:10]:
        np.testing.assert_allclose(c.rgb_to_cam.sum(axis=1), 1.0, atol=1e-6)  # white stays white


def test_shot_noise_variance_is_linear_in_intensity():
    camera = random_camera(np.random.default_rng(0))
    rng = np.random.default_rng(1)
    variances = []
    for x in (0.1, 0.4, 0.8):
        flat = np.full((200, 200), x, np.float32)
        variances.append(np.var(raw_noise(flat, camera, rng) - flat))
    expected = [camera.shot * x + camera.read for x in (0.1, 0.4, 0.8)]
    np.testing.assert_allclose(variances, expected, rtol=0.05)


def test_mosaic_keeps_one_colour_per_photosite_and_demosaic_fills_the_rest():
    masks = bayer_masks(4, 4)
    assert masks.sum(axis=-1).tolist() == np.ones((4, 4)).tolist()
    assert masks[0, 0, 0] and masks[1, 1, 2] and masks[0, 1, 1] and masks[1, 0, 1]  # RGGB
    flat = np.full((6, 8, 3), [0.2, 0.5, 0.7], np.float32)
    np.testing.assert_allclose(demosaic(mosaic(flat)), flat, atol=1e-6)


def test_camera_noise_is_signal_dependent_and_correlated_in_space_and_colour():
    rng = np.random.default_rng(0)
    camera = random_camera(rng)
    dark, bright = np.full((128, 128, 3), 0.1, np.float32), np.full((128, 128, 3), 0.6, np.float32)
    noise_dark = add_camera_noise(dark, camera, rng) - dark
    noise_bright = add_camera_noise(bright, camera, rng) - bright
    assert noise_dark.std() != pytest.approx(noise_bright.std(), rel=0.1)  # depends on the signal
    g = noise_bright[..., 1]
    neighbour = np.corrcoef(g[:, :-1].ravel(), g[:, 1:].ravel())[0, 1]
    assert neighbour > 0.2  # demosaicing spreads each photosite's noise
    channels = np.corrcoef(noise_bright.reshape(-1, 3).T)
    assert np.abs(channels[np.triu_indices(3, 1)]).max() > 0.1  # the colour matrix mixes it


def _luminance_correlation(noise, lag):
    y = noise.mean(axis=-1)
    return np.corrcoef(y[:, :-lag].ravel(), y[:, lag:].ravel())[0, 1]


def _processing(**steps):
    return Camera(np.eye(3, dtype=np.float32), np.ones(3, np.float32), shot=1e-3, read=1e-5, **steps)


def test_in_camera_processing_smooths_chroma_and_luminance_and_sharpening_whitens():
    white = np.random.default_rng(0).standard_normal((256, 256, 3)).astype(np.float32)
    luminance = white.mean(axis=-1)
    chroma_nr = in_camera_processing(white, _processing(chroma_blur=2.0))
    np.testing.assert_allclose(chroma_nr.mean(axis=-1), luminance, atol=1e-5)  # luminance kept
    assert (chroma_nr - chroma_nr.mean(-1, keepdims=True)).std() < 0.3 * (white - luminance[..., None]).std()
    luma_nr = in_camera_processing(white, _processing(luma_blur=1.0, luma_strength=1.0))
    np.testing.assert_allclose(luma_nr - luma_nr.mean(-1, keepdims=True), white - luminance[..., None],
                               atol=1e-5)  # colour kept
    assert abs(_luminance_correlation(white, 1)) < 0.03
    assert _luminance_correlation(luma_nr, 1) > 0.6 and _luminance_correlation(luma_nr, 2) > 0.3  # longer range
    partial = in_camera_processing(white, _processing(luma_blur=1.0, luma_strength=0.5))
    assert 0.1 < _luminance_correlation(partial, 1) < _luminance_correlation(luma_nr, 1)
    sharpened = in_camera_processing(luma_nr, _processing(sharpen=1.0, sharpen_radius=1.0))
    assert _luminance_correlation(sharpened, 1) < _luminance_correlation(luma_nr, 1) - 0.05
    np.testing.assert_allclose(sharpened - sharpened.mean(-1, keepdims=True),
                               luma_nr - luma_nr.mean(-1, keepdims=True), atol=1e-5)  # sharpens luminance only
    np.testing.assert_array_equal(in_camera_processing(white, _processing()), white)  # no step: unchanged


@pytest.mark.parametrize("processing", [UNIFORM, EDGE_AWARE], ids=["uniform", "edge-aware"])
def test_random_cameras_draw_each_processing_step_with_its_probability(processing):
    cameras = [random_camera(np.random.default_rng(seed), processing=processing) for seed in range(400)]
    for share, probability in ((np.mean([c.chroma_blur > 0 for c in cameras]), processing.chroma_nr),
                               (np.mean([c.luma_blur > 0 for c in cameras]), processing.luma_nr),
                               (np.mean([c.sharpen > 0 for c in cameras]), processing.sharpen),
                               (np.mean([c.edge_contrast > 0 for c in cameras]), processing.edge_aware)):
        assert abs(share - probability) < 0.08
    strengths = [c.luma_strength for c in cameras if c.luma_blur > 0]
    assert min(strengths) >= processing.luma_strength[0] and max(strengths) <= processing.luma_strength[1]
    contrasts = [c.edge_contrast for c in cameras if c.edge_contrast > 0]
    assert all(processing.edge_contrast[0] <= c <= processing.edge_contrast[1] for c in contrasts)


def test_edge_aware_cameras_make_noise_stronger_at_edges_than_in_flat_areas():
    picture = np.full((96, 96, 3), 0.5, np.float32)
    picture[:, 48:] = 0.2 + 0.6 * (np.arange(48)[None, :, None] // 3 % 2)  # flat left half, stripes on the right
    spread = {}
    for name, processing in (("uniform", UNIFORM), ("edge-aware", EDGE_AWARE)):
        noisy, _ = CameraNoise(processing=processing)(np.repeat(picture[None], 24, axis=0), np.random.default_rng(1))
        residual = (noisy - picture).mean(-1)
        spread[name] = residual[:, :, 52:92].std() / residual[:, :, 4:44].std()
    assert spread["edge-aware"] > 1.3 * spread["uniform"]


def test_camera_noise_without_noise_adds_nothing_and_levels_are_measured(rgb_image):
    noisy, levels = CameraNoise()(rgb_image[None], np.random.default_rng(0))
    assert noisy.shape == (1,) + rgb_image.shape and noisy.dtype == np.float32
    np.testing.assert_allclose(levels, [np.std(noisy - rgb_image) * 255], rtol=1e-4)
    assert levels[0] > 0.1


def test_camera_noise_on_gray_images_and_odd_sizes(gray_image):
    noisy, _ = CameraNoise()(gray_image[None], np.random.default_rng(0))
    assert noisy.shape == (1,) + gray_image.shape  # 37x45: padded to even for the mosaic, cropped back


def test_camera_noise_is_seeded(rgb_image):
    a, _ = CameraNoise()(rgb_image[None], np.random.default_rng(7))
    b, _ = CameraNoise()(rgb_image[None], np.random.default_rng(7))
    c, _ = CameraNoise()(rgb_image[None], np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_edge_aware_processing_smooths_flat_areas_and_sharpens_edges():
    # A picture flat on the left, a vertical edge every 8 pixels on the right; white noise through a
    # camera that reduces luminance noise where the picture is flat and sharpens where it has edges.
    picture = np.zeros((128, 128, 3), np.float32)
    picture[:, 64:] = (np.arange(64)[None, :, None] // 4 % 2).astype(np.float32)
    white = np.random.default_rng(0).standard_normal(picture.shape).astype(np.float32)
    camera = _processing(luma_blur=2.0, luma_strength=1.0, sharpen=1.0, edge_contrast=0.02)
    noise = in_camera_processing(white, camera, picture)
    flat, edges = noise[:, 8:56].mean(-1).std(), noise[:, 72:120].mean(-1).std()
    assert flat < 0.5 * white[:, 8:56].mean(-1).std()  # smoothed where the picture is flat
    assert edges > white[:, 72:120].mean(-1).std()  # sharpened, not smoothed, at its edges
    uniform = in_camera_processing(white, _processing(luma_blur=2.0, luma_strength=1.0, sharpen=1.0))
    np.testing.assert_array_equal(in_camera_processing(white, camera), uniform)  # no picture: everywhere alike
    assert abs(uniform[:, 8:56].mean(-1).std() / uniform[:, 72:120].mean(-1).std() - 1) < 0.1
