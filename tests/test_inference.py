import numpy as np
import pytest

from imgdenoise.inference import Denoiser
from imgdenoise.passes import TRANSPOSE, Passes
from tests.test_models import tiny_denoiser

pytestmark = pytest.mark.backend


@pytest.mark.parametrize("name", ["unet", "dncnn"])
def test_tiled_equals_untiled(name):
    # The overlap's dead zone (3/8 of it) covers the tiny U-Net's receptive-field radius (28 px).
    image = np.random.default_rng(0).random((150, 170, 1)).astype(np.float32)
    denoiser = tiny_denoiser(name, 1)
    whole = denoiser.denoise(image, sigma=20)
    tiled = denoiser.denoise(image, sigma=20, tile=96, overlap=80)
    np.testing.assert_allclose(tiled, whole, atol=1e-4)


def _gray_and_colour(luminance_weight=None):
    """A tiny U-Net denoiser with gray and colour networks (the colour card may carry a luminance weight)."""
    gray, colour = tiny_denoiser("unet", 1), tiny_denoiser("unet", 3)
    if luminance_weight is not None:
        colour.variants[3].card = colour.variants[3].card.replace(luminance_weight=luminance_weight)
    return Denoiser({1: gray.variants[1], 3: colour.variants[3]})


def test_passes_of_each_quality():
    gray_only = tiny_denoiser("unet", 1)
    assert gray_only.passes(1, "fast") == Passes((0,))
    assert gray_only.passes(1, "standard") == Passes((0, TRANSPOSE))
    assert gray_only.passes(3, "standard") == Passes((0, TRANSPOSE))  # no colour network to fuse
    assert gray_only.passes(1, "best") == Passes(tuple(range(8)))
    fused = _gray_and_colour(0.6)
    assert fused.passes(3, "standard") == Passes((0,), 0.6) and fused.passes(3, "standard").count == 2
    assert fused.passes(3, "best").count == 16
    assert fused.passes(1, "standard") == Passes((0, TRANSPOSE))
    assert _gray_and_colour().passes(3, "standard") == Passes((0, TRANSPOSE))  # no weight in the card
    with pytest.raises(ValueError, match="quality 'max'"):
        gray_only.denoise(np.zeros((8, 8), np.float32), 10, quality="max")


def test_correlated_noise_gets_a_full_resolution_pass_and_a_pixel_shuffled_one():
    fused = _gray_and_colour(0.6)
    assert fused.passes(3, "fast", correlated=True) == Passes()
    standard = fused.passes(3, "standard", correlated=True)
    assert standard == Passes((0,), shuffled=(TRANSPOSE,)) and standard.count == 2 and standard.factor == 2
    assert fused.passes(3, "best", correlated=True).count == 16


def _gentle(denoiser):
    """``denoiser`` with its networks' weights scaled down: small residuals on mid-range images keep every
    pass inside [0, 1], where the final clipping is the identity, so passes can be composed by hand."""
    for variant in denoiser.variants.values():
        variant.model.set_weights([w * 0.3 for w in variant.model.get_weights()])
    return denoiser


def test_standard_quality_of_a_gray_image_averages_it_and_its_transpose():
    image = 0.25 + 0.5 * np.random.default_rng(0).random((21, 30)).astype(np.float32)
    denoiser = _gentle(tiny_denoiser("unet", 1))
    expected = (denoiser.denoise(image, 10, quality="fast") + denoiser.denoise(image.T, 10, quality="fast").T) / 2
    np.testing.assert_allclose(denoiser.denoise(image, 10), expected, atol=1e-5)
    best = denoiser.denoise(image, 10, quality="best")
    assert best.shape == image.shape and not np.allclose(best, expected, atol=1e-4)


def test_standard_quality_of_a_colour_image_fuses_the_gray_networks_luminance():
    image = 0.25 + 0.5 * np.random.default_rng(0).random((21, 30, 3)).astype(np.float32)
    denoiser = _gentle(_gray_and_colour(0.6))
    colour = denoiser.denoise(image, 30, quality="fast")
    luminance = denoiser.denoise(image.mean(-1), 30 / np.sqrt(3), quality="fast")[..., None]
    np.testing.assert_allclose(denoiser.denoise(image, 30), colour + 0.6 * (luminance - colour.mean(-1, keepdims=True)),
                               atol=1e-5)


@pytest.mark.parametrize("quality", ["fast", "standard"])
def test_denoise_batch_matches_one_by_one(quality):
    rng = np.random.default_rng(0)
    images = [rng.random((20, 28, 3)).astype(np.float32) for _ in range(3)]
    denoiser = _gray_and_colour(0.6)
    together = denoiser.denoise_batch(images, [10, 20, None], quality=quality)
    for image, sigma, result in zip(images, [10, 20, None], together):
        np.testing.assert_allclose(result, denoiser.denoise(image, sigma, quality=quality), atol=1e-5)


def test_sigma_map_and_scalar_agree_when_constant():
    image = np.random.default_rng(0).random((16, 24, 1)).astype(np.float32)
    denoiser = tiny_denoiser("unet", 1)
    np.testing.assert_allclose(denoiser.denoise(image, np.full((16, 24), 30.0)), denoiser.denoise(image, 30.0),
                               atol=1e-6)


def test_sigma_is_estimated_when_not_given():
    image = np.random.default_rng(0).random((32, 32, 1)).astype(np.float32)
    denoiser = tiny_denoiser("unet", 1)
    from imgdenoise.noise import estimate_sigma

    np.testing.assert_allclose(denoiser.denoise(image), denoiser.denoise(image, estimate_sigma(image)), atol=1e-6)


def test_gray_model_on_colour_and_colour_model_on_gray(gray_image, rgb_image):
    assert tiny_denoiser("dncnn", 1).denoise(rgb_image).shape == rgb_image.shape
    assert tiny_denoiser("dncnn", 3).denoise(gray_image).shape == gray_image.shape
    assert tiny_denoiser("dncnn", 3).denoise(gray_image[..., 0]).shape == gray_image.shape[:2]


@pytest.mark.parametrize("bad, message", [
    (np.full((8, 8), np.nan, np.float32), "NaN"),
    (np.zeros((8, 8, 2), np.float32), "shape"),
    (np.zeros((2, 8, 8, 1), np.float32), "shape"),
    (np.array([["a"]]), "numeric"),
])
def test_bad_arrays_are_refused_clearly(bad, message):
    with pytest.raises(ValueError, match=message):
        tiny_denoiser("unet", 1).denoise(bad, 10)


@pytest.mark.parametrize("sigma", [-5, float("nan"), 1e6])
def test_absurd_sigma_is_refused(sigma):
    with pytest.raises(ValueError, match="sigma"):
        tiny_denoiser("unet", 1).denoise(np.zeros((8, 8), np.float32), sigma)


def test_auto_tiling_bounds_memory_and_matches_whole_image():
    from imgdenoise.tiling import auto_tile

    denoiser = tiny_denoiser("dncnn", 1)
    model = denoiser.variants[1].model
    assert auto_tile(model, (100, 100), max_memory=1 << 30) is None
    assert auto_tile(model, (4000, 6000), max_memory=64 << 20) == 512  # 8 x 4 bytes x 8 channels per pixel
    image = np.random.default_rng(0).random((300, 200, 1)).astype(np.float32)
    budget = 8 * 4 * 8 * 128 * 128  # forces 128-pixel tiles
    np.testing.assert_allclose(denoiser.denoise(image, 10, max_memory=budget), denoiser.denoise(image, 10, tile=None),
                               atol=1e-4)


def test_spatially_varying_sigma_map_conditions_each_region():
    image = np.random.default_rng(0).random((16, 32, 1)).astype(np.float32)
    denoiser = tiny_denoiser("unet", 1)
    sigma_map = np.concatenate([np.full((16, 16), 5.0), np.full((16, 16), 60.0)], axis=1)
    varying = denoiser.denoise(image, sigma_map)
    assert not np.allclose(varying, denoiser.denoise(image, 5.0))
    assert not np.allclose(varying, denoiser.denoise(image, 60.0))
    with pytest.raises(ValueError, match="does not match"):
        denoiser.denoise(image, np.ones((8, 8)))


# bfloat16 keeps 8 bits of mantissa: about 1% of the value (this untrained model's outputs reach 2.6).
@pytest.mark.parametrize("runtime, atol, rtol", [("eager", 1e-4, 0), ("xla", 1e-4, 0), ("bf16", 2e-2, 2e-2)])
def test_runtimes_agree_with_the_default(runtime, atol, rtol):
    import keras

    if runtime == "xla" and keras.backend.backend() != "tensorflow":
        pytest.skip("XLA runtime measured on TensorFlow")
    from imgdenoise.inference import Denoiser

    reference = tiny_denoiser("unet", 1)
    variant = reference.variants[1]
    other = Denoiser({1: (variant.model, variant.card)}, runtime=runtime)
    image = np.random.default_rng(0).random((40, 52)).astype(np.float32)
    np.testing.assert_allclose(other.denoise(image, 25.0), reference.denoise(image, 25.0), atol=atol, rtol=rtol)


def test_integer_images_are_scaled_to_unit_range():
    denoiser = tiny_denoiser("dncnn", 1)
    image = np.random.default_rng(0).random((20, 24)).astype(np.float32)
    as_uint16 = np.round(image * 65535).astype(np.uint16)
    np.testing.assert_allclose(denoiser.denoise(as_uint16, 10), denoiser.denoise(as_uint16 / np.float32(65535), 10),
                               atol=1e-5)


def test_rows_arrive_in_order_and_cover_the_image_once():
    denoiser = tiny_denoiser("unet", 1)
    image = np.random.default_rng(0).random((150, 70, 1)).astype(np.float32)
    bands = list(denoiser.denoise_rows(image, 20, tile=48, overlap=16))
    assert len(bands) > 2
    assert [top for top, _ in bands] == list(np.cumsum([0] + [len(rows) for _, rows in bands[:-1]]))
    assert sum(len(rows) for _, rows in bands) == 150
    np.testing.assert_allclose(np.concatenate([rows for _, rows in bands]), denoiser.denoise(image, 20, tile=48,
                                                                                              overlap=16))


def test_folder_pipeline_batches_same_size_images_and_reports_bad_files(tmp_path):
    from imgdenoise.batch import denoise_files
    from imgdenoise.io import read_image, write_image

    denoiser = tiny_denoiser("unet", 1)
    variant = denoiser.variants[1]
    rng = np.random.default_rng(0)
    names = ["a.png", "b.png", "c.png", "bad.png", "d.png", "e.png"]
    for name in names:
        if name == "bad.png":
            (tmp_path / name).write_bytes(b"not an image")
        else:
            write_image(tmp_path / name, rng.random((24, 40) if name != "d.png" else (30, 20)), bit_depth=16)
    calls = []
    original_run = variant.run
    variant.run = lambda noisy, maps: calls.append(len(noisy)) or original_run(noisy, maps)
    jobs = [(tmp_path / n, tmp_path / "out" / n) for n in names]
    results = list(denoise_files(denoiser, jobs, sigma=20.0, batch_size=8))
    assert [src.name for src, _ in results] == names  # in job order
    assert isinstance(dict(results)[tmp_path / "bad.png"], ValueError)
    # a, b, c together; d alone; e alone (after d's size); each twice (standard quality: image and transpose)
    assert sorted(calls) == [1, 1, 1, 1, 3, 3]
    variant.run = original_run
    for name in ["a.png", "d.png"]:
        expected = denoiser.denoise(read_image(tmp_path / name).pixels, 20.0)
        np.testing.assert_allclose(read_image(tmp_path / "out" / name).pixels, np.clip(expected, 0, 1),
                                   atol=1 / 65535 + 1e-6)


def test_any_array_and_sigma_give_a_clean_result_or_a_value_error():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    denoiser = tiny_denoiser("unet", 1)
    shapes = st.one_of(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24),
                       st.tuples(st.integers(1, 24), st.integers(1, 24), st.integers(1, 4)),
                       hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6))
    dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.uint8, np.uint16, np.int32, np.bool_,
                              np.complex64])
    sigmas = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32))

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(array=st.builds(lambda shape, dtype, seed: (np.random.default_rng(seed).random(shape) * 300 - 20)
                           .astype(dtype), shapes, dtypes, st.integers(0, 1000)), sigma=sigmas)
    def check(array, sigma):
        try:
            out = denoiser.denoise(array, sigma)
        except ValueError as error:
            assert str(error)
            return
        assert out.shape == array.shape and out.dtype == np.float32 and np.all(np.isfinite(out))

    check()


def test_strength_zero_returns_the_input_one_the_default_and_more_removes_more():
    image = 0.25 + 0.5 * np.random.default_rng(0).random((24, 40, 1)).astype(np.float32)
    denoiser = _gentle(tiny_denoiser("unet", 1))
    np.testing.assert_array_equal(denoiser.denoise(image, 20, strength=0), image)
    np.testing.assert_array_equal(denoiser.denoise(image, 20, strength=1), denoiser.denoise(image, 20))
    np.testing.assert_allclose(denoiser.denoise(image, 20, strength=0.5),
                               0.5 * (image + denoiser.denoise(image, 20)), atol=1e-6)
    np.testing.assert_allclose(denoiser.denoise(image, 20, strength=2), denoiser.denoise(image, 40), atol=1e-6)
    removed = [np.abs(denoiser.denoise(image, 20, strength=s) - image).mean() for s in (0, 0.25, 0.5, 1)]
    assert removed == sorted(removed) and removed[0] == 0


def test_strength_is_checked():
    image = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="strength must be within"):
        tiny_denoiser("unet", 1).denoise(image, 10, strength=-0.5)
    with pytest.raises(ValueError, match="needs a noise-conditional model"):
        tiny_denoiser("dncnn", 1).denoise(image, strength=1.5)
    assert tiny_denoiser("dncnn", 1).denoise(image, strength=0).shape == image.shape


def test_outputs_are_clipped_to_the_unit_range():
    image = np.random.default_rng(0).random((20, 20, 1)).astype(np.float32)
    out = tiny_denoiser("unet", 1).denoise(image, 60)
    assert out.min() >= 0 and out.max() <= 1


class _FixedLevel:
    """A stand-in level estimator that reads every image as ``level``."""

    def __init__(self, level):
        self.level, self.calls = level, 0

    def estimate(self, image):
        self.calls += 1
        return self.level


def test_a_level_estimator_sets_the_blind_sigma():
    image = np.random.default_rng(0).random((24, 24, 1)).astype(np.float32)
    denoiser = tiny_denoiser("unet", 1)
    denoiser.estimator = _FixedLevel(7.0)
    assert denoiser.noise_level(image) == 7.0
    np.testing.assert_array_equal(denoiser.denoise(image), denoiser.denoise(image, 7.0))


class _Camera(_FixedLevel):
    """A stand-in estimator that reads ``level`` and finds the noise spatially correlated, whose
    Gaussian-equivalent sigma is twice the noise's standard deviation."""

    def correlated(self, image):
        return True

    def gaussian_equivalent(self, sigma):
        return 2 * sigma


@pytest.mark.parametrize("quality", ["fast", "standard"])
def test_camera_noise_of_a_level_is_denoised_at_its_gaussian_equivalent_sigma(quality, monkeypatch):
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    denoiser = tiny_denoiser("unet", 3)
    told = []
    monkeypatch.setattr(denoiser.variants[3], "run", lambda x, s: told.append(np.unique(s * 255)) or x)
    denoiser.estimator = _Camera(10.0)
    assert denoiser.noise_level(image) == 10.0  # reported: the noise's standard deviation
    denoiser.denoise(image, quality=quality)
    denoiser.denoise(image, 6.0, quality=quality)  # a given level means the same
    denoiser.denoise_batch([image], quality=quality)
    passes = 1 if quality == "fast" else 2
    np.testing.assert_allclose(np.concatenate(told), [20.0] * passes + [12.0] * passes + [20.0] * passes, rtol=1e-5)


def _sub_image_means(x):
    """A stand-in network pass: every image of the batch replaced by its mean (so a pass on the 2 x 2
    pixel-shuffled sub-images gives each of the four pixel phases its own mean)."""
    return np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape).copy()


@pytest.mark.parametrize("shape", [(12, 16, 3), (13, 9, 3)])
def test_blind_denoising_of_camera_noise_averages_a_full_and_a_pixel_shuffled_pass(shape, monkeypatch):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    denoiser = tiny_denoiser("unet", 3)
    monkeypatch.setattr(denoiser.variants[3], "run", lambda x, s: _sub_image_means(x))
    denoiser.variants[3].card = denoiser.variants[3].card.replace(multiple=1)
    denoiser.estimator = _Camera(10.0)
    out = denoiser.denoise(image, tile=None)
    padded = np.pad(image, ((0, shape[0] % 2), (0, shape[1] % 2), (0, 0)), mode="reflect")  # as the tiling mirrors
    phases = np.zeros_like(padded)
    for i in range(2):
        for j in range(2):
            phases[i::2, j::2] = padded[i::2, j::2].mean(axis=(0, 1))
    expected = (padded.mean(axis=(0, 1)) + phases[:shape[0], :shape[1]]) / 2
    np.testing.assert_allclose(out, expected, atol=1e-5)
    np.testing.assert_allclose(denoiser.denoise(image, quality="fast", tile=None),
                               np.broadcast_to(image.mean(axis=(0, 1)), shape), atol=1e-5)  # one pass, no padding


def test_camera_noise_is_denoised_alike_alone_and_in_a_batch_and_in_tiles_of_any_size():
    rng = np.random.default_rng(0)
    image = 0.25 + 0.5 * rng.random((40, 52, 3)).astype(np.float32)
    denoiser = _gentle(tiny_denoiser("unet", 3))
    denoiser.estimator = _Camera(10.0)
    whole = denoiser.denoise(image, tile=None)
    assert not np.allclose(whole, denoiser.denoise(image, quality="fast"), atol=1e-4)
    np.testing.assert_allclose(denoiser.denoise_batch([image, image])[1], whole, atol=1e-5)
    odd = image[:37, :45]
    assert denoiser.denoise(odd, tile=24, overlap=8).shape == odd.shape
    white = _gentle(tiny_denoiser("unet", 3))
    white.estimator = _FixedLevel(10.0)  # cannot tell: the standard passes
    np.testing.assert_allclose(white.denoise(image, tile=None), (white.denoise(image, quality="fast") + white.denoise(
        image.transpose(1, 0, 2), quality="fast").transpose(1, 0, 2)) / 2, atol=1e-5)


def test_a_routing_denoiser_sends_blind_calls_to_its_blind_model():
    image = np.random.default_rng(0).random((24, 24, 1)).astype(np.float32)
    known, blind = tiny_denoiser("unet", 1), tiny_denoiser("unet", 1)
    blind.estimator = _FixedLevel(9.0)
    routed = Denoiser(known.variants, name="default", blind=blind)
    assert routed.for_sigma(None) is blind and routed.for_sigma(12.0) is routed
    assert routed.noise_level(image) == 9.0
    np.testing.assert_array_equal(routed.denoise(image), blind.denoise(image, 9.0))
    np.testing.assert_array_equal(routed.denoise(image, 12.0), known.denoise(image, 12.0))
    batch = routed.denoise_batch([image, image])
    np.testing.assert_allclose(batch[0], blind.denoise(image, 9.0), atol=1e-6)
    assert routed.denoise_batch([image, image], [None, 5.0]) is None  # mixed: one at a time


@pytest.mark.parametrize("image, message", [
    (np.full((8, 8), 200.0, np.float32), "on the \\[0, 1\\] scale"),
    (np.full((8, 8), 200, np.int32), "integer images must be uint8"),
    (np.full((8, 8), 2, np.int64), "integer images must be uint8"),
])
def test_out_of_range_and_ambiguous_inputs_are_refused(image, message):
    with pytest.raises(ValueError, match=message):
        tiny_denoiser("unet", 1).denoise(image, 10)


def test_unclipped_noisy_floats_are_accepted():
    noisy = np.random.default_rng(0).normal(0.5, 0.6, (16, 16)).astype(np.float32)  # strays outside [0, 1]
    assert tiny_denoiser("unet", 1).denoise(noisy, 50).shape == noisy.shape


def test_a_call_resolves_to_the_network_that_runs_and_the_level_it_uses():
    image = np.random.default_rng(0).random((24, 24, 1)).astype(np.float32)
    known, blind = tiny_denoiser("unet", 1), tiny_denoiser("unet", 1)
    blind.estimator = _FixedLevel(9.0)
    routed = Denoiser(known.variants, name="default", blind=blind)
    run = routed.resolve(image)
    assert (run.denoiser, run.sigma, run.source) == (blind, 9.0, "estimated")
    run = routed.resolve(image, 12.0)
    assert (run.denoiser, run.sigma, run.source) == (routed, 12.0, "given")
    run = tiny_denoiser("dncnn", 1).resolve(image)
    assert (run.sigma, run.source) == (None, "not used")


def test_a_network_trained_on_an_estimators_readings_is_told_them_as_they_are(monkeypatch):
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    denoiser = tiny_denoiser("unet", 3)
    denoiser.variants[3].card = denoiser.variants[3].card.replace(level_estimator="level-std")
    told = []
    monkeypatch.setattr(denoiser.variants[3], "run", lambda x, s: told.append(np.unique(s * 255)) or x)
    denoiser.estimator = _Camera(10.0)
    denoiser.denoise(image)
    np.testing.assert_allclose(np.concatenate(told), [10.0, 10.0], rtol=1e-5)  # standard passes, level as read
