import numpy as np
import pytest

from imgdenoise.data import (
    PatchDataset,
    list_images,
    load_images,
    load_paired_folders,
    true_level,
    validation_set,
)
from imgdenoise.io import write_image
from imgdenoise.noise import GaussianNoise


def test_patch_batches_have_the_right_shapes_and_noise(image_folder):
    images = load_images(list_images(image_folder), channels=1)
    data = PatchDataset(images, noise=GaussianNoise(25.0), patch_size=32, batch_size=4, steps=3)
    noisy, clean = data[0]
    assert noisy.shape == clean.shape == (4, 32, 32, 1) and len(data) == 3
    assert abs(np.std(noisy - clean) * 255 - 25) < 2


def test_batches_depend_only_on_seed_epoch_and_index(image_folder):
    images = load_images(list_images(image_folder), channels=1)
    a = PatchDataset(images, patch_size=16, batch_size=2, steps=2, seed=3)
    b = PatchDataset(images, patch_size=16, batch_size=2, steps=2, seed=3)
    np.testing.assert_array_equal(a[1][0], b[1][0])
    b.set_epoch(1)  # a fresh epoch draws fresh patches and noise
    assert not np.array_equal(a[1][0], b[1][0])


def test_noise_conditional_batches_carry_a_sigma_map(image_folder):
    images = load_images(list_images(image_folder), channels=1)
    (noisy, sigma_map), clean = PatchDataset(images, noise=GaussianNoise((10, 50)), patch_size=16,
                                             batch_size=8, steps=1, noise_conditional=True)[0]
    assert sigma_map.shape == (8, 16, 16, 1)
    measured = np.std(noisy - clean, axis=(1, 2, 3))
    assert np.corrcoef(measured, sigma_map[:, 0, 0, 0])[0, 1] > 0.9


def test_paired_folders_match_by_name(tmp_path, gray_image):
    for name in ("a.png", "b.png"):
        write_image(tmp_path / "clean" / name, gray_image)
        write_image(tmp_path / "noisy" / name, np.clip(gray_image + 0.1, 0, 1))
    write_image(tmp_path / "noisy" / "unpaired.png", gray_image)
    noisy, clean = load_paired_folders(tmp_path, channels=1)
    assert len(noisy) == len(clean) == 2
    data = PatchDataset(clean, noisy_images=noisy, patch_size=16, batch_size=2, steps=1)
    batch_noisy, batch_clean = data[0]
    np.testing.assert_allclose(batch_noisy - batch_clean, 0.1, atol=0.02)  # same crops and flips in both


def test_paired_patches_are_conditioned_on_the_noise_level_blind_denoising_will_see(gray_image):
    """Signal-dependent noise: each patch's sigma input is the estimate for its whole noisy image
    (what blind inference gives the model), not the patch's own noise level."""
    from imgdenoise.noise import estimate_sigma

    rng = np.random.default_rng(0)
    clean = [gray_image, gray_image[::-1]]
    noisy = [c + rng.normal(0, 1, c.shape).astype(np.float32) * (0.02 + 0.15 * c) for c in clean]
    data = PatchDataset(clean, noisy_images=noisy, patch_size=16, batch_size=8, steps=1, noise_conditional=True)
    (batch_noisy, sigma_map), batch_clean = data[0]
    estimates = {round(estimate_sigma(n), 3) for n in noisy}
    assert {round(float(s) * 255, 3) for s in sigma_map[:, 0, 0, 0]} <= estimates
    (_, val_sigma), _ = validation_set(clean, sigmas=(25,), crop=16, noise_conditional=True, noisy_images=noisy)
    assert {round(float(s) * 255, 3) for s in val_sigma[:, 0, 0, 0]} == estimates


def test_paired_patches_are_told_what_the_given_level_reader_reads(gray_image):
    clean = [gray_image, gray_image[::-1]]
    noisy = [np.clip(c + 0.05, 0, 1) for c in clean]
    read = {id(noisy[0]): 7.0, id(noisy[1]): 11.0}
    data = PatchDataset(clean, noisy_images=noisy, patch_size=16, batch_size=8, steps=1, noise_conditional=True,
                        level_reader=lambda n, c: read[id(n)])
    (_, sigma_map), _ = data[0]
    assert set(np.round(sigma_map[:, 0, 0, 0] * 255, 3)) <= {7.0, 11.0}
    (_, val_sigma), _ = validation_set(clean, sigmas=(25,), crop=16, noise_conditional=True, noisy_images=noisy,
                                       level_reader=lambda n, c: read[id(n)])
    np.testing.assert_allclose(val_sigma[:, 0, 0, 0] * 255, [7.0, 11.0], rtol=1e-5)


def test_a_pairs_true_level_is_the_deviation_of_its_difference(gray_image):
    rng = np.random.default_rng(0)
    noisy = gray_image + rng.normal(0, 9 / 255, gray_image.shape).astype(np.float32)
    assert true_level(noisy, gray_image) == pytest.approx(9.0, rel=0.05)
    (_, val_sigma), _ = validation_set([gray_image], sigmas=(25,), crop=16, noise_conditional=True,
                                       noisy_images=[noisy], level_reader=true_level)
    assert val_sigma[0, 0, 0, 0] * 255 == pytest.approx(true_level(noisy, gray_image), rel=1e-5)


def test_validation_set_is_fixed_and_cropped_to_the_multiple(image_folder):
    images = load_images(list_images(image_folder), channels=1)
    (x1, s1), y1 = validation_set(images, sigmas=(15, 50), crop=45, multiple=8, noise_conditional=True)
    (x2, _), _ = validation_set(images, sigmas=(15, 50), crop=45, multiple=8, noise_conditional=True)
    assert x1.shape == (6, 40, 40, 1)
    np.testing.assert_array_equal(x1, x2)
    assert set(np.unique(np.round(s1 * 255))) == {15, 50}


def test_missing_or_empty_folders_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        list_images(tmp_path / "nope")
    with pytest.raises(ValueError, match="no image files"):
        list_images(tmp_path)


def test_split_held_out_keeps_the_last_share_and_at_least_one():
    from imgdenoise.data import split_held_out

    assert split_held_out(list(range(40)), 0.05) == (list(range(38)), [38, 39])
    assert split_held_out(list(range(10)), 0.05) == (list(range(9)), [9])  # at least one
    assert split_held_out([7], 0.05) == ([], [7])  # nothing left to train on: the caller decides
