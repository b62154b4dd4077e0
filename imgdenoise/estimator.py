"""Noise-level estimators for blind denoising of real photographs: what a Gaussian denoiser is told.

Camera noise is spatially correlated and has little power at the finest scale, where the classical
estimator (:func:`imgdenoise.noise.estimate_sigma`) looks. The estimators here read it otherwise, each
calibrated on synthetic realistic noise only (``benchmarks/train_level_equivalent.py``):

- :class:`CalibratedEstimator`: tells camera noise from white noise by comparing the classical estimator
  at the finest scale and on the image averaged over ``factor`` x ``factor`` blocks (where correlated
  noise looks whiter), and reads a correlated noise's level from a classical reading mapped by a power
  law ``exp(a) * reading ** b``: the coarse reading itself (``level-coarse``, whose law gives the
  Gaussian-equivalent sigma directly) or the deviation of the image's flattest blocks
  (:func:`block_deviation`; ``level-std``, the default's: the noise's standard deviation, what
  ``imgdenoise info`` and the service report, with the law that turns it into the sigma a Gaussian
  network is told, :meth:`CalibratedEstimator.gaussian_equivalent`). White noise reads its finest-scale
  estimate, which is exact there;
- :class:`LevelEstimator`: a ``level`` network (:mod:`imgdenoise.models.level`);
- :class:`CameraLevelEstimator`: a calibrated estimator's test for camera noise and its Gaussian-equivalent
  law, with the level of camera noise read by a ``level`` network (one whose card names that estimator as
  ``camera_noise_test``), which can tell a photograph's texture from its noise where the flattest blocks
  cannot.

Large images are read on their central crop. An estimator's card (``weights/STEM.json``, task
``noise-level``) says which kind it is and holds its parameters.
"""

from __future__ import annotations

import hashlib

import numpy as np

from imgdenoise.cards import ModelCard
from imgdenoise.checks import pixel_scale
from imgdenoise.noise import estimate_sigma
from imgdenoise.runtimes import DEFAULT_RUNTIME

ESTIMATE_CROP = 1024  # images larger than this a side are read on their central crop


def central_crop(image: np.ndarray, size: int = ESTIMATE_CROP) -> np.ndarray:
    """The central ``size`` x ``size`` window of ``image`` (the whole image if smaller)."""
    h, w = image.shape[:2]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[top:top + size, left:left + size]


def estimation_window(image: np.ndarray) -> np.ndarray:
    """What every estimator reads of ``image`` ((H, W[, C]) float in [0, 1], or uint8/uint16): its central
    crop as (h, w, C) float32 in [0, 1]."""
    window = central_crop(image).astype(np.float32) * np.float32(pixel_scale(image))
    return window[..., None] if window.ndim == 2 else window


def estimate_image_sigma(image: np.ndarray) -> float:
    """:func:`~imgdenoise.noise.estimate_sigma` of ``image`` (any size, float or integer);
    images larger than :data:`ESTIMATE_CROP` a side are measured on their central crop."""
    return estimate_sigma(estimation_window(image))


class LevelEstimator:
    """A trained ``level`` network: a :class:`~imgdenoise.runtimes.Variant` (shipped weights run on ONNX
    Runtime in the core install), or a Keras model with its card.

    ``estimate(image)`` takes (H, W, C) float32 in [0, 1] (or uint8/uint16, scaled by their range)
    and returns the noise level (0-255). Gray images are read as colour with equal channels when the
    network is colour, and colour images as their channel mean when it is gray.
    """

    def __init__(self, network, card: ModelCard | dict | None = None):
        from imgdenoise.runtimes import KerasVariant, Variant

        self.variant = network if isinstance(network, Variant) else KerasVariant(network, card)
        self.card = self.variant.card
        self.channels, self.multiple = self.card.channels, self.card.multiple

    def estimate(self, image: np.ndarray) -> float:
        x = estimation_window(image)
        if x.shape[-1] != self.channels:
            x = np.repeat(x, self.channels, axis=-1) if x.shape[-1] == 1 else x.mean(-1, keepdims=True)
        h, w = x.shape[:2]
        pad = ((0, -h % self.multiple), (0, -w % self.multiple), (0, 0))
        x = np.pad(x, pad, mode="symmetric")
        level = self.variant.run(x[None], None)
        return float(np.asarray(level).reshape(-1)[0] * 255.0)


def block_deviation(x: np.ndarray, block: int, percentile: float) -> float:
    """The ``percentile`` of the standard deviations of ``x``'s ``block`` x ``block`` blocks (0-255).

    ``x``: (h, w, C) float32 in [0, 1]. Each block's mean is removed per channel and its deviation taken
    over all its pixels and channels. A flat block holds noise alone, correlated noise included (a few
    pixels across, it fits in the block); textured blocks read more, so a low percentile reads the noise of
    the image's flattest parts. An image smaller than one block reads 0."""
    h, w, c = x.shape
    h, w = h // block * block, w // block * block
    if h == 0 or w == 0:
        return 0.0
    blocks = x[:h, :w].reshape(h // block, block, w // block, block, c).transpose(0, 2, 1, 3, 4)
    blocks = blocks.reshape(-1, block * block, c)
    deviations = np.sqrt(((blocks - blocks.mean(axis=1, keepdims=True)) ** 2).mean(axis=(1, 2)))
    return float(np.percentile(deviations, percentile) * 255.0)


class CalibratedEstimator:
    """Classical readings calibrated to a noise level on synthetic realistic noise (see the module docstring).

    ``estimate(image)``: ``image`` (H, W, C) float32 in [0, 1] (or uint8/uint16). Noise is white when its
    reading on ``factor`` x ``factor`` block averages (times ``factor``: white noise of sigma s reads s)
    is at most :data:`WHITE_RATIO` times the finest-scale one, as for AWGN, where both read its sigma:
    then the finest-scale estimate is returned. Correlated camera noise reads several times more at the
    coarse scale; its level is ``exp(a) * reading ** b`` (0-255) of the card's reading: the coarse one,
    or, when the card has ``reading: {"block": B, "percentile": P}``, :func:`block_deviation`.
    """

    def __init__(self, card: ModelCard):
        self.card = card
        calibration = card.extra  # the fit's constants: factor, a, b, reading, and the gaussian_equivalent law
        self.factor, self.a, self.b = int(calibration["factor"]), float(calibration["a"]), float(calibration["b"])
        self.blocks = calibration.get("reading")  # None: the coarse reading
        self._last = None  # (key, readings) of the last image read

    def gaussian_equivalent(self, sigma):
        """The sigma (0-255) a Gaussian denoiser is told for correlated noise of standard deviation ``sigma``
        (a number or a map): the card's ``gaussian_equivalent`` power law ``exp(a) * sigma ** b``, or
        ``sigma`` itself for a card without one. Correlated noise of a given standard deviation looks like
        more noise to a network trained on white noise: it has to be told more to remove it."""
        law = self.card.extra.get("gaussian_equivalent")
        if law is None:
            return sigma
        return np.float32(np.exp(law["a"])) * np.maximum(sigma, MIN_READING) ** np.float32(law["b"])

    @staticmethod
    def reading(x: np.ndarray, factor: int) -> float:
        """The classical estimate of ``x`` (h, w, C) float32 in [0, 1] block-averaged by ``factor``, times
        ``factor`` (0-255)."""
        from imgdenoise.noise import estimate_sigma

        h, w = x.shape[0] // factor * factor, x.shape[1] // factor * factor
        if factor == 1 or h == 0 or w == 0:  # the finest scale (all a too-thin image has)
            return estimate_sigma(x)
        blocks = x[:h, :w].reshape(h // factor, factor, w // factor, factor, x.shape[-1]).mean(axis=(1, 3))
        return estimate_sigma(blocks) * factor

    def readings(self, image: np.ndarray) -> tuple[float, float, float]:
        """``(finest, coarse, level)``: :meth:`reading` of ``image``'s :func:`estimation_window` at factor 1
        and at ``factor``, and the reading its level is mapped from (the coarse one, or
        :func:`block_deviation`). The last image's readings are kept (by a digest of its window), so reading
        the level and the kind of one image reads it once."""
        window = estimation_window(image)
        key = (window.shape, hashlib.blake2b(window.tobytes(), digest_size=16).digest())
        last = self._last  # one read: other threads may replace it
        if last is None or last[0] != key:
            fine, coarse = self.reading(window, 1), self.reading(window, self.factor)
            level = coarse if self.blocks is None else block_deviation(
                window, int(self.blocks["block"]), float(self.blocks["percentile"]))
            last = self._last = key, (fine, coarse, level)
        return last[1]

    def correlated(self, image: np.ndarray) -> bool:
        """Whether ``image``'s noise is spatially correlated (:func:`correlated_readings`)."""
        fine, coarse, _ = self.readings(image)
        return correlated_readings(fine, coarse)

    def estimate(self, image: np.ndarray) -> float:
        fine, coarse, level = self.readings(image)
        if not correlated_readings(fine, coarse):
            return float(fine)
        return float(np.exp(self.a) * max(level, MIN_READING) ** self.b)


MIN_READING = 0.05  # 0-255: readings below this (a clean synthetic image) count as this
WHITE_RATIO = 1.5  # white noise reads the same at both scales (up to the estimator's error, ~10%)


def correlated_readings(fine: float, coarse: float) -> bool:
    """Whether noise read ``fine`` at the finest scale and ``coarse`` on block averages (both 0-255, as
    :meth:`CalibratedEstimator.reading`) is spatially correlated: the coarse reading is more than
    :data:`WHITE_RATIO` times the finest (camera noise; white noise reads the same at both)."""
    return coarse > WHITE_RATIO * fine


class CameraLevelEstimator:
    """Camera noise's level read by a network, everything else by a calibrated estimator.

    ``classical`` (a :class:`CalibratedEstimator`) tells camera noise from white noise (:meth:`correlated`),
    reads white noise (its finest-scale estimate) and holds the law from a level to the Gaussian-equivalent
    sigma (:meth:`gaussian_equivalent`); ``network`` (a :class:`LevelEstimator`) reads the level of camera
    noise. ``estimate(image)``: ``image`` (H, W, C) float32 in [0, 1] (or uint8/uint16); the level (0-255,
    the noise's standard deviation as a given sigma means it)."""

    def __init__(self, classical: CalibratedEstimator, network: LevelEstimator):
        self.classical, self.network = classical, network
        self.card = network.card

    def correlated(self, image: np.ndarray) -> bool:
        return self.classical.correlated(image)

    def gaussian_equivalent(self, sigma):
        return self.classical.gaussian_equivalent(sigma)

    def estimate(self, image: np.ndarray) -> float:
        if not self.classical.correlated(image):
            return self.classical.estimate(image)
        return self.network.estimate(image)


def load_level_estimator(stem: str, runtime: str = DEFAULT_RUNTIME):
    """The shipped estimator ``stem``: a calibrated classical one (``level-std``, ``level-coarse``), a ``level``
    network (on ``runtime``, as :func:`imgdenoise.loading.load_model`), or a network whose card names the
    classical estimator that tests for camera noise (``camera_noise_test``: a :class:`CameraLevelEstimator`)."""
    from imgdenoise.loading import shipped_variant
    from imgdenoise.pretrained import WEIGHTS_DIR

    card = ModelCard.read(WEIGHTS_DIR / f"{stem}.json")
    if card.extra.get("kind") == "calibrated-classical":
        return CalibratedEstimator(card)
    network = LevelEstimator(shipped_variant(stem, runtime))
    test = card.extra.get("camera_noise_test")
    return network if test is None else CameraLevelEstimator(load_level_estimator(test), network)
