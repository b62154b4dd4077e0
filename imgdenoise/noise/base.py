"""The one noise-model API, and how models compose.

A noise model is a small frozen object, called on a batch of clean images::

    noisy, levels = model(images, rng)

``images`` is (N, H, W, C) float32 in [0, 1] (C = 1 or 3), ``rng`` a ``numpy.random.Generator``
(all randomness comes from it, so the same seed gives the same noise). ``noisy`` has the shape of
``images`` (float32, not clipped unless the model's own pipeline clips); ``levels`` is (N,) float32,
each image's noise level on the 0-255 scale: the sigma of Gaussian noise, and for every other model
the standard deviation of ``noisy - images`` over the image (what a noise-conditional network is told).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np


class NoiseModel(Protocol):
    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]: ...


def residual_level(noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Each image's noise level: the standard deviation of ``noisy - clean`` (0-255 scale), (N,) float32."""
    diff = noisy.astype(np.float64) - clean.astype(np.float64)
    return (diff.reshape(len(diff), -1).std(axis=1) * 255.0).astype(np.float32)


def expected_clean(clean: np.ndarray, noisy: np.ndarray, bins: int = 64, min_count: int = 32) -> np.ndarray:
    """The clean image as real-noise datasets define it: the expectation of the noisy image.

    PolyU and SIDD take the mean of hundreds of shots as the clean image, so the bias a camera's
    processing gives its noise (clipping at black and white, the tone curve's curvature: the mean
    of the processed noisy values is not the processed clean value) is part of their clean images.
    A network trained to return the noise-free synthetic image learns to remove that bias too: a
    colour and brightness shift on real photographs. This returns ``clean`` plus, for each channel,
    the mean of ``noisy - clean`` over the pixels of similar clean value (``bins`` levels; levels
    with fewer than ``min_count`` pixels are interpolated from their neighbours).

    ``clean``, ``noisy``: (H, W, C) float in [0, 1]; returns (H, W, C) float32 in [0, 1].
    """
    clean = np.asarray(clean, np.float32)
    residual = np.asarray(noisy, np.float32) - clean
    out = np.empty_like(clean)
    for c in range(clean.shape[-1]):
        level = np.minimum((clean[..., c] * bins).astype(np.int64), bins - 1)
        count = np.bincount(level.ravel(), minlength=bins)
        total = np.bincount(level.ravel(), weights=residual[..., c].ravel(), minlength=bins)
        known = count >= min_count
        if not known.any():
            out[..., c] = clean[..., c]
            continue
        centres = np.arange(bins)
        bias = np.interp(centres, centres[known], total[known] / count[known])
        out[..., c] = clean[..., c] + bias[level].astype(np.float32)
    return np.clip(out, 0.0, 1.0)


def as_8bit(image: np.ndarray) -> np.ndarray:
    """``image`` clipped to [0, 1] and rounded to 8-bit values (what a camera writes), float32 in [0, 1]."""
    return (np.round(np.clip(image, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One draw, uniform in log between ``low`` and ``high`` (both > 0)."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def per_image(step, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``step(image (H, W, C)) -> noisy image`` to each image of a batch; levels measured."""
    noisy = np.stack([step(image) for image in images]).astype(np.float32)
    return noisy, residual_level(noisy, images)


@dataclasses.dataclass(frozen=True)
class Compose:
    """Apply ``models`` one after the other (e.g. camera noise, then JPEG)."""

    models: tuple

    def __call__(self, images, rng):
        noisy = images
        for model in self.models:
            noisy, _ = model(noisy, rng)
        return noisy, residual_level(noisy, images)


@dataclasses.dataclass(frozen=True)
class RandomMix:
    """Each image gets each of ``models`` with its probability, in a random order (``shuffle``).

    With ``at_least_one``, an image that drew none gets one of them, picked in proportion to the
    probabilities, so every image is degraded.
    """

    models: tuple
    probabilities: tuple
    shuffle: bool = True
    at_least_one: bool = True

    def __post_init__(self):
        if len(self.models) != len(self.probabilities):
            raise ValueError(f"{len(self.models)} models but {len(self.probabilities)} probabilities")
        if not all(0 <= p <= 1 for p in self.probabilities):
            raise ValueError(f"probabilities must be within [0, 1], got {self.probabilities}")

    def _pick(self, rng) -> list[int]:
        p = np.asarray(self.probabilities, np.float64)
        chosen = [i for i in range(len(p)) if rng.random() < p[i]]
        if not chosen and self.at_least_one and p.sum() > 0:
            chosen = [int(rng.choice(len(p), p=p / p.sum()))]
        return list(rng.permutation(chosen)) if self.shuffle else chosen

    def __call__(self, images, rng):
        out = []
        for image in images:
            noisy = image[None]
            for i in self._pick(rng):
                noisy, _ = self.models[i](noisy, rng)
            out.append(noisy[0])
        noisy = np.stack(out).astype(np.float32)
        return noisy, residual_level(noisy, images)
