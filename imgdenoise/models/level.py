"""``level``: a small CNN that reads the noise level of an image (blind real-photo denoising).

Camera noise after demosaicing, in-camera processing and JPEG is spatially correlated and
signal-dependent, so statistics of the finest scale (:func:`imgdenoise.noise.estimate_sigma`)
read almost none of it. This network is trained on the same synthetic noise as the real-photo
denoiser (:func:`imgdenoise.noise.realistic_noise`) to predict its level: the standard deviation
of ``noisy - clean`` (0-255 scale), the value that denoiser is conditioned on.

Layout, for ``widths=(w0, w1, w2)``::

    conv3x3(w0)-ReLU -> conv3x3 stride 2 (w1)-ReLU -> conv3x3(w1)-ReLU
    -> conv3x3 stride 2 (w2)-ReLU -> conv3x3(w2)-ReLU -> conv1x1(1): log of the local level
    -> mean over the image -> exp (N, 1): the level / 255

The map before the mean is the log of a local level at 1/4 resolution; the image's level is their
geometric mean. Predicting the log (its bias starting at a typical level) keeps the output positive
without a saturating activation, so training cannot collapse to a constant. About 0.03 MFLOP per
pixel; any height and width (multiples of 4 avoid edge effects).
"""

import keras
import numpy as np
from keras import layers

from imgdenoise.models import register_model

INITIAL_LEVEL = 8.0  # 0-255: where the output starts, in the middle of the training levels


@register_model("level", multiple=4, task="noise-level",
                description="noise-level estimator: image -> its noise level (residual std, 0-255 / 255)")
def build_level(*, channels: int = 3, widths=(24, 48, 64)) -> keras.Model:
    """Build the noise-level estimator.

    Input: ``noisy (N, H, W, channels)`` in [0, 1]. Output: ``(N, 1)``, the image's noise level
    divided by 255 (non-negative).
    """
    w0, w1, w2 = widths
    noisy = keras.Input((None, None, channels), name="noisy")
    x = layers.Conv2D(w0, 3, padding="same", activation="relu", name="conv0")(noisy)
    x = layers.Conv2D(w1, 3, strides=2, padding="same", activation="relu", name="down1")(x)
    x = layers.Conv2D(w1, 3, padding="same", activation="relu", name="conv1")(x)
    x = layers.Conv2D(w2, 3, strides=2, padding="same", activation="relu", name="down2")(x)
    x = layers.Conv2D(w2, 3, padding="same", activation="relu", name="conv2")(x)
    local = layers.Conv2D(1, 1, dtype="float32", name="local_log_level",
                          bias_initializer=keras.initializers.Constant(np.log(INITIAL_LEVEL / 255.0)))(x)
    log_level = layers.GlobalAveragePooling2D(dtype="float32", name="log_level")(local)
    level = layers.Activation("exponential", dtype="float32", name="level")(log_level)
    return keras.Model(noisy, level, name="level")
