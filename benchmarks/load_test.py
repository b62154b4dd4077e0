"""Load test of the web service: N requests, C at a time, from this process to a uvicorn process.

Starts ``imgdenoise serve`` on a free loopback port, sends --requests POST /v1/denoise requests
(--concurrency at a time, each a noisy --size x --size PNG) from a thread pool, and reports:
answers by status (only designed 503s may fail), latency percentiles, throughput, and the
server's peak resident memory (VmHWM) before and after the load.

Usage: python benchmarks/load_test.py [--requests 500] [--concurrency 16] [--model default] [--update-docs]
"""

from __future__ import annotations

import argparse
import collections
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, today, update_section  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(args, port: int) -> subprocess.Popen:
    import httpx

    command = [sys.executable, "-m", "imgdenoise", "serve", "--port", str(port), "--models", args.model,
               "--threads", str(args.threads), "--queue", str(args.queue)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the service did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--size", type=int, default=128, help="side of the uploaded gray PNGs")
    parser.add_argument("--model", default="default")
    parser.add_argument("--threads", type=int, default=1, help="the service's --threads")
    parser.add_argument("--queue", type=int, default=8, help="the service's --queue")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()

    import httpx

    from imgdenoise.io import encode_image

    rng = np.random.default_rng(0)
    bodies = [encode_image(np.clip(0.5 + rng.normal(0, 0.1, (args.size, args.size)), 0, 1), "PNG") for _ in range(8)]
    port = free_port()
    server = start_server(args, port)
    url = f"http://127.0.0.1:{port}/v1/denoise"
    try:
        with httpx.Client(timeout=120) as warm:  # load the model before measuring
            warm.post(url, files={"image": ("w.png", bodies[0])}, data={"sigma": "25"}).raise_for_status()
        idle_mib = peak_rss_mib(server.pid)
        client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=args.concurrency))

        def one(i: int):
            start = time.perf_counter()
            try:
                response = client.post(url, files={"image": (f"{i}.png", bodies[i % len(bodies)])},
                                       data={"sigma": "25"})
                status = response.status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            return status, time.perf_counter() - start

        start = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(one, range(args.requests)))
        wall = time.perf_counter() - start
        loaded_mib = peak_rss_mib(server.pid)
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    statuses = collections.Counter(status for status, _ in results)
    ok = [seconds for status, seconds in results if status == 200]
    unexpected = {s: n for s, n in statuses.items() if s not in (200, 503)}
    p50, p95, p99 = (np.percentile(ok, q) * 1000 for q in (50, 95, 99)) if ok else (float("nan"),) * 3
    table = "\n".join([
        "| requests | concurrency | 200 | 503 (designed) | other errors | p50 / p95 / p99 latency of 200s (ms) "
        "| throughput (200s per s) | server peak RSS idle -> after load (MiB) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {args.requests} | {args.concurrency} | {statuses.get(200, 0)} | {statuses.get(503, 0)} | "
        f"{sum(unexpected.values())} | {p50:.0f} / {p95:.0f} / {p99:.0f} | {len(ok) / wall:.1f} | "
        f"{idle_mib:.0f} -> {loaded_mib:.0f} |"])
    print(table)
    if unexpected:
        print(f"unexpected answers: {unexpected}", file=sys.stderr)
    if args.update_docs:
        update_section("load-test", f"""
## Service under load

Command: `python benchmarks/load_test.py {' '.join(sys.argv[1:])}`, {today()}, {machine()}.
One `imgdenoise serve --models {args.model} --threads {args.threads} --queue {args.queue}` process on
127.0.0.1; the client (this script) sends {args.size}x{args.size} noisy gray PNGs with sigma 25 from
{args.concurrency} threads. Requests beyond the threads plus the queue are turned away at once
with 503 and `Retry-After` (the designed answer to overload); anything else counts as an error.

{table}
""")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
