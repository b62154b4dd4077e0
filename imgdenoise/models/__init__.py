"""Model registry: every architecture registers itself by name, in its own file.

>>> from imgdenoise.models import build_model, list_models
>>> model = build_model("dncnn", channels=1)

A registered model is a plain ``keras.Model`` built by a function with explicit
keyword arguments. The registry records what a caller needs to run any of them:

- ``noise_conditional``: the model takes two inputs, ``[noisy, sigma_map]``,
  where ``sigma_map`` is ``(N, H, W, 1)`` holding sigma / 255; other models take
  the noisy image alone.
- ``multiple``: height and width must be multiples of this (the inference
  wrapper pads and crops to satisfy it).
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

    def multiple_for(self, config: dict) -> int:
        """Size multiple for a given config (some models change it with depth)."""
        return self.multiple(config) if callable(self.multiple) else self.multiple


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, *, noise_conditional: bool = False, multiple=1, description: str = ""):
    """Decorator registering ``builder`` under ``name``."""

    def wrap(builder):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        doc = description or (builder.__doc__ or "").strip().splitlines()[0]
        _REGISTRY[name] = ModelSpec(name, builder, noise_conditional, multiple, doc)
        return builder

    return wrap


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}") from None


def build_model(name: str, **config) -> keras.Model:
    """Build registered model ``name`` with keyword ``config`` (see its builder)."""
    model = get_spec(name).builder(**config)
    model.imgdenoise_config = {"name": name, **config}
    return model


# Import the architecture files so they register themselves.
from imgdenoise.models import dncnn, seed, unet  # noqa: E402,F401
