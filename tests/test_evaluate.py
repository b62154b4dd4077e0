import pytest

from imgdenoise.classical import METHODS, ClassicalDenoiser
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
