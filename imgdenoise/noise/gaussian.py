"""Gaussian and Poisson-Gaussian noise models, and the evaluation protocol's noise.

Images are float32 arrays in [0, 1]; sigma is always on the 0-255 scale. Training, validation and the
seeded benchmark functions all draw through the noise models here; the one exception is the protocol's
AWGN (:func:`protocol_noise`), which must reproduce the published test scripts' legacy
``RandomState`` stream to be comparable with their tables.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def _as_range(sigma) -> tuple[float, float]:
    lo, hi = (sigma, sigma) if np.isscalar(sigma) else tuple(sigma)
    if not 0 <= lo <= hi:
        raise ValueError(f"sigma must be >= 0 (a number or a (low, high) range), got {sigma!r}")
    return float(lo), float(hi)


@dataclasses.dataclass(frozen=True)
class GaussianNoise:
    """Additive white Gaussian noise.

    ``sigma`` is a number, or a ``(low, high)`` range from which each image of a
    batch draws its own sigma uniformly (blind training).
    """

    sigma: float | tuple[float, float]

    def __call__(self, images: np.ndarray, rng: np.random.Generator):
        """Noisy ``images`` (N, H, W, C) and the per-image sigma (N,) used."""
        lo, hi = _as_range(self.sigma)
        sigmas = rng.uniform(lo, hi, size=len(images)).astype(np.float32)
        return self.add(images, sigmas, rng), sigmas

    @staticmethod
    def add(images: np.ndarray, sigmas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``images`` (N, H, W, C) with white Gaussian noise of each image's sigma (``sigmas`` (N,), 0-255)."""
        noise = rng.standard_normal(images.shape, dtype=np.float32)
        return images + noise * (np.asarray(sigmas, np.float32) / 255.0)[:, None, None, None]


@dataclasses.dataclass(frozen=True)
class PoissonNoise:
    """Shot noise: ``peak`` photons at intensity 1 (lower peak = noisier)."""

    peak: float

    def __call__(self, images: np.ndarray, rng: np.random.Generator):
        noisy = rng.poisson(np.clip(images, 0, None) * self.peak).astype(np.float32) / self.peak
        # Equivalent Gaussian sigma at mid-gray, for noise-conditional models.
        sigma = 255.0 * np.sqrt(0.5 / self.peak)
        return noisy, np.full(len(images), sigma, np.float32)


@dataclasses.dataclass(frozen=True)
class PoissonGaussianNoise:
    """Poisson-Gaussian noise: variance ``a * x + b`` (x in [0, 1]).

    ``a`` scales the signal-dependent (shot) part, ``b`` is the variance of the
    signal-independent (read) part, both on the [0, 1] scale.
    """

    a: float
    b: float

    def __call__(self, images: np.ndarray, rng: np.random.Generator):
        x = np.clip(images.astype(np.float64), 0, None)
        shot = rng.poisson(x / self.a) * self.a if self.a > 0 else x
        noisy = shot + rng.normal(0, np.sqrt(self.b), images.shape)
        sigma = 255.0 * np.sqrt(0.5 * self.a + self.b)
        return noisy.astype(np.float32), np.full(len(images), sigma, np.float32)


def protocol_noise(shape, sigma: float, seed: int = 0) -> np.ndarray:
    """The benchmark noise of the published test scripts (KAIR, DPIR, SwinIR).

    ``np.random.RandomState(seed).normal(0, sigma / 255, shape)``, drawn afresh for
    each image (the same as ``np.random.seed(0)`` before each image), float64.
    """
    return np.random.RandomState(seed).normal(0, sigma / 255.0, shape)


def add_protocol_noise(clean: np.ndarray, sigma: float, *, seed: int = 0,
                       clip: bool = False, quantize: bool = False) -> np.ndarray:
    """Noisy version of ``clean`` (H, W, C) in [0, 1] under the evaluation protocol.

    The noise is added in float and, by default, neither clipped nor quantised,
    exactly as the published scripts; ``clip``/``quantize`` give the "real
    camera" variants. Returns float32.
    """
    noisy = clean.astype(np.float64) + protocol_noise(clean.shape, sigma, seed)
    if clip:
        noisy = np.clip(noisy, 0.0, 1.0)
    if quantize:
        noisy = np.round(noisy * 255.0) / 255.0
    return noisy.astype(np.float32)


def add_poisson_gaussian_noise(clean: np.ndarray, a: float, b: float, *, seed: int = 0) -> np.ndarray:
    """Seeded Poisson-Gaussian noise (variance ``a * x + b``, [0, 1] scale) for benchmarks; float32,
    not clipped. The same ``seed`` gives the same noise, as :func:`add_protocol_noise`."""
    noisy, _ = PoissonGaussianNoise(a, b)(clean[None], np.random.default_rng(seed))
    return noisy[0]
