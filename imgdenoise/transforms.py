"""Geometric transforms of images: the 8 dihedral transforms (flips and 90-degree rotations) of
(H, W, C) arrays, for training augmentation and the x8 self-ensemble at inference, and the pixel
shuffle of (N, H, W, C) batches into sub-images and back. NumPy only.
"""

from __future__ import annotations

import numpy as np


def dihedral(image: np.ndarray, mode: int) -> np.ndarray:
    """Transform ``mode`` (0-7) of ``image``: rotate by ``mode % 4`` quarter turns, then flip
    left-right when ``mode >= 4``. Returns a view."""
    image = np.rot90(image, k=mode % 4, axes=(0, 1))
    return image[:, ::-1] if mode >= 4 else image


def inverse_dihedral(image: np.ndarray, mode: int) -> np.ndarray:
    """Undo :func:`dihedral`: ``inverse_dihedral(dihedral(x, m), m) == x``."""
    if mode >= 4:
        image = image[:, ::-1]
    return np.rot90(image, k=-(mode % 4), axes=(0, 1))


def pixel_unshuffle(batch: np.ndarray, factor: int = 2) -> np.ndarray:
    """The ``factor`` x ``factor`` sub-images of every image of ``batch`` (N, H, W, C), H and W multiples
    of ``factor``: sub-image (i, j) holds the pixels ``[i::factor, j::factor]``. Returns (N * factor**2,
    H / factor, W / factor, C), image n's sub-images at ``n * factor**2 + i * factor + j``.

    Neighbours in a sub-image are ``factor`` pixels apart in the image, so noise correlated over short
    distances (camera noise after demosaicing and JPEG) is closer to white there (pixel-shuffle
    downsampling: Zhou et al., "When AWGN-based denoiser meets real noises", AAAI 2020)."""
    n, h, w, c = batch.shape
    blocks = batch.reshape(n, h // factor, factor, w // factor, factor, c)
    return np.ascontiguousarray(blocks.transpose(0, 2, 4, 1, 3, 5).reshape(n * factor * factor, h // factor,
                                                                            w // factor, c))


def pixel_shuffle(batch: np.ndarray, factor: int = 2) -> np.ndarray:
    """Undo :func:`pixel_unshuffle`: ``pixel_shuffle(pixel_unshuffle(x, f), f) == x``."""
    m, h, w, c = batch.shape
    n = m // (factor * factor)
    blocks = batch.reshape(n, factor, factor, h, w, c)
    return np.ascontiguousarray(blocks.transpose(0, 3, 1, 4, 2, 5).reshape(n, h * factor, w * factor, c))
