"""Training losses in ``keras.ops`` (every backend), for batches (N, H, W, C) in [0, 1].

Each returns one value per image, shape (N,), as Keras losses do: Keras then averages them over
the batch, and, under ``tf.distribute``, divides by the number of replicas so that the summed
replica gradients are those of the global batch (a loss that returns a scalar skips that step).
"""

from __future__ import annotations

import keras
from keras import ops

from imgdenoise.metrics import ssim_index


def _f32(y_true, y_pred):
    return ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")


def per_image_mean(values):
    """Mean over every axis but the first: (N, ...) -> (N,)."""
    return ops.mean(values, axis=tuple(range(1, len(values.shape))))


@keras.saving.register_keras_serializable(package="imgdenoise")
def mse(y_true, y_pred):
    y_true, y_pred = _f32(y_true, y_pred)
    return per_image_mean(ops.square(y_true - y_pred))


@keras.saving.register_keras_serializable(package="imgdenoise")
def l1(y_true, y_pred):
    y_true, y_pred = _f32(y_true, y_pred)
    return per_image_mean(ops.abs(y_true - y_pred))


@keras.saving.register_keras_serializable(package="imgdenoise")
def charbonnier(y_true, y_pred, eps: float = 1e-3):
    """Smooth L1: mean of sqrt((y - x)^2 + eps^2)."""
    y_true, y_pred = _f32(y_true, y_pred)
    return per_image_mean(ops.sqrt(ops.square(y_true - y_pred) + eps * eps))


@keras.saving.register_keras_serializable(package="imgdenoise")
def bce(y_true, y_pred):
    """Binary cross-entropy, the original project's loss (needs outputs in (0, 1))."""
    y_true, y_pred = _f32(y_true, y_pred)
    return per_image_mean(keras.losses.binary_crossentropy(y_true, ops.clip(y_pred, 1e-7, 1 - 1e-7)))


@keras.saving.register_keras_serializable(package="imgdenoise")
def ssim_l1(y_true, y_pred, alpha: float = 0.84):
    """``alpha * (1 - SSIM) + (1 - alpha) * L1`` (Zhao et al. 2017 mix)."""
    y_true, y_pred = _f32(y_true, y_pred)
    return alpha * (1.0 - ssim_index(y_true, y_pred)) + (1.0 - alpha) * l1(y_true, y_pred)


@keras.saving.register_keras_serializable(package="imgdenoise")
def log_l1(y_true, y_pred, floor: float = 0.5 / 255.0):
    """``|log(y_pred + floor) - log(y_true + floor)|``: the relative error of a noise-level
    estimate (N, 1), so a level of 2 read as 4 costs as much as 10 read as 20."""
    y_true, y_pred = _f32(y_true, y_pred)
    return per_image_mean(ops.abs(ops.log(y_pred + floor) - ops.log(y_true + floor)))


LOSSES = {"mse": mse, "l1": l1, "charbonnier": charbonnier, "bce": bce, "ssim": ssim_l1, "log-l1": log_l1}


def get_loss(name: str):
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; available: {', '.join(LOSSES)}") from None
