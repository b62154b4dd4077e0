import numpy as np

from imgdenoise.transforms import dihedral, inverse_dihedral


def test_dihedral_covers_the_eight_transforms():
    patch = np.arange(9, dtype=np.float32).reshape(3, 3, 1)
    assert len({dihedral(patch, m).tobytes() for m in range(8)}) == 8


def test_inverse_dihedral_undoes_each_transform_of_a_non_square_image():
    image = np.random.default_rng(0).random((4, 7, 3))
    for mode in range(8):
        np.testing.assert_array_equal(inverse_dihedral(dihedral(image, mode), mode), image)


def test_pixel_unshuffle_splits_every_image_into_its_strided_sub_images_and_back():
    from imgdenoise.transforms import pixel_shuffle, pixel_unshuffle

    batch = np.random.default_rng(0).random((2, 6, 8, 3))
    subs = pixel_unshuffle(batch, 2)
    assert subs.shape == (8, 3, 4, 3)
    for n in range(2):
        for i in range(2):
            for j in range(2):
                np.testing.assert_array_equal(subs[n * 4 + i * 2 + j], batch[n, i::2, j::2])
    np.testing.assert_array_equal(pixel_shuffle(subs, 2), batch)
