"""Command line: a thin layer over the Python API (``imgdenoise --help``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from imgdenoise.files import atomic_target, atomic_write_text
from imgdenoise.noise import TRAINING_NOISES
from imgdenoise.passes import DEFAULT_QUALITY, QUALITIES
from imgdenoise.runtimes import DEFAULT_RUNTIME, RUNTIMES
from imgdenoise.service_config import ServiceConfig
from imgdenoise.tiling import DEFAULT_MAX_MEMORY, DEFAULT_OVERLAP

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _sigma_range(values):
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def _model_config(items):
    """``key=value`` pairs -> dict, values parsed as JSON where possible (``widths=[16,32]``)."""
    config = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError:
            config[key] = value
    return config


def _strength(text: str) -> float:
    from imgdenoise.checks import check_strength

    try:
        return check_strength(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class UsageError(Exception):
    """A problem with a command's options or inputs: :func:`main` prints it as one line and exits 2."""


USER_ERRORS = (UsageError, ValueError, FileNotFoundError, FileExistsError)  # one line, exit 2, no traceback


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def cmd_train(args):
    from imgdenoise.train import TrainConfig, train

    if not args.train and not args.resume:
        raise UsageError("--train is required (unless --resume continues a run)")

    config = TrainConfig(
        model=args.model, model_config=_model_config(args.model_config),
        train=(args.train[0] if len(args.train) == 1 else args.train) if args.train else "",
        val=args.val, val_fraction=args.val_fraction,
        paired=args.paired, channels=3 if args.color else 1, sigma=_sigma_range(args.sigma), noise=args.noise,
        level_estimator=args.level_estimator, loss=args.loss,
        val_sigmas=tuple(args.val_sigmas) if args.val_sigmas else None,
        patch_size=args.patch_size, batch_size=args.batch_size, epochs=args.epochs,
        steps_per_epoch=args.steps, learning_rate=args.lr, schedule=args.schedule, ema=args.ema,
        precision=args.precision, seed=args.seed, out=args.out, init_from=args.init_from,
        self_supervised=args.self_supervised, distribute=args.distribute, coordinator=args.coordinator,
        num_processes=args.num_processes, process_id=args.process_id, workers=args.data_threads)
    try:
        train(config, resume=args.resume, verbose=args.verbose)
    except KeyboardInterrupt:
        return 130
    return 0


def _denoise_on_ray(args, plan) -> int:
    from imgdenoise.distributed import denoise_with_ray

    records = denoise_with_ray(args.model, plan.jobs, sigma=args.sigma, overwrite=args.overwrite,
                               workers=args.ray_workers or 2, cpus_per_worker=args.cpus_per_worker or 1,
                               batch_size=args.images_per_batch, runtime=args.runtime, quality=args.quality,
                               address=args.ray_address, max_pixels=args.max_pixels, tile=args.tile or "auto",
                               overlap=args.overlap, max_memory=int(args.max_memory * 2**30), strength=args.strength)
    failures = [r for r in records if r["status"] != "ok"]
    for r in failures:
        print(f"error: {r['message']}", file=sys.stderr)
    if not args.quiet:
        print(f"denoised {len(records) - len(failures)} of {plan.total} images on Ray with {args.model}"
              + _skipped_and_failed(len(plan.skipped), len(failures)))
    return 1 if failures else 0


def _skipped_and_failed(skipped: int, failed: int) -> str:
    return ((f"; {skipped} skipped: their outputs exist (--overwrite redoes them)" if skipped else "")
            + (f"; {failed} failed" if failed else ""))


def _denoise_locally(args, plan) -> int:
    from tqdm import tqdm

    from imgdenoise import load_model
    from imgdenoise.batch import denoise_files
    from imgdenoise.checks import check_strength

    denoiser = load_model(args.model, runtime=args.runtime)
    check_strength(args.strength, denoiser.for_sigma(args.sigma).noise_conditional)
    results = denoise_files(denoiser, plan.jobs, sigma=args.sigma, overwrite=args.overwrite,
                            max_pixels=args.max_pixels, batch_size=args.images_per_batch,
                            max_memory=int(args.max_memory * 2**30), tile=args.tile or "auto", overlap=args.overlap,
                            quality=args.quality, strength=args.strength)
    failures, done = [], []
    for src, result in tqdm(results, total=len(plan.jobs), desc="denoising", unit="img",
                            disable=len(plan.jobs) < 2 or args.quiet):
        if isinstance(result, Exception):  # one bad file must not stop the batch
            failures.append(src)
            tqdm.write(f"error: {result}" if str(src) in str(result) else f"error: {src}: {result}", file=sys.stderr)
        else:
            done.append(result)
    if not args.quiet:
        for r in done if len(done) <= 10 else []:
            sigma = "n/a" if r["sigma"] is None else f"{r['sigma']:.1f}"
            size = f"{r['size'][1]}x{r['size'][0]}"
            print(f"{r['input']} -> {r['output']}  ({size}, sigma {sigma}, {r['seconds']:.2f} s)")
        print(f"denoised {len(done)} of {plan.total} images with {denoiser.name}"
              + _skipped_and_failed(len(plan.skipped), len(failures)))
    return 1 if failures else 0


RAY_OPTIONS = ("ray_workers", "cpus_per_worker", "ray_address")


def cmd_denoise(args):
    from imgdenoise.jobs import plan_jobs

    given = [name for name in RAY_OPTIONS if getattr(args, name) is not None]
    if given and args.engine != "ray":  # an option an engine cannot honour is refused, not ignored
        raise UsageError(f"--{given[0].replace('_', '-')} needs --engine ray")

    plan = plan_jobs(args.inputs, args.output, overwrite=args.overwrite, uris=args.engine == "ray")
    return (_denoise_on_ray if args.engine == "ray" else _denoise_locally)(args, plan)


def cmd_evaluate(args):
    from imgdenoise import load_model
    from imgdenoise.evaluate import evaluate, evaluate_paired, format_table, load_pairs, method_labels
    from imgdenoise.passes import split_quality

    names = (args.model or []) + (args.method or [])
    if not names:
        raise UsageError("give --model and/or --method")
    if bool(args.data) == bool(args.paired):
        raise UsageError("give --data (clean images, noise added) or --paired (real noisy/clean pairs), not both")
    paired = {}
    for root in args.paired or []:
        pairs, problems = load_pairs(root, gray=args.gray)
        for problem in problems:
            print(f"skipped: {problem}", file=sys.stderr)
        if pairs:
            paired[root] = pairs
    if args.paired and not paired:
        raise UsageError("no usable noisy/clean pairs")
    sigmas = args.sigma or ([] if args.paired else [25.0])
    records = []
    for name, label in zip(names, method_labels(names)):
        base, quality = split_quality(name)
        denoiser = load_model(base)
        options = dict(tile=args.tile, quality=quality or args.quality)
        for root, pairs in paired.items():
            for sigma in sigmas or [None]:  # no --sigma: blind
                records.append(evaluate_paired(denoiser, pairs, method=label, dataset=Path(root).name,
                                               sigma=sigma, **options))
        all_folders = all(Path(d).is_dir() for d in args.data or [])
        for data in (args.data if all_folders else [args.data]) if args.data else []:
            records += evaluate(denoiser, data, sigmas, method=label, gray=args.gray, blind=args.blind, **options)
    print(format_table(records))
    if args.json:
        atomic_write_text(args.json, json.dumps(records, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.plot:
        from imgdenoise.plotting import plot_psnr_vs_sigma

        print(f"wrote {plot_psnr_vs_sigma(records, args.plot)}")
    return 0


def cmd_import_weights(args):
    from imgdenoise.legacy import import_keras2_weights
    from imgdenoise.pretrained import card_for_model

    try:
        model = import_keras2_weights(args.model, args.weights)
    except (ValueError, OSError, KeyError) as error:
        raise UsageError(f"{args.weights}: {error}") from None
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out}: already exists (use --overwrite)")
    with atomic_target(out) as target:
        model.save(target)
    card = card_for_model(model).replace(source=f"imported from Keras 2 weights {Path(args.weights).name}")
    if args.sigma is not None:
        card = card.replace(training={"sigma_range": [args.sigma, args.sigma]})
    atomic_write_text(out.with_suffix(".json"), json.dumps(card.to_dict(), indent=2) + "\n")
    print(f"imported {args.weights} into {args.model}: {out} (+ {out.with_suffix('.json').name})")
    return 0


def cmd_pack(args):
    """Turn a run's best model into shippable float16 weights + model card."""
    from imgdenoise.loading import load_model
    from imgdenoise.pretrained import save_pretrained

    run = Path(args.run)
    denoiser = load_model(run / "best.keras")
    variant = next(iter(denoiser.variants.values()))
    model, card = variant.model, variant.card
    card = card.replace(**{key: getattr(args, key) for key in ("family", "level_estimator") if getattr(args, key)})
    if args.evaluation:
        records = json.loads(Path(args.evaluation).read_text())
        card = card.replace(benchmarks=[{k: r[k] for k in ("dataset", "sigma", "psnr", "ssim")} for r in records
                                        if r["method"] in (args.evaluation_method or r["method"],)
                                        and r["dataset"] in (args.evaluation_datasets or [r["dataset"]])])
    path = save_pretrained(model, card, args.output, args.stem)
    print(f"wrote {path} and {path.with_suffix('.npz')}")
    if args.default:
        aliases_path = Path(args.output) / "aliases.json"
        table = json.loads(aliases_path.read_text()) if aliases_path.is_file() else {}
        table["default"] = {"model": card.family_name}
        atomic_write_text(aliases_path, json.dumps(table, indent=2) + "\n")
        print(f"{aliases_path}: default is now {table['default']['model']}")
    return 0


def cmd_models(args):
    from imgdenoise.models import get_spec, list_models
    from imgdenoise.pretrained import alias, aliases, shipped_cards, shipped_names

    print("architectures:")
    for name in list_models(task=None):
        print(f"  {name:8s} {get_spec(name).description}")
    print("shipped weights (load by stem, or by family to get a family's gray and colour networks together):")
    for stem, card in shipped_cards(task=None).items():
        training = card.extra.get("training", {})
        noise = training.get("noise", "gaussian")
        psnr = card.extra.get("validation_psnr")
        print(f"  {stem:14s} family {card.family_name}, {card.task}, {noise} noise, "
              f"sigma {training.get('sigma_range')}, {card.extra.get('parameters', '?')} parameters"
              + (f", validation PSNR {psnr:.2f} dB" if psnr else ""))
    for name in aliases():
        entry = alias(name)
        blind = entry.level_estimator or entry.blind_model or "the classical estimator"
        print(f"alias {name}: {entry.model}, blind through {blind}")
    print(f"names: {', '.join(shipped_names())}")
    if args.json:
        print(json.dumps({stem: card.to_dict() for stem, card in shipped_cards(task=None).items()}, indent=2))
    return 0


def cmd_info(args):
    from imgdenoise import load_model
    from imgdenoise.io import read_image

    denoiser = load_model(args.model)
    status = 0
    for path in args.images:
        try:
            image = read_image(path)
            run = denoiser.resolve(image.pixels)  # what blind denoising would use
            level = run.sigma
        except (ValueError, OSError) as error:
            _error(str(error))
            status = 1
            continue
        h, w, c = image.pixels.shape
        mode = {1: "gray", 3: "RGB"}[c] + ("+alpha" if image.alpha is not None else "")
        noise = "n/a" if level is None else f"{level:.1f} (0-255, as {run.denoiser.name} reads it)"
        print(f"{path}: {w}x{h} {mode}, {image.bit_depth}-bit {image.format}, estimated noise sigma {noise}")
    return status


def cmd_compare(args):
    from imgdenoise.figures import comparison_figure

    path, rows = comparison_figure(args.clean, args.sigma, args.methods.split(","), args.output,
                                   crop=args.crop, gray=args.gray, overwrite=args.overwrite)
    for method, p, s in rows:
        print(f"{method:10s} PSNR {p:6.2f} dB  SSIM {s:.4f}")
    print(f"wrote {path}")
    return 0


def cmd_demo(args):
    from imgdenoise.figures import demo

    return demo(args.output, sigma=args.sigma, model=args.model)


def cmd_finetune(args):
    """A shipped model adapted to a folder of the user's noisy images (self-supervised)."""
    from imgdenoise.pretrained import shipped_cards
    from imgdenoise.train import TrainConfig, train

    channels = 3 if args.color else 1
    cards = [c for c in shipped_cards().values() if c.name == args.model]
    card = next((c for c in cards if c.channels == channels), None)
    if card is None:
        raise UsageError(f"no shipped {'colour' if args.color else 'gray'} weights for model {args.model!r}")
    architecture = {k: v for k, v in card.builder_arguments.items() if k != "channels"}
    config = TrainConfig(model=args.model, model_config=architecture, train=args.train, channels=channels,
                         self_supervised=args.method, patch_size=args.patch_size, batch_size=args.batch_size,
                         epochs=args.epochs, steps_per_epoch=args.steps, learning_rate=args.lr, ema=0.999,
                         val_fraction=args.val_fraction, init_from=args.model, out=args.out)
    try:
        run = train(config, resume=args.resume, verbose=args.verbose)
    except KeyboardInterrupt:
        return 130
    print(f"fine-tuned model: {run / 'best.keras'} (use it with --model {run / 'best.keras'})")
    return 0


def cmd_export(args):
    from imgdenoise import load_model
    from imgdenoise.export import export_denoiser

    try:
        written = export_denoiser(load_model(args.model), args.output, args.format)
    except RuntimeError as error:  # e.g. exporting needs the TensorFlow backend
        raise UsageError(str(error)) from None
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_serve(args):
    from imgdenoise.service import serve

    config = ServiceConfig(models=args.models, max_upload_bytes=int(args.max_upload_mb * 2**20),
                           max_pixels=args.max_pixels, max_work=args.max_work, threads=args.threads, queue=args.queue,
                           queue_timeout=args.queue_timeout, runtime=args.runtime, cors_origins=args.cors_origin,
                           warm_up=not args.no_warm_up, max_seconds=args.max_seconds)
    serve(config, host=args.host, port=args.port, workers=args.processes)
    return 0


class _RenamedOption(argparse.Action):
    """An option's old spelling: refused with the new one named (each option has one meaning across commands)."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs):
        super().__init__(option_strings, dest, nargs="?", help=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} was renamed: use {self.new}")


def _renamed(p, old: str, new: str):
    p.add_argument(old, action=_RenamedOption, new=new, dest=f"renamed_{old.strip('-').replace('-', '_')}")


def _add_quality_option(p):
    p.add_argument("--quality", default=DEFAULT_QUALITY, choices=QUALITIES,
                   help="network passes per image: fast: one; standard (default): two, fused (a gray image and "
                        "its transpose; a colour image's luminance also through the gray network; camera noise: "
                        "full resolution and the pixel-shuffled sub-images); "
                        "best: the standard passes under the 8 flips and rotations (8x the time)")


def _add_denoise_options(p):
    p.add_argument("--model", default="default", help="shipped model name (unet, dncnn, seed), .keras path, "
                   "or classical method (bm3d, nlm, tv, wavelet)")
    p.add_argument("--tile", type=int, default=None,
                   help="tile size in pixels (default: automatic, tiles only images too big for --max-memory)")
    p.add_argument("--max-memory", type=float, default=DEFAULT_MAX_MEMORY / 2**30,
                   help="GiB of activations per forward pass (auto tiling)")
    p.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, help="tile overlap in pixels")
    p.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=RUNTIMES,
                   help="keras: compiled Keras predict step (default); xla: XLA-compiled; eager: plain calls; "
                        "bf16: mixed bfloat16 (CPUs with AMX/AVX512-BF16); "
                        "onnx: ONNX Runtime (an exported .onnx --model, or shipped weights exported once to a cache)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imgdenoise", description="CNN image denoising (Keras 3).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("denoise", help="denoise image files, folders or globs")
    p.add_argument("inputs", nargs="+", help="image files, folders or glob patterns")
    p.add_argument("-o", "--output", required=True, help="output file (one input) or folder")
    _add_denoise_options(p)
    _add_quality_option(p)
    p.add_argument("--sigma", type=float, default=None,
                   help="noise sigma (0-255); default: estimated per image (the default model then uses its "
                        "real-photo network)")
    p.add_argument("--strength", type=_strength, default=1.0,
                   help="how much noise to remove: 0 returns the input, 1 (default) the model's estimate, "
                        "above 1 (up to 4) removes more")
    p.add_argument("--images-per-batch", type=int, default=8,
                   help="images handled together: same-size small images share a network pass (on Ray: images "
                        "per worker call)")
    _renamed(p, "--batch-size", "--images-per-batch")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="ray: spread the files over Ray Data workers (inputs may be URIs: s3://, gs://, ...)")
    p.add_argument("--ray-workers", type=int, default=None, help="Ray workers (one model load each; default 2)")
    _renamed(p, "--workers", "--ray-workers")
    p.add_argument("--cpus-per-worker", type=int, default=None,
                   help="CPUs (and compute threads) per Ray worker (default 1); e.g. a node's cores for one worker "
                        "per node")
    p.add_argument("--ray-address", default=None, help="existing Ray cluster (e.g. auto); default: a local one")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing outputs (or the input itself); without it, existing outputs are "
                        "skipped, so an interrupted batch resumes where it stopped")
    p.add_argument("--max-pixels", type=int, default=None, help="refuse larger images (decompression bombs)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_denoise)

    p = sub.add_parser("evaluate", help="PSNR/SSIM on a benchmark folder with the field's protocol")
    p.add_argument("--model", nargs="+", help="shipped model names or .keras paths; NAME:QUALITY (e.g. dncnn:fast) "
                   "overrides --quality for that model")
    p.add_argument("--method", nargs="+", help="classical methods: bm3d, nlm, tv, wavelet, noisy")
    p.add_argument("--paired", nargs="+", metavar="DIR",
                   help="real pairs: DIR/noisy/ and DIR/clean/ matched by file name; nothing added, blind "
                        "unless --sigma is given")
    p.add_argument("--data", nargs="+",
                   help="folders of clean test images (each scored as a set), or image files/globs (one set)")
    p.add_argument("--sigma", type=float, nargs="+", default=None,
                   help="noise sigma(s) added to --data (default 25); with --paired, told to every method")
    p.add_argument("--gray", action="store_true", help="convert colour images to gray (luma)")
    p.add_argument("--blind", action="store_true", help="do not tell the methods sigma (they estimate it)")
    p.add_argument("--tile", type=int, default=None)
    _add_quality_option(p)
    p.add_argument("--json", help="write the records (with per-image values) to this JSON file")
    p.add_argument("--plot", help="write a PSNR-versus-sigma PNG")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a denoiser on a folder of clean images or noisy/clean pairs")
    p.add_argument("--model", default="dncnn", help="registered model name (see `imgdenoise models`)")
    p.add_argument("--model-config", nargs="*", metavar="KEY=VALUE", help="builder options, e.g. preset=small")
    p.add_argument("--train", nargs="+",
                   help="folder(s) of clean images, pooled (or, with --paired, one folder with noisy/ and clean/)")
    p.add_argument("--val", help="validation folder (default: hold out --val-fraction of --train)")
    p.add_argument("--val-fraction", type=float, default=0.05, help="share of --train held out for validation")
    p.add_argument("--paired", action="store_true", help="folders hold noisy/ and clean/ pairs matched by name")
    p.add_argument("--color", action="store_true", help="train an RGB model (default: gray)")
    p.add_argument("--sigma", type=float, nargs="+", default=[25.0], metavar="S",
                   help="noise sigma (0-255), or LOW HIGH for a blind range")
    p.add_argument("--noise", default="gaussian", choices=TRAINING_NOISES,
                   help="training noise: gaussian (AWGN in --sigma), or realistic (camera pipeline, correlated "
                        "noise and JPEG; --sigma bounds its Gaussian parts)")
    p.add_argument("--level-estimator", metavar="NAME",
                   help="with --paired: the shipped noise-level estimator (e.g. level-coarse) whose reading of "
                        "each noisy image the network is told, and blind use will read (default: classical)")
    p.add_argument("--val-sigmas", type=float, nargs="+", help="sigmas of the fixed validation noise")
    p.add_argument("--loss", default=None, choices=["mse", "l1", "charbonnier", "bce", "ssim", "log-l1"],
                   help="default mse; with --resume, switches the run's loss (optimizer state kept)")
    p.add_argument("--patch-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--epochs", type=int, default=None, help="default 10; with --resume, the run's own")
    p.add_argument("--steps", type=int, default=500, help="batches per epoch")
    p.add_argument("--lr", type=float, default=1e-3, help="initial learning rate")
    p.add_argument("--schedule", default="cosine", choices=["cosine", "step", "constant"])
    p.add_argument("--ema", type=float, default=0.0, help="EMA momentum of the weights, e.g. 0.999 (0: off)")
    p.add_argument("--precision", default="auto", choices=["auto", "float32", "mixed_bfloat16", "mixed_float16"])
    p.add_argument("--init-from", help=".keras file, packed card .json, or shipped model name to start from "
                   "(gray -> colour works)")
    p.add_argument("--self-supervised", choices=["n2v", "neighbor2neighbor"],
                   help="train from noisy images only: --train holds the noisy images; no clean ones needed")
    p.add_argument("--distribute", default="none", choices=["none", "data-parallel", "multi-worker"],
                   help="split each batch over replicas: data-parallel: this process's devices; multi-worker: "
                        "several processes (JAX: --coordinator, --num-processes, --process-id; TensorFlow: "
                        "the cluster in TF_CONFIG). Keras distribution API on JAX, tf.distribute on TensorFlow")
    p.add_argument("--data-threads", type=int, default=1,
                   help="threads preparing training batches (raise it to keep a GPU busy)")
    _renamed(p, "--workers", "--data-threads")
    p.add_argument("--coordinator", help="multi-worker on JAX: host:port of process 0")
    p.add_argument("--num-processes", type=int, default=1, help="multi-worker on JAX: how many processes")
    p.add_argument("--process-id", type=int, default=0, help="multi-worker on JAX: this process's index")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/run", help="run folder (checkpoints, logs, best model)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2], help="1: progress bar, 2: a line per epoch")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("finetune", help="adapt a shipped model to your own noisy images (self-supervised)")
    p.add_argument("--model", default="unet", help="shipped model to start from")
    p.add_argument("--train", nargs="+", required=True, help="folder(s) of your noisy images")
    p.add_argument("--color", action="store_true", help="fine-tune the colour weights (default: gray)")
    p.add_argument("--method", default="neighbor2neighbor", choices=["n2v", "neighbor2neighbor"])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps", type=int, default=200, help="batches per epoch")
    p.add_argument("--patch-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--out", default="runs/finetune", help="run folder")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("import-weights", help="import legacy Keras 2 .h5 weights into a registered model")
    p.add_argument("model", help="registered architecture, e.g. dncnn")
    p.add_argument("weights", help="Keras 2 .h5 file")
    p.add_argument("-o", "--output", required=True, help="output .keras file (a model card .json goes beside it)")
    p.add_argument("--sigma", type=float, help="the sigma the weights were trained for (recorded in the card)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_import_weights)

    p = sub.add_parser("pack", help="package a run's best model as shippable float16 weights + model card")
    p.add_argument("run", help="run folder holding best.keras and best.json")
    p.add_argument("--stem", required=True, help="file stem, e.g. unet-gray")
    p.add_argument("-o", "--output", default=str(Path(__file__).parent / "weights"))
    p.add_argument("--default", action="store_true", help="make these weights' family the `default` alias "
                                                          "(aliases.json beside the weights)")
    p.add_argument("--family", help="the name these weights load by with others (default: the architecture's)")
    p.add_argument("--level-estimator", help="shipped noise-level estimator (stem) that blind use of these weights "
                                             "reads the noise level with (default: the classical estimator)")
    p.add_argument("--evaluation", help="`evaluate --json` file whose PSNR table goes into the card")
    p.add_argument("--evaluation-method", help="only the records of this method name")
    p.add_argument("--evaluation-datasets", nargs="+", help="only the records of these datasets")
    p.set_defaults(func=cmd_pack)

    p = sub.add_parser("models", help="list architectures and shipped weights")
    p.add_argument("--json", action="store_true", help="print the full model cards")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("info", help="size, mode, bit depth and estimated noise level of images")
    p.add_argument("images", nargs="+")
    p.add_argument("--model", default="default",
                   help="whose noise estimate to report (the level blind `denoise --model` uses)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("compare", help="side-by-side figure of methods on a clean image with added noise")
    p.add_argument("clean", help="clean image")
    p.add_argument("--sigma", type=float, default=25.0)
    p.add_argument("--methods", default="bm3d,dncnn", help="comma-separated models/methods, each optionally "
                   "NAME:QUALITY (e.g. dncnn:fast; default quality: standard)")
    p.add_argument("--crop", type=int, nargs=3, metavar=("TOP", "LEFT", "SIZE"), help="zoomed region")
    p.add_argument("--gray", action="store_true")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("export", help="export a model for deployment (SavedModel, ONNX, TFLite)")
    p.add_argument("model", help="shipped model name (unet, dncnn, ...) or .keras path")
    p.add_argument("--format", required=True, choices=["savedmodel", "onnx", "tflite"])
    p.add_argument("-o", "--output", required=True,
                   help="output path; a model with gray and colour weights writes PATH-gray and PATH-color")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("serve", help="HTTP service with a web page (FastAPI on uvicorn)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000)
    served = ServiceConfig()  # the defaults live there
    p.add_argument("--models", nargs="+", default=served.models,
                   help="shipped models offered (the first is the default), e.g. unet dncnn")
    p.add_argument("--processes", type=int, default=1, help="uvicorn worker processes (each loads the models)")
    _renamed(p, "--workers", "--processes")
    p.add_argument("--threads", type=int, default=served.threads, help="images denoised at the same time per worker")
    p.add_argument("--queue", type=int, default=served.queue, help="requests that may wait; more get 503 + Retry-After")
    p.add_argument("--queue-timeout", type=float, default=served.queue_timeout,
                   help="seconds a request may wait for a thread")
    p.add_argument("--cors-origin", nargs="*", default=served.cors_origins,
                   help="web origins allowed to call the API (default: none)")
    p.add_argument("--max-upload-mb", type=float, default=served.max_upload_bytes / 2**20)
    p.add_argument("--max-pixels", type=int, default=served.max_pixels)
    p.add_argument("--max-work", type=float, default=served.max_work,
                   help="megapixel-passes one request may take (pixels x network passes of its quality); more: 413")
    p.add_argument("--runtime", default=served.runtime, choices=RUNTIMES)
    p.add_argument("--max-seconds", type=float, default=served.max_seconds,
                   help="denoising time one request may take (checked between bands of rows); more: 503")
    p.add_argument("--no-warm-up", action="store_true",
                   help="skip loading and running the models at start-up (/healthz is then ready at once, and "
                        "the first request pays for it)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="denoise a sample image with the shipped default model")
    p.add_argument("-o", "--output", default="demo-output")
    p.add_argument("--sigma", type=float, default=25.0)
    p.add_argument("--model", default="default")
    p.set_defaults(func=cmd_demo)
    return parser


def _safe_streams():
    """Print any file name: characters the terminal's encoding cannot show are escaped, not fatal."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a detached or closed stream: leave it
                pass


def main(argv=None) -> int:
    _safe_streams()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as error:  # bad options, inputs or data: one line, not a traceback
        _error(str(error))
        return 2
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback; finished outputs are complete
        print("\ninterrupted: finished outputs are complete; run the same command again to resume "
              "(existing outputs are skipped)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
