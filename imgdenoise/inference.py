"""Apply a denoiser to arrays: sigma handling, channel adaptation, padding, tiling, self-ensemble.

The contract of every denoiser in imgdenoise (CNN or classical)::

    denoiser.denoise(image, sigma=None) -> image

``image`` is (H, W) or (H, W, C) float32 in [0, 1] (C = 1 or 3); ``sigma`` is on
the 0-255 scale: a number, a per-pixel map (H, W), or None to estimate it from
the image. Models that are not noise-conditional (DnCNN-S, seed) ignore sigma.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np

from imgdenoise.data import augment
from imgdenoise.noise import estimate_sigma
from imgdenoise.pretrained import WEIGHTS_DIR, card_for_model, load_pretrained, shipped_cards

DEFAULT_OVERLAP = 64
DEFAULT_MAX_MEMORY = 1 << 30  # bytes of activations one forward pass may use (automatic tiling)


def check_image(image) -> np.ndarray:
    """Validate an input array; returns float32 (H, W, C). Raises ValueError naming the problem."""
    image = np.asarray(image)
    if image.dtype.kind not in "fui" or image.dtype.kind == "c":
        raise ValueError(f"image must be a real numeric array, got dtype {image.dtype}")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"image must have shape (H, W), (H, W, 1) or (H, W, 3), got {image.shape}")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"image is empty: shape {image.shape}")
    image = image.astype(np.float32)
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or Inf values")
    return image


def sigma_map_for(image: np.ndarray, sigma) -> np.ndarray:
    """(H, W, 1) float32 map of sigma / 255 from a number, an (H, W[, 1]) map, or None (estimated)."""
    if sigma is None:
        sigma = estimate_sigma(image)
    sigma = np.asarray(sigma, np.float32)
    if not np.all(np.isfinite(sigma)) or np.any(sigma < 0) or np.any(sigma > 255):
        raise ValueError(f"sigma must be finite and within [0, 255] (0-255 scale), got {sigma if sigma.ndim == 0 else 'a map outside that'}")
    if sigma.ndim == 0:
        return np.full(image.shape[:2] + (1,), sigma / 255.0, np.float32)
    if sigma.shape[:2] != image.shape[:2]:
        raise ValueError(f"sigma map of shape {sigma.shape} does not match image of shape {image.shape}")
    return sigma.reshape(image.shape[:2] + (1,)) / 255.0


def _pad_to_multiple(array: np.ndarray, multiple: int, minimum: int = 0) -> np.ndarray:
    h, w = array.shape[:2]
    ph = max(-h % multiple, minimum - h)
    pw = max(-w % multiple, minimum - w)
    if ph == 0 and pw == 0:
        return array
    mode = "reflect" if ph < h and pw < w else "symmetric"
    return np.pad(array, ((0, ph), (0, pw), (0, 0)), mode=mode)


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


def auto_tile(model, shape, max_memory: int = DEFAULT_MAX_MEMORY) -> int | None:
    """Tile size keeping one forward pass under ``max_memory`` bytes, or None if the image fits.

    Activation memory per pixel is estimated as 8 live float32 tensors of the model's
    full-resolution width (the first convolution's channels).
    """
    width = next((layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)), 64)
    max_pixels = max_memory // (8 * 4 * width)
    if shape[0] * shape[1] <= max_pixels:
        return None
    return max(64, int(np.sqrt(max_pixels)) // 64 * 64)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One Keras model of a denoiser with its model card (channels, noise-conditional, size multiple)."""

    model: keras.Model
    card: dict

    @property
    def channels(self) -> int:
        return int(self.card.get("channels", self.model.inputs[0].shape[-1]))

    @property
    def noise_conditional(self) -> bool:
        return bool(self.card.get("noise_conditional"))

    @property
    def multiple(self) -> int:
        return int(self.card.get("multiple", 1))

    def run(self, stacked: np.ndarray) -> np.ndarray:
        """One forward pass on (H, W, channels [+ 1 sigma-map channel]) of a size the model accepts."""
        batch = stacked[None]
        inputs = [batch[..., :self.channels], batch[..., self.channels:]] if self.noise_conditional else batch
        return np.asarray(keras.ops.convert_to_numpy(self.model(inputs, training=False))[0], np.float32)


class Denoiser:
    """A denoising model plus what it takes to apply it (see module docstring).

    ``variants`` maps channel counts (1, 3) to ``(keras.Model, model card)``; the
    variant matching the image is used, and a gray-only or colour-only denoiser
    adapts the image (colour through a gray model: each channel in turn; gray
    through a colour model: replicated, then averaged).
    """

    def __init__(self, variants: dict[int, tuple[keras.Model, dict]], name: str | None = None):
        if not variants:
            raise ValueError("a Denoiser needs at least one model")
        self.variants = {channels: Variant(model, card) for channels, (model, card) in variants.items()}
        self.name = name or self.card["architecture"]["name"]

    @property
    def card(self) -> dict:
        return next(iter(self.variants.values())).card

    @property
    def noise_conditional(self) -> bool:
        return next(iter(self.variants.values())).noise_conditional

    def _variant(self, channels: int) -> Variant:
        return self.variants.get(channels) or next(iter(self.variants.values()))

    def denoise(self, image, sigma=None, *, tile: int | str | None = "auto", overlap: int = DEFAULT_OVERLAP,
                ensemble: bool = False, max_memory: int = DEFAULT_MAX_MEMORY) -> np.ndarray:
        """Denoise ``image`` (H, W[, C]) in [0, 1]; returns the same shape, float32.

        Args:
            sigma: noise level on the 0-255 scale (number or (H, W) map); None estimates it.
            tile: process in tiles of this size (pixels) with ``overlap`` pixels of
                shared context, blended; None processes the whole image at once;
                ``"auto"`` tiles only images whose activations would exceed ``max_memory`` bytes.
            ensemble: average the 8 flips/rotations (x8 self-ensemble, ~8x slower).
        """
        squeeze = np.ndim(image) == 2
        image = check_image(image)
        variant = self._variant(image.shape[-1])
        if tile == "auto":
            tile = auto_tile(variant.model, image.shape[:2], max_memory)
        sigma_map = sigma_map_for(image, sigma) if variant.noise_conditional else None

        def apply(x):
            return self._denoise_ensemble(variant, x, sigma_map, tile, overlap) if ensemble else \
                self._denoise_tiled(variant, x, sigma_map, tile, overlap)

        if image.shape[-1] == variant.channels:
            out = apply(image)
        elif variant.channels == 1:  # colour through a gray model: channel by channel
            out = np.concatenate([apply(image[..., c:c + 1]) for c in range(image.shape[-1])], axis=-1)
        else:  # gray through a colour model
            out = apply(np.repeat(image, variant.channels, axis=-1)).mean(-1, keepdims=True)
        return out[..., 0] if squeeze else out

    def _denoise_ensemble(self, variant: Variant, image, sigma_map, tile, overlap):
        outputs = []
        for mode in range(8):
            x = np.ascontiguousarray(augment(image, mode))
            s = None if sigma_map is None else np.ascontiguousarray(augment(sigma_map, mode))
            outputs.append(_inverse_augment(self._denoise_tiled(variant, x, s, tile, overlap), mode))
        return np.mean(outputs, axis=0)

    @staticmethod
    def _denoise_tiled(variant: Variant, image, sigma_map, tile, overlap):
        multiple = variant.multiple
        h, w = image.shape[:2]
        stacked = image if sigma_map is None else np.concatenate([image, sigma_map], axis=-1)
        if tile is None or (h <= tile and w <= tile):
            return variant.run(_pad_to_multiple(stacked, multiple))[:h, :w]
        tile = max(multiple, tile - tile % multiple)
        overlap = min(overlap - overlap % multiple, tile - multiple)
        padded = _pad_to_multiple(stacked, multiple, minimum=tile)
        ph, pw = padded.shape[:2]
        out = np.zeros((ph, pw, image.shape[-1]), np.float32)
        weight = np.zeros((ph, pw, 1), np.float32)
        step = tile - overlap
        for top in _tile_starts(ph, tile, step):
            for left in _tile_starts(pw, tile, step):
                y = variant.run(padded[top:top + tile, left:left + tile])
                wy = _ramp(tile, overlap, top == 0, top + tile >= ph)
                wx = _ramp(tile, overlap, left == 0, left + tile >= pw)
                window = (wy[:, None] * wx[None, :])[..., None]
                out[top:top + tile, left:left + tile] += y * window
                weight[top:top + tile, left:left + tile] += window
        return (out / np.maximum(weight, 1e-12))[:h, :w]


def _inverse_augment(image: np.ndarray, mode: int) -> np.ndarray:
    if mode >= 4:
        image = image[:, ::-1]
    return np.rot90(image, k=-(mode % 4), axes=(0, 1))


DEFAULT_MODEL = "default"


def _shipped_variants(name: str) -> dict[int, tuple[keras.Model, dict]]:
    cards = shipped_cards()
    if name == DEFAULT_MODEL:
        defaults = [stem for stem, card in cards.items() if card.get("default")] or list(cards)
        if not defaults:
            return {}
        name = cards[defaults[0]]["architecture"]["name"]
    stems = [stem for stem, card in cards.items() if card["architecture"]["name"] == name]
    variants = {}
    for stem in stems:
        model, card = load_pretrained(WEIGHTS_DIR / f"{stem}.json")
        variants[int(card["channels"])] = (model, card)
    return variants


def load_model(name_or_path="default"):
    """Load a denoiser: a shipped name (``unet``, ``dncnn``, ``seed``, ``default``), a
    ``.keras`` file (its ``.json`` model card beside it is used when present), a card ``.json``,
    or a classical method (``bm3d``, ``nlm``, ``tv``, ``wavelet``, ``noisy``).

    ``.keras`` files load in Keras safe mode: no code from the file is executed.
    """
    from imgdenoise.classical import METHODS, ClassicalDenoiser

    text = str(name_or_path)
    if text in METHODS:
        return ClassicalDenoiser(text)
    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        model, card = load_pretrained(path)
        return Denoiser({int(card["channels"]): (model, card)})
    if path.suffix == ".keras":
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:
            raise ValueError(f"{path}: not a loadable Keras model ({type(error).__name__}: {error})") from None
        card_path = path.with_suffix(".json")
        card = _json(card_path) if card_path.is_file() else card_for_model(model)
        return Denoiser({int(card["channels"]): (model, card)})
    variants = _shipped_variants(text)
    if not variants:
        from imgdenoise.models import list_models

        shipped = sorted({c["architecture"]["name"] for c in shipped_cards().values()})
        raise ValueError(f"no shipped weights for model {text!r}; shipped: {', '.join(shipped) or 'none'} "
                         f"(registered architectures: {', '.join(list_models())}); or give a .keras path")
    return Denoiser(variants)


def _json(path):
    import json

    return json.loads(Path(path).read_text())


# --- files -----------------------------------------------------------------------------------------

def expand_inputs(inputs) -> list[Path]:
    """Files, folders (their image files) and glob patterns -> a sorted list of paths, in order given."""
    import glob

    from imgdenoise.io import is_image_file

    paths: list[Path] = []
    for item in inputs:
        item = str(item)
        matches = sorted(glob.glob(item)) if any(c in item for c in "*?[") else [item]
        if not matches:
            raise FileNotFoundError(f"{item}: no file matches")
        for match in matches:
            p = Path(match)
            if p.is_dir():
                paths.extend(sorted(q for q in p.iterdir() if q.is_file() and is_image_file(q)))
            else:
                paths.append(p)
    return paths


def output_path_for(src: Path, output, many: bool) -> Path:
    """Where ``src``'s result goes: ``output`` itself (one input, image extension) or ``output/src.name``."""
    from imgdenoise.io import is_image_file

    output = Path(output)
    if not many and is_image_file(output) and not output.is_dir():
        return output
    return output / src.name


def denoise_file(denoiser, src, dst, *, sigma=None, overwrite: bool = False, max_pixels=None, **kwargs) -> dict:
    """Read ``src``, denoise, write ``dst`` with the input's bit depth and alpha.

    Never replaces ``src`` or an existing ``dst`` unless ``overwrite``. Returns a
    summary dict (sizes, sigma used, seconds).
    """
    import time

    from imgdenoise.io import DEFAULT_MAX_PIXELS, read_image, write_image

    src, dst = Path(src), Path(dst)
    if dst.resolve() == src.resolve() and not overwrite:
        raise FileExistsError(f"{src}: output would replace the input (use overwrite to allow it)")
    if dst.exists() and not overwrite:
        raise FileExistsError(f"{dst}: output already exists (use overwrite to replace it)")
    image = read_image(src, max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
    used_sigma = sigma
    if used_sigma is None and denoiser.noise_conditional:
        used_sigma = estimate_sigma(image.pixels)
    start = time.perf_counter()
    clean = denoiser.denoise(image.pixels, used_sigma, **kwargs)
    seconds = time.perf_counter() - start
    write_image(dst, clean, bit_depth=image.bit_depth, alpha=image.alpha, overwrite=overwrite)
    return {"input": str(src), "output": str(dst), "size": image.pixels.shape, "sigma": used_sigma,
            "seconds": seconds}
