"""`imgdenoise denoise`: denoise image files, folders or globs."""

from __future__ import annotations

import argparse
import sys

from imgdenoise.cli.options import UsageError, add_denoise_options, add_quality_option, renamed, strength


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="image files, folders or glob patterns")
    p.add_argument("-o", "--output", required=True, help="output file (one input) or folder")
    add_denoise_options(p)
    add_quality_option(p)
    p.add_argument("--sigma", type=float, default=None,
                   help="noise sigma (0-255); default: estimated per image (the default model then uses its "
                        "real-photo network)")
    p.add_argument("--strength", type=strength, default=1.0,
                   help="how much noise to remove: 0 returns the input, 1 (default) the model's estimate, "
                        "above 1 (up to 4) removes more")
    p.add_argument("--images-per-batch", type=int, default=8,
                   help="images handled together: same-size small images share a network pass (on Ray: images "
                        "per worker call)")
    renamed(p, "--batch-size", "--images-per-batch")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="ray: spread the files over Ray Data workers (inputs may be URIs: s3://, gs://, ...)")
    p.add_argument("--ray-workers", type=int, default=None, help="Ray workers (one model load each; default 2)")
    renamed(p, "--workers", "--ray-workers")
    p.add_argument("--cpus-per-worker", type=int, default=None,
                   help="CPUs (and compute threads) per Ray worker (default 1); e.g. a node's cores for one worker "
                        "per node")
    p.add_argument("--ray-address", default=None, help="existing Ray cluster (e.g. auto); default: a local one")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing outputs (or the input itself); without it, existing outputs are "
                        "skipped, so an interrupted batch resumes where it stopped")
    p.add_argument("--max-pixels", type=int, default=None, help="refuse larger images (decompression bombs)")
    p.add_argument("-q", "--quiet", action="store_true")


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


def run(args):
    from imgdenoise.jobs import plan_jobs

    given = [name for name in RAY_OPTIONS if getattr(args, name) is not None]
    if given and args.engine != "ray":  # an option an engine cannot honour is refused, not ignored
        raise UsageError(f"--{given[0].replace('_', '-')} needs --engine ray")
    plan = plan_jobs(args.inputs, args.output, overwrite=args.overwrite, uris=args.engine == "ray")
    return (_denoise_on_ray if args.engine == "ray" else _denoise_locally)(args, plan)
