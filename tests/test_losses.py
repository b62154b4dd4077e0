import keras
import numpy as np
import pytest

from imgdenoise.losses import LOSSES, get_loss

pytestmark = pytest.mark.backend


def _batch():
    rng = np.random.default_rng(0)
    y = rng.random((2, 16, 16, 1)).astype(np.float32)
    return y, np.clip(y + rng.normal(0, 0.1, y.shape), 0.01, 0.99).astype(np.float32)


def _value(loss, y, x):
    return float(np.mean(keras.ops.convert_to_numpy(loss(y, x))))


def test_losses_match_their_definitions():
    y, x = _batch()
    assert abs(_value(get_loss("mse"), y, x) - np.mean((y - x) ** 2)) < 1e-6
    assert abs(_value(get_loss("l1"), y, x) - np.mean(np.abs(y - x))) < 1e-6
    assert abs(_value(get_loss("charbonnier"), y, x) - np.mean(np.sqrt((y - x) ** 2 + 1e-6))) < 1e-6
    bce = -np.mean(y * np.log(x) + (1 - y) * np.log(1 - x))
    assert abs(_value(get_loss("bce"), y, x) - bce) < 1e-4


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_each_loss_gives_one_value_per_image(name):
    """Keras averages per-image values itself, and scales them for tf.distribute (not scalars)."""
    y, x = _batch()
    values = keras.ops.convert_to_numpy(get_loss(name)(y, x))
    assert values.shape == (2,)
    y0, x0 = y[:1], x[:1]
    assert abs(float(keras.ops.convert_to_numpy(get_loss(name)(y0, x0))[0]) - values[0]) < 1e-5


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_each_loss_is_smallest_at_the_target(name):
    y, x = _batch()
    loss = get_loss(name)
    y_safe = np.clip(y, 0.05, 0.95)  # BCE is minimised at y only for y in (0, 1)
    assert _value(loss, y_safe, y_safe) < _value(loss, y_safe, x)


def test_unknown_loss_lists_the_choices():
    with pytest.raises(ValueError, match="available: mse, l1"):
        get_loss("l3")
