"""``dncnn``: DnCNN (Zhang et al., TIP 2017).

``depth`` convolution layers of ``filters`` channels: Conv+ReLU, then
(depth - 2) x Conv+BN+ReLU, then Conv; the network predicts the noise and the
output is ``noisy - noise`` (residual learning). DnCNN-S is this model trained
at one sigma, DnCNN-B the same model trained over a sigma range; colour
(CDnCNN) uses ``channels=3``. Layer names follow the authors' Keras 2 release
so their weights import by name (:mod:`imgdenoise.legacy`).
"""

import keras
from keras import layers

from imgdenoise.models import register_model


@register_model("dncnn", description="DnCNN: 17 conv layers, 64 channels, batch norm, residual")
def build_dncnn(*, channels: int = 1, depth: int = 17, filters: int = 64) -> keras.Model:
    """Build DnCNN.

    Input and output: ``(N, H, W, channels)`` float32 in [0, 1], any H, W.
    """
    noisy = keras.Input((None, None, channels), name="noisy")
    index = 1
    x = layers.Conv2D(filters, 3, padding="same", kernel_initializer="orthogonal", name=f"conv{index}")(noisy)
    index += 1
    x = layers.Activation("relu", name=f"relu{index}")(x)
    for _ in range(depth - 2):
        index += 1
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                          kernel_initializer="orthogonal", name=f"conv{index}")(x)
        index += 1
        x = layers.BatchNormalization(axis=-1, momentum=0.9, epsilon=1e-4, name=f"bn{index}")(x)
        index += 1
        x = layers.Activation("relu", name=f"relu{index}")(x)
    index += 1
    noise = layers.Conv2D(channels, 3, padding="same", use_bias=False, kernel_initializer="orthogonal",
                          dtype="float32", name=f"conv{index}")(x)  # float32 under mixed precision
    index += 1
    clean = layers.Subtract(dtype="float32", name=f"subtract{index}")([noisy, noise])
    return keras.Model(noisy, clean, name="dncnn")
