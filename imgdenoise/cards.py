"""Model cards: what a network's card says, as one typed object.

A card is the JSON file beside a network's weights (shipped ``imgdenoise/weights/STEM.json``, a run's
``best.json``, the metadata of an exported ``.onnx``). :class:`ModelCard` holds the fields that loading
and running the network depend on, typed, with their defaults in one place; everything else a card
records (training data and stages, benchmark tables, notes, an estimator's calibration) is kept as read
in ``extra`` and written back unchanged. Readers take a :class:`ModelCard` (:meth:`ModelCard.of` accepts
the dict form too); writers build the dict form (:meth:`ModelCard.to_dict`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class ModelCard:
    """The typed fields of a model card.

    ``architecture``: the registry name and builder arguments (``{"name": "unet", "preset": "base",
    "channels": 3}``); ``channels``: 1 (gray) or 3 (colour); ``task``: ``denoise`` or ``noise-level``;
    ``noise_conditional``: the network takes a sigma map (sigma / 255) beside the image; ``multiple``: image
    sides must be multiples of it; ``width``: channels at full resolution (tiling's memory estimate);
    ``family``: the name its weights load under together (default: the architecture's); ``luminance_weight``:
    the share of the way a colour output's luminance moves to the gray network's (0: none);
    ``level_estimator``: the estimator whose readings the network was trained to be told (blind use);
    ``weights``/``sha256``: the weights file beside the card and its hash; ``onnx``/``onnx_sha256``: the same
    network exported to ONNX beside it (float16 weights: what ONNX Runtime runs without TensorFlow).
    """

    architecture: Mapping
    channels: int
    task: str = "denoise"
    noise_conditional: bool = False
    multiple: int = 1
    width: int = 64
    family: str | None = None
    luminance_weight: float = 0.0
    level_estimator: str | None = None
    weights: str | None = None
    sha256: str | None = None
    onnx: str | None = None
    onnx_sha256: str | None = None
    extra: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "architecture", MappingProxyType(dict(self.architecture)))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    @property
    def name(self) -> str:
        """The architecture's registry name (``unet``)."""
        return self.architecture["name"]

    @property
    def family_name(self) -> str:
        """The name under which weights load together: ``family``, or the architecture's name."""
        return self.family or self.name

    @property
    def builder_arguments(self) -> dict:
        """The architecture's builder arguments, without its name."""
        return {k: v for k, v in self.architecture.items() if k != "name"}

    @classmethod
    def from_dict(cls, data: Mapping) -> ModelCard:
        """A card from its JSON form; ``channels`` falls back to the architecture's. Raises ValueError
        for a card without an architecture or channels."""
        data = dict(data)
        if "architecture" not in data:
            raise ValueError("a model card needs an 'architecture' ({'name': ..., builder arguments})")
        channels = data.get("channels", data["architecture"].get("channels"))
        if channels is None:
            raise ValueError("a model card needs 'channels' (1 or 3)")
        typed = {f.name: data.pop(f.name) for f in fields(cls) if f.name in data and f.name != "extra"}
        typed["channels"] = int(channels)
        for name, kind in (("multiple", int), ("width", int), ("luminance_weight", float),
                           ("noise_conditional", bool)):
            if name in typed:
                typed[name] = kind(typed[name])
        return cls(**typed, extra=data)

    @classmethod
    def of(cls, card: ModelCard | Mapping) -> ModelCard:
        """``card`` itself, or the card its dict form describes."""
        return card if isinstance(card, ModelCard) else cls.from_dict(card)

    @classmethod
    def read(cls, path) -> ModelCard:
        """The card in JSON file ``path``."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict:
        """The JSON form: the typed fields that differ from their defaults (the architecture and channels
        always), then ``extra``."""
        data = {"architecture": dict(self.architecture), "channels": self.channels}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in ("architecture", "channels", "extra") and value != f.default:
                data[f.name] = value
        return {**data, **self.extra}

    def replace(self, **changes) -> ModelCard:
        """A copy with ``changes`` (typed fields or ``extra`` keys)."""
        return ModelCard.from_dict({**self.to_dict(), **changes})
