"""Apply a denoiser to arrays: sigma handling, channel adaptation, tiling, quality levels, runtimes.

The contract of every denoiser in imgdenoise (CNN or classical)::

    denoiser.denoise(image, sigma=None) -> image

``image`` is (H, W) or (H, W, C) float32 in [0, 1] (C = 1 or 3; uint8/uint16 arrays are
scaled by their maximum); ``sigma`` is on the 0-255 scale: a number, a per-pixel map (H, W),
or None to estimate it from the image. Models that are not noise-conditional (DnCNN-S, seed)
ignore sigma.

A *quality* level sets how many network passes each image gets (:data:`QUALITIES`):
``fast`` one; ``standard`` (the default) two, fused: a gray image and its transpose, or a colour
image through the colour network and its luminance through the gray network; ``best`` the
standard passes under all 8 flips and rotations (x8 self-ensemble). An image whose noise the
default's estimator finds spatially correlated (a camera photograph) gets, at standard quality, one
pass at full resolution and one on its pixel-shuffled sub-images, where that noise is closer to white
(:class:`Passes`).

Large images are processed in tiles whose size follows a memory budget, blended over their
overlap, and produced band by band (:meth:`Denoiser.denoise_rows`), so an output can be written
to disk while the rest is still being computed. The network itself runs through a *runtime*:
``keras`` (the Keras backend's compiled predict step), ``xla`` (the same, XLA-compiled),
``eager`` (plain calls), ``bf16`` (compiled, mixed bfloat16: for CPUs with AMX/AVX512-BF16 units)
or ``onnx`` (ONNX Runtime on an exported model, without TensorFlow).
This module imports Keras only when a Keras model is loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgdenoise.estimator import estimation_window
from imgdenoise.noise import estimate_sigma
from imgdenoise.transforms import dihedral, inverse_dihedral, pixel_shuffle, pixel_unshuffle

DEFAULT_OVERLAP = 64
DEFAULT_MAX_MEMORY = 512 << 20  # bytes of activations one forward pass may use (automatic tiling)
RUNTIMES = ("keras", "xla", "eager", "bf16", "onnx")
DEFAULT_RUNTIME = "keras"
QUALITIES = ("fast", "standard", "best")
DEFAULT_QUALITY = "standard"
TRANSPOSE = 7  # the dihedral mode that swaps rows and columns
ALL = tuple(range(8))  # every dihedral mode


def split_quality(name) -> tuple[str, str | None]:
    """A method name with an optional quality suffix: ``"dncnn:fast"`` -> ``("dncnn", "fast")``;
    without one (or with a colon that is part of a path) -> ``(name, None)``."""
    base, colon, quality = str(name).rpartition(":")
    return (base, quality) if colon and quality in QUALITIES else (str(name), None)


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


def estimate_image_sigma(image: np.ndarray) -> float:
    """:func:`~imgdenoise.noise.estimate_sigma` of ``image`` (any size, float or integer);
    images larger than :data:`~imgdenoise.estimator.ESTIMATE_CROP` a side are measured on their central crop."""
    return estimate_sigma(estimation_window(image))


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


def _stronger(sigma, strength: float):
    """``sigma`` (a number or a map, 0-255) scaled by ``strength`` when it is above 1, capped at 255."""
    if strength <= 1:
        return sigma
    return min(255.0, sigma * strength) if isinstance(sigma, float) else np.minimum(sigma * strength, 255.0)


def _reflect(index: np.ndarray, size: int) -> np.ndarray:
    """Indices outside [0, size) mirrored back in, as ``numpy.pad(mode="reflect")`` does."""
    if size == 1:
        return np.zeros_like(index)
    period = 2 * (size - 1)
    index = np.abs(index) % period
    return np.where(index >= size, period - index, index)


def _window(source: np.ndarray, top: int, left: int, height: int, width: int, scale: float = 1.0) -> np.ndarray:
    """``source[top:top+height, left:left+width]`` as float32 times ``scale``, mirrored past the edges."""
    h, w = source.shape[:2]
    if top + height <= h and left + width <= w:
        crop = source[top:top + height, left:left + width]
    else:
        rows = _reflect(np.arange(top, top + height), h)
        cols = _reflect(np.arange(left, left + width), w)
        crop = source[rows[:, None], cols[None, :]]
    crop = crop.astype(np.float32)
    return crop * np.float32(scale) if scale != 1.0 else crop


def _ramp(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """1-D blending weights of a tile along one axis.

    Adjacent tiles share ``overlap`` pixels. In that band each tile's weight is
    0 over the ``3/8 * overlap`` pixels nearest its own edge (where its output
    still sees the tile border through the receptive field) and ramps linearly
    to 1 over the middle ``overlap / 4``; the two weights sum to 1 everywhere.
    Image borders keep weight 1.
    """
    d = np.arange(length, dtype=np.float32) + 0.5
    zero, ramp = 3 * overlap / 8, max(overlap / 4, 1)
    w = np.ones(length, np.float32)
    if not at_start:
        w = np.minimum(w, np.clip((d - zero) / ramp, 0, 1))
    if not at_end:
        w = np.minimum(w, np.clip((length - d - zero) / ramp, 0, 1))
    return w


def _tile_starts(size: int, tile: int, step: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


def _balanced_tile(size: int, tile: int, overlap: int, multiple: int) -> int:
    """The tile length (a multiple of ``multiple``, at most ``tile``) that covers ``size`` with as few
    tiles as ``tile`` would, overlapping by at least ``overlap``, and as little repeated work as can be."""
    if size <= tile:
        return size
    count = -(-(size - overlap) // (tile - overlap))
    length = -(-(size - overlap) // count) + overlap
    return min(tile, length + (-length % multiple))


def tile_for_budget(width: int, shape, max_memory: int = DEFAULT_MAX_MEMORY) -> int | None:
    """Tile size keeping one forward pass under ``max_memory`` bytes, or None if the image fits.

    Activation memory per pixel is estimated as 8 live float32 tensors of the network's
    full-resolution ``width`` (its first convolution's channels).
    """
    max_pixels = max_memory // (8 * 4 * width)
    if shape[0] * shape[1] <= max_pixels:
        return None
    return max(64, int(np.sqrt(max_pixels)) // 64 * 64)


def auto_tile(model, shape, max_memory: int = DEFAULT_MAX_MEMORY) -> int | None:
    """:func:`tile_for_budget` for a Keras model (width read from its first convolution)."""
    return tile_for_budget(_first_conv_width(model), shape, max_memory)


def _first_conv_width(model) -> int:
    import keras

    return next((layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)), 64)


# --- runtimes: one network of a denoiser --------------------------------------------------------

class Variant:
    """One network of a denoiser (gray or colour) behind a runtime, with its model card.

    ``run(noisy, sigma_map)`` maps a batch (N, H, W, channels) (and, for noise-conditional
    networks, (N, H, W, 1) maps of sigma / 255) to the denoised batch; H and W must be
    multiples of ``multiple``.
    """

    card: dict

    @property
    def channels(self) -> int:
        return int(self.card["channels"])

    @property
    def noise_conditional(self) -> bool:
        return bool(self.card.get("noise_conditional"))

    @property
    def multiple(self) -> int:
        return int(self.card.get("multiple", 1))

    @property
    def width(self) -> int:
        """Channels at full resolution, for the memory estimate of automatic tiling."""
        return int(self.card.get("width", 64))

    def run(self, noisy: np.ndarray, sigma_map: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError


class KerasVariant(Variant):
    """A Keras model on the ``keras`` (compiled predict step), ``xla``, ``bf16`` or ``eager`` runtime."""

    def __init__(self, model, card: dict, runtime: str = DEFAULT_RUNTIME):
        if runtime not in ("keras", "xla", "eager", "bf16"):
            raise ValueError(f"runtime {runtime!r} does not run Keras models; use keras, xla, bf16 or eager")
        if "channels" not in card:
            card = {**card, "channels": int(model.inputs[0].shape[-1])}
        if runtime == "bf16":
            model = _bfloat16_copy(model, card)
        self.model, self.card, self.runtime = model, card, runtime
        if runtime != "eager":
            model.compile(jit_compile=runtime == "xla")

    @property
    def width(self) -> int:
        return _first_conv_width(self.model)

    def run(self, noisy, sigma_map):
        import keras

        inputs = [noisy, sigma_map] if self.noise_conditional else noisy
        if self.runtime == "eager":
            out = keras.ops.convert_to_numpy(self.model(inputs, training=False))
        else:
            out = self.model.predict_on_batch(inputs)
        return np.asarray(out, np.float32)


def _bfloat16_copy(model, card: dict):
    """``model`` rebuilt under the mixed bfloat16 policy (bfloat16 compute, float32 weights)."""
    import keras

    from imgdenoise.models import build_model

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        copy = build_model(**card["architecture"])
    finally:
        keras.config.set_dtype_policy(previous)
    copy.set_weights(model.get_weights())
    return copy


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


SHUFFLE = 2  # the pixel-shuffle factor of shuffled passes


class Denoiser:
    """A denoising network (gray and/or colour variants) plus what it takes to apply it.

    ``variants`` maps channel counts (1, 3) to a :class:`Variant` or a ``(keras.Model, card)``
    pair; the variant matching the image is used, and a gray-only or colour-only denoiser
    adapts the image (colour through a gray model: the channels as a batch; gray through a
    colour model: replicated, then averaged). A colour card's ``luminance_weight`` (set when the
    weight was chosen on validation images) lets the gray network refine colour images' luminance.

    Blind use (sigma None): ``estimator`` (a :class:`~imgdenoise.estimator.LevelEstimator`) reads the
    noise level, or, without one, the classical :func:`estimate_image_sigma`. ``blind``: another
    denoiser that takes over whenever sigma is not given (the default model: the real-photo
    network blind, the Gaussian networks at a given sigma).
    """

    def __init__(self, variants: dict, name: str | None = None, runtime: str = DEFAULT_RUNTIME,
                 estimator=None, blind: Denoiser | None = None):
        if not variants:
            raise ValueError("a Denoiser needs at least one model")
        self.variants = {channels: v if isinstance(v, Variant) else KerasVariant(*v, runtime=runtime)
                         for channels, v in variants.items()}
        self.name = name or self.card["architecture"]["name"]
        self.estimator, self.blind = estimator, blind

    def for_sigma(self, sigma) -> Denoiser:
        """The denoiser that handles a call with ``sigma``: ``blind`` when sigma is None and there is one,
        else this one. Callers that report the level used call ``for_sigma(None).noise_level(image)`` and
        pass that level to the same denoiser, so the image is read once."""
        return self.blind if sigma is None and self.blind is not None else self

    def noise_level(self, image) -> float | None:
        """The noise level (0-255) blind denoising of ``image`` uses (the value reported as the sigma
        used), or None for a network that is not noise-conditional. ``image`` as :meth:`denoise`."""
        router = self.for_sigma(None)
        if router is not self:
            return router.noise_level(image)
        if not self.noise_conditional:
            return None
        return self._noise_level(check_image(image))

    def _noise_level(self, image: np.ndarray) -> float:
        """:meth:`noise_level` of an image :func:`check_image` has already passed."""
        return self.estimator.estimate(image) if self.estimator is not None else estimate_image_sigma(image)

    @property
    def card(self) -> dict:
        return next(iter(self.variants.values())).card

    @property
    def noise_conditional(self) -> bool:
        return next(iter(self.variants.values())).noise_conditional

    def _variant(self, channels: int) -> Variant:
        return self.variants.get(channels) or next(iter(self.variants.values()))

    def passes(self, channels: int, quality: str = DEFAULT_QUALITY, correlated: bool = False) -> Passes:
        """The passes an image of ``channels`` channels gets at ``quality`` (see :data:`QUALITIES`).

        ``correlated``: the image's noise is spatially correlated (camera noise, :meth:`correlated_noise`).
        Then the standard quality is one pass at full resolution (fine detail) and one on the pixel-shuffled
        sub-images (noise closer to white), and best quality is that under the 8 transforms; no luminance
        fusion, which assumes noise independent across channels. Fast quality is one pass either way.
        """
        if quality not in QUALITIES:
            raise ValueError(f"unknown quality {quality!r}; available: {', '.join(QUALITIES)}")
        if quality == "fast":
            return Passes()
        if correlated:
            return Passes((0,), shuffled=(TRANSPOSE,)) if quality == "standard" else Passes(ALL, shuffled=ALL)
        variant, gray = self._variant(channels), self.variants.get(1)
        weight = float(variant.card.get("luminance_weight", 0.0))
        fuse = (channels == 3 and variant.channels == 3 and weight > 0 and gray is not None
                and gray.noise_conditional and variant.noise_conditional)
        if quality == "best":
            return Passes(ALL, weight if fuse else 0.0)
        return Passes((0,), weight) if fuse else Passes((0, TRANSPOSE))

    def _plan(self, image: np.ndarray, quality: str) -> tuple[Passes, bool]:
        """The passes ``image`` (checked by :func:`check_image`) gets at ``quality`` and whether its noise is
        spatially correlated (:meth:`correlated_noise`)."""
        correlated = self.correlated_noise(image)
        return self.passes(image.shape[-1], quality, correlated), correlated

    def _network_sigma(self, image: np.ndarray, sigma, correlated: bool, strength: float):
        """What the network is told for ``image`` (checked): ``sigma`` (the noise's standard deviation, 0-255;
        None reads it) turned, for ``correlated`` (camera) noise, into the Gaussian-equivalent sigma by the
        estimator's law, then scaled by ``strength``."""
        value = check_sigma(self._noise_level(image) if sigma is None else sigma, image.shape)
        if correlated:
            value = getattr(self.estimator, "gaussian_equivalent", lambda s: s)(value)
        return _stronger(value, strength)

    def correlated_noise(self, image) -> bool:
        """Whether ``image``'s noise is spatially correlated, as camera noise is, by this denoiser's level
        estimator (one that can tell: the default's); False without one. ``image`` as :meth:`denoise`."""
        tell = getattr(self.estimator, "correlated", None)
        return bool(tell(image)) if tell is not None and self.noise_conditional else False

    def denoise(self, image, sigma=None, *, quality: str = DEFAULT_QUALITY, tile: int | str | None = "auto",
                overlap: int = DEFAULT_OVERLAP, max_memory: int = DEFAULT_MAX_MEMORY,
                strength: float = 1.0) -> np.ndarray:
        """Denoise ``image`` (H, W[, C]) in [0, 1]; returns the same shape, float32 in [0, 1].

        Args:
            sigma: noise level on the 0-255 scale (number or (H, W) map); None estimates it
                (:meth:`noise_level`).
            strength: how much noise to remove (see :func:`check_strength`): 0 returns the input,
                1 (the default) the denoiser's estimate, above 1 removes more.
            quality: ``fast`` (one network pass), ``standard`` (two, fused) or ``best`` (the
                standard passes under the 8 flips and rotations, 8x the time); see :data:`QUALITIES`.
            tile: process in tiles of at most this size (pixels) with ``overlap`` pixels of
                shared context, blended; None processes the whole image at once;
                ``"auto"`` tiles only images whose activations would exceed ``max_memory`` bytes.
        """
        squeeze = np.ndim(image) == 2
        image = check_image(image)
        out = collect_rows(self.denoise_rows(image, sigma, quality=quality, tile=tile, overlap=overlap,
                                             max_memory=max_memory, strength=strength), image.shape)
        return out[..., 0] if squeeze else out

    def denoise_rows(self, image, sigma=None, *, quality: str = DEFAULT_QUALITY, tile: int | str | None = "auto",
                     overlap: int = DEFAULT_OVERLAP, max_memory: int = DEFAULT_MAX_MEMORY, strength: float = 1.0):
        """Denoise band by band: yields ``(first_row, rows)`` in order, ``rows`` (h, W, C) float32
        in [0, 1], together covering the image once. Arguments as :meth:`denoise`; ``image`` may
        also be uint8/uint16 (H, W, C), read lazily (e.g. a memory map) one tile at a time.

        Memory: one row of tiles of activations plus two bands of output, whatever the image size.
        """
        router = self.for_sigma(sigma)
        if router is not self:
            yield from router.denoise_rows(image, sigma, quality=quality, tile=tile, overlap=overlap,
                                           max_memory=max_memory, strength=strength)
            return
        image = check_image(image)
        strength = check_strength(strength, self.noise_conditional)
        variant = self._variant(image.shape[-1])
        passes, correlated = self._plan(image, quality)
        sigma_value = None
        if variant.noise_conditional:
            sigma_value = self._network_sigma(image, sigma, correlated, strength)
        if tile == "auto":  # a gray network takes a colour image's channels as one batch
            batch = image.shape[-1] if variant.channels == 1 else 1
            tile = tile_for_budget(variant.width, image.shape[:2], max_memory // batch)
        scale = np.float32(pixel_scale(image))
        for top, rows in _tiled_rows(
                lambda x, s: self._run(variant, x[None], None if s is None else s[None], passes)[0],
                image, sigma_value, tile, overlap, variant.multiple * passes.factor):
            if strength < 1:
                noisy = image[top:top + len(rows)].astype(np.float32) * scale
                rows = noisy + np.float32(strength) * (rows - noisy)
            yield top, np.clip(rows, 0.0, 1.0)

    def _run(self, variant: Variant, x: np.ndarray, s: np.ndarray | None, passes: Passes) -> np.ndarray:
        """Denoise a batch (N, h, w, C) (sigma maps (N, h, w, 1) or None) with ``passes``; h and w are
        multiples of the variant's multiple times ``passes.factor``."""
        total = 0.0
        for mode in passes.modes:
            xm = _batch_dihedral(x, mode)
            sm = None if s is None else _batch_dihedral(s, mode)
            out = _run_adapted(variant, xm, sm)
            if passes.luminance_weight:
                luminance = self.variants[1].run(xm.mean(-1, keepdims=True),
                                                 None if sm is None else sm / np.float32(np.sqrt(3)))
                out = fuse_luminance(out, luminance, passes.luminance_weight)
            total = total + _batch_dihedral(out, mode, inverse=True)
        if passes.shuffled:
            xs = pixel_unshuffle(x, SHUFFLE)
            ss = None if s is None else pixel_unshuffle(s, SHUFFLE)
            for mode in passes.shuffled:
                sm = None if ss is None else _batch_dihedral(ss, mode)
                out = _run_adapted(variant, _batch_dihedral(xs, mode), sm)
                total = total + pixel_shuffle(_batch_dihedral(out, mode, inverse=True), SHUFFLE)
        return total / (len(passes.modes) + len(passes.shuffled))

    def denoise_batch(self, images, sigmas=None, *, quality: str = DEFAULT_QUALITY,
                      max_memory: int = DEFAULT_MAX_MEMORY, strength: float = 1.0) -> list[np.ndarray] | None:
        """Denoise same-shape images together (one forward pass per network pass); returns float32
        (H, W, C) arrays in [0, 1], or None when they cannot share one (channels to adapt, too big
        for ``max_memory``, some sigmas given and some not on a routing denoiser).

        ``images``: (H, W, C) arrays, float in [0, 1] or uint8/uint16; ``sigmas``: one sigma
        (0-255) per image, None entries estimated (:meth:`noise_level`); ``strength`` as :meth:`denoise`.
        """
        sigmas = [None] * len(images) if sigmas is None else list(sigmas)
        if self.blind is not None:
            given = {s is None for s in sigmas}
            if len(given) > 1:
                return None
            router = self.for_sigma(sigmas[0])
            if router is not self:
                return router.denoise_batch(images, sigmas, quality=quality, max_memory=max_memory,
                                            strength=strength)
        strength = check_strength(strength, self.noise_conditional)
        images = [check_image(image) for image in images]
        h, w, channels = images[0].shape
        variant = self._variant(channels)
        if (channels != variant.channels or any(image.shape != images[0].shape for image in images)
                or tile_for_budget(variant.width, (h, w * len(images)), max_memory) is not None):
            return None
        plans = [self._plan(image, quality) for image in images]
        passes = plans[0][0]
        if any(p != passes for p, _ in plans):  # camera and white noise get different passes
            return None
        multiple = variant.multiple * passes.factor
        padded_h, padded_w = h + (-h % multiple), w + (-w % multiple)
        batch = np.stack([_window(image, 0, 0, padded_h, padded_w, pixel_scale(image)) for image in images])
        maps = None
        if variant.noise_conditional:
            values = [self._network_sigma(im, s, correlated, strength)
                      for im, s, (_, correlated) in zip(images, sigmas, plans)]
            maps = np.stack([np.full((padded_h, padded_w, 1), v / 255.0, np.float32) if isinstance(v, float)
                             else _window(v, 0, 0, padded_h, padded_w, 1 / 255.0) for v in values])
        out = self._run(variant, batch, maps, passes)[:, :h, :w]
        if strength < 1:
            noisy = batch[:, :h, :w]
            out = noisy + np.float32(strength) * (out - noisy)
        return list(np.clip(out, 0.0, 1.0))


def collect_rows(bands, shape) -> np.ndarray:
    """The image (``shape`` (H, W, C), float32) that ``bands`` of ``(first_row, rows)`` cover (as
    :meth:`Denoiser.denoise_rows` yields them)."""
    out = np.empty(shape, np.float32)
    for top, rows in bands:
        out[top:top + len(rows)] = rows
    return out


def fuse_luminance(colour: np.ndarray, luminance: np.ndarray, weight: float) -> np.ndarray:
    """Move the luminance (mean of the channels) of ``colour`` (..., 3) the share ``weight`` of the way
    to ``luminance`` (..., 1), leaving its chrominance unchanged."""
    return colour + np.float32(weight) * (luminance - colour.mean(-1, keepdims=True))


def _batch_dihedral(batch: np.ndarray, mode: int, inverse: bool = False) -> np.ndarray:
    """:func:`~imgdenoise.transforms.dihedral` (or its inverse) of every image of an (N, H, W, C) batch."""
    if mode == 0:
        return batch
    transform = inverse_dihedral if inverse else dihedral
    return np.ascontiguousarray(np.moveaxis(transform(np.moveaxis(batch, 0, 2), mode), 2, 0))


def _run_adapted(variant: Variant, x: np.ndarray, s: np.ndarray | None) -> np.ndarray:
    """A batch (N, h, w, C) through ``variant``, adapting its channels: a gray network takes colour
    channels as more images; a colour network takes a gray image replicated and its output averaged."""
    n, h, w, channels = x.shape
    if channels == variant.channels:
        return variant.run(x, s)
    if variant.channels == 1:
        batch = np.ascontiguousarray(np.moveaxis(x, -1, 1).reshape(n * channels, h, w, 1))
        maps = None if s is None else np.repeat(s, channels, axis=0)
        return np.moveaxis(variant.run(batch, maps).reshape(n, channels, h, w), 1, -1)
    return variant.run(np.repeat(x, variant.channels, axis=-1), s).mean(-1, keepdims=True)


def _tiled_rows(run_tile, image: np.ndarray, sigma, tile: int | None, overlap: int, multiple: int):
    """The tiling core of :meth:`Denoiser.denoise_rows`.

    The image is mirrored past its edges up to a multiple of ``multiple``; tiles of at most
    ``tile`` pixels a side (None: one tile for the whole image), shrunk to spread the image evenly
    over as few tiles (:func:`_balanced_tile`), overlap by at least ``overlap`` and are blended with
    :func:`_ramp` weights. A band of rows is final once the next row of tiles has been added, so
    only two bands are held at a time.
    """
    h, w, channels = image.shape
    scale = pixel_scale(image)
    padded_h, padded_w = h + (-h % multiple), w + (-w % multiple)
    if tile is None:
        tile_h, tile_w, overlap = padded_h, padded_w, 0
    else:
        tile = max(multiple, tile - tile % multiple)
        overlap = max(0, min(overlap - overlap % multiple, tile - multiple))
        tile_h, tile_w = (_balanced_tile(size, tile, overlap, multiple) for size in (padded_h, padded_w))
    tops = _tile_starts(padded_h, tile_h, tile_h - overlap)
    lefts = _tile_starts(padded_w, tile_w, tile_w - overlap)
    out = np.zeros((tile_h, padded_w, channels), np.float32)
    weight = np.zeros((tile_h, padded_w, 1), np.float32)
    for i, top in enumerate(tops):
        wy = _ramp(tile_h, overlap, top == 0, top + tile_h >= padded_h)
        for left in lefts:
            x = _window(image, top, left, tile_h, tile_w, scale)
            if sigma is None:
                s = None
            elif isinstance(sigma, float):
                s = np.full((tile_h, tile_w, 1), sigma / 255.0, np.float32)
            else:
                s = _window(sigma, top, left, tile_h, tile_w, 1 / 255.0)
            window = (wy[:, None] * _ramp(tile_w, overlap, left == 0, left + tile_w >= padded_w)[None, :])[..., None]
            out[:, left:left + tile_w] += run_tile(x, s) * window
            weight[:, left:left + tile_w] += window
        done = (tops[i + 1] if i + 1 < len(tops) else padded_h) - top
        if top < h:
            keep = min(done, h - top)
            yield top, out[:keep, :w] / np.maximum(weight[:keep, :w], 1e-12)
        out = np.concatenate([out[done:], np.zeros_like(out[:done])])
        weight = np.concatenate([weight[done:], np.zeros_like(weight[:done])])


DEFAULT_MODEL = "default"


def _shipped_denoiser(name: str, runtime: str = DEFAULT_RUNTIME) -> Denoiser | None:
    """The shipped denoiser ``name``: an alias (``default``, :func:`~imgdenoise.pretrained.aliases`), a
    family or a stem (:func:`~imgdenoise.pretrained.resolve_shipped`); None if there is none."""
    from imgdenoise.pretrained import aliases, resolve_shipped, shipped_cards

    alias = aliases().get(name)
    if alias is not None:
        denoiser = _shipped_denoiser(alias["model"], runtime)
        if denoiser is None:
            return None
        if alias.get("level_estimator"):
            denoiser.estimator = _level_estimator(alias["level_estimator"])
        if alias.get("blind_model"):
            denoiser.blind = _shipped_denoiser(alias["blind_model"], runtime)
        denoiser.name = name
        return denoiser
    stems = resolve_shipped(name)
    if not stems:
        return None
    cards = shipped_cards()
    variants = {}
    for stem in stems:
        variants.setdefault(int(cards[stem]["channels"]), _shipped_variant(stem, runtime))
    return Denoiser(variants, name=name, estimator=_card_estimator(cards[stems[0]]))


def _card_estimator(card: dict):
    """The level estimator a weight's card names (the one it was trained to be told), or None."""
    stem = card.get("level_estimator")
    return _level_estimator(stem) if stem else None


def _level_estimator(stem: str):
    from imgdenoise.estimator import load_level_estimator

    return load_level_estimator(stem)


def _shipped_variant(stem: str, runtime: str) -> Variant:
    from imgdenoise.pretrained import WEIGHTS_DIR, load_pretrained

    if runtime == "onnx":
        from imgdenoise.pretrained import cached_onnx

        return OnnxVariant(cached_onnx(stem))
    model, card = load_pretrained(WEIGHTS_DIR / f"{stem}.json")
    return KerasVariant(model, card, runtime)


def load_model(name_or_path="default", runtime: str = DEFAULT_RUNTIME):
    """Load a denoiser: a shipped name (``default``, a family such as ``unet``, or one weight's
    stem such as ``unet-color``: :func:`~imgdenoise.pretrained.shipped_names`), a ``.keras`` file
    (its ``.json`` model card beside it is used when present), a card ``.json``,
    an exported ``.onnx`` file (runs on ONNX Runtime), or a classical method (``bm3d``,
    ``nlm``, ``tv``, ``wavelet``, ``noisy``).

    ``runtime``: see the module docstring; ``onnx`` with a shipped name exports the shipped
    weights once into the user's cache folder. ``.keras`` files load in Keras safe mode: no
    code from the file is executed.
    """
    from imgdenoise.classical import METHODS, ClassicalDenoiser

    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; available: {', '.join(RUNTIMES)}")
    text = str(name_or_path)
    if text in METHODS:
        return ClassicalDenoiser(text)
    path = Path(text)
    if path.suffix == ".onnx":
        variant = OnnxVariant(path)
        return Denoiser({variant.channels: variant}, name=variant.card["architecture"]["name"])
    if path.suffix == ".json" and path.is_file():
        from imgdenoise.pretrained import load_pretrained

        model, card = load_pretrained(path)
        return Denoiser({int(card["channels"]): (model, card)}, runtime=runtime, estimator=_card_estimator(card))
    if path.suffix == ".keras":
        model, card = _load_keras_file(path)
        return Denoiser({int(card["channels"]): (model, card)}, runtime=runtime, estimator=_card_estimator(card))
    denoiser = _shipped_denoiser(text, runtime)
    if denoiser is None:
        from imgdenoise.models import list_models
        from imgdenoise.pretrained import shipped_names

        raise ValueError(f"no shipped weights for model {text!r}; shipped: {', '.join(shipped_names())} "
                         f"(registered architectures: {', '.join(list_models())}); or give a .keras path")
    return denoiser


def _load_keras_file(path: Path):
    """A ``.keras`` file and its card (the ``.json`` beside it, or one derived from the model)."""
    import keras

    from imgdenoise.pretrained import card_for_model

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise ValueError(f"{path}: not a loadable Keras model ({type(error).__name__}: {error})") from None
    card_path = path.with_suffix(".json")
    card = _json(card_path) if card_path.is_file() else card_for_model(model)
    return model, card


def _json(path):
    import json

    return json.loads(Path(path).read_text())


class OnnxVariant(Variant):
    """An exported model (``imgdenoise export --format onnx``) on ONNX Runtime; no TensorFlow.

    The model card travels inside the ONNX file's metadata (``imgdenoise_card``).
    """

    def __init__(self, path, threads: int | None = None):
        import json

        import onnxruntime

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise ValueError(f"{path}: not a loadable ONNX model ({type(error).__name__}: {error})") from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        if "imgdenoise_card" not in metadata:
            raise ValueError(f"{path}: ONNX model has no imgdenoise model card (export it with `imgdenoise export`)")
        self.card = json.loads(metadata["imgdenoise_card"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def run(self, noisy, sigma_map):
        feeds = {self.inputs[0]: noisy.astype(np.float32, copy=False)}
        if self.noise_conditional:
            feeds[self.inputs[1]] = (sigma_map * 255.0).astype(np.float32)  # exported models take sigma 0-255
        return self.session.run(None, feeds)[0]
