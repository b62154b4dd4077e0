"""imgdenoise.cli.evaluate: tables and JSON records, synthetic and paired."""

import json

import pytest

from imgdenoise.cli import main
from imgdenoise.io import write_image


def test_evaluate_writes_json(tmp_path, image_folder, capsys):
    out = tmp_path / "r.json"
    assert main(["evaluate", "--method", "noisy", "wavelet", "--data", str(image_folder), "--sigma", "25",
                 "--json", str(out), "--plot", str(tmp_path / "p.png")]) == 0
    records = json.loads(out.read_text())
    assert [r["method"] for r in records] == ["noisy", "wavelet"]
    assert records[1]["psnr"] > records[0]["psnr"]
    assert (tmp_path / "p.png").stat().st_size > 0
    assert "| wavelet | images | 25 |" in capsys.readouterr().out


def test_evaluate_quality_suffix_overrides_quality(tmp_path, tiny_model, image_folder):
    out = tmp_path / "r.json"
    fast = f"{tiny_model}:fast"
    assert main(["evaluate", "--model", fast, str(tiny_model), "--data", str(image_folder), "--sigma", "25",
                 "--quality", "best", "--json", str(out)]) == 0
    records = {r["method"]: r for r in json.loads(out.read_text())}
    assert set(records) == {"m.keras:fast", "m.keras"}  # model files are labelled by their file name
    from imgdenoise import load_model
    from imgdenoise.evaluate import evaluate

    denoiser = load_model(str(tiny_model))
    for label, quality in (("m.keras:fast", "fast"), ("m.keras", "best")):
        expected = evaluate(denoiser, image_folder, [25.0], quality=quality)[0]
        assert records[label]["psnr"] == pytest.approx(expected["psnr"], abs=1e-9)
    assert records["m.keras:fast"]["psnr"] != records["m.keras"]["psnr"]


def test_evaluate_paired_prints_a_table_and_json_and_reports_bad_pairs(tmp_path, gray_image, capsys):
    from tests.test_evaluate import _pairs

    root = _pairs(tmp_path / "real", gray_image)
    write_image(root / "noisy" / "lonely.png", gray_image)
    out = tmp_path / "records.json"
    assert main(["evaluate", "--paired", str(root), "--method", "noisy", "wavelet", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "| wavelet | real | blind |" in captured.out and "lonely.png: no partner in clean/" in captured.err
    records = json.loads(out.read_text())
    assert [r["method"] for r in records] == ["noisy", "wavelet"] and len(records[0]["per_image"]) == 2
    assert main(["evaluate", "--paired", str(root), "--data", str(root), "--method", "noisy"]) == 2
    assert main(["evaluate", "--paired", str(tmp_path), "--method", "noisy"]) == 2  # no noisy/ folder
