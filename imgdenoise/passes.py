"""Quality levels: the network passes an image gets and how their outputs combine (see :data:`QUALITIES`).

``fast`` one pass; ``standard`` (the default) two: a gray image and its transpose, a colour image through
the colour network and its luminance through the gray network, or, for spatially correlated (camera)
noise, a pass at full resolution and one on the 2 x 2 pixel-shuffled sub-images; ``best`` the standard
passes under all 8 flips and rotations (x8 self-ensemble). NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imgdenoise.transforms import dihedral, inverse_dihedral

QUALITIES = ("fast", "standard", "best")
DEFAULT_QUALITY = "standard"
TRANSPOSE = 7  # the dihedral mode that swaps rows and columns
ALL = tuple(range(8))  # every dihedral mode
SHUFFLE = 2  # the pixel-shuffle factor of shuffled passes


def split_quality(name) -> tuple[str, str | None]:
    """A method name with an optional quality suffix: ``"dncnn:fast"`` -> ``("dncnn", "fast")``;
    without one (or with a colon that is part of a path) -> ``(name, None)``."""
    base, colon, quality = str(name).rpartition(":")
    return (base, quality) if colon and quality in QUALITIES else (str(name), None)


@dataclass(frozen=True)
class Passes:
    """The network passes one image gets (see :data:`QUALITIES`).

    ``modes``: dihedral transforms (0-7) of the image whose outputs are averaged. ``luminance_weight`` > 0:
    in each, the colour network's luminance (mean of the channels) is moved that share of the way
    to the gray network's estimate from the noisy luminance. Its sigma is the channels' sigma over
    sqrt(3): noise independent across channels is assumed, as the colour network assumes it.
    ``shuffled``: dihedral transforms applied to the image's 2 x 2 pixel-shuffled sub-images
    (:func:`~imgdenoise.transforms.pixel_unshuffle`, one batch of four), shuffled back and averaged
    with the others: for spatially correlated (camera) noise, which is closer to white there.
    """

    modes: tuple[int, ...] = (0,)
    luminance_weight: float = 0.0
    shuffled: tuple[int, ...] = ()

    @property
    def count(self) -> int:
        """Network passes per image (a shuffled pass runs four quarter-size images: one pass)."""
        return len(self.modes) * (2 if self.luminance_weight else 1) + len(self.shuffled)

    @property
    def factor(self) -> int:
        """What image sides must be a multiple of, beyond the network's own multiple."""
        return SHUFFLE if self.shuffled else 1


def fuse_luminance(colour: np.ndarray, luminance: np.ndarray, weight: float) -> np.ndarray:
    """Move the luminance (mean of the channels) of ``colour`` (..., 3) the share ``weight`` of the way
    to ``luminance`` (..., 1), leaving its chrominance unchanged."""
    return colour + np.float32(weight) * (luminance - colour.mean(-1, keepdims=True))


def batch_dihedral(batch: np.ndarray, mode: int, inverse: bool = False) -> np.ndarray:
    """:func:`~imgdenoise.transforms.dihedral` (or its inverse) of every image of an (N, H, W, C) batch."""
    if mode == 0:
        return batch
    transform = inverse_dihedral if inverse else dihedral
    return np.ascontiguousarray(np.moveaxis(transform(np.moveaxis(batch, 0, 2), mode), 2, 0))
