"""Model cards as one typed object: defaults in one place, unknown fields kept, JSON round trip."""

import json

import pytest

from imgdenoise.cards import ModelCard


def test_a_card_types_what_running_needs_and_keeps_the_rest():
    data = {"architecture": {"name": "unet", "preset": "base", "channels": 3}, "channels": 3,
            "noise_conditional": True, "multiple": "8", "luminance_weight": 0.5, "training": {"loss": "l1"}}
    card = ModelCard.from_dict(data)
    assert (card.name, card.family_name, card.channels, card.multiple) == ("unet", "unet", 3, 8)
    assert card.noise_conditional and card.luminance_weight == 0.5 and card.level_estimator is None
    assert card.builder_arguments == {"preset": "base", "channels": 3} and card.extra == {"training": {"loss": "l1"}}
    assert ModelCard.from_dict(json.loads(json.dumps(card.to_dict()))) == card


def test_defaults_and_replace():
    card = ModelCard.from_dict({"architecture": {"name": "dncnn", "channels": 1}})
    assert (card.channels, card.task, card.multiple, card.width, card.noise_conditional) == (1, "denoise", 1, 64, False)
    assert card.to_dict() == {"architecture": {"name": "dncnn", "channels": 1}, "channels": 1}
    changed = card.replace(family="real", notes="x")
    assert changed.family_name == "real" and changed.extra["notes"] == "x" and card.family is None
    with pytest.raises(TypeError):
        changed.architecture["name"] = "seed"  # read-only: a card is shared by every variant loaded from it


def test_a_card_without_architecture_or_channels_is_refused():
    with pytest.raises(ValueError, match="architecture"):
        ModelCard.from_dict({"channels": 1})
    with pytest.raises(ValueError, match="channels"):
        ModelCard.from_dict({"architecture": {"name": "dncnn"}})
