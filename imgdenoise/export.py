"""Export a denoiser's networks for deployment: TensorFlow SavedModel, ONNX, TFLite (LiteRT).

An exported network takes any image size: it mirrors the input up to the size multiple the
network needs and crops the result back, so callers need no padding code. Signature:

    image (N, H, W, C) float32 in [0, 1]            -> denoised (N, H, W, C) float32, not clipped
    sigma (N, H, W, 1) float32, 0-255 scale          (noise-conditional networks only)

The model card goes with it: inside the ONNX file's metadata (``imgdenoise_card``), as
``imgdenoise.json`` inside a SavedModel folder, and as ``NAME.json`` beside a ``.tflite`` file.
Exporting needs the TensorFlow backend (and ``tf2onnx`` for ONNX); running an ONNX export needs
only ONNX Runtime (``imgdenoise denoise --runtime onnx``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import keras
from keras import ops

from imgdenoise.cards import ModelCard
from imgdenoise.files import atomic_target, atomic_write_text
from imgdenoise.runtimes import first_conv_width

FORMATS = {"savedmodel": "tf_saved_model", "onnx": "onnx", "tflite": "litert"}
SUFFIXES = {"savedmodel": "", "onnx": ".onnx", "tflite": ".tflite"}


class PadCropDenoiser(keras.Model):
    """A denoising network behind mirror padding to its size multiple and cropping back (a noise-level
    estimator, whose output is one level per image, is padded only).

    Takes ``image`` (and ``sigma`` on the 0-255 scale for noise-conditional networks), see the
    module docstring. Built for export; never saved as ``.keras``.
    """

    def __init__(self, network: keras.Model, multiple: int, noise_conditional: bool, **kwargs):
        super().__init__(**kwargs)
        self.network, self.multiple, self.noise_conditional = network, multiple, noise_conditional

    @staticmethod
    def _pad(x, pad_h, pad_w):
        """Mirror ``x`` (N, H, W, C) by ``pad_h`` rows and ``pad_w`` columns at the bottom and right
        (``numpy.pad`` "reflect"), built from slices so the channel count stays static for converters."""
        height, width = ops.shape(x)[1], ops.shape(x)[2]
        x = ops.concatenate([x, ops.flip(x[:, height - 1 - pad_h:height - 1], axis=1)], axis=1)
        return ops.concatenate([x, ops.flip(x[:, :, width - 1 - pad_w:width - 1], axis=2)], axis=2)

    def call(self, inputs):
        if not self.noise_conditional and isinstance(inputs, (list, tuple)):
            inputs = inputs[0]  # a one-input signature may arrive as a one-element list
        image = inputs[0] if self.noise_conditional else inputs
        height, width = ops.shape(image)[1], ops.shape(image)[2]
        m = self.multiple
        pad_h, pad_w = (m - height % m) % m, (m - width % m) % m
        padded = self._pad(image, pad_h, pad_w)
        if self.noise_conditional:
            sigma_map = self._pad(ops.cast(inputs[1], "float32") / 255.0, pad_h, pad_w)
            out = self.network([padded, sigma_map], training=False)
        else:
            out = self.network(padded, training=False)
        out = ops.cast(out, "float32")
        return out[:, :height, :width, :] if len(out.shape) == 4 else out  # a level estimator: (N, 1)


def deployable(model: keras.Model, card: ModelCard) -> PadCropDenoiser:
    """``model`` wrapped for export (see :class:`PadCropDenoiser`), built on a dummy input."""
    import numpy as np

    wrapped = PadCropDenoiser(model, card.multiple, card.noise_conditional, name=f"{card.name}_deployable")
    channels = card.channels
    image = np.zeros((1, 13, 11, channels), np.float32)
    wrapped([image, np.full((1, 13, 11, 1), 25.0, np.float32)] if wrapped.noise_conditional else image)
    return wrapped


def input_signature(card: ModelCard) -> list:
    image = keras.InputSpec(shape=(None, None, None, card.channels), dtype="float32", name="image")
    if not card.noise_conditional:
        return [image]
    return [[image, keras.InputSpec(shape=(None, None, None, 1), dtype="float32", name="sigma")]]


def export_network(model: keras.Model, card: ModelCard | dict, path, fmt: str) -> Path:
    """Write one network in ``fmt`` (savedmodel, onnx, tflite) to ``path``, with its card; returns the path.

    The artifact is written under a temporary name and renamed into place, so a failed export
    leaves nothing half-written at ``path``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; available: {', '.join(FORMATS)}")
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"exporting needs the TensorFlow backend (KERAS_BACKEND is {keras.backend.backend()})")
    path = Path(path)
    card = ModelCard.of(card)
    wrapped = deployable(model, card)
    inputs = ["image", "sigma"] if wrapped.noise_conditional else ["image"]
    record = card.replace(width=first_conv_width(model), exported={
        "format": fmt, "inputs": inputs, "sigma_scale": "0-255", "keras": keras.__version__}).to_dict()
    with atomic_target(path) as target, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # NumPy's notices about tf2onnx's own code
        wrapped.export(str(target), format=FORMATS[fmt], input_signature=input_signature(card), verbose=False)
        if fmt == "onnx":
            _embed_card(target, record)
        elif fmt == "savedmodel":
            (target / "imgdenoise.json").write_text(json.dumps(record, indent=2) + "\n")
    if fmt not in ("onnx", "savedmodel"):
        atomic_write_text(path.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    return path


def store_weights_in_float16(onnx_path) -> None:
    """Rewrite an ONNX file with its float32 weights stored as float16, each cast back to float32 in the
    graph (ONNX Runtime folds the casts when it loads the model): half the size, and the exact weights of
    the float16 ``.npz`` the Keras path loads, so both compute with the same numbers."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    proto = onnx.load(str(onnx_path))
    graph = proto.graph
    casts = []
    for index, tensor in enumerate(graph.initializer):
        if tensor.data_type != onnx.TensorProto.FLOAT or np.prod(tensor.dims) < 16:  # small constants stay
            continue
        name = tensor.name
        half = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), f"{name}_float16")
        graph.initializer[index].CopyFrom(half)
        casts.append(helper.make_node("Cast", [half.name], [name], to=onnx.TensorProto.FLOAT, name=f"{name}_cast"))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(onnx_path))


def _embed_card(onnx_path: Path, card: dict):
    import onnx

    proto = onnx.load(str(onnx_path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "imgdenoise_card", json.dumps(card)
    onnx.save(proto, str(onnx_path))


def export_denoiser(denoiser, path, fmt: str) -> list[Path]:
    """Export every network of a :class:`~imgdenoise.inference.Denoiser`.

    One network: written to ``path``. Gray and colour networks: ``path`` with ``-gray`` and
    ``-color`` added to its name.
    """
    path = Path(path)
    if fmt != "savedmodel" and path.suffix != SUFFIXES[fmt]:
        path = path.with_name(path.name + SUFFIXES[fmt])
    written = []
    for channels, variant in sorted(denoiser.variants.items()):
        if not hasattr(variant, "model"):
            raise ValueError(f"{denoiser.name}: only Keras models can be exported")
        target = path
        if len(denoiser.variants) > 1:
            target = path.with_name(f"{path.stem}-{'gray' if channels == 1 else 'color'}{SUFFIXES[fmt]}")
        written.append(export_network(variant.model, variant.card, target, fmt))
    return written
