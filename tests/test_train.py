import csv
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from imgdenoise.train import TrainConfig, train


def _config(folder, out, **kwargs):
    options = dict(model="unet", model_config={"preset": "tiny"}, train=str(folder), sigma=(10.0, 40.0),
                   loss="l1", patch_size=32, batch_size=4, epochs=2, steps_per_epoch=8, learning_rate=2e-3,
                   precision="float32", out=str(out))
    options.update(kwargs)
    return TrainConfig(**options)


def _rows(run):
    with open(run / "log.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("bfloat16, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_trains_in_bfloat16_only_where_the_cpu_has_its_units(monkeypatch, bfloat16, expected):
    import imgdenoise.train as training

    monkeypatch.setattr(training, "cpu_has_bfloat16", lambda: bfloat16)
    assert training.resolve_precision("auto") == (expected if keras.backend.backend() == "tensorflow" else "float32")
    assert training.resolve_precision("mixed_float16") == "mixed_float16"
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        training.resolve_precision("half")


def test_training_lowers_the_loss_and_writes_the_run_folder(image_folder, tmp_path):
    run = train(_config(image_folder, tmp_path / "run", epochs=3), verbose=0)
    rows = _rows(run)
    assert len(rows) == 3
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    for name in ("checkpoint.keras", "best.keras", "best.json", "config.json", "curves.png"):
        assert (run / name).is_file(), name
    assert (run / "tensorboard").is_dir()
    card = json.loads((run / "best.json").read_text())
    assert card["architecture"] == {"name": "unet", "preset": "tiny", "channels": 1}
    assert card["training"]["sigma_range"] == [10.0, 40.0] and card["validation_psnr"] > 0


def test_resume_continues_from_the_saved_step(image_folder, tmp_path):
    out = tmp_path / "run"
    train(_config(image_folder, out, epochs=1), verbose=0)
    checkpoint = keras.saving.load_model(out / "checkpoint.keras")
    assert int(keras.ops.convert_to_numpy(checkpoint.optimizer.iterations)) == 8
    train(_config(image_folder, out, epochs=2), resume=True, verbose=0)
    resumed = keras.saving.load_model(out / "checkpoint.keras")
    assert int(keras.ops.convert_to_numpy(resumed.optimizer.iterations)) == 16
    assert [r["epoch"] for r in _rows(out)] == ["0", "1"]


def test_ctrl_c_saves_a_checkpoint_and_resume_is_exact(image_folder, tmp_path, monkeypatch):
    from imgdenoise import train as train_module

    config = dict(epochs=2, model="dncnn", model_config={"depth": 3, "filters": 4}, loss="mse")
    straight = train(_config(image_folder, tmp_path / "a", **config), verbose=0)

    original = train_module.CheckpointEveryEpoch.on_epoch_end

    def interrupt_after_first_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module.CheckpointEveryEpoch, "on_epoch_end", interrupt_after_first_epoch)
    with pytest.raises(KeyboardInterrupt):
        train(_config(image_folder, tmp_path / "b", **config), verbose=0)
    monkeypatch.setattr(train_module.CheckpointEveryEpoch, "on_epoch_end", original)
    train(_config(image_folder, tmp_path / "b", **config), resume=True, verbose=0)
    a = keras.saving.load_model(straight / "checkpoint.keras").get_weights()
    b = keras.saving.load_model(tmp_path / "b" / "checkpoint.keras").get_weights()
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, atol=1e-6)


def test_ema_weights_are_what_the_best_model_keeps(image_folder, tmp_path):
    run = train(_config(image_folder, tmp_path / "run", epochs=1, ema=0.9), verbose=0)
    raw = keras.saving.load_model(run / "checkpoint.keras").get_weights()
    best = keras.saving.load_model(run / "best.keras").get_weights()
    assert any(not np.allclose(r, b) for r, b in zip(raw, best))


def test_paired_training(tmp_path, gray_image):
    from imgdenoise.io import write_image

    rng = np.random.default_rng(0)
    for i in range(4):
        clean = np.clip(np.roll(np.tile(gray_image, (2, 2, 1)), 7 * i, axis=1), 0, 1)
        write_image(tmp_path / "pairs" / "clean" / f"{i}.png", clean)
        write_image(tmp_path / "pairs" / "noisy" / f"{i}.png", clean + rng.normal(0, 0.1, clean.shape))
    run = train(_config(tmp_path / "pairs", tmp_path / "run", paired=True, epochs=1), verbose=0)
    assert (run / "best.keras").is_file()
    assert "level_estimator" not in json.loads((run / "best.json").read_text())


def test_paired_training_can_be_told_each_pairs_true_level(tmp_path, gray_image, monkeypatch):
    """--told-level true: the network input says the standard deviation of noisy - clean, while the card
    keeps the estimator blind use reads."""
    import imgdenoise.data as data
    from imgdenoise.io import write_image

    rng = np.random.default_rng(0)
    for i, level in enumerate((5.0, 20.0)):
        clean = np.clip(np.roll(np.tile(gray_image, (2, 2, 1)), 7 * i, axis=1), 0, 1)
        write_image(tmp_path / "pairs" / "clean" / f"{i}.png", clean)
        write_image(tmp_path / "pairs" / "noisy" / f"{i}.png", clean + rng.normal(0, level / 255, clean.shape))
    told = []
    original = data.read_levels
    monkeypatch.setattr(data, "read_levels", lambda *a: told.append(original(*a)) or told[-1])
    config = _config(tmp_path / "pairs", tmp_path / "run", paired=True, epochs=1, level_estimator="level-coarse",
                     told_level="true", val_fraction=0.5)
    card = json.loads((train(config, verbose=0) / "best.json").read_text())
    assert card["level_estimator"] == "level-coarse" and card["training"]["told_level"] == "true"
    assert sorted(v for levels in told for v in levels) == pytest.approx([5, 20], rel=0.1)  # (clipping aside)
    for wrong, message in ((dict(told_level="guessed", paired=True), "unknown told level 'guessed'"),
                           (dict(told_level="true"), "apply to --paired data")):
        with pytest.raises(ValueError, match=message):
            train(_config(tmp_path / "pairs", tmp_path / "bad", **wrong), verbose=0)


def test_paired_training_with_a_level_estimator_records_it_for_blind_use(tmp_path, gray_image):
    """The network is told what the named estimator reads; its card names the estimator, so a blind
    call reads the level the same way."""
    from imgdenoise.io import write_image

    rng = np.random.default_rng(0)
    for i in range(4):
        clean = np.clip(np.roll(np.tile(gray_image, (2, 2, 1)), 7 * i, axis=1), 0, 1)
        write_image(tmp_path / "pairs" / "clean" / f"{i}.png", clean)
        write_image(tmp_path / "pairs" / "noisy" / f"{i}.png", clean + rng.normal(0, 0.05, clean.shape))
    config = _config(tmp_path / "pairs", tmp_path / "run", paired=True, epochs=1, level_estimator="level-coarse")
    run = train(config, verbose=0)
    assert json.loads((run / "best.json").read_text())["level_estimator"] == "level-coarse"
    from scipy import ndimage

    from imgdenoise import load_model
    from imgdenoise.estimator import estimate_image_sigma, load_level_estimator

    denoiser = load_model(run / "best.keras")
    correlated = ndimage.gaussian_filter(rng.normal(0, 0.2, gray_image.shape), (1.5, 1.5, 0))
    noisy = np.clip(gray_image + correlated, 0, 1).astype(np.float32)
    assert denoiser.noise_level(noisy) == pytest.approx(load_level_estimator("level-coarse").estimate(noisy))
    assert denoiser.noise_level(noisy) > 1.5 * estimate_image_sigma(noisy)  # not the classical reading
    with pytest.raises(ValueError, match="--paired"):
        train(_config(tmp_path / "pairs" / "clean", tmp_path / "run2", level_estimator="level-coarse"), verbose=0)


def test_colour_model_starts_from_a_gray_one_as_a_luminance_model(image_folder, tmp_path):
    gray = train(_config(image_folder, tmp_path / "gray", epochs=1), verbose=0)
    from imgdenoise.models import build_model
    from imgdenoise.train import transfer_weights

    source = keras.saving.load_model(gray / "best.keras")
    colour = build_model("unet", preset="tiny", channels=3)
    copied = transfer_weights(source, colour)
    assert {"head_conv", "tail_conv", "enc0_block0_conv1", "bottleneck_block0_conv2"} <= set(copied)
    np.testing.assert_array_equal(colour.get_layer("down0").get_weights()[0],
                                  source.get_layer("down0").get_weights()[0])
    # On a gray picture in RGB, the colour model starts out giving the gray model's answer in each channel.
    noisy = np.random.default_rng(0).random((1, 32, 32, 1)).astype(np.float32)
    sigma = np.full((1, 32, 32, 1), 25 / 255, np.float32)
    gray_out = keras.ops.convert_to_numpy(source([noisy, sigma]))
    colour_out = keras.ops.convert_to_numpy(colour([np.repeat(noisy, 3, axis=-1), sigma]))
    np.testing.assert_allclose(colour_out, np.repeat(gray_out, 3, axis=-1), atol=1e-5)


def test_learning_rate_is_logged(image_folder, tmp_path):
    run = train(_config(image_folder, tmp_path / "run", epochs=2), verbose=0)
    rates = [float(r["lr"]) for r in _rows(run)]
    assert rates[1] < rates[0] <= 2e-3  # cosine decay


def test_several_folders_are_pooled_with_a_holdout_from_each(image_folder, tmp_path, gray_image):
    from imgdenoise.io import write_image
    from imgdenoise.train import _load_data

    for i in range(3):
        write_image(tmp_path / "rgb" / f"{i}.png", np.repeat(np.tile(gray_image, (2, 2, 1)), 3, axis=-1))
    config = _config(image_folder, tmp_path / "run", val_fraction=0.2)
    config.train = [str(image_folder), str(tmp_path / "rgb")]
    clean, _, val_clean, _ = _load_data(config, channels=3)
    assert len(clean) == 5 + 2 and len(val_clean) == 1 + 1
    assert all(im.shape[-1] == 3 for im in clean + val_clean)


def test_resume_can_switch_the_loss_and_keeps_the_optimizer(image_folder, tmp_path):
    out = tmp_path / "run"
    train(_config(image_folder, out, epochs=1, loss="l1"), verbose=0)
    resumed = _config(image_folder, out, epochs=2, loss="mse")
    train(resumed, resume=True, verbose=0)
    assert json.loads((out / "config.json").read_text())["loss"] == "mse"
    model = keras.saving.load_model(out / "checkpoint.keras")
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 16


def test_checkpoint_survives_a_kill_in_the_middle_of_a_save(image_folder, tmp_path, monkeypatch):
    run = train(_config(image_folder, tmp_path / "run", epochs=1), verbose=0)
    before = (run / "checkpoint.keras").read_bytes()

    class Killed(BaseException):
        pass

    def dying_save(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PK\x03\x04 half of a zip")  # the process dies part-way through writing
        raise Killed

    monkeypatch.setattr(keras.Model, "save", dying_save)
    with pytest.raises(Killed):
        train(_config(image_folder, run, epochs=2), resume=True, verbose=0)
    monkeypatch.undo()
    assert (run / "checkpoint.keras").read_bytes() == before  # the last complete checkpoint is intact
    train(_config(image_folder, run, epochs=2), resume=True, verbose=0)
    assert [int(r["epoch"]) for r in _rows(run)] == [0, 1]


def test_trains_with_data_threads_and_without_tensorflow_logs(image_folder, tmp_path, monkeypatch):
    # Where TensorFlow is not installed (a JAX or PyTorch GPU machine), training runs without TensorBoard.
    from imgdenoise import train as train_module

    monkeypatch.setattr(train_module, "installed", lambda module: module != "tensorflow")
    run = train(_config(image_folder, tmp_path / "run", epochs=1, workers=2), verbose=0)
    assert len(_rows(run)) == 1 and (run / "best.keras").is_file()
    assert not (run / "tensorboard").exists()


def test_a_noise_level_estimator_trains_on_realistic_noise(tmp_path):
    from skimage import data

    from imgdenoise.estimator import LevelEstimator
    from imgdenoise.io import write_image
    from imgdenoise.noise import GaussianNoise

    folder = tmp_path / "photos"
    astronaut = data.astronaut()[::4, ::4].astype(np.float32) / 255.0
    for i in range(4):
        write_image(folder / f"p{i}.png", astronaut[(i // 2) * 64:(i // 2) * 64 + 64, (i % 2) * 64:(i % 2) * 64 + 64])
    config = _config(folder, tmp_path / "run", model="level", model_config={}, channels=3, noise="realistic",
                     sigma=(1.0, 25.0), loss="log-l1", val_fraction=0.25, epochs=2)
    run = train(config, verbose=0)
    card = json.loads((run / "best.json").read_text())
    assert card["task"] == "noise-level" and card["training"]["noise"] == "realistic"
    assert "validation_loss" in card and (run / "best.keras").is_file()
    model = keras.saving.load_model(run / "best.keras")
    estimator = LevelEstimator(model, card)
    noisy, _ = GaussianNoise(20.0)(astronaut[None, :64, :64], np.random.default_rng(0))
    level = estimator.estimate(noisy[0])
    assert np.isfinite(level) and level >= 0


def test_a_run_starts_from_packed_float16_weights(image_folder, tmp_path):
    """What a later session continues from when only a run's float16 weights and card were kept."""
    from imgdenoise.pretrained import save_pretrained

    first = train(_config(image_folder, tmp_path / "first", epochs=1), verbose=0)
    model = keras.saving.load_model(first / "best.keras")
    card = save_pretrained(model, json.loads((first / "best.json").read_text()), tmp_path / "kept", "first")
    second = train(_config(image_folder, tmp_path / "second", epochs=1, learning_rate=1e-12, ema=0.0,
                           init_from=str(card)), verbose=0)
    continued = keras.saving.load_model(second / "best.keras").get_weights()
    for a, b in zip(model.get_weights(), continued):
        np.testing.assert_allclose(a, b, atol=2e-3)  # float16 copies, barely moved at this learning rate
