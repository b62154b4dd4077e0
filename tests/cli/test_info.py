"""imgdenoise.cli.info and imgdenoise.cli.models."""

import numpy as np

from imgdenoise.cli import main
from imgdenoise.io import write_image


def test_info_and_models(tmp_path, gray_image, capsys):
    noisy = gray_image + np.random.default_rng(0).normal(0, 0.1, gray_image.shape)
    src = write_image(tmp_path / "a.png", np.clip(noisy, 0, 1))
    assert main(["info", str(src)]) == 0
    assert "45x37 gray, 8-bit PNG, estimated noise sigma" in capsys.readouterr().out
    assert main(["models"]) == 0
    assert "unet" in capsys.readouterr().out
