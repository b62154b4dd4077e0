"""Classical denoisers behind the same contract as the CNNs: ``denoise(image, sigma)``.

``bm3d`` uses the reference ``bm3d`` package; ``nlm``, ``tv`` and ``wavelet``
use scikit-image. All take the true (or estimated) sigma on the 0-255 scale.
The NLM and TV strength factors were chosen on Train400 images, never on a test set.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from imgdenoise.cards import ModelCard
from imgdenoise.inference import Resolved
from imgdenoise.noise import estimate_sigma


def _bm3d(image, sigma):
    import bm3d

    if image.shape[-1] == 3:
        return bm3d.bm3d_rgb(image, sigma / 255.0)
    return bm3d.bm3d(image[..., 0], sigma / 255.0)[..., None]


def _nlm(image, sigma):
    from skimage.restoration import denoise_nl_means

    s = sigma / 255.0
    out = denoise_nl_means(image, h=NLM_H_PER_SIGMA * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True,
                           channel_axis=-1)
    return out.reshape(image.shape)


def _tv(image, sigma):
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(image, weight=TV_WEIGHT_PER_SIGMA * sigma / 255.0, channel_axis=-1)


def _wavelet(image, sigma):
    from skimage.restoration import denoise_wavelet

    out = denoise_wavelet(image, sigma=sigma / 255.0, method="BayesShrink", mode="soft", rescale_sigma=True,
                          channel_axis=-1, convert2ycbcr=image.shape[-1] == 3)
    return out.reshape(image.shape)


def _noisy(image, sigma):
    return image


# Strength factors chosen with benchmarks/tune_classical.py on Train400 images (sigma 15/25/50).
TV_WEIGHT_PER_SIGMA = 0.75
NLM_H_PER_SIGMA = 0.6
METHODS = {"bm3d": _bm3d, "nlm": _nlm, "tv": _tv, "wavelet": _wavelet, "noisy": _noisy}
LIBRARY = {"bm3d": "bm3d", "nlm": "skimage", "tv": "skimage", "wavelet": "skimage"}  # the `classical` extra


class ClassicalDenoiser:
    """A classical method with the :class:`imgdenoise.inference.Denoiser` contract. Its ``card`` names the
    method (``card.name``) and, in ``extra``, the library behind it; gray images are taken as well as colour."""

    noise_conditional = True

    def __init__(self, name: str):
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; available: {', '.join(METHODS)}")
        library = LIBRARY.get(name)
        if library and importlib.util.find_spec(library) is None:  # said once, at load, not once per image
            raise ModuleNotFoundError(f"{name} needs {library}, which is not installed", name=library)
        self.name = name
        self.card = ModelCard({"name": name}, channels=3, noise_conditional=True,
                              extra={"classical": True, "library": library or "none"})

    def for_sigma(self, sigma) -> "ClassicalDenoiser":
        return self

    def resolve(self, image, sigma=None) -> Resolved:
        """As :meth:`imgdenoise.inference.Denoiser.resolve`."""
        if sigma is None:
            return Resolved(self, self.noise_level(image), "estimated")
        return Resolved(self, sigma, "given")

    def noise_level(self, image: np.ndarray) -> float:
        """The noise level (0-255) this method uses when not told one."""
        return estimate_sigma(np.asarray(image, np.float32))

    def denoise(self, image: np.ndarray, sigma=None, **_) -> np.ndarray:
        """Denoise (H, W, C) float32 in [0, 1]; ``sigma`` (0-255) estimated when None."""
        image = np.asarray(image, np.float32)
        squeeze = image.ndim == 2
        if squeeze:
            image = image[..., None]
        sigma = estimate_sigma(image) if sigma is None else float(np.mean(sigma))
        out = METHODS[self.name](image, sigma).astype(np.float32)
        return out[..., 0] if squeeze else out
