import pytest

from imgdenoise.cli import main
from tests.test_legacy import write_keras2_h5


@pytest.fixture
def tiny_model(tmp_path):
    """A tiny DnCNN saved as .keras, through the import-weights command."""
    from imgdenoise.models import build_model

    write_keras2_h5(build_model("dncnn", channels=1, depth=17, filters=64), tmp_path / "legacy.h5")
    assert main(["import-weights", "dncnn", str(tmp_path / "legacy.h5"), "-o", str(tmp_path / "m.keras")]) == 0
    return tmp_path / "m.keras"

