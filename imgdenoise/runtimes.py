"""Runtimes: one network of a denoiser (gray or colour) behind the engine that runs it.

``keras`` (the Keras backend's compiled predict step), ``xla`` (the same, XLA-compiled), ``eager`` (plain
calls), ``bf16`` (compiled, mixed bfloat16: for CPUs with AMX/AVX512-BF16 units) or ``onnx`` (ONNX Runtime
on an exported model, without TensorFlow), ``openvino`` and ``openvino-bf16`` (OpenVINO's CPU plugin in
float32 or bfloat16, the ``openvino`` extra). ``auto`` (the default) and ``float32`` (the reference) mean
one of these by what the machine has (:func:`resolve_runtime`). Keras is imported only when a Keras model
is used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imgdenoise.cards import ModelCard

RUNTIMES = ("auto", "float32", "keras", "xla", "eager", "bf16", "onnx", "openvino", "openvino-bf16")
DEFAULT_RUNTIME = "auto"
KERAS_RUNTIMES = ("keras", "xla", "eager", "bf16")
OPENVINO_RUNTIMES = {"openvino": "float32", "openvino-bf16": "bfloat16"}  # runtime -> precision


def resolve_runtime(runtime: str, onnx_shipped: bool) -> str:
    """The engine ``runtime`` means for shipped weights (``onnx_shipped``: an ``.onnx`` ships beside them).

    ``auto``: the fastest path measured within 0.02 dB of float32 on every benchmark line (docs/benchmarks.md,
    Runtimes): OpenVINO in bfloat16 on CPUs with bfloat16 units, else OpenVINO in float32 (the ``openvino``
    extra), else ONNX Runtime (the core), else Keras. ``float32``: the float32 reference, reproducible to
    the bit: ONNX Runtime, else Keras. Any other name is itself.
    """
    if runtime not in ("auto", "float32"):
        return runtime
    if not onnx_shipped:
        return "keras"
    if runtime == "auto" and installed("openvino"):
        return "openvino-bf16" if cpu_has_bfloat16() else "openvino"
    return "onnx" if installed("onnxruntime") else "keras"


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (``onnxruntime`` is in the core install, ``keras`` in the ``train``
    extra), without importing it."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed install
        return False


class Variant:
    """One network of a denoiser (gray or colour) behind a runtime, with its model card.

    ``run(noisy, sigma_map)`` maps a batch (N, H, W, channels) (and, for noise-conditional
    networks, (N, H, W, 1) maps of sigma / 255) to the denoised batch; H and W must be
    multiples of ``multiple``.
    """

    card: ModelCard

    @property
    def channels(self) -> int:
        return self.card.channels

    @property
    def noise_conditional(self) -> bool:
        return self.card.noise_conditional

    @property
    def multiple(self) -> int:
        return self.card.multiple

    @property
    def width(self) -> int:
        """Channels at full resolution, for the memory estimate of automatic tiling."""
        return self.card.width

    def run(self, noisy: np.ndarray, sigma_map: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError


class KerasVariant(Variant):
    """A Keras model on the ``keras`` (compiled predict step; what ``auto`` means here), ``xla``, ``bf16`` or
    ``eager`` runtime."""

    def __init__(self, model, card: ModelCard | dict, runtime: str = DEFAULT_RUNTIME):
        runtime = "keras" if runtime in ("auto", "float32") else runtime
        if runtime not in KERAS_RUNTIMES:
            raise ValueError(f"runtime {runtime!r} does not run Keras models; use {', '.join(KERAS_RUNTIMES)}")
        if not isinstance(card, ModelCard) and "channels" not in card:
            card = {**card, "channels": int(model.inputs[0].shape[-1])}
        card = ModelCard.of(card)
        if runtime == "bf16":
            model = bfloat16_copy(model)
        self.model, self.card, self.runtime = model, card, runtime
        if runtime != "eager":
            model.compile(jit_compile=runtime == "xla")

    @property
    def width(self) -> int:
        return first_conv_width(self.model)

    def run(self, noisy, sigma_map):
        import keras

        inputs = [noisy, sigma_map] if self.noise_conditional else noisy
        if self.runtime == "eager":
            out = keras.ops.convert_to_numpy(self.model(inputs, training=False))
        else:
            out = self.model.predict_on_batch(inputs)
        return np.asarray(out, np.float32)


def bfloat16_copy(model):
    """``model`` cloned layer by layer under the mixed bfloat16 policy (bfloat16 compute, float32 weights),
    its weights copied: any Keras model, whatever built it (a ``.keras`` file without a card included)."""
    import keras

    def in_bfloat16(layer):
        config = layer.get_config()
        if "dtype" in config and not isinstance(layer, keras.layers.InputLayer):
            config["dtype"] = "mixed_bfloat16"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=in_bfloat16)
    copy.set_weights(model.get_weights())
    return copy


class OnnxVariant(Variant):
    """An exported model (``imgdenoise export --format onnx``, or shipped weights' ``.onnx``) on ONNX Runtime;
    no TensorFlow.

    The model card travels inside the ONNX file's metadata (``imgdenoise_card``); ``card`` (shipped weights:
    their card in the package) takes its place, keeping the exported network's ``width``.
    """

    def __init__(self, path, threads: int | None = None, card: ModelCard | None = None):
        import json

        import onnxruntime

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise ValueError(f"{path}: not a loadable ONNX model ({type(error).__name__}: {error})") from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        embedded = json.loads(metadata["imgdenoise_card"]) if "imgdenoise_card" in metadata else None
        if card is None and embedded is None:
            raise ValueError(f"{path}: ONNX model has no imgdenoise model card (export it with `imgdenoise export`)")
        if card is None:
            card = ModelCard.from_dict(embedded)
        elif embedded and "width" in embedded:
            card = card.replace(width=embedded["width"])
        self.card = card
        self.inputs = [i.name for i in self.session.get_inputs()]

    def run(self, noisy, sigma_map):
        feeds = {self.inputs[0]: noisy.astype(np.float32, copy=False)}
        if self.noise_conditional:
            feeds[self.inputs[1]] = (sigma_map * 255.0).astype(np.float32)  # exported models take sigma 0-255
        return self.session.run(None, feeds)[0]


class OpenVinoVariant(Variant):
    """Shipped weights' ``.onnx`` on OpenVINO's CPU plugin (the ``openvino`` extra), computing in ``float32``
    or ``bfloat16`` (CPUs with bfloat16 units: :func:`cpu_has_bfloat16`). The network is compiled for each
    input shape it meets (the last :data:`SHAPES_KEPT` are kept): tiles and same-size batches reuse one.
    """

    SHAPES_KEPT = 4

    def __init__(self, path, card: ModelCard, precision: str = "float32"):
        import openvino

        if precision not in ("float32", "bfloat16"):
            raise ValueError(f"unknown precision {precision!r}; available: float32, bfloat16")
        self.core, self.card, self.precision = openvino.Core(), card, precision
        self.network = self.core.read_model(str(path))
        self._compiled: dict[tuple, object] = {}

    def _compiled_for(self, shapes: tuple):
        if shapes not in self._compiled:
            network = self.network.clone()
            network.reshape({port: list(shape) for port, shape in zip(network.inputs, shapes)})
            hint = {"float32": "f32", "bfloat16": "bf16"}[self.precision]
            self._compiled[shapes] = self.core.compile_model(network, "CPU", {"INFERENCE_PRECISION_HINT": hint})
            while len(self._compiled) > self.SHAPES_KEPT:
                self._compiled.pop(next(iter(self._compiled)))
        return self._compiled[shapes]

    def run(self, noisy, sigma_map):
        inputs = [noisy.astype(np.float32, copy=False)]
        if self.noise_conditional:
            inputs.append((sigma_map * 255.0).astype(np.float32))  # exported models take sigma 0-255
        compiled = self._compiled_for(tuple(x.shape for x in inputs))
        return np.asarray(compiled(inputs)[compiled.output(0)], np.float32)


BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bfloat16() -> bool:
    """Whether this CPU has bfloat16 units (AVX512-BF16 or AMX), where bfloat16 inference and mixed
    bfloat16 training pay off (without them they are slower than float32). Reads Linux's
    ``/proc/cpuinfo``; elsewhere asks OpenVINO when it is installed; else False."""
    try:
        return has_bfloat16_flags(Path("/proc/cpuinfo").read_text())
    except OSError:
        pass
    if not installed("openvino"):
        return False
    import openvino

    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def has_bfloat16_flags(cpuinfo: str) -> bool:
    """Whether ``cpuinfo`` (the text of ``/proc/cpuinfo``) lists a bfloat16 unit's flag."""
    flags = set(cpuinfo.split())
    return any(flag in flags for flag in BFLOAT16_CPU_FLAGS)


def first_conv_width(model) -> int:
    import keras

    return next((layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)), 64)


def run_adapted(variant: Variant, x: np.ndarray, s: np.ndarray | None) -> np.ndarray:
    """A batch (N, h, w, C) through ``variant``, adapting its channels: a gray network takes colour
    channels as more images; a colour network takes a gray image replicated and its output averaged."""
    n, h, w, channels = x.shape
    if channels == variant.channels:
        return variant.run(x, s)
    if variant.channels == 1:
        batch = np.ascontiguousarray(np.moveaxis(x, -1, 1).reshape(n * channels, h, w, 1))
        maps = None if s is None else np.repeat(s, channels, axis=0)
        return np.moveaxis(variant.run(batch, maps).reshape(n, channels, h, w), 1, -1)
    return variant.run(np.repeat(x, variant.channels, axis=-1), s).mean(-1, keepdims=True)
