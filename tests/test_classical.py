import pytest

from imgdenoise.cards import ModelCard
from imgdenoise.classical import METHODS, ClassicalDenoiser
from imgdenoise.evaluate import evaluate


@pytest.mark.parametrize("method", ["bm3d", "nlm", "tv", "wavelet"])
def test_classical_methods_denoise(method, image_folder):
    better = evaluate(ClassicalDenoiser(method), image_folder, [25], progress=False)[0]
    baseline = evaluate(ClassicalDenoiser("noisy"), image_folder, [25], progress=False)[0]
    assert better["psnr"] > baseline["psnr"] + 2


def test_classical_methods_keep_shape(rgb_image):
    for method in METHODS:
        assert ClassicalDenoiser(method).denoise(rgb_image, 20).shape == rgb_image.shape


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'bm4d'; available: bm3d"):
        ClassicalDenoiser("bm4d")


def test_a_classical_method_has_a_typed_card_naming_it_and_its_library():
    card = ClassicalDenoiser("wavelet").card
    assert isinstance(card, ModelCard) and card.name == "wavelet" and card.noise_conditional
    assert card.extra["classical"] and card.extra["library"] == "skimage"
    assert ClassicalDenoiser("noisy").card.extra["library"] == "none"
