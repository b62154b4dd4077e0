"""Model cost: parameters and floating-point operations per input pixel."""

from __future__ import annotations

import keras
import numpy as np


def flops_per_pixel(model: keras.Model, size: int = 256) -> float:
    """Multiply-adds x 2 per input pixel of the convolutions of ``model``, at a ``size`` x ``size`` input.

    Counts Conv2D, Conv2DTranspose and DepthwiseConv2D (the layers that dominate);
    element-wise layers (ReLU, Add, BatchNorm) are left out, as is customary.
    """
    inputs = [keras.KerasTensor((1, size, size, int(t.shape[-1]))) for t in model.inputs]
    probe = keras.Model(model.inputs, [layer.output for layer in model.layers
                                       if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                                                             keras.layers.DepthwiseConv2D))])
    conv_layers = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D,
                                                                         keras.layers.Conv2DTranspose,
                                                                         keras.layers.DepthwiseConv2D))]
    outputs = probe.compute_output_spec(inputs if len(inputs) > 1 else inputs[0])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    total = 0.0
    for layer, out in zip(conv_layers, outputs):
        kernel = layer.kernel.shape  # (kh, kw, in, out) for Conv2D; (kh, kw, out, in) for transposed
        if isinstance(layer, keras.layers.Conv2DTranspose):
            # Every input pixel is spread over a kh x kw window of the output.
            in_pixels = (out.shape[1] // layer.strides[0]) * (out.shape[2] // layer.strides[1])
            total += 2.0 * np.prod(kernel) * in_pixels
        else:
            total += 2.0 * np.prod(kernel) * out.shape[1] * out.shape[2]
    return total / (size * size)
