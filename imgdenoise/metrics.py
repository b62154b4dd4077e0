"""Quality metrics.

Two families with one definition each:

- ``psnr``/``ssim``: the benchmark metrics, NumPy float64 on the 0-255 scale,
  as the published test scripts compute them (no border crop; SSIM with an
  11x11 Gaussian window, sigma 1.5, 'valid' filtering, averaged over channels).
- ``psnr_metric``/``ssim_index``: the same quantities in ``keras.ops`` for
  training, on any backend, for batches ``(N, H, W, C)`` in [0, 1].
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from skimage.metrics import structural_similarity


def to_uint8_scale(image: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and round to 8 bits, as the protocol does to outputs (float64 0-255)."""
    return np.round(np.clip(np.asarray(image, np.float64), 0.0, 1.0) * 255.0)


def psnr(clean: np.ndarray, restored: np.ndarray) -> float:
    """PSNR in dB of ``restored`` against ``clean``, both in [0, 1], on the 0-255 scale.

    Both images are clipped and rounded to 8 bits first (the protocol).
    """
    mse = np.mean((to_uint8_scale(clean) - to_uint8_scale(restored)) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def ssim(clean: np.ndarray, restored: np.ndarray) -> float:
    """SSIM (Wang et al. 2004) of 8-bit-rounded images (H, W) or (H, W, C) in [0, 1]."""
    a, b = to_uint8_scale(clean), to_uint8_scale(restored)
    if a.ndim == 3 and a.shape[-1] == 1:
        a, b = a[..., 0], b[..., 0]
    return float(structural_similarity(a, b, data_range=255.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, channel_axis=-1 if a.ndim == 3 else None))


def _gaussian_window(channels: int, size: int = 11, sigma: float = 1.5):
    ax = np.arange(size) - (size - 1) / 2
    g = np.exp(-(ax ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    return np.tile(w[:, :, None, None], (1, 1, channels, 1)).astype("float32")


def ssim_index(y_true, y_pred, max_value: float = 1.0):
    """Per-image SSIM (N,) of batches (N, H, W, C), in ``keras.ops``."""
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    channels = y_true.shape[-1]
    window = ops.convert_to_tensor(_gaussian_window(channels))
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2

    def blur(x):
        return ops.depthwise_conv(x, window, strides=1, padding="valid")

    mu_x, mu_y = blur(y_true), blur(y_pred)
    var_x = blur(y_true * y_true) - mu_x * mu_x
    var_y = blur(y_pred * y_pred) - mu_y * mu_y
    cov = blur(y_true * y_pred) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return ops.mean(ssim_map, axis=(1, 2, 3))


@keras.saving.register_keras_serializable(package="imgdenoise")
def psnr_metric(y_true, y_pred):
    """Per-image PSNR (N,) in dB of batches in [0, 1] (output clipped, not rounded)."""
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.clip(ops.cast(y_pred, "float32"), 0.0, 1.0)
    mse = ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3))
    return -10.0 * ops.log(ops.maximum(mse, 1e-10)) / np.log(10.0)


psnr_metric.__name__ = "psnr"
