"""The "practical" degradations of blind real-image denoisers (BSRGAN, SCUNet): Gaussian noise
correlated across channels, spatially correlated noise and JPEG recompression, and the mix of
them (with camera noise) that the real-photo model is trained on.

Images are (N, H, W, C) float32 in [0, 1]; sigma is on the 0-255 scale.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np

from imgdenoise.noise.base import Compose, RandomMix, as_8bit, expected_clean, log_uniform, per_image
from imgdenoise.noise.camera import UNIFORM, CameraNoise, Processing
from imgdenoise.noise.gaussian import GaussianNoise


def random_covariance(rng: np.random.Generator, channels: int = 3) -> np.ndarray:
    """A random channel covariance (C, C) with mean variance 1: ``A A^T`` for a Gaussian ``A`` plus a
    random share of noise common to all channels (camera noise is mostly luminance), scaled."""
    a = rng.standard_normal((channels, channels))
    cov = a @ a.T + rng.uniform(0.0, 3.0) * np.ones((channels, channels)) + 1e-3 * np.eye(channels)
    return cov / np.trace(cov) * channels


def _draw_sigma(rng, sigma) -> float:
    lo, hi = (sigma, sigma) if np.isscalar(sigma) else sigma
    return lo if lo == hi else log_uniform(rng, lo, hi)


@dataclasses.dataclass(frozen=True)
class CrossChannelNoise:
    """Gaussian noise whose channels are correlated by a random 3x3 covariance (its mean variance
    is sigma^2). ``sigma`` is a number or a ``(low, high)`` range, drawn log-uniformly per image.
    Gray images get white Gaussian noise."""

    sigma: float | tuple[float, float] = (1.0, 25.0)

    def __call__(self, images, rng):
        def noisy(image):
            s = _draw_sigma(rng, self.sigma) / 255.0
            c = image.shape[-1]
            chol = np.linalg.cholesky(random_covariance(rng, c)).astype(np.float32)
            white = rng.standard_normal(image.shape).astype(np.float32)
            return image + (white @ chol.T) * s

        return per_image(noisy, images)


@dataclasses.dataclass(frozen=True)
class SpatiallyCorrelatedNoise:
    """Gaussian noise low-pass filtered in space (a Gaussian kernel of std ``spread`` pixels,
    drawn per image) and rescaled to standard deviation sigma; its channels are correlated by a
    random covariance, as after demosaicing."""

    sigma: float | tuple[float, float] = (1.0, 25.0)
    spread: tuple[float, float] = (0.5, 2.5)

    def __call__(self, images, rng):
        from scipy import ndimage  # training noise only: the core install has no SciPy

        def noisy(image):
            s = _draw_sigma(rng, self.sigma) / 255.0
            spread = rng.uniform(*self.spread)
            white = rng.standard_normal(image.shape).astype(np.float32)
            smooth = ndimage.gaussian_filter(white, sigma=(spread, spread, 0), mode="wrap")
            smooth /= max(float(smooth.std()), 1e-8)
            c = image.shape[-1]
            chol = np.linalg.cholesky(random_covariance(rng, c)).astype(np.float32)
            return image + (smooth @ chol.T) * s

        return per_image(noisy, images)


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (H, W, C) in [0, 1] saved as an 8-bit JPEG at ``quality`` (Pillow) and decoded."""
    from PIL import Image

    pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(buffer, "JPEG", quality=int(quality))
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())), np.float32) / 255.0
    return decoded.reshape(image.shape)


@dataclasses.dataclass(frozen=True)
class JpegCompression:
    """JPEG recompression at a quality drawn uniformly (integers) from ``quality`` per image."""

    quality: int | tuple[int, int] = (30, 95)

    def __call__(self, images, rng):
        lo, hi = (self.quality, self.quality) if np.isscalar(self.quality) else self.quality
        if not 1 <= lo <= hi <= 100:
            raise ValueError(f"JPEG quality must be within [1, 100], got {self.quality!r}")
        return per_image(lambda image: jpeg_roundtrip(image, rng.integers(lo, hi + 1)), images)


def realistic_noise(sigma=(1.0, 25.0), jpeg_probability: float = 0.75) -> Compose:
    """The real-photo model's training noise: camera noise, cross-channel and spatially correlated
    Gaussian noise and white Gaussian noise, each present with its probability (at least one), in
    random order and strength, then JPEG recompression (quality 30-95) with ``jpeg_probability``."""
    white = GaussianNoise(tuple(sigma))
    noises = RandomMix((CameraNoise(), CrossChannelNoise(sigma), SpatiallyCorrelatedNoise(sigma), white),
                       (0.6, 0.4, 0.4, 0.15))
    jpeg = RandomMix((JpegCompression(),), (jpeg_probability,), at_least_one=False)
    return Compose((noises, jpeg))


CAMERA_JPEG_PROBABILITY, CAMERA_JPEG_QUALITY = 0.9, (90, 98)  # what cameras write in their fine modes


def camera_jpeg_noise(jpeg_probability: float = CAMERA_JPEG_PROBABILITY, quality=CAMERA_JPEG_QUALITY) -> Compose:
    """Camera noise alone (:class:`~imgdenoise.noise.camera.CameraNoise`), then, with ``jpeg_probability``,
    JPEG at ``quality`` (default: what cameras write in their fine modes): the noise of a camera's own
    JPEG, without the white Gaussian parts of :func:`realistic_noise`. Stronger JPEG whitens the residual
    (the compression error of the picture's texture joins it; docs/benchmarks.md, synthetic noise)."""
    jpeg = RandomMix((JpegCompression(quality),), (jpeg_probability,), at_least_one=False)
    return Compose((CameraNoise(), jpeg))


def camera_jpeg_pair(clean: np.ndarray, rng: np.random.Generator, jpeg_probability: float = CAMERA_JPEG_PROBABILITY,
                     quality=CAMERA_JPEG_QUALITY, processing: Processing = UNIFORM) -> tuple[np.ndarray, np.ndarray]:
    """One training pair made as real-noise datasets make theirs: ``(noisy, target)``, (H, W, 3) float32 in [0, 1].

    ``noisy``: a camera's 8-bit output of ``clean`` (H, W, 3): camera noise
    (:class:`~imgdenoise.noise.camera.CameraNoise` with ``processing``), then, with ``jpeg_probability``, JPEG
    at a quality drawn from ``quality``. ``target``: the expectation of ``noisy``, as PolyU's and SIDD's clean
    images are the mean of many shots: ``clean`` through the same JPEG (its chroma subsampling and quantisation
    belong to the picture, not to the noise), plus the bias the camera gives the noise (:func:`expected_clean`).
    """
    noisy, _ = CameraNoise(processing=processing)(clean[None], rng)
    reference, noisy = clean, np.clip(noisy[0], 0.0, 1.0)
    if rng.random() < jpeg_probability:
        q = int(rng.integers(quality[0], quality[1] + 1))
        reference, noisy = jpeg_roundtrip(clean, q), jpeg_roundtrip(noisy, q)
    noisy = as_8bit(noisy)
    return noisy, expected_clean(reference, noisy)


LENS_BLUR_PROBABILITY, LENS_BLUR_SPREAD = 0.75, (0.5, 1.0)  # pixels: a camera's own images at full resolution


def lens_softened(clean: np.ndarray, rng: np.random.Generator, probability: float = LENS_BLUR_PROBABILITY,
                  spread: tuple[float, float] = LENS_BLUR_SPREAD) -> np.ndarray:
    """``clean`` (H, W, C) float32 in [0, 1] as a camera records a scene at full resolution: with
    ``probability``, blurred by a Gaussian of standard deviation drawn uniformly from ``spread`` pixels.

    Photographs downscaled to serve as clean training images are sharp at the pixel scale; a camera's own
    images are soft there (lens, anti-aliasing, demosaicing), so on them the finest-scale content is noise.
    The smallest eigenvalue of the luminance's 5x5 patch covariance (0-255) is 0.28 on PolyU-dev's clean
    images (median) against 3.2 on the training crops; blurs of 0.5 and 1.0 pixels bring it to 1.2 and 0.03
    (``benchmarks/level_sweep.py`` has the reading).
    """
    if rng.random() >= probability:
        return clean
    from scipy import ndimage  # training noise only: the core install has no SciPy

    r = float(rng.uniform(*spread))
    return ndimage.gaussian_filter(clean, sigma=(r, r, 0), mode="mirror").astype(np.float32)


def soft_camera_jpeg_pair(clean: np.ndarray, rng: np.random.Generator,
                          processing: Processing = UNIFORM) -> tuple[np.ndarray, np.ndarray]:
    """:func:`camera_jpeg_pair` of the picture :func:`lens_softened` makes of ``clean``: (noisy, target)."""
    return camera_jpeg_pair(lens_softened(clean, rng), rng, processing=processing)
