"""Image files in and out.

Images in memory are float32 arrays ``(H, W, C)`` in [0, 1], channels-last,
``C`` = 1 (gray) or 3 (RGB); an alpha channel travels separately and is never
denoised. PNG, JPEG, BMP and TIFF, 8 and 16 bit (TIFF also 32-bit float).
Writing is atomic (a temporary file in the target folder, then a rename) and
never replaces an existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import dataclasses
import io
import os
import zlib
from pathlib import Path

import numpy as np
import png
import tifffile
from PIL import Image as PILImage
from PIL import ImageOps

from imgdenoise.files import atomic_target

RAW_EXTENSIONS = (".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2", ".pef", ".srw")  # camera RAW
EXTENSIONS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF",
              ".webp": "WEBP", ".heic": "HEIF", ".heif": "HEIF", **{ext: "RAW" for ext in RAW_EXTENSIONS}}
READ_ONLY_FORMATS = ("RAW",)  # read, never written: a RAW input's result is a 16-bit TIFF (:func:`output_name`)
ALPHA_FORMATS = ("PNG", "TIFF", "WEBP", "HEIF")  # formats that hold an alpha channel
METADATA_FORMATS = ("PNG", "JPEG", "WEBP", "HEIF")
ORIENTATION = 0x0112  # the EXIF/TIFF tag  # formats Pillow writes ICC and EXIF into (TIFF: ICC, by tifffile)


def format_bit_depth(fmt: str, bit_depth: int) -> int:
    """The nearest bit depth ``fmt`` holds to ``bit_depth``: JPEG, BMP and WebP 8; PNG 8 or 16 (HEIF: 8, or 16
    held as 10-bit); TIFF any."""
    return {"PNG": min(bit_depth, 16), "HEIF": min(bit_depth, 16), "TIFF": bit_depth}.get(fmt, 8)
DEFAULT_MAX_PIXELS = 400_000_000  # refuse larger images before decoding (decompression bombs)


class ImageReadError(ValueError):
    """An input file that cannot be read as an image; the message names the file."""


class ImageTooLargeError(ImageReadError):
    """An image whose header declares more than the limits allow (found before decoding)."""


@dataclasses.dataclass
class Image:
    """A decoded image: ``pixels (H, W, C)`` float32 in [0, 1], optional ``alpha (H, W, 1)``.

    ``metadata``: what a denoised copy keeps (see :func:`write_image`): ``icc_profile`` (bytes: the
    colour space the pixels are in) and ``exif`` (bytes, its Orientation reset to 1: the pixels are
    already upright).
    """

    pixels: np.ndarray
    bit_depth: int = 8  # 8, 16, or 32 (float TIFF)
    alpha: np.ndarray | None = None
    format: str = "PNG"
    path: str | None = None
    metadata: dict = dataclasses.field(default_factory=dict)

    @property
    def channels(self) -> int:
        return self.pixels.shape[-1]


def image_format(path) -> str:
    """Format name for ``path`` from its extension, or raise naming the valid ones."""
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        raise ValueError(f"{path}: unsupported image extension {ext!r}; supported: {', '.join(sorted(EXTENSIONS))}")
    return EXTENSIONS[ext]


def is_image_file(path) -> bool:
    return Path(path).suffix.lower() in EXTENSIONS


def check_writable_format(path) -> str:
    """``path``'s format, or ValueError if it is one that is read, never written (camera RAW)."""
    fmt = image_format(path)
    if fmt in READ_ONLY_FORMATS:
        raise ValueError(f"{path}: camera RAW is read, not written; write a 16-bit TIFF ({output_name(path)})")
    return fmt


def output_name(name) -> str:
    """The file name of a denoised copy of ``name``: the same, except that a camera RAW file's result is a
    TIFF (``IMG_1.CR2`` -> ``IMG_1.tif``: RAW is read, not written)."""
    path = Path(name)
    return path.with_suffix(".tif").name if path.suffix.lower() in RAW_EXTENSIONS else path.name


def _normalise(array: np.ndarray, path) -> tuple[np.ndarray, int]:
    """Integer or float array -> float32 [0, 1] and its bit depth."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0, 8
    if array.dtype == np.uint16 or array.dtype == np.dtype(">u2"):
        return array.astype(np.float32) / 65535.0, 16
    if array.dtype == np.bool_:
        return array.astype(np.float32), 8
    if np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
        if not np.all(np.isfinite(array)):
            raise ImageReadError(f"{path}: float image contains NaN or Inf values")
        return np.clip(array, 0.0, 1.0), 32
    if np.issubdtype(array.dtype, np.signedinteger):  # no agreed mapping of negatives to light
        raise ImageReadError(f"{path}: signed {8 * array.dtype.itemsize}-bit pixels are not supported "
                             "(convert the image to unsigned 8/16-bit or float)")
    if np.issubdtype(array.dtype, np.unsignedinteger):
        info = np.iinfo(array.dtype)
        return (array.astype(np.float64) / info.max).astype(np.float32), 16
    raise ImageReadError(f"{path}: unsupported pixel type {array.dtype}")


def _split_channels(array: np.ndarray, path) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W[, C]) -> colour (H, W, 1|3) and alpha (H, W, 1) or None."""
    if array.ndim == 2:
        return array[..., None], None
    if array.ndim != 3:
        raise ImageReadError(f"{path}: expected a 2-D image, got an array of shape {array.shape}")
    channels = array.shape[-1]
    if channels in (1, 3):
        return array, None
    if channels == 2:
        return array[..., :1], array[..., 1:]
    if channels == 4:
        return array[..., :3], array[..., 3:]
    raise ImageReadError(f"{path}: unsupported number of channels ({channels})")


def _check_size(width: int, height: int, path, max_pixels: int):
    if width * height > max_pixels:
        raise ImageTooLargeError(f"{path}: image of {width}x{height} pixels exceeds the limit of "
                             f"{max_pixels} pixels (raise max_pixels if it is genuine)")
    if width == 0 or height == 0:
        raise ImageReadError(f"{path}: image has zero size")


def _png_bit_depth(f) -> int:
    header = f.read(26)
    f.seek(0)
    return header[24] if len(header) == 26 and header[12:16] == b"IHDR" else 8


def _read_png16(f, name, max_pixels) -> tuple[np.ndarray, dict]:
    """A 16-bit PNG through pypng (Pillow cannot hold 16-bit RGB); its ICC and EXIF through Pillow's header
    parser (no pixels decoded)."""
    with PILImage.open(f) as im:
        metadata = _pil_metadata(im)
    f.seek(0)
    reader = png.Reader(file=f)
    width, height, rows, info = reader.asDirect()
    _check_size(width, height, name, max_pixels)
    planes = info["planes"]
    array = np.vstack([np.asarray(row, np.uint16) for row in rows]).reshape(height, width, planes)
    return (array[..., 0] if planes == 1 else array), metadata


MAX_SAMPLES = 8  # samples per pixel a TIFF may have (RGBA + extras); more is refused before decoding
BYTES_PER_PIXEL_LIMIT = 8  # decoded bytes allowed per pixel of max_pixels (RGBA at 16 bits)


def _check_tiff_budget(page, width: int, height: int, name, max_pixels: int):
    """Refuse, from the header alone, a TIFF whose decoded size would exceed what ``max_pixels`` pixels
    of 16-bit RGBA take: many samples per pixel (a 268 KB file can declare 1000 and decode to 262 MB)
    or huge tiles count, not just width x height."""
    samples = int(page.samplesperpixel)
    if samples > MAX_SAMPLES:
        raise ImageTooLargeError(f"{name}: TIFF declares {samples} samples per pixel (at most {MAX_SAMPLES} are read)")
    item = max(1, int(page.bitspersample)) / 8
    budget = max_pixels * BYTES_PER_PIXEL_LIMIT
    decoded = width * height * samples * item
    tile = (page.tilewidth or width) * (page.tilelength or page.rowsperstrip or height) * samples * item
    if decoded > budget or tile > budget:
        raise ImageTooLargeError(f"{name}: TIFF would decode to {max(decoded, tile) / 2**20:.0f} MiB, over the limit "
                                 f"of {budget / 2**20:.0f} MiB for {max_pixels} pixels (raise max_pixels if it is "
                                 "genuine)")


def _read_tiff(f, name, max_pixels) -> tuple[np.ndarray, dict]:
    with tifffile.TiffFile(f) as tif:
        images = [p for p in tif.pages if not getattr(p, "is_reduced", False)]  # thumbnails are not pages
        if len(images) > 1:
            raise ImageReadError(f"{name}: multi-page TIFF ({len(images)} pages); only single-page TIFFs are "
                                 "denoised, so no page is dropped silently: split it first (e.g. tiffsplit)")
        page = tif.pages[0]
        shape = page.shape
        samples_first = page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and len(shape) == 3
        height, width = (shape[1], shape[2]) if samples_first else (shape[0], shape[1])
        _check_size(width, height, name, max_pixels)
        _check_tiff_budget(page, width, height, name, max_pixels)
        if page.photometric == tifffile.PHOTOMETRIC.SEPARATED:
            raise ImageReadError(f"{name}: CMYK TIFF is not supported; convert it to RGB first")
        array = _tiff_pixels(page, name)
        if samples_first:
            array = np.moveaxis(array, 0, -1)
        array = _tiff_photometric(page, array, name)
        array = _orient(array, int(page.tags["Orientation"].value) if "Orientation" in page.tags else 1)
        icc = page.tags.get(34675)  # InterColorProfile
        metadata = {"icc_profile": bytes(icc.value)} if icc is not None else {}
    return _drop_extra_samples(array), metadata


def _tiff_pixels(page, name) -> np.ndarray:
    """A TIFF page's pixels; a compression the core install cannot decode (LZW, PackBits, JPEG, ... need
    imagecodecs; Deflate and none do not) is named with the extra that adds it."""
    try:
        return page.asarray()
    except KeyError as error:
        if "imagecodecs" not in str(error):
            raise
        raise ImageReadError(f"{name}: {page.compression.name} compression needs the imagecodecs package: "
                             "pip install 'imgdenoise[tiff]'") from None


def _tiff_photometric(page, array: np.ndarray, name) -> np.ndarray:
    """Pixels as light: MINISWHITE inverted (0 is white), PALETTE indices looked up in the colour map."""
    if page.photometric == tifffile.PHOTOMETRIC.MINISWHITE:
        if array.dtype.kind == "u":
            return np.iinfo(array.dtype).max - array
        if array.dtype == np.bool_:
            return ~array
        return 1.0 - array
    if page.photometric == tifffile.PHOTOMETRIC.PALETTE:
        colormap = page.colormap
        if colormap is None:
            raise ImageReadError(f"{name}: palette TIFF without a colour map")
        return np.moveaxis(np.asarray(colormap, np.uint16)[:, array], 0, -1)  # (H, W, 3) 16-bit
    return array


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply a TIFF/EXIF Orientation (1-8) so the array is upright, as viewers show it."""
    flips = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
             5: lambda a: np.swapaxes(a, 0, 1), 6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
             7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1], 8: lambda a: np.swapaxes(a, 0, 1)[::-1]}
    return np.ascontiguousarray(flips[orientation](array)) if orientation in flips else array


def _drop_extra_samples(array: np.ndarray) -> np.ndarray:
    """Samples beyond RGBA (unspecified extras) are not image channels: keep RGB."""
    if array.ndim == 3 and array.shape[-1] > 4:
        array = array[..., :3]
    return array


def _read_heif(f, name, max_pixels) -> tuple[np.ndarray, dict]:
    """A HEIF/HEIC (phones' format) through pillow-heif: 8-bit, or 10/12-bit as uint16 (scaled to the
    16-bit range); its rotation and mirroring are applied by the decoder."""
    import pillow_heif

    heif = pillow_heif.open_heif(f, convert_hdr_to_8bit=False)
    _check_size(*heif.size, name, max_pixels)
    return np.asarray(heif), {k: bytes(heif.info[k]) for k in ("icc_profile", "exif") if heif.info.get(k)}


def _read_raw(f, name, max_pixels) -> tuple[np.ndarray, dict]:
    """A camera RAW file (DNG, CR2/CR3, NEF, ARW, ...) through rawpy (LibRaw): demosaicked with the
    camera's white balance into linear (gamma 1) 16-bit RGB, no automatic brightening."""
    import rawpy

    with rawpy.imread(f) as raw:
        _check_size(raw.sizes.width, raw.sizes.height, name, max_pixels)
        rgb = raw.postprocess(output_bps=16, gamma=(1, 1), no_auto_bright=True, use_camera_wb=True,
                              output_color=rawpy.ColorSpace.sRGB)
    return rgb, {}


def _read_pil(f, name, max_pixels) -> tuple[np.ndarray, dict]:
    with PILImage.open(f) as im:
        _check_size(im.width, im.height, name, max_pixels)
        upright = ImageOps.exif_transpose(im)
        return _pil_pixels(upright), _pil_metadata(im)  # the metadata after: it resets the orientation


def _pil_metadata(im) -> dict:
    """A Pillow image's ICC profile and EXIF, its orientation reset (it is applied to the pixels). A
    damaged EXIF is left out: metadata never stops a denoising."""
    metadata = {"icc_profile": bytes(im.info["icc_profile"])} if im.info.get("icc_profile") else {}
    try:
        exif = im.getexif()
        if len(exif):
            exif[ORIENTATION] = 1
            metadata["exif"] = exif.tobytes()
    except Exception:
        pass
    return metadata


def _pil_pixels(im) -> np.ndarray:
    """A (transposed) Pillow image as an array of light values: palette, CMYK, tRNS... resolved."""
    if im.mode in ("L", "RGB") and "transparency" in im.info:  # a PNG tRNS colour: keep it as alpha
        im = im.convert("LA" if im.mode == "L" else "RGBA")
    elif im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "PA":
        im = im.convert("RGBA")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode == "I":
        return np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
    return np.asarray(im)


SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"BM": "BMP", b"II*\x00": "TIFF",
              b"MM\x00*": "TIFF"}


HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def sniff_format(data: bytes) -> str | None:
    """Format of an encoded image from its first bytes (PNG, JPEG, BMP, TIFF, WebP, HEIF), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIF"
    return next((fmt for magic, fmt in SIGNATURES.items() if data.startswith(magic)), None)


def read_image(path, *, max_pixels: int = DEFAULT_MAX_PIXELS, native: bool = False) -> Image:
    """Read an image file into an :class:`Image`.

    ``native``: keep 8- and 16-bit pixels as uint8/uint16 (half or a quarter of the memory of
    float32; :meth:`imgdenoise.inference.Denoiser.denoise_rows` takes them as they are).

    Raises :class:`ImageReadError` (a ``ValueError``) naming ``path`` and the
    problem for missing, empty, truncated, corrupt or oversized files.
    """
    path = Path(path)
    fmt = image_format(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: file is empty")
    with open(path, "rb") as f:
        return _decode(f, fmt, str(path), max_pixels, native)


def decode_image(data: bytes, name: str = "upload", *, max_pixels: int = DEFAULT_MAX_PIXELS,
                 native: bool = False) -> Image:
    """Decode an image held in memory (an upload); the format comes from the content, not a name.

    Same errors as :func:`read_image`, naming ``name``.
    """
    if not data:
        raise ImageReadError(f"{name}: file is empty")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageReadError(f"{name}: not a PNG, JPEG, BMP, TIFF, WebP or HEIF image")
    image = _decode(io.BytesIO(data), fmt, name, max_pixels, native)
    image.path = None
    return image


def _decode(f, fmt: str, name: str, max_pixels: int, native: bool) -> Image:
    PILImage.MAX_IMAGE_PIXELS = None  # our own limit applies, checked before decoding
    try:
        if fmt == "TIFF":
            array, metadata = _read_tiff(f, name, max_pixels)
        elif fmt == "HEIF":
            array, metadata = _read_heif(f, name, max_pixels)
        elif fmt == "RAW":
            array, metadata = _read_raw(f, name, max_pixels)
        elif fmt == "PNG" and _png_bit_depth(f) == 16:
            array, metadata = _read_png16(f, name, max_pixels)
        else:
            array, metadata = _read_pil(f, name, max_pixels)
    except ImageReadError:
        raise
    except Exception as error:  # decoders raise many types for corrupt data
        raise ImageReadError(f"{name}: cannot decode {fmt} image ({type(error).__name__}: {error})") from None
    colour, alpha = _split_channels(np.asarray(array), name)
    if native and colour.dtype.newbyteorder("=") in (np.uint8, np.uint16):
        pixels, bit_depth = colour.astype(colour.dtype.newbyteorder("="), copy=False), 8 * colour.dtype.itemsize
    else:
        pixels, bit_depth = _normalise(colour, name)
    if alpha is not None:
        alpha, _ = _normalise(alpha, name)
    return Image(np.ascontiguousarray(pixels), bit_depth, alpha, fmt, name, metadata)



def _quantise(array: np.ndarray, bit_depth: int) -> np.ndarray:
    array = np.clip(np.nan_to_num(np.asarray(array, np.float32)), 0.0, 1.0)
    if bit_depth == 32:
        return array
    dtype, scale = (np.uint16, 65535.0) if bit_depth == 16 else (np.uint8, 255.0)
    return np.round(array * scale).astype(dtype)


def _encode(target, fmt: str, array: np.ndarray, bit_depth: int, quality: int, metadata: dict | None = None):
    """Write integer ``array`` (H, W, C) to ``target``, a path or a binary file (PNG, JPEG, BMP;
    TIFF: :func:`_write_tiff_tiles`), with ``metadata`` (see :func:`write_image`) where the format holds it."""
    metadata = {k: v for k, v in (metadata or {}).items() if v and fmt in METADATA_FORMATS}
    if fmt == "HEIF":
        _encode_heif(target, array, quality, metadata)
    elif fmt == "PNG" and bit_depth == 16:
        height, width, planes = array.shape
        writer = png.Writer(width, height, greyscale=planes <= 2, alpha=planes in (2, 4), bitdepth=16)
        buffer = io.BytesIO()
        writer.write(buffer, array.reshape(height, width * planes))
        data = _png_with_metadata(buffer.getvalue(), metadata)
        if isinstance(target, (str, os.PathLike)):
            Path(target).write_bytes(data)
        else:
            target.write(data)
    else:
        data = array[..., 0] if array.shape[-1] == 1 else array
        im = PILImage.fromarray(data)
        if fmt == "JPEG":
            im = im.convert("RGB" if array.shape[-1] >= 3 else "L")
            im.save(target, format="JPEG", quality=quality, **metadata)
        elif fmt == "WEBP":  # WebP is RGB(A) only
            im = im.convert("RGBA" if array.shape[-1] in (2, 4) else "RGB")
            im.save(target, format="WEBP", quality=quality, **metadata)
        else:
            im.save(target, format=fmt, **metadata)


def _encode_heif(target, array: np.ndarray, quality: int, metadata: dict):
    """HEIC through pillow-heif's HEVC encoder: 8-bit, or 10-bit from 16-bit pixels; gray, RGB, RGBA."""
    import pillow_heif

    height, width, planes = array.shape
    if planes == 2:  # HEIF has no gray + alpha: RGBA
        array = np.concatenate([np.repeat(array[..., :1], 3, axis=-1), array[..., 1:]], axis=-1)
        planes = 4
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[planes] + (";16" if array.dtype == np.uint16 else "")
    data = array[..., 0] if planes == 1 else array
    heif = pillow_heif.from_bytes(mode=mode, size=(width, height), data=np.ascontiguousarray(data).tobytes())
    heif.save(target, quality=quality, **metadata)


EXIF_HEADER = b"Exif\x00\x00"


def _png_with_metadata(data: bytes, metadata: dict) -> bytes:
    """A PNG (pypng's 16-bit output) with ``iCCP`` and ``eXIf`` chunks added before its pixels."""
    if not metadata:
        return data
    extra = []
    if metadata.get("icc_profile"):
        extra.append((b"iCCP", b"ICC profile\x00\x00" + zlib.compress(metadata["icc_profile"])))
    if metadata.get("exif"):
        exif = metadata["exif"]
        extra.append((b"eXIf", exif[len(EXIF_HEADER):] if exif.startswith(EXIF_HEADER) else exif))
    chunks = list(png.Reader(bytes=data).chunks())
    first_data = next(i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT")
    out = io.BytesIO()
    png.write_chunks(out, chunks[:first_data] + extra + chunks[first_data:])
    return out.getvalue()


def write_image(path, pixels: np.ndarray, *, bit_depth: int = 8, alpha: np.ndarray | None = None,
                overwrite: bool = False, quality: int = 95, metadata: dict | None = None) -> Path:
    """Write ``pixels (H, W, C)`` in [0, 1] to ``path`` atomically.

    ``bit_depth`` 8, 16 or 32 (float, TIFF only); formats that cannot hold it
    (JPEG, BMP, WebP: 8 bit; PNG: 8/16) get the nearest depth they can (:func:`format_bit_depth`).
    ``alpha`` (H, W, 1) is appended unchanged where the format has alpha (PNG, TIFF, WebP).
    ``metadata`` (an :class:`Image`'s): the ICC profile is kept in PNG, JPEG, WebP and TIFF, the EXIF
    in PNG, JPEG and WebP; BMP holds neither. JPEG and WebP are written at ``quality``.
    Refuses to replace an existing file unless ``overwrite``.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3:
        raise ValueError(f"{path}: expected pixels of shape (H, W, 1|3), got {pixels.shape}")
    return write_image_rows(path, [(0, pixels)], pixels.shape, bit_depth=bit_depth, alpha=alpha,
                            overwrite=overwrite, quality=quality, metadata=metadata)


def write_image_rows(path, bands, shape, *, bit_depth: int = 8, alpha: np.ndarray | None = None,
                     overwrite: bool = False, quality: int = 95, metadata: dict | None = None) -> Path:
    """Write an image that arrives as bands of rows, atomically (see :func:`write_image`).

    ``bands`` yields ``(first_row, rows)`` in order, ``rows`` (h, W, C) in [0, 1], covering
    ``shape`` (H, W, C) once (as :meth:`imgdenoise.inference.Denoiser.denoise_rows` does). TIFF
    is streamed to disk in 256x256 tiles as the bands arrive, so the image is never held whole;
    other formats are assembled in their integer type, then encoded.
    """
    path = Path(path)
    fmt = image_format(path)
    check_writable_format(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (use overwrite to replace it)")
    height, width, channels = shape
    if channels not in (1, 3):
        raise ValueError(f"{path}: expected pixels of shape (H, W, 1|3), got {tuple(shape)}")
    depth = format_bit_depth(fmt, bit_depth)
    with_alpha = alpha is not None and fmt in ALPHA_FORMATS
    planes = channels + with_alpha

    def quantised():
        for top, rows in bands:
            rows = np.asarray(rows).reshape(len(rows), width, channels)
            if with_alpha:
                rows = np.concatenate([rows.astype(np.float32),
                                       np.asarray(alpha, np.float32).reshape(height, width, 1)[top:top + len(rows)]],
                                      axis=-1)
            yield top, _quantise(rows, depth)

    with atomic_target(path) as tmp_path:
        if fmt == "TIFF":
            _write_tiff_tiles(tmp_path, quantised(), (height, width, planes), _DTYPES[depth], metadata)
        else:
            array = np.empty((height, width, planes), _DTYPES[depth])
            for top, rows in quantised():
                array[top:top + len(rows)] = rows
            _encode(tmp_path, fmt, array, depth, quality, metadata)
    return path


def encode_image(pixels: np.ndarray, fmt: str, *, bit_depth: int = 8, alpha: np.ndarray | None = None,
                 quality: int = 95, metadata: dict | None = None) -> bytes:
    """Encode ``pixels (H, W, C)`` in [0, 1] as ``fmt`` (PNG, JPEG, BMP, TIFF, WEBP) bytes, as
    :func:`write_image` would write them."""
    pixels = np.asarray(pixels)
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    depth = format_bit_depth(fmt, bit_depth)
    if alpha is not None and fmt in ALPHA_FORMATS:
        pixels = np.concatenate([pixels, np.asarray(alpha, np.float32).reshape(*pixels.shape[:2], 1)], axis=-1)
    array = _quantise(pixels, depth)
    buffer = io.BytesIO()
    if fmt == "TIFF":
        _write_tiff_tiles(buffer, [(0, array)], array.shape, array.dtype, metadata)
    else:
        _encode(buffer, fmt, array, depth, quality, metadata)
    return buffer.getvalue()


_DTYPES = {8: np.uint8, 16: np.uint16, 32: np.float32}
TIFF_TILE = 256


def _write_tiff_tiles(target, bands, shape, dtype, metadata: dict | None = None):
    """Stream row bands into a zlib-compressed tiled TIFF (with ``metadata``'s ICC profile); holds one
    256-row stripe at a time."""
    height, width, planes = shape
    stripe = np.zeros((TIFF_TILE, width + (-width % TIFF_TILE), planes), dtype)

    def tiles():
        filled, stripe_top = 0, 0
        for _, rows in bands:
            while len(rows):
                take = min(TIFF_TILE - filled, len(rows))
                stripe[filled:filled + take, :width] = rows[:take]
                rows, filled = rows[take:], filled + take
                if filled == TIFF_TILE or stripe_top + filled == height:
                    stripe[filled:] = 0
                    for left in range(0, width, TIFF_TILE):
                        tile = stripe[:, left:left + TIFF_TILE]
                        yield tile[..., 0] if planes == 1 else tile
                    stripe_top, filled = stripe_top + filled, 0

    photometric = "minisblack" if planes in (1, 2) else "rgb"
    extra = ["unassalpha"] if planes in (2, 4) else None
    tifffile.imwrite(target, data=tiles(), shape=(height, width) if planes == 1 else shape, dtype=dtype,
                     photometric=photometric, extrasamples=extra, compression="zlib", tile=(TIFF_TILE, TIFF_TILE),
                     iccprofile=(metadata or {}).get("icc_profile"))


def to_gray(pixels: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) -> gray (H, W, 1) with ITU-R BT.601 luma weights."""
    if pixels.shape[-1] == 1:
        return pixels
    return (pixels[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))[..., None].astype(np.float32)


def to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Convert (H, W, C) to ``channels`` (1 or 3): RGB->gray by luma, gray->RGB by repetition."""
    if pixels.shape[-1] == channels:
        return pixels
    if channels == 1:
        return to_gray(pixels)
    return np.repeat(pixels, channels, axis=-1)
