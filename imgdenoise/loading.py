"""Loading denoisers by name: the shipped weights and aliases (``default``), ``.keras`` run files, model
cards, exported ONNX files and the classical methods, each returned as a :class:`~imgdenoise.inference.Denoiser`
(or a :class:`~imgdenoise.classical.ClassicalDenoiser`).
"""

from __future__ import annotations

from pathlib import Path

from imgdenoise.cards import ModelCard
from imgdenoise.inference import Denoiser
from imgdenoise.runtimes import DEFAULT_RUNTIME, RUNTIMES, KerasVariant, OnnxVariant, Variant

DEFAULT_MODEL = "default"


def load_model(name_or_path="default", runtime: str = DEFAULT_RUNTIME):
    """Load a denoiser: a shipped name (``default``, a family such as ``unet``, or one weight's
    stem such as ``unet-color``: :func:`~imgdenoise.pretrained.shipped_names`), a ``.keras`` file
    (its ``.json`` model card beside it is used when present), a card ``.json``,
    an exported ``.onnx`` file (runs on ONNX Runtime), or a classical method (``bm3d``,
    ``nlm``, ``tv``, ``wavelet``, ``noisy``).

    ``runtime``: see the module docstring; ``onnx`` with a shipped name exports the shipped
    weights once into the user's cache folder. ``.keras`` files load in Keras safe mode: no
    code from the file is executed.
    """
    from imgdenoise.classical import METHODS, ClassicalDenoiser

    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; available: {', '.join(RUNTIMES)}")
    text = str(name_or_path)
    if text in METHODS:
        return ClassicalDenoiser(text)
    path = Path(text)
    if path.suffix == ".onnx":
        variant = OnnxVariant(path)
        return Denoiser({variant.channels: variant}, name=variant.card.name)
    if path.suffix == ".json" and path.is_file():
        from imgdenoise.pretrained import load_pretrained

        model, card = load_pretrained(path)
        return Denoiser({card.channels: (model, card)}, runtime=runtime, estimator=_card_estimator(card, runtime))
    if path.suffix == ".keras":
        model, card = _load_keras_file(path)
        return Denoiser({card.channels: (model, card)}, runtime=runtime, estimator=_card_estimator(card, runtime))
    denoiser = _shipped_denoiser(text, runtime)
    if denoiser is None:
        from imgdenoise.models import list_models
        from imgdenoise.pretrained import shipped_names

        raise ValueError(f"no shipped weights for model {text!r}; shipped: {', '.join(shipped_names())} "
                         f"(registered architectures: {', '.join(list_models())}); or give a .keras path")
    return denoiser


def _shipped_denoiser(name: str, runtime: str = DEFAULT_RUNTIME) -> Denoiser | None:
    """The shipped denoiser ``name``: an alias (``default``, :func:`~imgdenoise.pretrained.aliases`), a
    family or a stem (:func:`~imgdenoise.pretrained.resolve_shipped`); None if there is none."""
    from imgdenoise.pretrained import alias, resolve_shipped, shipped_cards

    entry = alias(name)
    if entry is not None:
        denoiser = _shipped_denoiser(entry.model, runtime)
        if denoiser is None:
            return None
        if entry.level_estimator:
            denoiser.estimator = _level_estimator(entry.level_estimator, runtime)
        if entry.blind_model:
            denoiser.blind = _shipped_denoiser(entry.blind_model, runtime)
        denoiser.name = name
        return denoiser
    stems = resolve_shipped(name)
    if not stems:
        return None
    cards = shipped_cards()
    variants = {}
    for stem in stems:
        variants.setdefault(cards[stem].channels, shipped_variant(stem, runtime))
    return Denoiser(variants, name=name, estimator=_card_estimator(cards[stems[0]], runtime))


def _card_estimator(card: ModelCard, runtime: str = DEFAULT_RUNTIME):
    """The level estimator a weight's card names (the one it was trained to be told), or None."""
    return _level_estimator(card.level_estimator, runtime) if card.level_estimator else None


def _level_estimator(stem: str, runtime: str = DEFAULT_RUNTIME):
    from imgdenoise.estimator import load_level_estimator

    return load_level_estimator(stem, runtime)


def shipped_variant(stem: str, runtime: str) -> Variant:
    """Shipped weights ``stem`` on ``runtime`` (:func:`~imgdenoise.runtimes.resolve_runtime`): OpenVINO and ONNX
    Runtime run the ``.onnx`` shipped beside the weights (hash checked), Keras the float16 ``.npz``."""
    from imgdenoise.pretrained import WEIGHTS_DIR, cached_onnx, checked_file, load_pretrained, shipped_cards
    from imgdenoise.runtimes import OPENVINO_RUNTIMES, OpenVinoVariant, resolve_runtime

    card, card_path = shipped_cards(task=None)[stem], WEIGHTS_DIR / f"{stem}.json"
    runtime = resolve_runtime(runtime, bool(card.onnx))
    if runtime in OPENVINO_RUNTIMES or runtime == "onnx":
        onnx = checked_file(WEIGHTS_DIR / card.onnx, card.onnx_sha256, card_path) if card.onnx else None
        if runtime == "onnx":  # without a shipped .onnx: exported once into the cache (needs TensorFlow once)
            return OnnxVariant(onnx or cached_onnx(stem), card=card)
        if onnx is None:
            raise ValueError(f"{stem}: OpenVINO runs shipped weights with an .onnx beside them; this one has none")
        return OpenVinoVariant(onnx, card, OPENVINO_RUNTIMES[runtime])
    model, card = load_pretrained(card_path)
    return KerasVariant(model, card, runtime)


def _load_keras_file(path: Path):
    """A ``.keras`` file and its card (the ``.json`` beside it, or one derived from the model)."""
    import keras

    import imgdenoise.models  # noqa: F401 - registers models.Network, the class of the files it saves
    from imgdenoise.pretrained import card_for_model

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise ValueError(f"{path}: not a loadable Keras model ({type(error).__name__}: {error})") from None
    card_path = path.with_suffix(".json")
    return model, ModelCard.read(card_path) if card_path.is_file() else card_for_model(model)
