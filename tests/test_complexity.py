import pytest

from imgdenoise.models import build_model
from imgdenoise.models.complexity import flops_per_pixel


def test_dncnn_flops_match_the_closed_form():
    expected = 2 * (9 * 1 * 64 + 15 * 9 * 64 * 64 + 9 * 64 * 1)
    assert flops_per_pixel(build_model("dncnn")) == pytest.approx(expected)


def test_downsampling_makes_the_unet_cheaper_per_parameter():
    unet, dncnn = build_model("unet", preset="base"), build_model("dncnn")
    assert unet.count_params() > 5 * dncnn.count_params()
    assert flops_per_pixel(unet) < 0.5 * flops_per_pixel(dncnn)


def test_flops_do_not_depend_on_the_probe_size():
    model = build_model("unet", preset="tiny")
    assert flops_per_pixel(model, size=64) == pytest.approx(flops_per_pixel(model, size=128))
