import numpy as np
import pytest

from imgdenoise.classical import ClassicalDenoiser
from imgdenoise.evaluate import evaluate, format_table, method_labels
from imgdenoise.metrics import psnr
from imgdenoise.noise import add_protocol_noise


def test_evaluate_records_and_identical_inputs(image_folder):
    noisy = evaluate(ClassicalDenoiser("noisy"), image_folder, [15, 50], progress=False)
    assert [r["sigma"] for r in noisy] == [15, 50]
    record = noisy[0]
    assert set(record) >= {"method", "dataset", "sigma", "psnr", "ssim", "seconds_per_mpix", "images", "per_image"}
    assert record["images"] == 6 and len(record["per_image"]) == 6 and record["dataset"] == "images"
    # The "noisy" method returns its input: its PSNR is that of the protocol noise itself.
    from imgdenoise.evaluate import load_benchmark

    name, clean = load_benchmark(image_folder)[0]
    assert record["per_image"][0]["psnr"] == pytest.approx(psnr(clean, add_protocol_noise(clean, 15)))
    assert noisy[0]["psnr"] > noisy[1]["psnr"]
    assert "| noisy | images | 15 |" in format_table(noisy)


def test_blind_evaluation_estimates_sigma(image_folder):
    told = evaluate(ClassicalDenoiser("wavelet"), image_folder, [25], progress=False)[0]
    blind = evaluate(ClassicalDenoiser("wavelet"), image_folder, [25], progress=False, blind=True)[0]
    assert abs(told["psnr"] - blind["psnr"]) < 0.5


def test_evaluate_on_a_list_of_files_and_globs(image_folder):
    records = evaluate(ClassicalDenoiser("noisy"), [str(image_folder / "img0.png"), str(image_folder / "img1*")],
                       [25], progress=False, dataset="two")
    assert records[0]["images"] == 2 and records[0]["dataset"] == "two"


def test_evaluation_is_reproducible_run_to_run(image_folder):
    from imgdenoise import load_model

    def scores():
        records = evaluate(load_model("seed"), image_folder, [15, 50], progress=False)
        return [(r["sigma"], r["psnr"], r["ssim"], [i["psnr"] for i in r["per_image"]]) for r in records]

    assert scores() == scores()


def test_method_labels_shorten_model_files_unless_they_clash(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "best.keras").write_bytes(b"")
    a, b = str(tmp_path / "a" / "best.keras"), str(tmp_path / "b" / "best.keras")
    assert method_labels(["unet", f"{a}:fast", "bm3d"]) == ["unet", "best.keras:fast", "bm3d"]
    assert method_labels([a, b]) == [a, b]  # both would read best.keras
    assert method_labels([a, f"{a}:fast"]) == ["best.keras", "best.keras:fast"]


def _pairs(root, gray_image, names=("a.png", "b.png")):
    """``root/noisy`` + ``root/clean`` with real-looking pairs (fixed noise) of ``gray_image``."""
    from imgdenoise.io import write_image

    for i, name in enumerate(names):
        noisy = np.clip(gray_image + np.random.default_rng(i).normal(0, 0.08, gray_image.shape), 0, 1)
        write_image(root / "noisy" / name, noisy)
        write_image(root / "clean" / name, gray_image)
    return root


def test_paired_evaluation_scores_real_pairs_blind_with_nothing_added(tmp_path, gray_image):
    from imgdenoise.evaluate import evaluate_paired, load_pairs

    pairs, problems = load_pairs(_pairs(tmp_path, gray_image))
    assert problems == [] and [p[0] for p in pairs] == ["a.png", "b.png"]
    record = evaluate_paired(ClassicalDenoiser("noisy"), pairs, method="noisy", dataset="d")
    assert record["sigma"] == "blind" and record["images"] == 2
    assert record["per_image"][0]["psnr"] == pytest.approx(psnr(pairs[0][2], pairs[0][1]))  # nothing added
    assert record["per_image"][0]["residual_std"] == pytest.approx(np.std(pairs[0][1] - pairs[0][2]) * 255, rel=1e-4)
    blind = evaluate_paired(ClassicalDenoiser("wavelet"), pairs, method="wavelet", dataset="d")
    assert blind["psnr"] > record["psnr"] + 2
    told = evaluate_paired(ClassicalDenoiser("wavelet"), pairs, method="wavelet", dataset="d", sigma=5)
    assert told["sigma"] == 5 and told["psnr"] != blind["psnr"]
    assert "| wavelet | d | blind |" in format_table([blind])


def test_paired_evaluation_reports_bad_pairs_and_scores_the_rest(tmp_path, gray_image):
    from imgdenoise.evaluate import load_pairs
    from imgdenoise.io import write_image

    root = _pairs(tmp_path, gray_image, names=("a.png", "b.png", "c.png"))
    (root / "clean" / "c.png").unlink()  # missing partner
    write_image(root / "noisy" / "d.png", gray_image)
    write_image(root / "clean" / "d.png", gray_image[:20])  # size mismatch
    (root / "noisy" / "e.png").write_bytes(b"not a png")  # unreadable
    (root / "clean" / "e.png").write_bytes(b"not a png")
    pairs, problems = load_pairs(root)
    assert [p[0] for p in pairs] == ["a.png", "b.png"]
    assert len(problems) == 3
    assert any("c.png: no partner in clean/" in p for p in problems)
    assert any("d.png: 45x37 but its clean partner is 45x20" in p for p in problems)
    assert any("e.png" in p for p in problems)
    with pytest.raises(ValueError, match="no noisy/ folder"):
        load_pairs(tmp_path / "clean")
