import numpy as np
import pytest

from imgdenoise.selfsupervised import (
    NoisyPatches,
    blind_spot_mask,
    cells_select,
    neighbour_masks,
    noise2void_inputs,
    subsample,
)


def test_no_masked_pixel_sees_its_own_value():
    rng = np.random.default_rng(0)
    patch = np.arange(40 * 36, dtype=np.float32).reshape(40, 36, 1)  # every value unique
    masked, mask = noise2void_inputs(patch, 0.05, rng)
    rows, cols = np.nonzero(mask[..., 0])
    assert 0.02 < len(rows) / patch[..., 0].size < 0.08
    assert np.all(masked[rows, cols] != patch[rows, cols])  # the blind spot
    unmasked = mask[..., 0] == 0
    np.testing.assert_array_equal(masked[unmasked], patch[unmasked])


def test_blind_spot_values_come_from_a_near_neighbour_inside_the_patch():
    rows, cols, sources = blind_spot_mask((12, 9), 0.2, np.random.default_rng(1), radius=2)
    offsets = np.abs(sources - np.stack([rows, cols], -1))
    assert np.all(offsets.max(axis=1) <= 2) and np.all(offsets.max(axis=1) >= 1)
    assert np.all((sources >= 0) & (sources < [12, 9]))


def test_neighbour_subsampler_picks_two_different_adjacent_pixels_per_cell():
    mask1, mask2 = neighbour_masks((10, 7), np.random.default_rng(0))
    assert mask1.shape == (10, 7, 4) and np.all(mask1.sum(-1) == 1) and np.all(mask2.sum(-1) == 1)
    first, second = mask1.argmax(-1), mask2.argmax(-1)
    assert np.all(first != second)
    row_of, col_of = first // 2, first % 2
    distance = np.abs(row_of - second // 2) + np.abs(col_of - second % 2)
    assert np.all(distance == 1)  # edge neighbours, never the diagonal


@pytest.mark.backend
def test_keras_cell_selection_equals_numpy():
    import keras

    rng = np.random.default_rng(0)
    image = rng.random((2, 8, 6, 3)).astype(np.float32)
    masks = np.stack([neighbour_masks((4, 3), rng)[0] for _ in range(2)])
    got = keras.ops.convert_to_numpy(cells_select(image, masks))
    np.testing.assert_allclose(got, np.stack([subsample(i, m) for i, m in zip(image, masks)]), atol=1e-7)


def test_noisy_patches_give_trainer_inputs():
    images = [np.random.default_rng(0).random((40, 50, 1)).astype(np.float32)]
    for method, count in (("n2v", 4), ("neighbor2neighbor", 4)):
        data = NoisyPatches(images, method, sigmas=[25.0], patch_size=16, batch_size=3, steps=2)
        inputs, target = data[0]
        assert len(inputs) == count and inputs[0].shape == (3, 16, 16, 1) and target.shape == (3, 1)
        np.testing.assert_allclose(inputs[3], 25 / 255)


@pytest.mark.parametrize("method", ["n2v", "neighbor2neighbor"])
def test_self_supervised_training_lowers_the_loss_and_raises_psnr(method, tmp_path):
    """Trained on noisy images only, the denoiser gets better at removing that noise."""
    import csv

    import keras
    from skimage import data as skdata

    from imgdenoise.io import write_image
    from imgdenoise.loading import load_model
    from imgdenoise.metrics import psnr
    from imgdenoise.train import TrainConfig, train

    rng = np.random.default_rng(0)
    clean = skdata.camera()[::2, ::2].astype(np.float32) / 255.0
    for i in range(4):
        tile = clean[(i // 2) * 128:(i // 2) * 128 + 128, (i % 2) * 128:(i % 2) * 128 + 128, None]
        write_image(tmp_path / "noisy" / f"{i}.png", np.clip(tile + rng.normal(0, 25 / 255, tile.shape), 0, 1),
                    bit_depth=16)
    config = TrainConfig(model="dncnn", model_config={"depth": 5, "filters": 16}, train=str(tmp_path / "noisy"),
                         self_supervised=method, patch_size=32, batch_size=8, epochs=6, steps_per_epoch=25,
                         learning_rate=3e-3, precision="float32", val_fraction=0.25, out=str(tmp_path / "run"))
    keras.utils.set_random_seed(0)
    run = train(config, verbose=0)
    with open(run / "log.csv") as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    assert losses[-1] < losses[0]
    test = clean[256 - 96:256, 256 - 96:256, None]  # a region of the camera the training tiles do not hold exactly
    noisy = test + np.random.default_rng(5).normal(0, 25 / 255, test.shape).astype(np.float32)
    restored = load_model(run / "best.keras").denoise(noisy)
    assert psnr(test, restored) > psnr(test, noisy) + 2


def test_cli_self_supervised_training_resumes_and_finetune_starts_from_shipped_weights(image_folder, tmp_path):
    import csv

    from imgdenoise.cli import main

    common = ["--model", "unet", "--model-config", "preset=tiny", "--train", str(image_folder), "--self-supervised",
              "neighbor2neighbor", "--patch-size", "32", "--batch-size", "4", "--steps", "3", "--precision", "float32",
              "--out", str(tmp_path / "run"), "--verbose", "0"]
    assert main(["train", *common, "--epochs", "1"]) == 0
    assert main(["train", "--out", str(tmp_path / "run"), "--epochs", "2", "--resume", "--verbose", "0"]) == 0
    with open(tmp_path / "run" / "log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1]
    assert (tmp_path / "run" / "best.keras").is_file()
    assert main(["finetune", "--model", "seed", "--train", str(image_folder), "--method", "n2v", "--epochs", "1",
                 "--steps", "2", "--patch-size", "32", "--batch-size", "4", "--out", str(tmp_path / "ft"),
                 "--verbose", "0"]) == 0
    card = __import__("json").loads((tmp_path / "ft" / "best.json").read_text())
    assert card["training"]["self_supervised"] == "n2v" and card["training"]["init_from"] == "seed"
