"""The 8 dihedral transforms (flips and 90-degree rotations) of (H, W, C) arrays.

Used for training augmentation and for the x8 self-ensemble at inference. NumPy only.
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
