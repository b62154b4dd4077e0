"""A learned noise-level estimator applied to images: what the real-photo model is told.

:class:`LevelEstimator` runs a ``level`` network (:mod:`imgdenoise.models.level`) on an image and
returns its noise level on the 0-255 scale: the standard deviation of the noise (``noisy - clean``)
it was trained to read, on the same synthetic camera, correlated and JPEG noise as the denoiser
it serves. Large images are read on a central crop, as the classical estimator does.
"""

from __future__ import annotations

import numpy as np

ESTIMATE_CROP = 1024  # images larger than this a side are read on their central crop


def central_crop(image: np.ndarray, size: int = ESTIMATE_CROP) -> np.ndarray:
    """The central ``size`` x ``size`` window of ``image`` (the whole image if smaller)."""
    h, w = image.shape[:2]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[top:top + size, left:left + size]


class LevelEstimator:
    """A trained ``level`` network with its model card.

    ``estimate(image)`` takes (H, W, C) float32 in [0, 1] (or uint8/uint16, scaled by their range)
    and returns the noise level (0-255). Gray images are read as colour with equal channels when the
    network is colour, and colour images as their channel mean when it is gray.
    """

    def __init__(self, model, card: dict):
        self.model, self.card = model, card
        self.channels = int(card.get("channels", model.inputs[0].shape[-1]))
        self.multiple = int(card.get("multiple", 4))

    def estimate(self, image: np.ndarray) -> float:
        from imgdenoise.inference import pixel_scale

        crop = central_crop(image)
        x = crop.astype(np.float32) * np.float32(pixel_scale(image))
        if x.ndim == 2:
            x = x[..., None]
        if x.shape[-1] != self.channels:
            x = np.repeat(x, self.channels, axis=-1) if x.shape[-1] == 1 else x.mean(-1, keepdims=True)
        h, w = x.shape[:2]
        pad = ((0, -h % self.multiple), (0, -w % self.multiple), (0, 0))
        x = np.pad(x, pad, mode="symmetric")
        level = self.model.predict_on_batch(x[None])
        return float(np.asarray(level).reshape(-1)[0] * 255.0)


def load_level_estimator(stem: str) -> LevelEstimator:
    """The shipped estimator ``stem`` (e.g. ``level-real``)."""
    from imgdenoise.pretrained import WEIGHTS_DIR, load_pretrained

    model, card = load_pretrained(WEIGHTS_DIR / f"{stem}.json")
    return LevelEstimator(model, card)
