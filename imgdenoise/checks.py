"""What a denoiser accepts: images, noise levels (sigma) and strengths, checked with clear errors.

Images are (H, W) or (H, W, C) float in [0, 1] (C = 1 or 3) or uint8/uint16 (scaled by their maximum);
sigma is on the 0-255 scale, a number or an (H, W) map; strength is 0 (the input) to
:data:`MAX_STRENGTH`, 1 being the denoiser's own estimate. NumPy only.
"""

from __future__ import annotations

import numpy as np

MAX_FLOAT_VALUE = 4.0  # float inputs beyond this are taken to be on the 0-255 scale and refused


def check_image(image) -> np.ndarray:
    """Validate an input array; returns (H, W, C) float32, or uint8/uint16 unchanged.

    Float images are on the [0, 1] scale; noisy ones may stray outside it (unclipped noise), but a
    value above :data:`MAX_FLOAT_VALUE` means the 0-255 scale and is refused. Integer images must be
    uint8 or uint16 (scaled by 255 or 65535); other integer types are refused rather than guessed.
    Raises ValueError naming the problem.
    """
    image = np.asarray(image)
    if image.dtype.kind not in "fui":
        raise ValueError(f"image must be a real numeric array, got dtype {image.dtype}")
    if image.dtype.kind in "ui" and image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"integer images must be uint8 (0-255) or uint16 (0-65535), got {image.dtype}; "
                         "convert it (e.g. image.astype(np.uint8)) or pass float32 in [0, 1]")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"image must have shape (H, W), (H, W, 1) or (H, W, 3), got {image.shape}")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"image is empty: shape {image.shape}")
    if image.dtype in (np.uint8, np.uint16):
        return image
    image = image.astype(np.float32, copy=False)
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or Inf values")
    if np.abs(image).max() > MAX_FLOAT_VALUE:
        raise ValueError(f"float image values reach {np.abs(image).max():g}: float images are on the [0, 1] scale "
                         "(divide a 0-255 image by 255, or pass it as uint8)")
    return image


def pixel_scale(image: np.ndarray) -> float:
    """Factor taking ``image``'s values to [0, 1]: 1/255 for uint8, 1/65535 for uint16, else 1."""
    return {np.dtype(np.uint8): 1 / 255.0, np.dtype(np.uint16): 1 / 65535.0}.get(image.dtype, 1.0)


def check_sigma(sigma, shape) -> float | np.ndarray:
    """A validated sigma (0-255): a float, or an (H, W, 1) float32 map matching ``shape``."""
    sigma = np.asarray(sigma, np.float32)
    if not np.all(np.isfinite(sigma)) or np.any(sigma < 0) or np.any(sigma > 255):
        shown = sigma if sigma.ndim == 0 else "a map outside that"
        raise ValueError(f"sigma must be finite and within [0, 255] (0-255 scale), got {shown}")
    if sigma.ndim == 0:
        return float(sigma)
    if sigma.shape[:2] != tuple(shape[:2]) or sigma.size != shape[0] * shape[1]:
        raise ValueError(f"sigma map of shape {sigma.shape} does not match image of shape {tuple(shape)}")
    return sigma.reshape(shape[0], shape[1], 1)


MAX_STRENGTH = 4.0


def check_strength(strength, noise_conditional: bool = True) -> float:
    """A validated denoising strength.

    0 returns the input unchanged, 1 is the denoiser's own estimate, values in between blend the
    two linearly (``noisy + strength * (denoised - noisy)``); above 1 (up to :data:`MAX_STRENGTH`),
    a noise-conditional network is told a noise level ``strength`` times the one given or
    estimated, and so removes more (and smooths more). Networks that are not noise-conditional
    cannot go above 1.
    """
    try:
        strength = float(strength)
    except (TypeError, ValueError):
        raise ValueError(f"strength must be a number in [0, {MAX_STRENGTH:g}], got {strength!r}") from None
    if not 0 <= strength <= MAX_STRENGTH:
        raise ValueError(f"strength must be within [0, {MAX_STRENGTH:g}] (1: the default), got {strength:g}")
    if strength > 1 and not noise_conditional:
        raise ValueError(f"strength {strength:g} above 1 needs a noise-conditional model (it raises the noise "
                         "level the network is told); this one takes none")
    return strength


def stronger(sigma, strength: float):
    """``sigma`` (a number or a map, 0-255) scaled by ``strength`` when it is above 1, capped at 255."""
    if strength <= 1:
        return sigma
    return min(255.0, sigma * strength) if isinstance(sigma, float) else np.minimum(sigma * strength, 255.0)
