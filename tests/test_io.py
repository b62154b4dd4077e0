import functools

import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage

from imgdenoise.io import ImageReadError, decode_image, read_image, to_channels, write_image
from tests import corpus


@pytest.mark.parametrize("ext", [".png", ".tif", ".bmp"])
@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("channels", [1, 3])
def test_lossless_round_trip(tmp_path, ext, bit_depth, channels):
    if ext == ".bmp" and bit_depth == 16:
        pytest.skip("BMP is 8-bit")
    levels = 255 if bit_depth == 8 else 65535
    rng = np.random.default_rng(0)
    pixels = (rng.integers(0, levels + 1, (7, 9, channels)) / levels).astype(np.float32)
    path = write_image(tmp_path / f"x{ext}", pixels, bit_depth=bit_depth)
    image = read_image(path)
    assert image.bit_depth == bit_depth
    assert image.pixels.dtype == np.float32 and image.pixels.shape == (7, 9, channels)
    np.testing.assert_array_equal(np.round(image.pixels * levels), np.round(pixels * levels))


def test_jpeg_round_trip_is_close(tmp_path, rgb_image):
    image = read_image(write_image(tmp_path / "x.jpg", rgb_image))
    assert image.format == "JPEG" and image.bit_depth == 8
    assert np.abs(image.pixels - rgb_image).mean() < 0.03


def test_rgba_alpha_is_kept_untouched(tmp_path):
    rgba = np.random.default_rng(1).integers(0, 256, (6, 5, 4), dtype=np.uint8)
    PILImage.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert image.pixels.shape == (6, 5, 3) and image.alpha.shape == (6, 5, 1)
    out = write_image(tmp_path / "b.png", image.pixels, alpha=image.alpha)
    np.testing.assert_array_equal(np.asarray(PILImage.open(out)), rgba)


def test_16bit_tiff_rgba_keeps_alpha_and_depth(tmp_path):
    pixels = np.random.default_rng(2).random((5, 6, 3)).astype(np.float32)
    alpha = np.random.default_rng(3).random((5, 6, 1)).astype(np.float32)
    image = read_image(write_image(tmp_path / "a.tiff", pixels, bit_depth=16, alpha=alpha))
    assert image.bit_depth == 16
    np.testing.assert_allclose(image.alpha, alpha, atol=1 / 65535)


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((4, 8), np.uint8)
    array[0, 0] = 255  # a marker in the top-left corner of the stored pixels
    exif = PILImage.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    PILImage.fromarray(array).save(tmp_path / "o.jpg", exif=exif.tobytes(), quality=100)
    pixels = read_image(tmp_path / "o.jpg").pixels
    assert pixels.shape == (8, 4, 1)  # displayed upright: width and height swap
    assert pixels[0, -1, 0] > 0.5  # the marker moved to the top-right


def test_palette_and_la_images_are_converted(tmp_path):
    PILImage.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4)).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").pixels.shape == (3, 4, 3)
    la = np.stack([np.full((3, 4), 100, np.uint8), np.full((3, 4), 7, np.uint8)], -1)
    PILImage.fromarray(la, "LA").save(tmp_path / "la.png")
    image = read_image(tmp_path / "la.png")
    assert image.pixels.shape == (3, 4, 1) and np.allclose(image.alpha, 7 / 255)


def test_write_refuses_to_overwrite_and_is_atomic(tmp_path, gray_image):
    path = write_image(tmp_path / "x.png", gray_image)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        write_image(path, 1 - gray_image)
    assert path.read_bytes() == before
    write_image(path, 1 - gray_image, overwrite=True)
    assert path.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]  # no temporary files left behind


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\x89PNG\r\n\x1a\nrubbish", "cannot decode"),
                                              (b"hello, not an image", "cannot decode")])
def test_bad_files_raise_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=message) as error:
        read_image(path)
    assert "bad.png" in str(error.value)


def test_truncated_png_raises(tmp_path, gray_image):
    data = write_image(tmp_path / "ok.png", gray_image).read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.png"):
        read_image(tmp_path / "cut.png")


def test_pixel_limit_refuses_before_decoding(tmp_path, gray_image):
    path = write_image(tmp_path / "x.png", gray_image)
    with pytest.raises(ImageReadError, match="exceeds the limit"):
        read_image(path, max_pixels=100)


def test_unsupported_extension(tmp_path):
    with pytest.raises(ValueError, match="unsupported image extension"):
        read_image(tmp_path / "x.gif")


def test_channel_conversion(rgb_image):
    gray = to_channels(rgb_image, 1)
    assert gray.shape == rgb_image.shape[:2] + (1,)
    np.testing.assert_allclose(gray[..., 0], rgb_image @ np.array([0.299, 0.587, 0.114]), atol=1e-6)
    assert to_channels(gray, 3).shape == rgb_image.shape


def test_native_read_keeps_integer_pixels(tmp_path, rgb_image):
    write_image(tmp_path / "a.tif", rgb_image, bit_depth=16)
    native = read_image(tmp_path / "a.tif", native=True)
    assert native.pixels.dtype == np.uint16 and native.bit_depth == 16
    np.testing.assert_array_equal(native.pixels / np.float32(65535), read_image(tmp_path / "a.tif").pixels)


@pytest.mark.parametrize("channels, alpha", [(1, False), (3, False), (3, True)])
def test_rows_stream_into_a_tiled_tiff_equal_to_the_whole_image(tmp_path, channels, alpha):
    from imgdenoise.io import write_image_rows

    rng = np.random.default_rng(0)
    pixels = rng.random((300, 530, channels)).astype(np.float32)  # several 256-pixel tiles, ragged edges
    alpha_plane = rng.random((300, 530, 1)).astype(np.float32) if alpha else None
    bands = [(top, pixels[top:top + 70]) for top in range(0, 300, 70)]  # bands that straddle tile rows
    write_image_rows(tmp_path / "s.tif", iter(bands), pixels.shape, bit_depth=16, alpha=alpha_plane)
    back = read_image(tmp_path / "s.tif")
    np.testing.assert_allclose(back.pixels, pixels, atol=0.5 / 65535)
    if alpha:
        np.testing.assert_allclose(back.alpha, alpha_plane, atol=0.5 / 65535)


@pytest.mark.parametrize("case", corpus.cases(), ids=lambda c: c.name)
def test_bad_input_corpus_from_files(tmp_path, case):
    path = tmp_path / case.name
    path.write_bytes(case.data)
    if case.outcome == "ok":
        case.check(read_image(path, max_pixels=10_000_000))
    else:
        with pytest.raises(ImageReadError, match=case.outcome) as error:
            read_image(path, max_pixels=10_000_000)
        assert case.name in str(error.value)


@pytest.mark.parametrize("case", corpus.cases(), ids=lambda c: c.name)
def test_bad_input_corpus_from_memory(case):
    if case.name == "text.png":
        expected = "not a PNG, JPEG, BMP, TIFF, WebP or HEIF"  # in memory the content decides the format, not the name
    else:
        expected = case.outcome
    if expected == "ok":
        case.check(decode_image(case.data, case.name, max_pixels=10_000_000))
    else:
        with pytest.raises(ImageReadError, match=expected) as error:
            decode_image(case.data, case.name, max_pixels=10_000_000)
        assert case.name in str(error.value)


# --- property tests and a bounded fuzzing run of the decoders (Hypothesis) -------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def _assert_sane(image):
    assert image.pixels.ndim == 3 and image.pixels.shape[-1] in (1, 3)
    assert image.pixels.dtype == np.float32 and np.all(np.isfinite(image.pixels))
    assert image.pixels.min() >= 0 and image.pixels.max() <= 1


def _seeds():
    import io as _io

    rng = np.random.default_rng(0)
    rgb = (rng.random((9, 11, 3)) * 255).astype(np.uint8)
    seeds = {}
    for fmt in ("PNG", "JPEG", "BMP", "TIFF"):
        buffer = _io.BytesIO()
        PILImage.fromarray(rgb).save(buffer, format=fmt)
        seeds[fmt] = buffer.getvalue()
    return seeds


SEEDS = _seeds()


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_decode_or_raise_image_read_error(data):
    try:
        _assert_sane(decode_image(data, "fuzz", max_pixels=1_000_000))
    except ImageReadError as error:
        assert "fuzz" in str(error)


@FUZZ
@given(fmt=st.sampled_from(sorted(SEEDS)), edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                                          min_size=1, max_size=8), cut=st.integers(8, 10_000))
def test_mutated_images_decode_or_raise_image_read_error(fmt, edits, cut):
    data = bytearray(SEEDS[fmt])
    for position, value in edits:
        data[position % len(data)] = value
    try:
        _assert_sane(decode_image(bytes(data[:cut]), "mutant", max_pixels=1_000_000))
    except ImageReadError as error:
        assert "mutant" in str(error)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(height=st.integers(1, 40), width=st.integers(1, 40), channels=st.sampled_from([1, 3]),
       depth=st.sampled_from([8, 16]), fmt=st.sampled_from(["PNG", "TIFF"]), seed=st.integers(0, 2**16))
def test_lossless_formats_round_trip_any_size(height, width, channels, depth, fmt, seed):
    from imgdenoise.io import encode_image

    pixels = np.random.default_rng(seed).random((height, width, channels)).astype(np.float32)
    back = decode_image(encode_image(pixels, fmt, bit_depth=depth), "x")
    np.testing.assert_allclose(back.pixels, pixels, atol=0.5 / (2**depth - 1) + 1e-6)


def test_outputs_get_the_umask_mode_and_replacing_keeps_the_old_mode(tmp_path, gray_image):
    import os

    from imgdenoise.io import write_image

    old = os.umask(0o022)
    try:
        new = write_image(tmp_path / "new.png", gray_image)
        assert new.stat().st_mode & 0o777 == 0o644
        os.chmod(new, 0o640)
        write_image(new, gray_image, overwrite=True)
        assert new.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


@pytest.mark.parametrize("compression", ["lzw", "zlib-predictor", "jpeg", "ccitt"])
def test_compressed_tiffs_are_read(tmp_path, compression):
    import tifffile

    from imgdenoise.io import read_image

    rng = np.random.default_rng(0)
    path = tmp_path / f"{compression}.tif"
    if compression == "ccitt":  # 1-bit fax compression, as scanners write it (Pillow through libtiff)
        from PIL import Image

        bits = rng.random((32, 40)) > 0.5
        Image.fromarray(bits).save(path, compression="group4")
        np.testing.assert_array_equal(read_image(path).pixels[..., 0] > 0.5, bits)
        return
    pixels = (rng.random((32, 40, 3)) * 255).astype(np.uint8)
    options = {"compression": "zlib", "predictor": True} if compression == "zlib-predictor" else \
        {"compression": compression}
    tifffile.imwrite(path, pixels, photometric="rgb", **options)
    read = read_image(path).pixels
    assert read.shape == (32, 40, 3)
    if compression != "jpeg":  # lossless
        np.testing.assert_array_equal(np.round(read * 255).astype(np.uint8), pixels)


@functools.cache
def _srgb_profile() -> bytes:
    """An sRGB ICC profile (made once: its header holds the time it was made)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _camera_jpeg(path, rgb_image, orientation: int = 6):
    exif = PILImage.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = orientation
    pixels = (rgb_image * 255).astype(np.uint8)
    PILImage.fromarray(pixels).save(path, "JPEG", quality=95, icc_profile=_srgb_profile(), exif=exif.tobytes())


@pytest.mark.parametrize("ext,bit_depth", [(".png", 8), (".png", 16), (".jpg", 8), (".tif", 8), (".tif", 16)])
def test_icc_profile_and_exif_are_kept_where_the_format_holds_them(tmp_path, rgb_image, ext, bit_depth):
    """A wide-gamut photo keeps its colour space; EXIF is kept with the orientation reset (applied)."""
    _camera_jpeg(tmp_path / "in.jpg", rgb_image)
    image = read_image(tmp_path / "in.jpg")
    assert image.metadata["icc_profile"] == _srgb_profile()
    assert image.pixels.shape[:2] == rgb_image.shape[1::-1]  # orientation 6 applied
    out = write_image(tmp_path / f"out{ext}", image.pixels, bit_depth=bit_depth, metadata=image.metadata)
    again = read_image(out)
    assert again.metadata.get("icc_profile") == _srgb_profile()
    if ext != ".tif":  # TIFF keeps the ICC profile only
        with PILImage.open(out) as im:
            exif = im.getexif()
        assert exif[0x010F] == "TestCam" and exif.get(0x0112, 1) == 1
        assert again.pixels.shape == image.pixels.shape  # not rotated a second time


def test_denoising_a_file_keeps_its_icc_profile(tmp_path, rgb_image):
    from imgdenoise.cli import main

    _camera_jpeg(tmp_path / "in.jpg", rgb_image, orientation=1)
    assert main(["denoise", str(tmp_path / "in.jpg"), "-o", str(tmp_path / "out.jpg"), "--model", "seed"]) == 0
    with PILImage.open(tmp_path / "out.jpg") as im:
        assert im.info.get("icc_profile") == _srgb_profile() and im.getexif()[0x010F] == "TestCam"


def test_webp_is_read_and_written_with_alpha_and_icc(tmp_path, rgb_image):
    alpha = np.tile(np.linspace(0, 1, rgb_image.shape[1], dtype=np.float32), (rgb_image.shape[0], 1))[..., None]
    metadata = {"icc_profile": _srgb_profile()}
    path = write_image(tmp_path / "a.webp", rgb_image, alpha=alpha, quality=100, metadata=metadata)
    assert path.read_bytes()[8:12] == b"WEBP"
    image = read_image(path)
    assert image.format == "WEBP" and image.bit_depth == 8 and image.metadata["icc_profile"] == _srgb_profile()
    assert np.abs(image.pixels - rgb_image).mean() < 0.02  # lossy at quality 100: close, not exact
    np.testing.assert_allclose(image.alpha, alpha, atol=2 / 255)
    assert decode_image(path.read_bytes()).format == "WEBP"  # in memory, from its content


def test_gray_webp_comes_back_gray(tmp_path, gray_image):
    image = read_image(write_image(tmp_path / "g.webp", gray_image, quality=100))
    assert image.pixels.shape[-1] in (1, 3)
    assert np.abs(to_channels(image.pixels, 1) - gray_image).mean() < 0.02


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_heic_is_read_and_written_at_8_and_10_bit(tmp_path, channels, bit_depth):
    """Phones' HEIC (pillow-heif): 8-bit stays 8-bit; 16-bit pixels go out as 10-bit HEIC and come back as 16."""
    ramp = np.tile(np.linspace(0.1, 0.9, 64, dtype=np.float32), (48, 1))[..., None].repeat(channels, -1)
    path = write_image(tmp_path / "a.heic", ramp, bit_depth=bit_depth, quality=95,
                       metadata={"icc_profile": _srgb_profile()})
    assert path.read_bytes()[4:12] in (b"ftypheic", b"ftypheix")  # heix: 10-bit
    image = read_image(path)
    assert image.format == "HEIF" and image.bit_depth == bit_depth and image.pixels.shape == ramp.shape
    assert np.abs(image.pixels - ramp).max() < 0.02
    assert image.metadata["icc_profile"] == _srgb_profile()
    assert decode_image(path.read_bytes()).format == "HEIF"


def write_dng(path, height=48, width=64, seed=0):
    """A small valid DNG (an RGGB Bayer mosaic, 12-bit, neutral colour matrix) whose red rises from left to
    right, green from top to bottom, blue constant, with a little noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    planes = {"r": 400 + 3000 * xx / width, "g": 400 + 3000 * yy / height, "b": np.full((height, width), 2000.0)}
    mosaic = np.empty((height, width))
    mosaic[0::2, 0::2], mosaic[1::2, 1::2] = planes["r"][0::2, 0::2], planes["b"][1::2, 1::2]
    mosaic[0::2, 1::2], mosaic[1::2, 0::2] = planes["g"][0::2, 1::2], planes["g"][1::2, 0::2]
    mosaic = np.clip(mosaic + rng.normal(0, 30, mosaic.shape), 0, 4095).astype(np.uint16)
    ratios = [v for x in (1, 0, 0, 0, 1, 0, 0, 0, 1) for v in (x * 10000, 10000)]
    tags = [(33421, "H", 2, (2, 2)), (33422, "B", 4, (0, 1, 1, 2)),  # CFA repeat pattern and RGGB
            (50706, "B", 4, (1, 4, 0, 0)), (50707, "B", 4, (1, 1, 0, 0)),  # DNG version
            (50708, "s", 0, "imgdenoise test camera"), (50714, "H", 1, 0), (50717, "H", 1, 4095),
            (50721, "2i", 9, ratios), (50728, "2I", 3, [10000, 10000] * 3), (50778, "H", 1, 21)]
    tifffile.imwrite(path, mosaic, photometric=32803, extratags=tags, subfiletype=0)
    return path


def test_camera_raw_is_read_as_linear_16_bit_rgb(tmp_path):
    image = read_image(write_dng(tmp_path / "IMG_0001.DNG"))
    assert image.format == "RAW" and image.bit_depth == 16 and image.pixels.shape == (48, 64, 3)
    red, green, blue = (image.pixels[4:-4, 4:-4, c] for c in range(3))
    assert red[:, -8:].mean() > 2 * red[:, :8].mean()  # the mosaic's red gradient survives demosaicking
    assert green[-8:].mean() > 2 * green[:8].mean() and blue.std() < 0.2 * blue.mean()


def test_a_raw_file_that_is_not_one_is_refused_by_name_and_raw_is_never_written(tmp_path):
    (tmp_path / "broken.nef").write_bytes(b"not a raw file at all" * 10)
    with pytest.raises(ImageReadError, match="broken.nef"):
        read_image(tmp_path / "broken.nef")
    with pytest.raises(ValueError, match="RAW is read, not written.*out.tif"):
        write_image(tmp_path / "out.dng", np.zeros((4, 4, 3), np.float32))
