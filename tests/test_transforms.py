import numpy as np

from imgdenoise.transforms import dihedral, inverse_dihedral


def test_dihedral_covers_the_eight_transforms():
    patch = np.arange(9, dtype=np.float32).reshape(3, 3, 1)
    assert len({dihedral(patch, m).tobytes() for m in range(8)}) == 8


def test_inverse_dihedral_undoes_each_transform_of_a_non_square_image():
    image = np.random.default_rng(0).random((4, 7, 3))
    for mode in range(8):
        np.testing.assert_array_equal(inverse_dihedral(dihedral(image, mode), mode), image)
