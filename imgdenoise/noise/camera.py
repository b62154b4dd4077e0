"""Camera noise: sRGB unprocessed to raw, noised on the Bayer mosaic, and processed back.

After Brooks et al., "Unprocessing images for learned raw denoising" (CVPR 2019): an sRGB image
is taken back through an invertible model of a camera pipeline (tone curve, gamma, colour
matrix, white balance, RGGB Bayer mosaic), heteroscedastic shot + read noise is added to the
linear raw values, and the pipeline is run forward (bilinear demosaicing, white balance,
colour matrix, gamma, tone curve). Demosaicing spreads each photosite's noise over its
neighbours and the colour matrix mixes it across channels, so the result is signal-dependent,
spatially correlated and cross-channel correlated, as in a camera's own output. Three steps of a
camera's own processing follow, each with its probability: chroma noise reduction (the noise's
colour smoothed over a few pixels: why camera noise is mostly gray), luminance noise reduction
(its luminance partly smoothed over about a pixel: the finest grain goes, coarser grain stays, so
what is left is correlated over two or three pixels) and sharpening (an unsharp mask on the luminance,
which lifts its finest grain).

All images are float32 in [0, 1], (H, W, 3). The camera of each image is drawn at random
(:func:`random_camera`); the pipeline without noise returns the input (up to clipping).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from imgdenoise.noise.base import log_uniform, per_image

# Published ranges (Brooks et al. 2019, section 3.2 and 4): shot-noise variance factor log-uniform
# in [1e-4, 0.012]; log(read) linear in log(shot) with Gaussian scatter.
SHOT_RANGE = (1e-4, 0.012)
READ_SLOPE, READ_INTERCEPT, READ_SCATTER = 2.18, 1.20, 0.26
GAMMA = 2.2
# In-camera processing: the share of cameras that apply each step, and the ranges its settings are drawn from.
# Chroma noise reduction: nearly every camera, in JPEG mode, and wide: real camera JPEGs' colour noise is
# blotches (PolyU-dev: 61% of its variance survives 8x8 averaging; docs/benchmarks.md, synthetic noise).
CHROMA_NR_PROBABILITY = 0.9
CHROMA_BLUR_RANGE = (2.0, 8.0)
LUMA_NR_PROBABILITY = 0.7  # luminance noise reduction (most do at high ISO, more gently)
LUMA_BLUR_RANGE, LUMA_STRENGTH_RANGE = (0.5, 1.5), (0.5, 1.0)
SHARPEN_PROBABILITY = 0.5
SHARPEN_RANGE, SHARPEN_RADIUS_RANGE = (0.2, 1.0), (0.7, 1.5)

_KERNEL_RB = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4.0
_KERNEL_G = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4.0


@dataclasses.dataclass(frozen=True)
class Camera:
    """One camera's pipeline and noise.

    ``rgb_to_cam``: 3x3 matrix from linear sRGB to camera RGB, rows summing to 1 (white stays
    white). ``gains``: white-balance gains (red, green, blue) the camera applies to raw values,
    times a global brightness gain. ``shot``, ``read``: the raw noise variance is
    ``shot * x + read`` for a linear raw value ``x`` in [0, 1].
    """

    rgb_to_cam: np.ndarray
    gains: np.ndarray
    shot: float
    read: float
    chroma_blur: float = 0.0  # std (pixels) of the chroma noise reduction; 0: none
    luma_blur: float = 0.0  # std (pixels) of the luminance noise reduction; 0: none
    luma_strength: float = 0.0  # the share of the luminance noise's fine part it removes, in [0, 1]
    sharpen: float = 0.0  # unsharp-mask amount; 0: none
    sharpen_radius: float = 1.0  # its Gaussian's std, pixels


def random_camera(rng: np.random.Generator, shot_range=SHOT_RANGE) -> Camera:
    """A camera with a random colour matrix, white balance and noise level (Brooks et al.'s ranges)."""
    # Camera spectral sensitivities overlap, so a camera's RGB is sRGB mixed positively: identity
    # blended with a random positive mixing matrix, rows normalised to sum to 1.
    mix = rng.uniform(0.0, 1.0, (3, 3))
    mix /= mix.sum(axis=1, keepdims=True)
    strength = rng.uniform(0.1, 0.4)
    rgb_to_cam = (1 - strength) * np.eye(3) + strength * mix
    brightness = 1.0 / min(rng.normal(0.8, 0.1), 1.0)  # a global gain >= 1, as in the paper
    gains = np.array([rng.uniform(1.9, 2.4), 1.0, rng.uniform(1.5, 1.9)]) * brightness
    shot = log_uniform(rng, *shot_range)
    read = float(np.exp(READ_SLOPE * np.log(shot) + READ_INTERCEPT + rng.normal(0.0, READ_SCATTER)))
    chroma_blur = rng.uniform(*CHROMA_BLUR_RANGE) if rng.random() < CHROMA_NR_PROBABILITY else 0.0
    sharpen = rng.uniform(*SHARPEN_RANGE) if rng.random() < SHARPEN_PROBABILITY else 0.0
    sharpen_radius = rng.uniform(*SHARPEN_RADIUS_RANGE)
    luma_blur, luma_strength = 0.0, 0.0
    if rng.random() < LUMA_NR_PROBABILITY:
        luma_blur, luma_strength = rng.uniform(*LUMA_BLUR_RANGE), rng.uniform(*LUMA_STRENGTH_RANGE)
    return Camera(rgb_to_cam.astype(np.float32), gains.astype(np.float32), shot, read, chroma_blur=chroma_blur,
                  luma_blur=luma_blur, luma_strength=luma_strength, sharpen=sharpen, sharpen_radius=sharpen_radius)


def inverse_tone(y: np.ndarray) -> np.ndarray:
    """Inverse of the smoothstep tone curve ``3x^2 - 2x^3``."""
    y = np.clip(y, 0.0, 1.0)
    return 0.5 - np.sin(np.arcsin(1.0 - 2.0 * y) / 3.0)


def tone(x: np.ndarray) -> np.ndarray:
    """The smoothstep tone curve on [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return 3.0 * x ** 2 - 2.0 * x ** 3


def unprocess(image: np.ndarray, camera: Camera) -> np.ndarray:
    """sRGB (H, W, 3) in [0, 1] -> the camera's linear raw RGB, white balance undone, in [0, 1]."""
    linear = np.maximum(inverse_tone(image), 1e-8) ** GAMMA
    cam = linear @ camera.rgb_to_cam.T
    return np.clip(cam / camera.gains, 0.0, 1.0)


def process(raw: np.ndarray, camera: Camera) -> np.ndarray:
    """The forward pipeline: linear raw RGB (H, W, 3) -> sRGB in [0, 1]."""
    balanced = np.clip(raw * camera.gains, 0.0, 1.0)
    linear = np.clip(balanced @ np.linalg.inv(camera.rgb_to_cam).T, 0.0, 1.0)
    return tone(np.maximum(linear, 1e-8) ** (1.0 / GAMMA))


def bayer_masks(height: int, width: int) -> np.ndarray:
    """(H, W, 3) boolean masks of an RGGB mosaic: which photosites see red, green, blue."""
    rows, cols = np.arange(height)[:, None] % 2, np.arange(width)[None, :] % 2
    red = (rows == 0) & (cols == 0)
    blue = (rows == 1) & (cols == 1)
    return np.stack([red, ~(red | blue), blue], axis=-1)


def mosaic(raw: np.ndarray) -> np.ndarray:
    """Raw RGB (H, W, 3) -> RGGB Bayer mosaic (H, W): each photosite keeps its own colour."""
    return (raw * bayer_masks(*raw.shape[:2])).sum(axis=-1)


def demosaic(bayer: np.ndarray) -> np.ndarray:
    """Bilinear demosaicing of an RGGB mosaic (H, W) -> (H, W, 3).

    Each colour plane is zero-filled where the colour was not sensed and interpolated from its
    neighbours; ``mirror`` edges keep the mosaic's parity.
    """
    from scipy import ndimage  # training noise only: the core install has no SciPy

    masks = bayer_masks(*bayer.shape)
    planes = [ndimage.convolve(bayer * masks[..., c], kernel, mode="mirror")
              for c, kernel in enumerate((_KERNEL_RB, _KERNEL_G, _KERNEL_RB))]
    return np.stack(planes, axis=-1)


def raw_noise(bayer: np.ndarray, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """Shot + read noise on linear raw values: variance ``shot * x + read``."""
    variance = camera.shot * np.clip(bayer, 0.0, None) + camera.read
    return bayer + rng.standard_normal(bayer.shape).astype(np.float32) * np.sqrt(variance)


def camera_pipeline(image: np.ndarray, camera: Camera, rng: np.random.Generator | None = None) -> np.ndarray:
    """``image`` (H, W, 3) through ``camera``: unprocessed, mosaicked, noised (unless ``rng`` is None),
    demosaicked and processed. Odd sizes are mirror-padded to even and cropped back."""
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="symmetric")
    bayer = mosaic(unprocess(padded, camera))
    if rng is not None:
        bayer = raw_noise(bayer, camera, rng)
    return process(demosaic(bayer), camera)[:h, :w].astype(np.float32)


def in_camera_processing(noise: np.ndarray, camera: Camera) -> np.ndarray:
    """The camera's chroma and luminance noise reduction and sharpening, applied to ``noise`` (H, W, 3).

    Chroma: the noise's deviation from its channel mean (its colour) is smoothed with a Gaussian
    of std ``chroma_blur`` pixels; its luminance is kept. Luminance: the channel mean moves
    ``luma_strength`` of the way to its Gaussian blur (std ``luma_blur``). Sharpening: ``sharpen``
    times the luminance minus its Gaussian blur (std ``sharpen_radius``) is added to every channel
    (cameras sharpen luminance; sharpening each channel would lift the colour noise the chroma noise
    reduction smoothed).
    """
    from scipy import ndimage  # training noise only: the core install has no SciPy

    if camera.chroma_blur > 0:
        luminance = noise.mean(axis=-1, keepdims=True)
        chroma = ndimage.gaussian_filter(noise - luminance, sigma=(camera.chroma_blur, camera.chroma_blur, 0),
                                         mode="mirror")
        noise = luminance + chroma
    if camera.luma_blur > 0:
        luminance = noise.mean(axis=-1, keepdims=True)
        smoothed = ndimage.gaussian_filter(luminance, sigma=(camera.luma_blur, camera.luma_blur, 0), mode="mirror")
        noise = noise + camera.luma_strength * (smoothed - luminance)
    if camera.sharpen > 0:
        r = camera.sharpen_radius
        luminance = noise.mean(axis=-1, keepdims=True)
        noise = noise + camera.sharpen * (luminance - ndimage.gaussian_filter(luminance, sigma=(r, r, 0),
                                                                              mode="mirror"))
    return noise


def add_camera_noise(image: np.ndarray, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """``image`` (H, W, 3) plus the noise ``camera`` puts on it: the pipeline's output with raw noise
    minus its output without, through the camera's own processing (:func:`in_camera_processing`).
    Only the noise goes through the pipeline, so the clean signal keeps its detail (no demosaicing
    blur or sharpening to learn to undo) and the difference is noise alone."""
    noise = camera_pipeline(image, camera, rng) - camera_pipeline(image, camera)
    return image + in_camera_processing(noise, camera)


@dataclasses.dataclass(frozen=True)
class CameraNoise:
    """Realistic camera noise (see the module docstring); each image draws its own camera.

    ``shot``: the range of the shot-noise factor (log-uniform); the read noise follows it.
    Gray images are treated as the luminance of a colour image (all three channels equal) and
    returned as their channel mean.
    """

    shot: tuple[float, float] = SHOT_RANGE

    def __call__(self, images, rng):
        def noisy(image):
            colour = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
            out = add_camera_noise(colour, random_camera(rng, self.shot), rng)
            return out.mean(axis=-1, keepdims=True) if image.shape[-1] == 1 else out

        return per_image(noisy, images)
