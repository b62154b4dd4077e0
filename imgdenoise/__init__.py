"""imgdenoise: CNN image denoisers in Keras 3 (TensorFlow, PyTorch or JAX).

>>> import imgdenoise
>>> denoiser = imgdenoise.load_model("unet")          # shipped weights
>>> clean = denoiser.denoise(noisy, sigma=25)          # (H, W, C) float32 in [0, 1]

Images are float32 arrays in [0, 1], channels-last; sigma is on the 0-255 scale.
"""

__version__ = "0.1.0"


def load_model(name_or_path="default", **kwargs):
    """Load a denoiser: shipped name (``unet``, ``dncnn``, ``seed``), ``.keras`` path, model card,
    or classical method (``bm3d``, ``nlm``, ``tv``, ``wavelet``)."""
    from imgdenoise.loading import load_model as _load

    return _load(name_or_path, **kwargs)


__all__ = ["load_model", "__version__"]
