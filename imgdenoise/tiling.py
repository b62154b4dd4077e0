"""Tiling: large images processed in overlapping tiles whose size follows a memory budget, blended
over their overlap and produced band by band, so memory stays bounded whatever the image size. NumPy only.
"""

from __future__ import annotations

import numpy as np

from imgdenoise.checks import pixel_scale
from imgdenoise.runtimes import first_conv_width

DEFAULT_OVERLAP = 64
DEFAULT_MAX_MEMORY = 512 << 20  # bytes of activations one forward pass may use (automatic tiling)


def _reflect(index: np.ndarray, size: int) -> np.ndarray:
    """Indices outside [0, size) mirrored back in, as ``numpy.pad(mode="reflect")`` does."""
    if size == 1:
        return np.zeros_like(index)
    period = 2 * (size - 1)
    index = np.abs(index) % period
    return np.where(index >= size, period - index, index)


def mirrored_window(source: np.ndarray, top: int, left: int, height: int, width: int, scale: float = 1.0) -> np.ndarray:
    """``source[top:top+height, left:left+width]`` as float32 times ``scale``, mirrored past the edges."""
    h, w = source.shape[:2]
    if top + height <= h and left + width <= w:
        crop = source[top:top + height, left:left + width]
    else:
        rows = _reflect(np.arange(top, top + height), h)
        cols = _reflect(np.arange(left, left + width), w)
        crop = source[rows[:, None], cols[None, :]]
    crop = crop.astype(np.float32)
    return crop * np.float32(scale) if scale != 1.0 else crop


def _ramp(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """1-D blending weights of a tile along one axis.

    Adjacent tiles share ``overlap`` pixels. In that band each tile's weight is
    0 over the ``3/8 * overlap`` pixels nearest its own edge (where its output
    still sees the tile border through the receptive field) and ramps linearly
    to 1 over the middle ``overlap / 4``; the two weights sum to 1 everywhere.
    Image borders keep weight 1.
    """
    d = np.arange(length, dtype=np.float32) + 0.5
    zero, ramp = 3 * overlap / 8, max(overlap / 4, 1)
    w = np.ones(length, np.float32)
    if not at_start:
        w = np.minimum(w, np.clip((d - zero) / ramp, 0, 1))
    if not at_end:
        w = np.minimum(w, np.clip((length - d - zero) / ramp, 0, 1))
    return w


def tile_starts(size: int, tile: int, step: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


def balanced_tile(size: int, tile: int, overlap: int, multiple: int) -> int:
    """The tile length (a multiple of ``multiple``, at most ``tile``) that covers ``size`` with as few
    tiles as ``tile`` would, overlapping by at least ``overlap``, and as little repeated work as can be."""
    if size <= tile:
        return size
    count = -(-(size - overlap) // (tile - overlap))
    length = -(-(size - overlap) // count) + overlap
    return min(tile, length + (-length % multiple))


def tile_for_budget(width: int, shape, max_memory: int = DEFAULT_MAX_MEMORY) -> int | None:
    """Tile size keeping one forward pass under ``max_memory`` bytes, or None if the image fits.

    Activation memory per pixel is estimated as 8 live float32 tensors of the network's
    full-resolution ``width`` (its first convolution's channels).
    """
    max_pixels = max_memory // (8 * 4 * width)
    if shape[0] * shape[1] <= max_pixels:
        return None
    return max(64, int(np.sqrt(max_pixels)) // 64 * 64)


def auto_tile(model, shape, max_memory: int = DEFAULT_MAX_MEMORY) -> int | None:
    """:func:`tile_for_budget` for a Keras model (width read from its first convolution)."""
    return tile_for_budget(first_conv_width(model), shape, max_memory)


def tiled_rows(run_tile, image: np.ndarray, sigma, tile: int | None, overlap: int, multiple: int):
    """The tiling core of :meth:`Denoiser.denoise_rows`.

    The image is mirrored past its edges up to a multiple of ``multiple``; tiles of at most
    ``tile`` pixels a side (None: one tile for the whole image), shrunk to spread the image evenly
    over as few tiles (:func:`balanced_tile`), overlap by at least ``overlap`` and are blended with
    :func:`_ramp` weights. A band of rows is final once the next row of tiles has been added, so
    only two bands are held at a time.
    """
    h, w, channels = image.shape
    scale = pixel_scale(image)
    padded_h, padded_w = h + (-h % multiple), w + (-w % multiple)
    if tile is None:
        tile_h, tile_w, overlap = padded_h, padded_w, 0
    else:
        tile = max(multiple, tile - tile % multiple)
        overlap = max(0, min(overlap - overlap % multiple, tile - multiple))
        tile_h, tile_w = (balanced_tile(size, tile, overlap, multiple) for size in (padded_h, padded_w))
    tops = tile_starts(padded_h, tile_h, tile_h - overlap)
    lefts = tile_starts(padded_w, tile_w, tile_w - overlap)
    out = np.zeros((tile_h, padded_w, channels), np.float32)
    weight = np.zeros((tile_h, padded_w, 1), np.float32)
    for i, top in enumerate(tops):
        wy = _ramp(tile_h, overlap, top == 0, top + tile_h >= padded_h)
        for left in lefts:
            x = mirrored_window(image, top, left, tile_h, tile_w, scale)
            if sigma is None:
                s = None
            elif isinstance(sigma, float):
                s = np.full((tile_h, tile_w, 1), sigma / 255.0, np.float32)
            else:
                s = mirrored_window(sigma, top, left, tile_h, tile_w, 1 / 255.0)
            window = (wy[:, None] * _ramp(tile_w, overlap, left == 0, left + tile_w >= padded_w)[None, :])[..., None]
            out[:, left:left + tile_w] += run_tile(x, s) * window
            weight[:, left:left + tile_w] += window
        done = (tops[i + 1] if i + 1 < len(tops) else padded_h) - top
        if top < h:
            keep = min(done, h - top)
            yield top, out[:keep, :w] / np.maximum(weight[:keep, :w], 1e-12)
        out = np.concatenate([out[done:], np.zeros_like(out[:done])])
        weight = np.concatenate([weight[done:], np.zeros_like(weight[:done])])


def collect_rows(bands, shape) -> np.ndarray:
    """The image (``shape`` (H, W, C), float32) that ``bands`` of ``(first_row, rows)`` cover (as
    :meth:`Denoiser.denoise_rows` yields them)."""
    out = np.empty(shape, np.float32)
    for top, rows in bands:
        out[top:top + len(rows)] = rows
    return out
