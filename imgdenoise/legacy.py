"""Import legacy Keras 2 ``.h5`` weights (e.g. the DnCNN authors' release) into registered models.

Keras 2 stored weights as ``/<layer>/<layer>/<weight>:0`` datasets in HDF5. Our
``dncnn`` uses the same layer names as the authors' model, so weights map by
layer name; the layer's weight order (kernel, bias; gamma, beta, moving mean,
moving variance) is the same in Keras 2 and 3.
"""

from __future__ import annotations

import h5py
import numpy as np

from imgdenoise.models import build_model

_ORDER = ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"]


def _layer_weights(group: h5py.Group) -> list[np.ndarray]:
    datasets = {}
    group.visititems(lambda name, obj: datasets.__setitem__(name.split("/")[-1].split(":")[0], obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return [datasets[k] for k in _ORDER if k in datasets]


def read_keras2_weights(path) -> dict[str, list[np.ndarray]]:
    """``{layer name: [arrays]}`` from a Keras 2 ``.h5`` weights or model file."""
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        names = [n.decode() if isinstance(n, bytes) else n for n in root.attrs.get("layer_names", list(root.keys()))]
        return {name: _layer_weights(root[name]) for name in names if len(root[name].keys())}


def import_keras2_weights(model_name: str, path, **config):
    """Build registered ``model_name`` and load legacy weights by layer name.

    Raises ValueError naming the layers that are missing or do not match in shape.
    Channels are inferred from the first layer's kernel unless given.
    """
    weights = read_keras2_weights(path)
    first_kernel = next(iter(weights.values()))[0]
    config.setdefault("channels", int(first_kernel.shape[2]))
    model = build_model(model_name, **config)
    problems = []
    for layer in model.layers:
        if not layer.weights:
            continue
        arrays = weights.get(layer.name)
        expected = [tuple(w.shape) for w in layer.weights]
        if arrays is None:
            problems.append(f"{layer.name}: missing from file")
        elif [a.shape for a in arrays] != expected:
            problems.append(f"{layer.name}: shapes {[a.shape for a in arrays]} in file, model expects {expected}")
        else:
            layer.set_weights(arrays)
    if problems:
        raise ValueError(f"{path}: weights do not fit model {model_name!r}: " + "; ".join(problems))
    return model
