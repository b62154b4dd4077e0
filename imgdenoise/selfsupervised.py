"""Training from noisy images alone: Noise2Void and Neighbor2Neighbor.

Both wrap any registered denoiser in a *trainer* model whose output is a residual that the
training drives to zero (mean squared error against zeros), so the usual ``model.fit`` loop,
checkpoints, EMA and resume apply unchanged; the denoiser inside is what gets shipped.

Noise2Void (Krull et al., CVPR 2019): a few pixels of each patch (``mask_fraction``) are
replaced by a random other pixel of their 5x5 neighbourhood; the loss compares the output at
those pixels with their noisy values, so no pixel can learn its own noise (the blind spot).

Neighbor2Neighbor (Huang et al., CVPR 2021): each 2x2 cell of a noisy patch gives two adjacent,
different pixels, one to each of two half-size sub-images g1 and g2 of nearly the same content
with independent noise; the network maps g1 to g2, with the paper's regulariser
``gamma * |f(g1) - g2 - (g1(f(y)) - g2(f(y)))|^2`` (``f(y)`` without gradient) against
over-smoothing.

Noise-conditional networks get each training image's estimated noise level as their sigma map.
Images are float32 (H, W, C) in [0, 1].
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from imgdenoise.data import PatchSampler
from imgdenoise.noise import estimate_sigma

METHODS = ("n2v", "neighbor2neighbor")
# The ordered pairs of edge-adjacent positions in a 2x2 cell, positions numbered (0,0)=0 (0,1)=1 (1,0)=2 (1,1)=3.
NEIGHBOUR_PAIRS = np.array([(0, 1), (1, 0), (0, 2), (2, 0), (1, 3), (3, 1), (2, 3), (3, 2)])


# --- the sampling, in NumPy (unit-tested) -----------------------------------------------------------

def blind_spot_mask(shape, fraction: float, rng, radius: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise2Void masking of one (H, W) patch: ``(rows, cols)`` of the masked pixels and, for each,
    the ``(row, col)`` offsets of the neighbour whose value replaces it (never (0, 0), within
    ``radius``, inside the patch). One pixel per cell of a grid of about ``1 / fraction`` pixels."""
    h, w = shape
    step = max(1, int(round(1 / np.sqrt(fraction))))
    grid_r, grid_c = np.meshgrid(np.arange(0, h, step), np.arange(0, w, step), indexing="ij")
    rows = np.minimum(grid_r.ravel() + rng.integers(0, step, grid_r.size), h - 1)
    cols = np.minimum(grid_c.ravel() + rng.integers(0, step, grid_c.size), w - 1)
    offsets = np.array([(dr, dc) for dr in range(-radius, radius + 1) for dc in range(-radius, radius + 1)
                        if (dr, dc) != (0, 0)])
    picks = offsets[rng.integers(0, len(offsets), rows.size)]
    src_r = np.clip(rows + picks[:, 0], 0, h - 1)
    src_c = np.clip(cols + picks[:, 1], 0, w - 1)
    same = (src_r == rows) & (src_c == cols)  # clipped back onto itself at a border: mirror the offset
    src_r[same] = np.clip(rows[same] - picks[same, 0], 0, h - 1)
    src_c[same] = np.clip(cols[same] - picks[same, 1], 0, w - 1)
    return rows, cols, np.stack([src_r, src_c], axis=-1)


def noise2void_inputs(patch: np.ndarray, fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """``(masked patch, mask)`` for one noisy (H, W, C) patch; mask (H, W, 1) is 1 at the blind spots."""
    rows, cols, sources = blind_spot_mask(patch.shape[:2], fraction, rng)
    masked = patch.copy()
    masked[rows, cols] = patch[sources[:, 0], sources[:, 1]]
    mask = np.zeros(patch.shape[:2] + (1,), np.float32)
    mask[rows, cols] = 1.0
    return masked, mask


def neighbour_masks(half_shape, rng) -> tuple[np.ndarray, np.ndarray]:
    """Neighbor2Neighbor sub-sampler for a patch of 2x ``half_shape``: two (h, w, 4) one-hot masks
    choosing, in every 2x2 cell, two different edge-adjacent pixels for g1 and g2."""
    choice = NEIGHBOUR_PAIRS[rng.integers(0, len(NEIGHBOUR_PAIRS), half_shape)]
    eye = np.eye(4, dtype=np.float32)
    return eye[choice[..., 0]], eye[choice[..., 1]]


def subsample(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`cells_select`: (2h, 2w, C) image, (h, w, 4) one-hot mask -> (h, w, C)."""
    h, w = mask.shape[:2]
    cells = image.reshape(h, 2, w, 2, -1).transpose(0, 2, 1, 3, 4).reshape(h, w, 4, -1)
    return (cells * mask[..., None]).sum(axis=2)


# --- the same in keras.ops, inside the trainers --------------------------------------------------------

def cells_select(x, mask):
    """(N, 2h, 2w, C) tensor and (N, h, w, 4) one-hot mask -> (N, h, w, C): one pixel per 2x2 cell."""
    n, height, width, channels = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2], x.shape[-1]
    h, w = height // 2, width // 2
    cells = ops.reshape(x, (n, h, 2, w, 2, channels))
    cells = ops.reshape(ops.transpose(cells, (0, 1, 3, 2, 4, 5)), (n, h, w, 4, channels))
    return ops.sum(cells * ops.expand_dims(ops.cast(mask, cells.dtype), -1), axis=3)


@keras.saving.register_keras_serializable(package="imgdenoise")
class SelfSupervisedTrainer(keras.Model):
    """Wraps ``denoiser`` for self-supervised training; its output should be driven to zero (MSE).

    Inputs (noise-conditional denoisers also get ``sigma``, a (N, H, W, 1) map of sigma / 255):
        n2v:                (masked, mask, noisy, sigma)
        neighbor2neighbor:  (noisy, mask1, mask2, sigma), noisy of even size
    """

    def __init__(self, denoiser: keras.Model, method: str, noise_conditional: bool, mask_fraction: float = 0.02,
                 gamma: float = 1.0, **kwargs):
        kwargs.setdefault("autocast", False)  # inputs and the loss stay float32 under mixed precision
        super().__init__(**kwargs)
        if method not in METHODS:
            raise ValueError(f"unknown self-supervised method {method!r}; available: {', '.join(METHODS)}")
        self.denoiser, self.method, self.noise_conditional = denoiser, method, noise_conditional
        self.mask_fraction, self.gamma = mask_fraction, gamma

    def _denoise(self, x, sigma, training):
        args = [x, sigma] if self.noise_conditional else x
        return ops.cast(self.denoiser(args, training=training), "float32")

    def call(self, inputs, training=False):
        inputs = [ops.cast(x, "float32") for x in inputs]
        if self.method == "n2v":
            masked, mask, noisy, sigma = inputs
            error = (self._denoise(masked, sigma, training) - noisy) * mask
            return error / np.float32(np.sqrt(self.mask_fraction))  # MSE then averages over the masked pixels
        noisy, mask1, mask2, sigma = inputs
        g1, g2 = cells_select(noisy, mask1), cells_select(noisy, mask2)
        half_sigma = cells_select(sigma, mask1)
        f_g1 = self._denoise(g1, half_sigma, training)
        f_y = ops.stop_gradient(self._denoise(noisy, sigma, False))
        residual = f_g1 - g2
        regulariser = residual - (cells_select(f_y, mask1) - cells_select(f_y, mask2))
        return ops.concatenate([residual, np.float32(np.sqrt(self.gamma)) * regulariser], axis=-1)

    def get_config(self):
        return {**super().get_config(), "denoiser": keras.saving.serialize_keras_object(self.denoiser),
                "method": self.method, "noise_conditional": self.noise_conditional,
                "mask_fraction": self.mask_fraction, "gamma": self.gamma}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["denoiser"] = keras.saving.deserialize_keras_object(config["denoiser"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="imgdenoise")
def zero_target_loss(y_true, y_pred):
    """Mean square of the trainer's output per sample, (N,) (``y_true`` is an unused placeholder)."""
    from imgdenoise.losses import per_image_mean

    return per_image_mean(ops.square(y_pred))


# --- data ----------------------------------------------------------------------------------------------

class NoisyPatches(keras.utils.PyDataset):
    """Random patch batches of noisy images for a :class:`SelfSupervisedTrainer`.

    Like :class:`imgdenoise.data.PatchDataset`, a batch depends only on ``(seed, epoch, index)``.
    ``sigmas``: each image's noise level (0-255; default: estimated from the image).
    """

    def __init__(self, images, method: str, *, sigmas=None, patch_size=64, batch_size=16, steps=1000,
                 mask_fraction=0.02, seed=0, **kwargs):
        super().__init__(**kwargs)
        if method not in METHODS:
            raise ValueError(f"unknown self-supervised method {method!r}; available: {', '.join(METHODS)}")
        if patch_size % 2:
            raise ValueError("self-supervised patches need an even size")
        self.sampler = PatchSampler(images, patch_size)
        self.images = self.sampler.images
        self.sigmas = ([estimate_sigma(im) for im in self.images] if sigmas is None
                       else [list(sigmas)[i] for i in self.sampler.kept])
        self.method, self.patch_size, self.batch_size, self.steps = method, patch_size, batch_size, steps
        self.mask_fraction, self.seed, self.epoch = mask_fraction, seed, 0

    def __len__(self):
        return self.steps

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def __getitem__(self, index):
        return self.batch(np.random.default_rng((self.seed, self.epoch, index)))

    def batch(self, rng, picks=None):
        picks = self.sampler.picks(rng, self.batch_size) if picks is None else picks
        p = self.patch_size
        noisy, _ = self.sampler.patches(rng, picks)
        sigma = np.broadcast_to((np.array([self.sigmas[i] for i in picks], np.float32) / 255.0)[:, None, None, None],
                                noisy.shape[:3] + (1,)).copy()
        target = np.zeros((len(picks), 1), np.float32)
        if self.method == "n2v":
            masked, masks = zip(*(noise2void_inputs(patch, self.mask_fraction, rng) for patch in noisy))
            return (np.stack(masked), np.stack(masks), noisy, sigma), target
        masks = [neighbour_masks((p // 2, p // 2), rng) for _ in picks]
        return (noisy, np.stack([m[0] for m in masks]), np.stack([m[1] for m in masks]), sigma), target

    def fixed_batch(self, seed: int = 0):
        """One batch of every image once (for validation), drawn with ``seed``."""
        rng = np.random.default_rng(seed)
        picks = np.arange(len(self.images))
        saved, self.batch_size = self.batch_size, len(picks)
        try:
            return self.batch(rng, picks)
        finally:
            self.batch_size = saved
