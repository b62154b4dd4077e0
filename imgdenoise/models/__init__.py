"""Model registry: every architecture registers itself by name, in its own file.

>>> from imgdenoise.models import build_model, list_models
>>> model = build_model("dncnn", channels=1)

A registered model is built by a function with explicit keyword arguments;
:func:`build_model` returns it as a :class:`Network`, a functional ``keras.Model``
whose ``get_config()`` holds the architecture's name and those arguments, so a
saved ``.keras`` file rebuilds itself from them (KerasHub's backbone pattern).
The registry records what a caller needs to run any of them:

- ``noise_conditional``: the model takes two inputs, ``[noisy, sigma_map]``,
  where ``sigma_map`` is ``(N, H, W, 1)`` holding sigma / 255; other models take
  the noisy image alone.
- ``multiple``: height and width must be multiples of this (the inference
  wrapper pads and crops to satisfy it).
- ``task``: ``denoise`` (image in, image out: what :func:`list_models` lists) or
  ``noise-level`` (image in, a noise-level estimate out: :mod:`imgdenoise.estimator`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    builder: Callable[..., keras.Model]
    noise_conditional: bool
    multiple: int
    description: str
    task: str = "denoise"

    def multiple_for(self, config: dict) -> int:
        """Size multiple for a given config (some models change it with depth)."""
        return self.multiple(config) if callable(self.multiple) else self.multiple


_REGISTRY: dict[str, ModelSpec] = {}


TASKS = ("denoise", "noise-level")


def register_model(name: str, *, noise_conditional: bool = False, multiple=1, description: str = "",
                   task: str = "denoise"):
    """Decorator registering ``builder`` under ``name``."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; available: {', '.join(TASKS)}")

    def wrap(builder):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        doc = description or (builder.__doc__ or "").strip().splitlines()[0]
        _REGISTRY[name] = ModelSpec(name, builder, noise_conditional, multiple, doc, task)
        return builder

    return wrap


def list_models(task: str | None = "denoise") -> list[str]:
    """Registered names doing ``task`` (default: the denoisers; None: all)."""
    return sorted(name for name, spec in _REGISTRY.items() if task is None or spec.task == task)


def get_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models(None))}") from None


@keras.saving.register_keras_serializable(package="imgdenoise")
class Network(keras.Model):
    """Registered architecture ``architecture`` built with the builder's keyword arguments ``config``: a
    functional model (the builder's graph) whose :meth:`get_config` is ``{"architecture", "config",
    "name"}``, so saving and loading (``.keras``), cloning and model cards all see how it was built."""

    def __init__(self, architecture: str, config: dict | None = None, **kwargs):
        config = dict(config or {})
        graph = get_spec(architecture).builder(**config)
        kwargs.setdefault("name", graph.name)
        super().__init__(inputs=graph.inputs, outputs=graph.outputs, **kwargs)
        self.architecture, self.builder_config = architecture, config

    def get_config(self) -> dict:
        return {"architecture": self.architecture, "config": self.builder_config, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Network:
        return cls(**config)


def build_model(name: str, **config) -> Network:
    """Build registered model ``name`` with keyword ``config`` (see its builder)."""
    return Network(name, config)


def architecture_of(model) -> dict:
    """How ``model`` was built, as model cards record it: ``{"name": ..., **builder arguments}`` (a
    :class:`Network`), or ``{"name": model.name}`` for a model saved before it carried them."""
    if isinstance(model, Network):
        return {"name": model.architecture, **model.builder_config}
    return {"name": model.name}


# Import the architecture files so they register themselves.
from imgdenoise.models import dncnn, level, seed, unet  # noqa: E402,F401
