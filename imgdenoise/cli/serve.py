"""`imgdenoise serve`: HTTP service with a web page (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse

from imgdenoise.cli.options import renamed
from imgdenoise.runtimes import RUNTIMES
from imgdenoise.service_config import ServiceConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000)
    served = ServiceConfig()  # the defaults live there
    p.add_argument("--models", nargs="+", default=served.models,
                   help="shipped models offered (the first is the default), e.g. unet dncnn")
    p.add_argument("--processes", type=int, default=1, help="uvicorn worker processes (each loads the models)")
    renamed(p, "--workers", "--processes")
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


def run(args):
    from imgdenoise.service import serve

    config = ServiceConfig(models=args.models, max_upload_bytes=int(args.max_upload_mb * 2**20),
                           max_pixels=args.max_pixels, max_work=args.max_work, threads=args.threads, queue=args.queue,
                           queue_timeout=args.queue_timeout, runtime=args.runtime, cors_origins=args.cors_origin,
                           warm_up=not args.no_warm_up, max_seconds=args.max_seconds)
    serve(config, host=args.host, port=args.port, workers=args.processes)
    return 0
