"""``seed``: the project's original CNN, made to work.

The original model was Conv2D(32) - Conv2D(32) - ... - Conv2D(64) -
UpSampling2D - UpSampling2D with LeakyReLU activations and a sigmoid output,
trained with Adam and binary cross-entropy. It up-sampled twice without ever
down-sampling, so its output was 4x the input size and could not be compared
with the clean image. The one change here is a ``MaxPooling2D`` before each of
the first two convolution stages, so the two ``UpSampling2D`` layers bring the
output back to the input size (height and width must be multiples of 4; the
inference wrapper pads and crops).
"""

import keras
from keras import layers

from imgdenoise.models import register_model


@register_model("seed", multiple=4, description="original project CNN (sigmoid output, BCE loss), made size-preserving")
def build_seed(*, channels: int = 1, filters: int = 32) -> keras.Model:
    """Build the original encoder/decoder CNN.

    Input and output: ``(N, H, W, channels)`` float32 in [0, 1]; H, W multiples of 4.
    """
    noisy = keras.Input((None, None, channels), name="noisy")
    x = layers.Conv2D(filters, 3, padding="same", name="conv1")(noisy)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(filters, 3, padding="same", name="conv2")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(2 * filters, 3, padding="same", name="conv3")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.UpSampling2D(2, name="up1")(x)
    x = layers.Conv2D(filters, 3, padding="same", name="conv4")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.UpSampling2D(2, name="up2")(x)
    x = layers.Conv2D(filters, 3, padding="same", name="conv5")(x)
    x = layers.LeakyReLU(0.2)(x)
    clean = layers.Conv2D(channels, 3, padding="same", activation="sigmoid",
                          dtype="float32", name="output")(x)
    return keras.Model(noisy, clean, name="seed")
