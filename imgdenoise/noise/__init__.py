"""Noise: one noise-model API (:mod:`~imgdenoise.noise.base`), Gaussian and Poisson-Gaussian
noise and the evaluation protocol (:mod:`~imgdenoise.noise.gaussian`), camera noise
(:mod:`~imgdenoise.noise.camera`), the practical degradations of blind denoisers
(:mod:`~imgdenoise.noise.practical`) and noise-level estimation (:mod:`~imgdenoise.noise.estimation`).

Images are float32 in [0, 1]; sigma and noise levels are on the 0-255 scale.

>>> import numpy as np
>>> from imgdenoise.noise import GaussianNoise, JpegCompression, Compose
>>> noisy, levels = Compose((GaussianNoise(15.0), JpegCompression(80)))(np.full((2, 32, 32, 3), 0.5, np.float32),
...                                                                    np.random.default_rng(0))
"""

from imgdenoise.noise.base import Compose, NoiseModel, RandomMix, expected_clean, residual_level
from imgdenoise.noise.camera import EDGE_AWARE, UNIFORM, Camera, CameraNoise, Processing, camera_pipeline, random_camera
from imgdenoise.noise.estimation import estimate_sigma
from imgdenoise.noise.gaussian import (
    GaussianNoise,
    PoissonGaussianNoise,
    PoissonNoise,
    add_poisson_gaussian_noise,
    add_protocol_noise,
    protocol_noise,
)
from imgdenoise.noise.practical import (
    CrossChannelNoise,
    JpegCompression,
    SpatiallyCorrelatedNoise,
    camera_jpeg_noise,
    camera_jpeg_pair,
    lens_softened,
    realistic_noise,
    soft_camera_jpeg_pair,
)

TRAINING_NOISES = ("gaussian", "realistic")


def training_noise(name: str, sigma=(0.0, 75.0)) -> NoiseModel:
    """The noise model a training run names: ``gaussian`` (AWGN, ``sigma`` a (low, high) range) or
    ``realistic`` (:func:`realistic_noise`; ``sigma`` bounds its Gaussian parts, low at least 0.5)."""
    if name == "gaussian":
        return GaussianNoise(tuple(sigma))
    if name == "realistic":
        lo, hi = sigma
        return realistic_noise((max(lo, 0.5), max(hi, 1.0)))
    raise ValueError(f"unknown training noise {name!r}; available: {', '.join(TRAINING_NOISES)}")


__all__ = [
    "Camera", "CameraNoise", "Compose", "CrossChannelNoise", "EDGE_AWARE", "GaussianNoise", "JpegCompression",
    "NoiseModel", "PoissonGaussianNoise", "PoissonNoise", "Processing", "RandomMix", "SpatiallyCorrelatedNoise",
    "TRAINING_NOISES", "UNIFORM",
    "add_poisson_gaussian_noise", "add_protocol_noise", "camera_jpeg_noise", "camera_jpeg_pair", "camera_pipeline",
    "estimate_sigma", "expected_clean", "lens_softened", "protocol_noise", "random_camera", "realistic_noise",
    "residual_level", "soft_camera_jpeg_pair", "training_noise",
]
