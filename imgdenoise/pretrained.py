"""Shipped weights: a float16 ``.npz`` weights file beside a JSON model card.

A model card records the architecture (registry name + builder config), the
training data and noise range, the steps trained, the measured PSNR table and
the SHA-256 of the weights file, which loading checks. Weights load offline
from the package; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgdenoise.cards import ModelCard
from imgdenoise.files import atomic_target, atomic_write_text

WEIGHTS_DIR = Path(__file__).parent / "weights"


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_cards(task: str | None = "denoise") -> dict[str, ModelCard]:
    """Model cards of the weights shipped in the package, by stem (``unet-gray``), of ``task``
    (``denoise``: denoisers, ``noise-level``: level estimators, None: all)."""
    cards = {p.stem: ModelCard.read(p) for p in sorted(WEIGHTS_DIR.glob("*.json")) if p.name != ALIASES.name}
    return {stem: card for stem, card in cards.items() if task is None or card.task == task}


ALIASES = WEIGHTS_DIR / "aliases.json"


def aliases() -> dict[str, dict]:
    """Names that stand for a shipped model plus how to use it blind (``weights/aliases.json``), e.g.
    ``default``: ``{"model": "unet", "level_estimator": "level-real", "why": ...}``. Keys: ``model`` (a
    family or stem), optional ``level_estimator`` (an estimator's stem, for calls without sigma) and
    ``blind_model`` (another model that takes calls without sigma). Read through :func:`alias`."""
    return json.loads(ALIASES.read_text()) if ALIASES.is_file() else {}


@dataclass(frozen=True)
class Alias:
    """What a name of ``aliases.json`` (``default``) stands for: the shipped ``model`` (a family or stem), the
    ``level_estimator`` it reads noise levels with when no sigma is given, a ``blind_model`` that takes over
    calls without sigma, and ``why`` (the measurement that chose it)."""

    name: str
    model: str
    level_estimator: str | None = None
    blind_model: str | None = None
    why: str = ""


def alias(name: str) -> Alias | None:
    """The alias ``name`` (:class:`Alias`), or None if ``name`` is not one: the one place an alias such as
    ``default`` is resolved (loading, the service and ``imgdenoise models`` ask here)."""
    entry = aliases().get(name)
    return None if entry is None else Alias(name, **entry)


def stems_of(name: str) -> list[str]:
    """Every shipped file a name loads, networks first: an alias's model, level estimator and blind model,
    or :func:`resolve_shipped`'s stems."""
    entry = alias(name)
    if entry is None:
        return resolve_shipped(name)
    stems = resolve_shipped(entry.model)
    for extra in [entry.level_estimator] + (resolve_shipped(entry.blind_model) if entry.blind_model else []):
        if extra and extra not in stems:
            stems.append(extra)
    return stems


def shipped_names() -> list[str]:
    """Every name a shipped denoiser loads by: the aliases (``default``), each family (``unet``) and each
    weight's stem."""
    cards = shipped_cards()
    return sorted(aliases()) + sorted({c.family_name for c in cards.values()} | set(cards))


def resolve_shipped(name: str) -> list[str]:
    """The stems ``name`` loads: a family's weights, or one stem (with the gray network of its family
    when its card fuses luminance with it); empty if ``name`` is not shipped."""
    cards = shipped_cards()
    if name in cards:
        card = cards[name]
        partners = [s for s, c in cards.items() if s != name and c.family_name == card.family_name and c.channels == 1]
        return [name] + (partners[:1] if card.luminance_weight else [])
    return [stem for stem, card in cards.items() if card.family_name == name]


def save_pretrained(model, card: ModelCard | dict, directory, stem: str, dtype: str = "float16") -> Path:
    """Write ``stem.npz`` (weights cast to ``dtype``) and ``stem.json`` (the card) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights_path = directory / f"{stem}.npz"
    arrays = {f"w{i:03d}": np.asarray(w).astype(dtype) for i, w in enumerate(model.get_weights())}
    with atomic_target(weights_path) as target:
        np.savez_compressed(target, **arrays)
    card = ModelCard.of(card).replace(weights=weights_path.name, weights_dtype=dtype, sha256=sha256(weights_path),
                                      parameters=int(model.count_params()))
    card_path = directory / f"{stem}.json"
    atomic_write_text(card_path, json.dumps(card.to_dict(), indent=2) + "\n")
    return card_path


def load_pretrained(card_path):
    """Build the Keras model a card describes and load its weights (hash checked). Float32.
    Returns ``(model, card)``."""
    from imgdenoise.models import build_model

    card_path = Path(card_path)
    card = ModelCard.read(card_path)
    weights_path = checked_file(card_path.parent / card.weights, card.sha256, card_path)
    model = build_model(card.name, **card.builder_arguments)
    with np.load(weights_path, allow_pickle=False) as data:
        model.set_weights([data[k].astype(np.float32) for k in sorted(data.files)])
    return model, card


def card_for_model(model) -> ModelCard:
    """A minimal card for a Keras model that came without one (a bare ``.keras`` file)."""
    from imgdenoise.models import architecture_of, get_spec

    config = architecture_of(model)
    spec = get_spec(config["name"])
    channels = int(model.inputs[0].shape[-1])
    return ModelCard({**config, "channels": channels}, channels, task=spec.task,
                     noise_conditional=spec.noise_conditional, multiple=spec.multiple_for(config))


def ship_onnx(stem: str, directory=WEIGHTS_DIR) -> Path:
    """Export shipped weights ``stem`` to ``STEM.onnx`` beside them (float16 weights,
    :func:`~imgdenoise.export.store_weights_in_float16`) and record it in the card (``onnx``,
    ``onnx_sha256``), so the core install runs them on ONNX Runtime without TensorFlow. Needs the export
    extra (TensorFlow, tf2onnx); run by ``imgdenoise pack`` and ``make onnx``."""
    from imgdenoise.export import export_network, store_weights_in_float16

    directory = Path(directory)
    card_path = directory / f"{stem}.json"
    model, card = load_pretrained(card_path)
    path = directory / f"{stem}.onnx"
    with atomic_target(path) as target:
        export_network(model, card, target, "onnx")
        store_weights_in_float16(target)
    from imgdenoise.runtimes import first_conv_width

    record = json.loads(card_path.read_text())  # edited as written: key order kept
    record.update(onnx=path.name, onnx_sha256=sha256(path), width=first_conv_width(model))
    atomic_write_text(card_path, json.dumps(record, indent=2) + "\n")
    return path


def checked_file(path, expected: str, card_path) -> Path:
    """``path`` if its SHA-256 is ``expected`` (what its card records), else ValueError naming it."""
    if sha256(path) != expected:
        raise ValueError(f"{path}: SHA-256 does not match its model card {Path(card_path).name}; the file is damaged")
    return Path(path)


def cache_dir() -> Path:
    """Where exports of the shipped weights are kept: ``$IMGDENOISE_CACHE`` or ``~/.cache/imgdenoise``."""
    return Path(os.environ.get("IMGDENOISE_CACHE") or Path.home() / ".cache" / "imgdenoise")


def cached_onnx(stem: str) -> Path:
    """The ONNX export of shipped weights ``stem`` (e.g. ``unet-gray``), exported on first use
    (which needs TensorFlow); later uses need only ONNX Runtime.

    The file name carries the weights' SHA-256, so new weights get a new export.
    """
    card = shipped_cards()[stem]
    path = cache_dir() / f"{stem}-{card.sha256[:12]}.onnx"
    if not path.is_file():
        from imgdenoise.export import export_network

        model, card = load_pretrained(WEIGHTS_DIR / f"{stem}.json")
        export_network(model, card, path, "onnx")
    return path
