"""Noise-level estimation from a single image (no clean reference).

Images are float32 arrays in [0, 1]; sigma is on the 0-255 scale.
"""

from __future__ import annotations

import numpy as np


def _tail_sigma2(eig: np.ndarray) -> float:
    """Chen et al.: mean of the largest eigenvalue tail whose mean equals its median."""
    eig = np.sort(np.clip(eig, 0, None))[::-1]
    for start in range(len(eig)):
        tail = eig[start:]
        tau = tail.mean()
        if np.sum(tail > tau) == np.sum(tail < tau):
            return float(tau)
    return float(eig[-1])


def _patch_eigenvalues(patches: np.ndarray) -> np.ndarray:
    centred = patches - patches.mean(axis=0)
    return np.linalg.eigvalsh(centred.T @ centred / max(len(patches) - 1, 1))


def difference_sigma(image: np.ndarray) -> float:
    """A rough AWGN level (0-255) for images too small or thin for patch statistics: the median
    absolute deviation of the differences of neighbouring pixels (each of variance 2 sigma^2),
    robust to the few edges such an image holds. A single pixel has no noise to read: 0."""
    image = np.asarray(image, np.float64)
    diffs = [np.diff(image, axis=a).ravel() for a in range(image.ndim) if image.shape[a] > 1]
    diffs = np.concatenate(diffs) if diffs else np.zeros(0)
    if diffs.size == 0:
        return 0.0
    mad = np.median(np.abs(diffs - np.median(diffs)))
    return float(mad / 0.6745 / np.sqrt(2.0) * 255.0)


# scipy.stats.gamma.ppf(0.999, a, scale) for the default 7 x 7 patches (a = 42, scale = 4), as SciPy computes it:
# the core install, which has no SciPy, reads noise levels with exactly the same threshold.
_QUANTILES_999 = {(42.0, 4.0): 259.6073864697605}


def _gamma_quantile_999(shape: float, scale: float) -> float:
    """The 99.9% quantile of the gamma distribution (``shape``, ``scale``)."""
    if (shape, scale) in _QUANTILES_999:
        return _QUANTILES_999[(shape, scale)]
    from scipy.stats import gamma

    return float(gamma.ppf(0.999, a=shape, scale=scale))


def estimate_sigma(image: np.ndarray, patch: int = 7, max_patches: int = 60000, seed: int = 0,
                   iterations: int = 5) -> float:
    """Estimate the AWGN level of ``image`` (H, W) or (H, W, C) in [0, 1].

    Weak-texture patches are selected as in Liu, Tanaka and Okutomi (2013): a
    patch whose gradient energy is below what noise of the current sigma would
    give with 99.9% probability holds no structure. On those patches, sigma^2 is
    the mean of the noise-only tail of the covariance eigenvalues (Chen, Zhu and
    Heng, ICCV 2015). Texture is thus not read as noise. Colour images: the mean
    of the per-channel estimates.

    Images with a side under ``patch + 1`` pixels fall back to :func:`difference_sigma`.
    Returns sigma on the 0-255 scale.
    """
    image = np.asarray(image, np.float64)
    if image.ndim == 3:
        return float(np.mean([estimate_sigma(image[..., c], patch, max_patches, seed, iterations)
                              for c in range(image.shape[-1])]))
    if min(image.shape) < patch + 1:  # too few patches: the differences of neighbours instead
        return difference_sigma(image)
    windows = np.lib.stride_tricks.sliding_window_view(image, (patch, patch))
    patches = windows.reshape(-1, patch, patch)
    if len(patches) > max_patches:
        patches = patches[np.random.default_rng(seed).choice(len(patches), max_patches, replace=False)]
    # Gradient energy of each patch, and its distribution under pure noise of unit variance:
    # each squared difference has variance-2 chi-square terms; d terms in all.
    dh, dv = np.diff(patches, axis=2), np.diff(patches, axis=1)
    energy = (dh ** 2).sum(axis=(1, 2)) + (dv ** 2).sum(axis=(1, 2))
    terms = dh[0].size + dv[0].size
    noise_mean = 2.0 * terms  # E[energy] / sigma^2 for white noise
    threshold = _gamma_quantile_999(terms / 2, noise_mean / (terms / 2))
    flat = patches.reshape(len(patches), -1)
    sigma2 = _tail_sigma2(_patch_eigenvalues(flat))
    for _ in range(iterations):
        weak = energy < threshold * sigma2
        if weak.sum() < flat.shape[1] * 4:
            break
        new = _tail_sigma2(_patch_eigenvalues(flat[weak]))
        if abs(new - sigma2) <= 1e-4 * sigma2:
            sigma2 = new
            break
        sigma2 = new
    return float(np.sqrt(sigma2) * 255.0)
