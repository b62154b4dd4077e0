import h5py
import numpy as np
import pytest

from imgdenoise.legacy import import_keras2_weights
from imgdenoise.models import build_model


def write_keras2_h5(model, path):
    """Write ``model``'s weights the way Keras 2 ``save_weights`` laid them out."""
    names = {"kernel": "kernel:0", "bias": "bias:0", "gamma": "gamma:0", "beta": "beta:0",
             "moving_mean": "moving_mean:0", "moving_variance": "moving_variance:0"}
    with h5py.File(path, "w") as f:
        layers = [layer for layer in model.layers if layer.weights]
        f.attrs["layer_names"] = [layer.name.encode() for layer in layers]
        f.attrs["keras_version"] = b"2.2.2"
        for layer in layers:
            group = f.create_group(layer.name).create_group(layer.name)
            for weight in layer.weights:
                group.create_dataset(names[weight.name.split("/")[-1]], data=np.asarray(weight))


def test_import_round_trips_keras2_layout(tmp_path):
    source = build_model("dncnn", channels=1, depth=5, filters=8)
    write_keras2_h5(source, tmp_path / "w.h5")
    imported = import_keras2_weights("dncnn", tmp_path / "w.h5", depth=5, filters=8)
    for a, b in zip(source.get_weights(), imported.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_import_reports_mismatched_layers(tmp_path):
    write_keras2_h5(build_model("dncnn", channels=1, depth=5, filters=8), tmp_path / "w.h5")
    with pytest.raises(ValueError, match="conv3: shapes"):
        import_keras2_weights("dncnn", tmp_path / "w.h5", depth=5, filters=16)
