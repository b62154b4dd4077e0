"""Supervised training with ``model.fit`` and a few Keras callbacks.

A run folder holds everything about a run::

    run/config.json       the resolved training options
    run/checkpoint.keras  model + optimizer state, written atomically every epoch
    run/log.csv           one row per epoch (loss, val_loss, val_psnr, lr)
    run/curves.png        training curves
    run/tensorboard/      TensorBoard logs
    run/best.keras        best model by validation PSNR (EMA weights when enabled)
    run/best.json         its model card

``resume=True`` continues from ``checkpoint.keras`` exactly: weights,
optimizer state (moments, EMA, step count, hence the learning-rate schedule)
and the data stream, which depends only on ``(seed, epoch, batch)``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import time
from pathlib import Path

import keras
import numpy as np

from imgdenoise import __version__, parallel
from imgdenoise.data import (
    LevelTargets,
    PatchDataset,
    level_targets,
    list_images,
    load_images,
    load_paired_folders,
    split_held_out,
    true_level,
    validation_set,
)
from imgdenoise.files import atomic_target, atomic_write_text
from imgdenoise.losses import get_loss
from imgdenoise.metrics import psnr_metric
from imgdenoise.models import build_model, get_spec
from imgdenoise.noise import training_noise
from imgdenoise.runtimes import cpu_has_bfloat16, installed


@dataclasses.dataclass
class TrainConfig:
    """Options of one training run (sigma on the 0-255 scale)."""

    model: str = "dncnn"
    model_config: dict = dataclasses.field(default_factory=dict)
    train: str | list[str] = ""  # one folder, or several whose images are pooled
    val: str | None = None
    paired: bool = False
    channels: int = 1
    sigma: tuple[float, float] = (25.0, 25.0)
    noise: str = "gaussian"  # training noise (imgdenoise.noise.TRAINING_NOISES); sigma bounds its Gaussian parts
    level_estimator: str | None = None  # paired data: the shipped level estimator blind use reads (card)
    told_level: str = "estimated"  # paired data: what the network is told (TOLD_LEVELS)
    val_sigmas: tuple[float, ...] | None = None
    loss: str | None = None  # default mse; when resuming, None keeps the run's loss, a name switches to it
    patch_size: int = 64
    batch_size: int = 16
    epochs: int | None = None  # default 10; when resuming, None keeps the run's own value
    steps_per_epoch: int = 500
    learning_rate: float = 1e-3
    schedule: str = "cosine"  # cosine | constant | step
    ema: float = 0.0  # EMA momentum of the weights (0 = off), e.g. 0.999
    precision: str = "auto"  # auto | float32 | mixed_bfloat16
    init_from: str | None = None  # .keras file or shipped model name whose weights start the run
    self_supervised: str | None = None  # n2v | neighbor2neighbor: --train holds noisy images only
    distribute: str = "none"  # none | data-parallel | multi-worker (see imgdenoise.parallel)
    coordinator: str | None = None  # multi-worker on JAX: host:port of process 0
    num_processes: int = 1  # multi-worker on JAX (on TensorFlow, TF_CONFIG says)
    process_id: int = 0
    workers: int = 1  # threads preparing batches (more keep an accelerator busy)
    val_crop: int = 128
    val_fraction: float = 0.05
    seed: int = 0
    out: str = "runs/run"


PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# What a network trained on pairs is told of each pair: what its level estimator (or the classical one) reads
# on the noisy image, or the pair's true level (the standard deviation of noisy - clean).
TOLD_LEVELS = ("estimated", "true")
SCHEDULES = ("cosine", "step", "constant")


def resolve_precision(precision: str) -> str:
    """``auto`` -> ``mixed_bfloat16`` on CPUs with bfloat16 units (AMX/AVX512-BF16), else ``float32``."""
    if precision == "auto":
        return "mixed_bfloat16" if keras.backend.backend() == "tensorflow" and cpu_has_bfloat16() else "float32"
    if precision not in PRECISIONS[1:]:
        raise ValueError(f"unknown precision {precision!r}; available: {', '.join(PRECISIONS)}")
    return precision


@contextlib.contextmanager
def dtype_policy(name: str):
    """Temporarily set Keras' global dtype policy."""
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def learning_rate_schedule(config: TrainConfig):
    total = config.epochs * config.steps_per_epoch
    if config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total, alpha=0.01)
    if config.schedule == "step":
        bounds = [int(total * 0.5), int(total * 0.75)]
        values = [config.learning_rate, config.learning_rate / 2, config.learning_rate / 4]
        return keras.optimizers.schedules.PiecewiseConstantDecay(bounds, values)
    if config.schedule == "constant":
        return config.learning_rate
    raise ValueError(f"unknown schedule {config.schedule!r}; available: {', '.join(SCHEDULES)}")


def _atomic_save(model: keras.Model, path: Path):
    with atomic_target(path) as target:
        model.save(target)


def _atomic_write_json(path: Path, data: dict):
    atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def inference_weights(model: keras.Model) -> list[np.ndarray]:
    """The weights to ship: the EMA average where the optimizer keeps one, else the raw weights."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "use_ema", False) or not optimizer.built:
        return model.get_weights()
    average = {id(v): a for v, a in zip(optimizer._trainable_variables, optimizer._model_variables_moving_average)}
    return [keras.ops.convert_to_numpy(average.get(id(v), v)) for v in model.weights]


def float32_copy(model: keras.Model, architecture: dict) -> keras.Model:
    """A float32 copy of ``model`` with its inference weights (no optimizer)."""
    with dtype_policy("float32"):
        copy = build_model(**architecture)
    copy.set_weights(inference_weights(model))
    return copy


class DataEpoch(keras.callbacks.Callback):
    """Tells the patch dataset which epoch is starting, so batches depend on it alone."""

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.set_epoch(epoch)


class LearningRateLog(keras.callbacks.Callback):
    """Adds the current learning rate to the epoch logs (so the CSV log and TensorBoard show it)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            optimizer = self.model.optimizer
            rate = optimizer.learning_rate
            logs["lr"] = float(keras.ops.convert_to_numpy(rate(optimizer.iterations) if callable(rate) else rate))


class CheckpointEveryEpoch(keras.callbacks.Callback):
    """Saves model + optimizer to ``path`` atomically at the end of every epoch."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        _atomic_save(self.model, self.path)


class BestModel(keras.callbacks.Callback):
    """Keeps the best model as ``best.keras`` plus its model card: highest ``val_psnr``, or lowest
    ``val_loss`` (``monitor="val_loss"``, for self-supervised runs, which have no clean images)."""

    def __init__(self, run: Path, card: dict, best: float | None = None, monitor: str = "val_psnr"):
        super().__init__()
        self.run, self.card, self.monitor = run, card, monitor
        self.sign = 1.0 if monitor == "val_psnr" else -1.0
        self.best = -np.inf if best is None else best

    def on_epoch_end(self, epoch, logs=None):
        score = (logs or {}).get(self.monitor)
        if score is None or self.sign * score <= self.best:
            return
        self.best = self.sign * float(score)
        copy = float32_copy(self.model, self.card["architecture"])  # a trainer's weights are its denoiser's
        _atomic_save(copy, self.run / "best.keras")
        steps = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        key = "validation_psnr" if self.monitor == "val_psnr" else "validation_loss"
        card = {**self.card, key: round(float(score), 6), "epoch": epoch + 1, "steps": steps}
        _atomic_write_json(self.run / "best.json", card)


class CurvesPlot(keras.callbacks.Callback):
    """Redraws ``curves.png`` from the CSV log after every epoch."""

    def __init__(self, csv_path: Path, png_path: Path):
        super().__init__()
        self.csv_path, self.png_path = csv_path, png_path

    def on_epoch_end(self, epoch, logs=None):
        from imgdenoise.plotting import plot_training_curves

        plot_training_curves(self.csv_path, self.png_path)


def _align_csv_log(path: Path, keys: list[str]):
    """Rewrite an existing CSV log so its columns are ``epoch`` + sorted ``keys`` (Keras' CSVLogger order).

    A run resumed by a newer version may log more columns than the file has; CSVLogger
    appends without rewriting the header, so the header is brought up to date first.
    """
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = ["epoch"] + sorted(set(keys) | {k for row in rows for k in row if k != "epoch"})
    if rows and list(rows[0].keys()) == columns:
        return
    with atomic_target(path) as target, open(target, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def _load_data(config: TrainConfig, channels: int):
    """Train and validation (clean, noisy-or-None) image lists."""
    if config.paired:
        noisy, clean = load_paired_folders(config.train, channels)
        if config.val:
            val_noisy, val_clean = load_paired_folders(config.val, channels)
        else:
            noisy, val_noisy = split_held_out(noisy, config.val_fraction)
            clean, val_clean = split_held_out(clean, config.val_fraction)
        return clean, noisy, val_clean, val_noisy
    folders = [config.train] if isinstance(config.train, str) else list(config.train)
    train_paths, val_paths = [], []
    for folder in folders:  # hold out the same share of every folder
        paths = list_images(folder)
        kept, held = (paths, []) if config.val else split_held_out(paths, config.val_fraction)
        if not kept:
            raise ValueError(f"{folder}: too few images ({len(paths)}) to hold some out for validation; give --val")
        train_paths += kept
        val_paths += held
    clean = load_images(train_paths, channels)
    val_clean = load_images(list_images(config.val) if config.val else val_paths, channels)
    return clean, None, val_clean, None


def model_card(config: TrainConfig, architecture: dict) -> dict:
    spec = get_spec(config.model)
    card = {
        "architecture": architecture,
        "task": spec.task,
        "noise_conditional": spec.noise_conditional,
        "multiple": spec.multiple_for(architecture),
        "channels": architecture.get("channels", 1),
        "training": {
            "data": config.train, "paired": config.paired,
            "sigma_range": list(config.sigma), "noise": config.noise, "loss": config.loss,
            "patch_size": config.patch_size,
            "batch_size": config.batch_size, "epochs": config.epochs, "steps_per_epoch": config.steps_per_epoch,
            "learning_rate": config.learning_rate, "schedule": config.schedule, "ema": config.ema,
            "precision": config.precision, "init_from": config.init_from,
            "self_supervised": config.self_supervised,
            **({"told_level": config.told_level} if config.paired else {}),
        },
        "imgdenoise_version": __version__,
    }
    if config.level_estimator:  # blind use reads the level the network was told in training
        card["level_estimator"] = config.level_estimator
    return card


def transfer_weights(source: keras.Model, target: keras.Model) -> list[str]:
    """Copy weights layer by layer (by name); returns the layers copied.

    Layers whose shapes match are copied as they are. A gray -> colour start (the first and
    last convolutions differ in their image channels) is copied as a luminance model: the gray
    input kernel is split equally over R, G and B (extra inputs such as a sigma map keep
    theirs) and the gray output kernel is repeated for each colour, so the colour model starts
    out denoising like the gray one and training only has to learn colour.
    """
    copied = []
    for layer in target.layers:
        try:
            other = source.get_layer(layer.name)
        except ValueError:
            continue
        weights = other.get_weights()
        if not weights:
            continue
        adapted = [_gray_to_colour(w, tuple(t.shape)) for w, t in zip(weights, layer.weights)]
        if len(adapted) == len(layer.weights) and all(a is not None for a in adapted):
            layer.set_weights(adapted)
            copied.append(layer.name)
    return copied


def _gray_to_colour(weight: np.ndarray, shape: tuple):
    """``weight`` as ``shape``: unchanged, or a conv kernel (kh, kw, in, out) widened from one image
    channel to three on its input (split in three) or output (repeated) side; None if neither."""
    if weight.shape == shape:
        return weight
    if weight.ndim != 4 or len(shape) != 4 or weight.shape[:2] != shape[:2]:
        return None
    if weight.shape[3] == shape[3] and shape[2] - weight.shape[2] == 2:  # image channel first, extras after
        return np.concatenate([np.repeat(weight[:, :, :1] / 3, 3, axis=2), weight[:, :, 1:]], axis=2)
    if weight.shape[2] == shape[2] and weight.shape[3] == 1 and shape[3] == 3:
        return np.repeat(weight, 3, axis=3)
    return None


def _monitors_loss(config: TrainConfig) -> bool:
    """Runs without a PSNR to watch (self-supervised: no clean images; noise-level estimators: no
    image out) keep the model of lowest validation loss."""
    return bool(config.self_supervised) or get_spec(config.model).task != "denoise"


def _compile(model: keras.Model, config: TrainConfig):
    optimizer = keras.optimizers.Adam(learning_rate_schedule(config), use_ema=config.ema > 0,
                                      ema_momentum=config.ema or 0.99)
    if get_spec(config.model).task != "denoise":
        model.compile(optimizer=optimizer, loss=get_loss(config.loss))
    elif config.self_supervised:
        from imgdenoise.selfsupervised import zero_target_loss

        model.compile(optimizer=optimizer, loss=zero_target_loss)
    else:
        model.compile(optimizer=optimizer, loss=get_loss(config.loss), metrics=[psnr_metric])


_PER_PROCESS = ("distribute", "coordinator", "num_processes", "process_id", "workers")


def _resolved(config: TrainConfig, run: Path, resume: bool) -> TrainConfig:
    """The run's options: the saved ones when resuming (``epochs`` may be extended), defaults filled in."""
    if resume:
        if not (run / "checkpoint.keras").exists():
            raise FileNotFoundError(f"{run / 'checkpoint.keras'}: nothing to resume")
        saved = json.loads((run / "config.json").read_text())
        # Resuming may extend a run or switch its loss (e.g. an L2 finish after L1), nothing else;
        # how this process runs (distribution, its place in it, data threads) is the caller's.
        saved.update({key: getattr(config, key) for key in ("epochs", "loss") if getattr(config, key) is not None})
        saved.update({key: getattr(config, key) for key in _PER_PROCESS})
        config = TrainConfig(**{**saved, "sigma": tuple(saved["sigma"])})
    config.epochs = config.epochs or 10
    config.loss = config.loss or "mse"
    config.precision = resolve_precision(config.precision)
    return config


def _datasets(config: TrainConfig, noise_conditional: bool, multiple: int):
    """The random-patch training dataset and the fixed validation batch."""
    if config.self_supervised:
        return _self_supervised_datasets(config, multiple)
    if get_spec(config.model).task == "noise-level":  # noisy patches in, their noise levels out
        train_data, val_data = _supervised_datasets(config, True, multiple)
        return LevelTargets(train_data), level_targets(val_data)
    return _supervised_datasets(config, noise_conditional, multiple)


def _supervised_datasets(config: TrainConfig, noise_conditional: bool, multiple: int):
    """Clean patches with fresh noise (or paired noisy patches), and the fixed validation batch."""
    clean, noisy, val_clean, val_noisy = _load_data(config, config.channels)
    lo, hi = config.sigma
    val_sigmas = config.val_sigmas or ((lo,) if lo == hi else tuple(np.linspace(max(lo, 5), hi, 4)))
    shard = (config.process_id, config.num_processes) if config.distribute == "multi-worker" else (0, 1)
    noise = training_noise(config.noise, (lo, hi))
    reader = _level_reader(config)
    train_data = PatchDataset(clean, noise=noise, noisy_images=noisy,
                              patch_size=config.patch_size, batch_size=config.batch_size,
                              steps=config.steps_per_epoch, noise_conditional=noise_conditional, seed=config.seed,
                              shard=shard, workers=config.workers, level_reader=reader)
    val_data = validation_set(val_clean, sigmas=val_sigmas, crop=config.val_crop, multiple=multiple,
                              noise_conditional=noise_conditional, seed=config.seed, noisy_images=val_noisy,
                              noise=None if config.noise == "gaussian" else noise, level_reader=reader)
    return train_data, val_data


def _check_levels(config: TrainConfig):
    """ValueError unless ``told_level`` is known and the level options are given for paired data only."""
    if config.told_level not in TOLD_LEVELS:
        raise ValueError(f"unknown told level {config.told_level!r}; available: {', '.join(TOLD_LEVELS)}")
    if (config.level_estimator or config.told_level != "estimated") and not config.paired:
        raise ValueError("--level-estimator and --told-level apply to --paired data (with added noise the true "
                         "level is told)")


def _level_reader(config: TrainConfig):
    """What each pair's network input says (``told_level``): its true level, or the named shipped
    estimator's reading of the noisy image (the level blind denoising will give the model; None: the
    classical estimator's)."""
    if config.told_level == "true":
        return true_level
    if config.level_estimator is None:
        return None
    from imgdenoise.estimator import load_level_estimator

    estimate = load_level_estimator(config.level_estimator).estimate
    return lambda noisy, clean: estimate(noisy)


def _self_supervised_datasets(config: TrainConfig, multiple: int):
    """Noisy training patches and a fixed validation batch from held-out noisy images."""
    from imgdenoise.selfsupervised import NoisyPatches

    if config.paired:
        raise ValueError("self-supervised training takes noisy images only, not --paired folders")
    if config.patch_size % (2 * multiple):
        raise ValueError(f"patch size {config.patch_size} must be a multiple of {2 * multiple} for self-supervised "
                         f"training of {config.model!r}")
    noisy, _, val_noisy, _ = _load_data(config, config.channels)
    options = dict(patch_size=config.patch_size, batch_size=config.batch_size, steps=config.steps_per_epoch)
    train_data = NoisyPatches(noisy, config.self_supervised, seed=config.seed, **options)
    val_size = min(config.patch_size, *(min(im.shape[:2]) for im in val_noisy))
    val_size -= val_size % (2 * multiple)
    val_data = NoisyPatches(val_noisy, config.self_supervised, seed=config.seed + 1,
                            **{**options, "patch_size": val_size}).fixed_batch(config.seed)
    return train_data, val_data


def _init_source(init_from: str, channels: int) -> keras.Model:
    """The model a run starts from: a ``.keras`` file, a packed weight's card ``.json`` (float16 weights
    beside it, as ``imgdenoise pack`` writes and runs keep between sessions), or shipped weights by name
    (e.g. ``unet``)."""
    from imgdenoise.pretrained import WEIGHTS_DIR, load_pretrained, shipped_cards

    if Path(init_from).suffix == ".keras":
        return keras.saving.load_model(init_from, compile=False, safe_mode=True)
    if Path(init_from).suffix == ".json":
        return load_pretrained(Path(init_from))[0]

    stems = [stem for stem, card in shipped_cards().items() if card.name == init_from]
    if not stems:
        raise ValueError(f"--init-from {init_from!r}: neither a .keras file nor a shipped model")
    stem = next((s for s in stems if shipped_cards()[s].channels == channels), stems[0])
    return load_pretrained(WEIGHTS_DIR / f"{stem}.json")[0]


def _model_for_run(config: TrainConfig, architecture: dict, checkpoint: Path, resume: bool, verbose: int):
    """The checkpointed model (resume), or a new compiled one, optionally warm-started."""
    import imgdenoise.selfsupervised  # noqa: F401  (registers the trainer class for loading checkpoints)

    with dtype_policy(config.precision):
        if resume:
            model = keras.saving.load_model(checkpoint)
            if not _monitors_loss(config) and model.loss is not get_loss(config.loss):
                model.compile(optimizer=model.optimizer, loss=get_loss(config.loss), metrics=[psnr_metric])
            return model  # (a switch of loss above keeps the optimizer state)
        model = build_model(**architecture)
        if config.init_from:
            copied = transfer_weights(_init_source(config.init_from, config.channels), model)
            if verbose:
                print(f"initialised {len(copied)} of {len([layer for layer in model.layers if layer.weights])} "
                      f"layers from {config.init_from}")
        if config.self_supervised:
            model = imgdenoise.selfsupervised.SelfSupervisedTrainer(
                model, config.self_supervised, get_spec(config.model).noise_conditional)
        _compile(model, config)
    return model


def _callbacks(run: Path, train_data, card: dict, ema: bool, monitor_loss: bool = False) -> list:
    """The run's callbacks; ``train_data``, when given, is told each epoch which epoch it is.
    ``monitor_loss``: keep the model of lowest validation loss (else: highest validation PSNR)."""
    monitor, key = ("val_loss", "validation_loss") if monitor_loss else ("val_psnr", "validation_psnr")
    # The best score so far counts only while its model is there (a fresh clone has the card, not the model).
    has_best = (run / "best.json").exists() and (run / "best.keras").exists()
    best = None
    if has_best:
        best = json.loads((run / "best.json").read_text())[key] * (-1.0 if monitor_loss else 1.0)
    _align_csv_log(run / "log.csv", ["loss", "lr", "val_loss"] + ([] if monitor_loss else ["psnr", "val_psnr"]))
    callbacks = [
        LearningRateLog(),
        CheckpointEveryEpoch(run / "checkpoint.keras"),
        BestModel(run, card, best, monitor),
        keras.callbacks.CSVLogger(str(run / "log.csv"), append=True),
        CurvesPlot(run / "log.csv", run / "curves.png"),
    ]
    if train_data is not None:
        callbacks.insert(0, DataEpoch(train_data))
    if installed("tensorflow"):  # Keras writes TensorBoard logs through tf.summary
        callbacks.append(keras.callbacks.TensorBoard(str(run / "tensorboard"), write_graph=False))
    if ema:  # validation (and so the best model) uses the EMA weights
        callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=False))
    return callbacks


def _fit_inputs(spread: parallel.Parallelism, train_data, val_data, config: TrainConfig, initial_epoch: int):
    """What ``model.fit`` reads: ``(training data, validation data, step counts)``. One device or
    the Keras distribution API (JAX) take the datasets as they are, each process its slice of the
    validation batch; ``tf.distribute`` takes per-replica inputs (:mod:`imgdenoise.parallel`)."""
    if spread.strategy is not None:
        val_input, val_steps = parallel.validation_input(spread, val_data, config.batch_size)
        first_step = initial_epoch * config.steps_per_epoch
        return (parallel.training_input(spread, train_data, first_step), val_input,
                {"steps_per_epoch": config.steps_per_epoch, "validation_steps": val_steps})
    if spread.replicas > 1:  # every validation batch must split evenly over the devices
        val_data = parallel.multiple_of(val_data, spread.replicas)
        val_data = parallel.split_batch(val_data, spread.process_id, spread.processes)
    return train_data, val_data, {}


def train(config: TrainConfig, *, resume: bool = False, verbose: int = 1) -> Path:
    """Train a model as described by ``config``; returns the run folder.

    With ``resume``, continues the run in ``config.out`` from its checkpoint.
    Ctrl-C saves a checkpoint before stopping (resuming repeats the interrupted
    epoch's remaining batches from the saved weights).
    """
    run = Path(config.out)
    config = _resolved(config, run, resume)
    spec = get_spec(config.model)
    architecture = {"name": config.model, **config.model_config, "channels": config.channels}
    multiple = spec.multiple_for(architecture)
    if config.patch_size % multiple:
        raise ValueError(f"patch size {config.patch_size} must be a multiple of {multiple} for model {config.model!r}")
    _check_levels(config)
    spread = parallel.setup(config.distribute, batch_size=config.batch_size, coordinator=config.coordinator,
                            num_processes=config.num_processes, process_id=config.process_id)
    if config.self_supervised and spread.processes > 1:
        raise ValueError("multi-worker training is for supervised runs")
    config.num_processes, config.process_id = spread.processes, spread.process_id
    run.mkdir(parents=True, exist_ok=True)
    if spread.process_id == 0:
        _atomic_write_json(run / "config.json", dataclasses.asdict(config))
    else:  # one writer per file: the other workers keep theirs apart
        run = run / f".worker-{spread.process_id}"
        run.mkdir(exist_ok=True)

    train_data, val_data = _datasets(config, spec.noise_conditional, multiple)
    keras.utils.set_random_seed(config.seed)
    checkpoint = run / "checkpoint.keras"
    with spread.scope():
        model = _model_for_run(config, architecture, checkpoint, resume, verbose)
    initial_epoch = int(keras.ops.convert_to_numpy(model.optimizer.iterations)) // config.steps_per_epoch
    train_data.set_epoch(initial_epoch)  # Keras may draw the first batches before any epoch callback
    if spread.strategy is not None and spread.processes > 1:
        parallel.work_around_multi_worker_fit(model, parallel.split_batch(train_data[0], 0, spread.local_replicas))
    fit_train, fit_val, fit_steps = _fit_inputs(spread, train_data, val_data, config, initial_epoch)
    callbacks = _callbacks(run, train_data if spread.strategy is None else None,
                           model_card(config, architecture), ema=config.ema > 0,
                           monitor_loss=_monitors_loss(config))
    started = time.time()
    try:
        model.fit(fit_train, validation_data=fit_val, batch_size=config.batch_size, epochs=config.epochs,
                  initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose, shuffle=False, **fit_steps)
    except KeyboardInterrupt:
        _atomic_save(model, checkpoint)
        print(f"\ninterrupted: checkpoint saved to {checkpoint}; continue with --resume")
        raise
    if verbose:
        print(f"trained {config.model} for {time.time() - started:.0f} s; best model: {run / 'best.keras'}")
    return run
