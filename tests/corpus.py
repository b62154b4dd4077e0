"""A corpus of awkward and broken image files, generated (never downloaded), with the exact
outcome each must have everywhere an image enters imgdenoise (files, CLI, service).

``outcome`` is ``"ok"`` (decoded; ``check`` tests what was decoded) or the text the error must
contain. Every error also names the file.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tifffile
from PIL import Image as PILImage


@dataclass
class Case:
    name: str  # file name, with the extension a user would give it
    data: bytes
    outcome: str  # "ok" or a substring of the error message
    check: Callable | None = None  # called with the decoded Image when outcome is "ok"
    http_status: int = 200  # what POST /v1/denoise answers


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 60-byte PNG whose header declares ``width`` x ``height`` 8-bit gray pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _png_chunk(b"IEND", b""))


def tiff_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny little-endian TIFF whose tags declare ``width`` x ``height`` 8-bit gray pixels."""
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8),
               (277, 3, 1), (278, 4, height), (279, 4, 0xFFFFFFFF)]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        ifd += struct.pack("<HHII", tag, kind, 1, value) if kind == 4 else struct.pack("<HHIHH", tag, kind, 1, value, 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


def _pil_bytes(image: PILImage.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _tiff_bytes(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()


def _heic_bytes(array: np.ndarray) -> bytes:
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_bytes(mode="RGB", size=array.shape[1::-1], data=array.tobytes()).save(buffer, quality=90)
    return buffer.getvalue()


def _tiff_pages(*pages: tuple[np.ndarray, dict]) -> bytes:
    """A TIFF with one IFD per ``(array, options)`` (e.g. ``subfiletype=1``: a reduced-size thumbnail)."""
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as tif:
        for array, options in pages:
            tif.write(array, **options)
    return buffer.getvalue()


def cases() -> list[Case]:
    rng = np.random.default_rng(0)
    gray8 = (rng.random((24, 32)) * 255).astype(np.uint8)
    rgb8 = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    gray16 = (rng.random((24, 32)) * 65535).astype(np.uint16)
    good_png = _pil_bytes(PILImage.fromarray(gray8), "PNG")
    good_jpeg = _pil_bytes(PILImage.fromarray(rgb8), "JPEG", quality=90)
    good_tiff = _tiff_bytes(rgb8, photometric="rgb")
    good_webp = _pil_bytes(PILImage.fromarray(rgb8), "WEBP", quality=90)
    good_heic = _heic_bytes(rgb8)
    flipped_png = bytearray(good_png)
    flipped_png[len(flipped_png) // 2] ^= 0xFF  # a bit flip inside the compressed data
    garbage_tiff = b"II*\x00" + struct.pack("<I", 8) + bytes(rng.integers(0, 256, 200, dtype=np.uint8))
    floats = rng.random((24, 32)).astype(np.float32)
    cmyk = (rng.random((24, 32, 4)) * 255).astype(np.uint8)

    def shape_is(shape, depth=None):
        def check(image):
            assert image.pixels.shape == shape, image.pixels.shape
            assert depth is None or image.bit_depth == depth, image.bit_depth
        return check

    def equals(expected, scale):
        def check(image):
            np.testing.assert_allclose(image.pixels[..., 0], expected / scale, atol=1e-6)
        return check

    def rgb_equals(expected):
        def check(image):
            np.testing.assert_allclose(image.pixels, expected, atol=1e-6)
        return check

    def alpha_is(expected):
        def check(image):
            assert image.alpha is not None, "transparency dropped"
            np.testing.assert_array_equal(image.alpha[..., 0], expected)
        return check

    palette = (rng.random((3, 256)) * 65535).astype(np.uint16)  # an 8-bit palette; the image uses 4 entries
    keyed = rgb8.copy()
    keyed[:4, :4] = (1, 2, 3)  # the tRNS colour: transparent there only
    opaque_but_key = np.ones((24, 32))
    opaque_but_key[:4, :4] = 0
    gray_keyed = gray8.copy()
    gray_keyed[gray_keyed == 7] = 8
    gray_keyed[5:9, 5:9] = 7
    gray_alpha = np.ones((24, 32))
    gray_alpha[5:9, 5:9] = 0

    return [
        Case("empty.png", b"", "file is empty", http_status=415),
        Case("truncated.png", good_png[: len(good_png) // 2], "cannot decode PNG", http_status=415),
        Case("bitflip.png", bytes(flipped_png), "cannot decode PNG", http_status=415),
        Case("truncated.jpg", good_jpeg[: len(good_jpeg) // 2], "cannot decode JPEG", http_status=415),
        Case("truncated.tif", good_tiff[: len(good_tiff) // 2], "cannot decode TIFF", http_status=415),
        Case("garbage.tif", garbage_tiff, "cannot decode TIFF", http_status=415),
        Case("text.png", b"this is a text file, not an image\n" * 4, "cannot decode PNG", http_status=415),
        Case("bomb.png", png_bomb(), "exceeds the limit", http_status=413),
        Case("bomb.tif", tiff_bomb(), "exceeds the limit", http_status=413),
        Case("cmyk.tif", _tiff_bytes(cmyk, photometric="separated"), "CMYK TIFF is not supported", http_status=415),
        Case("cmyk.jpg", _pil_bytes(PILImage.fromarray(cmyk, "CMYK"), "JPEG"), "ok", shape_is((24, 32, 3), 8)),
        Case("palette.png", _pil_bytes(PILImage.fromarray(rgb8).convert("P"), "PNG"), "ok", shape_is((24, 32, 3))),
        Case("la.png", _pil_bytes(PILImage.fromarray(np.stack([gray8, gray8], -1), "LA"), "PNG"), "ok",
             shape_is((24, 32, 1))),
        Case("onebit.png", _pil_bytes(PILImage.fromarray(gray8 > 128), "PNG"), "ok", shape_is((24, 32, 1), 8)),
        Case("float32.tif", _tiff_bytes(floats), "ok", equals(floats, 1.0)),
        Case("bigendian16.tif", _tiff_bytes(gray16.astype(">u2"), byteorder=">"), "ok", equals(gray16, 65535.0)),
        Case("rgb16.tif", _tiff_bytes((rgb8.astype(np.uint16) * 257), photometric="rgb"), "ok",
             shape_is((24, 32, 3), 16)),
        # 1000 samples per pixel: a few KB that would decode to 1000 planes (issue 16)
        Case("samples.tif", _tiff_bytes(np.zeros((64, 64, 1000), np.uint8), photometric="minisblack",
                                        compression="zlib", extrasamples=["unspecified"] * 999),
             "samples per pixel", http_status=413),
        Case("lzw.tif", _tiff_bytes(rgb8, photometric="rgb", compression="lzw"), "ok", shape_is((24, 32, 3), 8)),
        Case("miniswhite.tif", _tiff_bytes(gray8, photometric="miniswhite"), "ok",
             equals(255 - gray8.astype(float), 255)),
        Case("palette.tif", _tiff_bytes(gray8 % 4, photometric="palette", colormap=palette), "ok",
             rgb_equals(np.moveaxis(palette[:, gray8 % 4], 0, -1) / 65535.0)),
        Case("orientation6.tif", _tiff_bytes(gray8, photometric="minisblack", extratags=[(274, "H", 1, 6, True)]),
             "ok", equals(np.swapaxes(gray8, 0, 1)[:, ::-1].astype(float), 255)),
        Case("int16.tif", _tiff_bytes((gray16.astype(np.int32) - 32768).astype(np.int16)),
             "signed 16-bit pixels are not supported", http_status=415),
        Case("truncated.heic", good_heic[: len(good_heic) // 2], "cannot decode HEIF", http_status=415),
        Case("good.heic", good_heic, "ok", shape_is((24, 32, 3), 8)),
        Case("truncated.webp", good_webp[: len(good_webp) // 2], "cannot decode WEBP", http_status=415),
        Case("good.webp", good_webp, "ok", shape_is((24, 32, 3), 8)),
        # Content that must not be dropped silently (issue 16, item 11)
        Case("pages.tif", _tiff_pages((gray8, {}), (gray8, {})), "multi-page TIFF", http_status=415),
        Case("thumbnail.tif", _tiff_pages((rgb8, {"photometric": "rgb"}),
                                          (rgb8[::4, ::4], {"photometric": "rgb", "subfiletype": 1})),
             "ok", shape_is((24, 32, 3), 8)),
        Case("trns-rgb.png", _pil_bytes(PILImage.fromarray(keyed), "PNG", transparency=(1, 2, 3)), "ok",
             alpha_is(opaque_but_key)),
        Case("trns-gray.png", _pil_bytes(PILImage.fromarray(gray_keyed), "PNG", transparency=7), "ok",
             alpha_is(gray_alpha)),
        Case("deflate-predictor.tif", _tiff_bytes(rgb8, photometric="rgb", compression="zlib", predictor=True), "ok",
             shape_is((24, 32, 3), 8)),
    ]
