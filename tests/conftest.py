import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_report_header(config):
    return f"keras backend: {keras.backend.backend()}"


@pytest.fixture
def gray_image():
    """A 37x45 gray test image with structure (odd size), float32 (H, W, 1) in [0, 1]."""
    from skimage import data
    from skimage.transform import resize

    return resize(data.camera() / 255.0, (37, 45), anti_aliasing=True).astype(np.float32)[..., None]


@pytest.fixture
def rgb_image():
    from skimage import data
    from skimage.transform import resize

    return resize(data.astronaut() / 255.0, (33, 41), anti_aliasing=True).astype(np.float32)


def _camera_crops(folder):
    """Six 48x48 gray PNGs cut from scikit-image's camera, written to ``folder``."""
    from skimage import data

    from imgdenoise.io import write_image

    camera = data.camera()[::4, ::4].astype(np.float32) / 255.0
    for i in range(6):
        write_image(folder / f"img{i}.png", camera[(i // 3) * 48:(i // 3) * 48 + 48, (i % 3) * 40:(i % 3) * 40 + 48])
    return folder


@pytest.fixture
def image_folder(tmp_path):
    """Six 48x48 gray PNGs cut from scikit-image's camera."""
    return _camera_crops(tmp_path / "images")


@pytest.fixture(scope="module")
def module_image_folder(tmp_path_factory):
    """The same images, shared by a module's tests (which only read them)."""
    return _camera_crops(tmp_path_factory.mktemp("module") / "images")
