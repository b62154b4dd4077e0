"""imgdenoise.cli.compare: the comparison figure."""

import numpy as np

from imgdenoise.cli import main
from imgdenoise.io import write_image


def test_compare_figure(tmp_path, gray_image, capsys):
    src = write_image(tmp_path / "clean.png", np.tile(gray_image, (2, 2, 1)))
    assert main(["compare", str(src), "--sigma", "25", "--methods", "wavelet,tv", "-o", str(tmp_path / "f.png")]) == 0
    assert (tmp_path / "f.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "wavelet" in out and "PSNR" in out
