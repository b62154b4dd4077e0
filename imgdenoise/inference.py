"""Apply a denoiser to arrays: the :class:`Denoiser` (gray and/or colour networks, a noise-level
estimator, a blind router) and its one contract::

    denoiser.denoise(image, sigma=None) -> image

``image`` is (H, W) or (H, W, C) float32 in [0, 1] (C = 1 or 3; uint8/uint16 arrays are
scaled by their maximum); ``sigma`` is on the 0-255 scale: a number, a per-pixel map (H, W),
or None to estimate it from the image. Models that are not noise-conditional (DnCNN-S, seed)
ignore sigma.

What it builds on, one module each: :mod:`~imgdenoise.checks` (what a call accepts),
:mod:`~imgdenoise.passes` (quality levels: the passes an image gets), :mod:`~imgdenoise.tiling`
(bounded memory, band by band), :mod:`~imgdenoise.runtimes` (the engine each network runs on) and
:mod:`~imgdenoise.estimator` (blind noise levels); :mod:`~imgdenoise.loading` finds denoisers by name.
NumPy only: Keras is imported when a Keras model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imgdenoise.cards import ModelCard
from imgdenoise.checks import check_image, check_sigma, check_strength, pixel_scale, stronger
from imgdenoise.estimator import estimate_image_sigma
from imgdenoise.passes import (
    ALL,
    DEFAULT_QUALITY,
    QUALITIES,
    SHUFFLE,
    TRANSPOSE,
    Passes,
    batch_dihedral,
    fuse_luminance,
)
from imgdenoise.runtimes import DEFAULT_RUNTIME, KerasVariant, Variant, run_adapted
from imgdenoise.tiling import (
    DEFAULT_MAX_MEMORY,
    DEFAULT_OVERLAP,
    collect_rows,
    mirrored_window,
    tile_for_budget,
    tiled_rows,
)
from imgdenoise.transforms import pixel_shuffle, pixel_unshuffle


@dataclass(frozen=True)
class Resolved:
    """How one call runs: the ``denoiser`` that runs (a router's blind model resolved), the noise level
    ``sigma`` it is given (0-255, a number or a map; None for a network that takes none) and its
    ``source``: ``"given"``, ``"estimated"`` (read from the image) or ``"not used"``. What callers report
    (the CLI, batch jobs, Ray, the service's X-Sigma) is this, so they all report what ran."""

    denoiser: object
    sigma: float | np.ndarray | None
    source: str


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
        self.name = name or self.card.name
        self.estimator, self.blind = estimator, blind

    def for_sigma(self, sigma) -> Denoiser:
        """The denoiser that handles a call with ``sigma``: ``blind`` when sigma is None and there is one,
        else this one. Callers that report the level used call ``for_sigma(None).noise_level(image)`` and
        pass that level to the same denoiser, so the image is read once."""
        return self.blind if sigma is None and self.blind is not None else self

    def resolve(self, image, sigma=None) -> Resolved:
        """The denoiser a call with ``sigma`` runs and the level it uses, the image read once (if at all);
        pass ``resolved.sigma`` to ``resolved.denoiser``'s :meth:`denoise` or :meth:`denoise_rows`."""
        denoiser = self.for_sigma(sigma)
        if not denoiser.noise_conditional:
            return Resolved(denoiser, None, "not used")
        if sigma is None:
            return Resolved(denoiser, denoiser.noise_level(image), "estimated")
        return Resolved(denoiser, sigma, "given")

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
    def card(self) -> ModelCard:
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
        weight = variant.card.luminance_weight
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
        return stronger(value, strength)

    def correlated_noise(self, image) -> bool:
        """Whether ``image`` gets the handling of camera noise (pixel-shuffled passes, the Gaussian-equivalent
        sigma): its noise is spatially correlated by this denoiser's level estimator (one that can tell: the
        default's) and the network was trained on white noise. A network trained on real-noise pairs told an
        estimator's readings (its card names the estimator) is told them as they are, with its usual passes.
        ``image`` as :meth:`denoise`."""
        tell = getattr(self.estimator, "correlated", None)
        if tell is None or not self.noise_conditional or self.card.level_estimator:
            return False
        return bool(tell(image))

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
        for top, rows in tiled_rows(
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
            xm = batch_dihedral(x, mode)
            sm = None if s is None else batch_dihedral(s, mode)
            out = run_adapted(variant, xm, sm)
            if passes.luminance_weight:
                luminance = self.variants[1].run(xm.mean(-1, keepdims=True),
                                                 None if sm is None else sm / np.float32(np.sqrt(3)))
                out = fuse_luminance(out, luminance, passes.luminance_weight)
            total = total + batch_dihedral(out, mode, inverse=True)
        if passes.shuffled:
            xs = pixel_unshuffle(x, SHUFFLE)
            ss = None if s is None else pixel_unshuffle(s, SHUFFLE)
            for mode in passes.shuffled:
                sm = None if ss is None else batch_dihedral(ss, mode)
                out = run_adapted(variant, batch_dihedral(xs, mode), sm)
                total = total + pixel_shuffle(batch_dihedral(out, mode, inverse=True), SHUFFLE)
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
        plans, values = [], []
        for image, sigma in zip(images, sigmas):  # each image's kind and level read together (one reading)
            passes, correlated = self._plan(image, quality)
            plans.append(passes)
            if variant.noise_conditional:
                values.append(self._network_sigma(image, sigma, correlated, strength))
        passes = plans[0]
        if any(p != passes for p in plans):  # camera and white noise get different passes
            return None
        multiple = variant.multiple * passes.factor
        padded_h, padded_w = h + (-h % multiple), w + (-w % multiple)
        batch = np.stack([mirrored_window(image, 0, 0, padded_h, padded_w, pixel_scale(image)) for image in images])
        maps = None
        if variant.noise_conditional:
            maps = np.stack([np.full((padded_h, padded_w, 1), v / 255.0, np.float32) if isinstance(v, float)
                             else mirrored_window(v, 0, 0, padded_h, padded_w, 1 / 255.0) for v in values])
        out = self._run(variant, batch, maps, passes)[:, :h, :w]
        if strength < 1:
            noisy = batch[:, :h, :w]
            out = noisy + np.float32(strength) * (out - noisy)
        return list(np.clip(out, 0.0, 1.0))
