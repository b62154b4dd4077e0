"""``unet``: noise-conditional residual U-Net, imgdenoise's flagship denoiser.

In the spirit of FFDNet and DRUNet: the network sees the noisy image and a
noise-level map (sigma / 255 per pixel), so one model covers a whole sigma
range, a spatially varying sigma map, or, with an estimated sigma, blind use.

Layout, for ``widths=(w0, ..., wL)``::

    [noisy, sigma_map] -> conv3x3(w0)
    encoder, level i < L:  b_i x ResBlock(wi) -> skip_i -> conv2x2 stride 2 (w_{i+1})
    bottleneck:            b_L x ResBlock(wL)
    decoder, level i < L:  transposed conv2x2 stride 2 (wi) + skip_i -> b_i x ResBlock(wi)
    conv3x3(channels) -> noisy + residual

No batch norm and no biases (as DRUNet, which makes the model scale-equivariant
in the residual); ResBlock = conv3x3 - ReLU - conv3x3 + identity. Height and
width must be multiples of ``2 ** L`` (the inference wrapper pads and crops).
"""

import keras
from keras import layers

from imgdenoise.models import register_model

PRESETS = {
    "tiny": {"widths": (8, 16, 32), "blocks": 1},
    "small": {"widths": (16, 32, 64, 128), "blocks": 1},
    "base": {"widths": (32, 64, 128, 192), "blocks": 2},
    "large": {"widths": (64, 128, 256, 512), "blocks": 4},
}


def _multiple(config: dict) -> int:
    widths = config.get("widths") or PRESETS[config.get("preset", "base")]["widths"]
    return 2 ** (len(widths) - 1)


def _blocks_per_scale(blocks, scales: int) -> tuple[int, ...]:
    """``blocks`` (one count for every scale, or one per scale, finest first) -> one count per scale."""
    counts = (int(blocks),) * scales if isinstance(blocks, (int, float)) else tuple(int(b) for b in blocks)
    if len(counts) != scales or min(counts) < 1:
        raise ValueError(f"unet blocks must be a positive count or one per scale ({scales}); got {blocks!r}")
    return counts


def _conv(filters, kernel, name, strides=1):
    return layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)


def _res_block(x, filters, name):
    y = _conv(filters, 3, f"{name}_conv1")(x)
    y = layers.ReLU(name=f"{name}_relu")(y)
    y = _conv(filters, 3, f"{name}_conv2")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def _res_stage(x, filters, blocks, name):
    for b in range(blocks):
        x = _res_block(x, filters, f"{name}_block{b}")
    return x


@register_model("unet", noise_conditional=True, multiple=_multiple,
                description="noise-conditional residual U-Net (sigma map input, any sigma in [0, 75])")
def build_unet(*, channels: int = 1, preset: str = "base", widths=None, blocks=None) -> keras.Model:
    """Build the noise-conditional U-Net.

    Args:
        channels: 1 (gray) or 3 (RGB).
        preset: one of ``PRESETS`` (``tiny``, ``small``, ``base``, ``large``);
            ``widths`` and ``blocks`` override it.
        widths: channels per scale, finest first; ``len(widths) - 1`` down-samplings.
        blocks: residual blocks per stage: one count for every scale, or one per scale (finest
            first; the last is the bottleneck's), e.g. ``[2, 2, 2, 4]``.

    Inputs: ``noisy (N, H, W, channels)`` in [0, 1] and ``sigma_map (N, H, W, 1)``
    = sigma / 255; H and W multiples of ``2 ** (len(widths) - 1)``.
    Output: ``(N, H, W, channels)``, the denoised image.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown unet preset {preset!r}; available: {', '.join(PRESETS)}")
    widths = tuple(widths or PRESETS[preset]["widths"])
    blocks = _blocks_per_scale(blocks or PRESETS[preset]["blocks"], len(widths))
    noisy = keras.Input((None, None, channels), name="noisy")
    sigma_map = keras.Input((None, None, 1), name="sigma_map")
    x = layers.Concatenate(name="head_concat")([noisy, sigma_map])
    x = _conv(widths[0], 3, "head_conv")(x)
    skips = []
    for level, width in enumerate(widths[:-1]):
        x = _res_stage(x, width, blocks[level], f"enc{level}")
        skips.append(x)
        x = _conv(widths[level + 1], 2, f"down{level}", strides=2)(x)
    x = _res_stage(x, widths[-1], blocks[-1], "bottleneck")
    for level in reversed(range(len(widths) - 1)):
        x = layers.Conv2DTranspose(widths[level], 2, strides=2, use_bias=False, name=f"up{level}")(x)
        x = layers.Add(name=f"skip{level}")([x, skips[level]])
        x = _res_stage(x, widths[level], blocks[level], f"dec{level}")
    # The last convolution and the skip add run in float32 even under a mixed
    # precision policy: a bfloat16 output would quantise the image to ~1/256.
    residual = layers.Conv2D(channels, 3, padding="same", use_bias=False, dtype="float32", name="tail_conv")(x)
    clean = layers.Add(dtype="float32", name="output")([noisy, residual])
    return keras.Model([noisy, sigma_map], clean, name="unet")
