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
which lifts its finest grain). Real cameras adapt the last two to the picture (:data:`EDGE_AWARE`):
noise reduction where it is flat, sharpening at its edges, so their noise is stronger at edges.

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


@dataclasses.dataclass(frozen=True)
class Processing:
    """How cameras process their noise: the share of cameras that apply each step of
    :func:`in_camera_processing`, and the ranges (uniform) each step's settings are drawn from."""

    # Chroma noise reduction: nearly every camera, in JPEG mode, and wide: real camera JPEGs' colour noise is
    # blotches (PolyU-dev: 61% of its variance survives 8x8 averaging; docs/benchmarks.md, synthetic noise).
    chroma_nr: float = 0.9
    chroma_blur: tuple[float, float] = (2.0, 8.0)
    luma_nr: float = 0.7  # luminance noise reduction (most do at high ISO, more gently)
    luma_blur: tuple[float, float] = (0.5, 1.5)
    luma_strength: tuple[float, float] = (0.5, 1.0)
    sharpen: float = 0.5
    sharpen_amount: tuple[float, float] = (0.2, 1.0)
    sharpen_radius: tuple[float, float] = (0.7, 1.5)
    edge_aware: float = 0.0  # the share whose noise reduction and sharpening follow the picture
    edge_contrast: tuple[float, float] = (0.005, 0.05)  # log-uniform; see Camera.edge_contrast


UNIFORM = Processing()  # the same processing everywhere in the picture
# Edge-aware: noise reduction where the picture is flat (every camera, over 1-3 pixels), sharpening at its
# edges, so the noise is stronger at edges: 1.7x the flat areas' at the same brightness, as on PolyU-dev's
# real pairs (median over images; UNIFORM: 1.0x; docs/benchmarks.md, "Learned level readers").
EDGE_AWARE = Processing(luma_nr=1.0, luma_blur=(1.0, 3.0), luma_strength=(0.7, 1.0), edge_aware=1.0)

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
    edge_contrast: float = 0.0  # the picture's gradient where noise reduction and sharpening are half applied
    # (:func:`flatness`); 0: applied everywhere alike


def random_camera(rng: np.random.Generator, shot_range=SHOT_RANGE, processing: Processing = UNIFORM) -> Camera:
    """A camera with a random colour matrix, white balance and noise level (Brooks et al.'s ranges), and
    in-camera processing drawn from ``processing``."""
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
    return Camera(rgb_to_cam.astype(np.float32), gains.astype(np.float32), shot, read,
                  **random_processing(rng, processing))


def random_processing(rng: np.random.Generator, processing: Processing) -> dict:
    """One camera's processing settings (:class:`Camera`'s fields), drawn from ``processing``."""
    p = processing
    steps = {"chroma_blur": rng.uniform(*p.chroma_blur) if rng.random() < p.chroma_nr else 0.0,
             "sharpen": rng.uniform(*p.sharpen_amount) if rng.random() < p.sharpen else 0.0,
             "sharpen_radius": rng.uniform(*p.sharpen_radius)}
    if rng.random() < p.luma_nr:
        steps.update(luma_blur=rng.uniform(*p.luma_blur), luma_strength=rng.uniform(*p.luma_strength))
    if p.edge_aware and rng.random() < p.edge_aware:  # no draw otherwise: earlier syntheses' cameras stay as they were
        steps["edge_contrast"] = log_uniform(rng, *p.edge_contrast)
    return steps


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


def flatness(image: np.ndarray, edge_contrast: float) -> np.ndarray:
    """(H, W, 1) weights in (0, 1]: 1 where ``image`` (H, W, 3) is flat, 1/2 where its luminance's gradient
    (smoothed over a pixel; per pixel, [0, 1] scale) is ``edge_contrast``, towards 0 at stronger edges."""
    from scipy import ndimage  # training noise only: the core install has no SciPy

    luminance = ndimage.gaussian_filter(image.mean(axis=-1), 1.0, mode="mirror")
    gradient = np.hypot(ndimage.sobel(luminance, 0, mode="mirror"), ndimage.sobel(luminance, 1, mode="mirror")) / 8
    return (1.0 / (1.0 + (gradient / edge_contrast) ** 2))[..., None].astype(np.float32)


def in_camera_processing(noise: np.ndarray, camera: Camera, image: np.ndarray | None = None) -> np.ndarray:
    """The camera's chroma and luminance noise reduction and sharpening, applied to ``noise`` (H, W, 3).

    Chroma: the noise's deviation from its channel mean (its colour) is smoothed with a Gaussian
    of std ``chroma_blur`` pixels; its luminance is kept. Luminance: the channel mean moves
    ``luma_strength`` of the way to its Gaussian blur (std ``luma_blur``). Sharpening: ``sharpen``
    times the luminance minus its Gaussian blur (std ``sharpen_radius``) is added to every channel
    (cameras sharpen luminance; sharpening each channel would lift the colour noise the chroma noise
    reduction smoothed). With ``edge_contrast`` and the clean ``image`` (H, W, 3), edge-aware: luminance
    noise reduction where the picture is flat, sharpening at its edges (:func:`flatness`).
    """
    from scipy import ndimage  # training noise only: the core install has no SciPy

    flat, edges = 1.0, 1.0  # where each step applies: everywhere, unless edge-aware
    if camera.edge_contrast > 0 and image is not None:
        flat = flatness(image, camera.edge_contrast)
        edges = 1.0 - flat
    if camera.chroma_blur > 0:
        luminance = noise.mean(axis=-1, keepdims=True)
        chroma = ndimage.gaussian_filter(noise - luminance, sigma=(camera.chroma_blur, camera.chroma_blur, 0),
                                         mode="mirror")
        noise = luminance + chroma
    if camera.luma_blur > 0:
        luminance = noise.mean(axis=-1, keepdims=True)
        smoothed = ndimage.gaussian_filter(luminance, sigma=(camera.luma_blur, camera.luma_blur, 0), mode="mirror")
        noise = noise + camera.luma_strength * flat * (smoothed - luminance)
    if camera.sharpen > 0:
        r = camera.sharpen_radius
        luminance = noise.mean(axis=-1, keepdims=True)
        detail = luminance - ndimage.gaussian_filter(luminance, sigma=(r, r, 0), mode="mirror")
        noise = noise + camera.sharpen * edges * detail
    return noise


def add_camera_noise(image: np.ndarray, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """``image`` (H, W, 3) plus the noise ``camera`` puts on it: the pipeline's output with raw noise
    minus its output without, through the camera's own processing (:func:`in_camera_processing`).
    Only the noise goes through the pipeline, so the clean signal keeps its detail (no demosaicing
    blur or sharpening to learn to undo) and the difference is noise alone."""
    noise = camera_pipeline(image, camera, rng) - camera_pipeline(image, camera)
    return image + in_camera_processing(noise, camera, image)


@dataclasses.dataclass(frozen=True)
class CameraNoise:
    """Realistic camera noise (see the module docstring); each image draws its own camera.

    ``shot``: the range of the shot-noise factor (log-uniform); the read noise follows it. ``processing``:
    what the cameras do to their noise (:data:`UNIFORM` or :data:`EDGE_AWARE`).
    Gray images are treated as the luminance of a colour image (all three channels equal) and
    returned as their channel mean.
    """

    shot: tuple[float, float] = SHOT_RANGE
    processing: Processing = UNIFORM

    def __call__(self, images, rng):
        def noisy(image):
            colour = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
            out = add_camera_noise(colour, random_camera(rng, self.shot, self.processing), rng)
            return out.mean(axis=-1, keepdims=True) if image.shape[-1] == 1 else out

        return per_image(noisy, images)
