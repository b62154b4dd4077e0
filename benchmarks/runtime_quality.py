"""Which runtime is the default: the fastest whose PSNR stays within 0.02 dB of float32 on every benchmark line.

For each runtime a CPU may get (issue 19): its speed on the shipped colour U-Net (one pass, 1 MP, all runs
in this process, interleaved) and, for the runtimes that do not compute in float32, its PSNR on every line
of the Quality table (the four test sets at sigma 15, 25, 50, default quality, the protocol's noise) against
the float32 reference: the records of `benchmarks/quality.py` (`docs/quality-records.json`, Keras float32),
which the float32 runtimes reproduce (ONNX Runtime and OpenVINO float32: within 1e-6 of Keras per pixel).

Usage: python benchmarks/runtime_quality.py [--datasets ../shared/datasets/test] [--check openvino-bf16 ...]
         [--update-docs]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import SETS  # noqa: E402
from report import DATASETS, ROOT, hardware, today, update_section  # noqa: E402

from imgdenoise import load_model  # noqa: E402
from imgdenoise.evaluate import evaluate  # noqa: E402
from imgdenoise.runtimes import cpu_has_bfloat16, resolve_runtime  # noqa: E402

SPEED_RUNTIMES = ("onnx", "openvino", "openvino-bf16", "keras", "bf16")
TOLERANCE = 0.02  # dB below float32 that a default runtime may lose on any line


def speeds(runs: int = 3) -> dict[str, float]:
    """MP/s of the colour U-Net, one pass, on a 1 MP image, under each runtime that loads here."""
    image = np.random.default_rng(1).random((1024, 1024, 3), dtype=np.float32)
    denoisers = {}
    for runtime in SPEED_RUNTIMES:
        try:
            denoisers[runtime] = load_model("unet", runtime=runtime)
        except (ImportError, ValueError, RuntimeError) as error:
            print(f"{runtime}: not measured ({type(error).__name__}: {error})", flush=True)
    times = {runtime: [] for runtime in denoisers}
    for _ in range(runs + 1):  # the first run of each compiles and warms up
        for runtime, denoiser in denoisers.items():
            start = time.perf_counter()
            denoiser.denoise(image, 25.0, quality="fast")
            times[runtime].append(time.perf_counter() - start)
    return {runtime: 1.048576 / statistics.median(t[1:]) for runtime, t in times.items()}


def reference(records_path: Path) -> dict[tuple[str, float], float]:
    records = json.loads(records_path.read_text())
    return {(r["dataset"], float(r["sigma"])): r["psnr"] for r in records if r["method"] == "unet"}


def quality_gaps(runtime: str, datasets: Path, float32: dict) -> list[tuple[str, float, float, float]]:
    """(set, sigma, PSNR under ``runtime``, its gap to float32) for every line of the Quality table."""
    denoiser = load_model("unet", runtime=runtime)
    rows = []
    for name, colour in SETS.items():
        for record in evaluate(denoiser, datasets / name, [15.0, 25.0, 50.0], method=runtime, gray=not colour,
                               progress=False):
            key = (name, float(record["sigma"]))
            rows.append((name, key[1], record["psnr"], record["psnr"] - float32[key]))
            print(name, key[1], f"{record['psnr']:.4f}", f"{rows[-1][3]:+.4f}", flush=True)
    return rows


def real_gap(runtime: str, paired: Path) -> tuple[float, float]:
    """The default command's PSNR on real pairs (PolyU-dev, blind) under float32 and under ``runtime``."""
    from imgdenoise.evaluate import evaluate_paired, load_pairs

    pairs, _ = load_pairs(paired)
    scores = [evaluate_paired(load_model("default", runtime=r), pairs, method=r, dataset=paired.name)["psnr"]
              for r in ("float32", runtime)]
    print(paired.name, f"{scores[0]:.4f}", f"{scores[1] - scores[0]:+.4f}", flush=True)
    return scores[0], scores[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=str(DATASETS / "test"))
    parser.add_argument("--check", nargs="+", default=["openvino-bf16"],
                        help="runtimes not computing in float32, whose PSNR is checked on every line")
    parser.add_argument("--records", default=str(ROOT / "docs" / "quality-records.json"))
    parser.add_argument("--paired", default=str(DATASETS / "real" / "PolyU-dev"),
                        help="real pairs on which the default command (blind) is checked too")
    parser.add_argument("--update-docs", action="store_true")
    parser.add_argument("--context", default="", help="what else ran on the machine (said in the docs)")
    args = parser.parse_args()
    started = time.time()
    speed = speeds()
    float32 = reference(Path(args.records))
    gaps = {runtime: quality_gaps(runtime, Path(args.datasets), float32) for runtime in args.check}
    for runtime in args.check:  # the real-noise headline: the default command, blind, on real pairs
        reference_psnr, psnr = real_gap(runtime, Path(args.paired))
        float32[(f"{Path(args.paired).name} (default command, blind)", 0.0)] = reference_psnr
        gaps[runtime].append((f"{Path(args.paired).name} (default command, blind)", 0.0, psnr, psnr - reference_psnr))
    chosen = resolve_runtime("auto", onnx_shipped=True)
    lines = ["| runtime | computes in | MP/s (colour U-Net, one pass, 1 MP) | vs onnx | worst line vs float32 |",
             "|---|---|---|---|---|"]
    for runtime, value in speed.items():
        precision = "bfloat16" if runtime.endswith("bf16") else "float32"
        worst = min(gaps[runtime], key=lambda row: row[3]) if runtime in gaps else None
        if worst:
            gap = f"{worst[3]:+.3f} dB ({worst[0]}, sigma {worst[1]:g})"
        elif runtime == "keras":
            gap = "the reference"
        else:
            same = "float32 (the reference's results to 1e-6 per pixel)"
            gap = "not checked here" if precision == "bfloat16" else same
        lines.append(f"| {runtime}{' (auto here)' if runtime == chosen else ''} | {precision} | {value:.2f} | "
                     f"{value / speed['onnx']:.2f}x | {gap} |")
    detail = ["| set | sigma | float32 | " + " | ".join(args.check) + " |", "|---|---|---|" + "---|" * len(args.check)]
    for i, (name, sigma, _, _) in enumerate(gaps[args.check[0]]):
        cells = " | ".join(f"{gaps[r][i][2]:.3f} ({gaps[r][i][3]:+.3f})" for r in args.check)
        detail.append(f"| {name} | {sigma:g} | {float32[(name, sigma)]:.3f} | {cells} |".replace("| 0 |", "| real |"))
    text = f"""
## Runtimes: the default path (issue 19)

`python benchmarks/runtime_quality.py --update-docs` ({today()}; {hardware()}; bfloat16 units on this CPU:
{cpu_has_bfloat16()}; {time.time() - started:.0f} s).
{args.context + " " if args.context else ""}The runtimes' speeds are interleaved in one process, so their ratios hold.
`--runtime auto` (the default) takes the fastest runtime whose PSNR stays within {TOLERANCE} dB of float32 on every
line of the Quality table: OpenVINO in bfloat16 on CPUs with bfloat16 units (AVX512-BF16 or AMX, as
OpenVINO detects them), OpenVINO in float32 on other CPUs when the `openvino` extra is installed, ONNX
Runtime in the core install. `--runtime float32` is the float32 reference (ONNX Runtime; Keras without
it), reproducible to the bit.

{chr(10).join(lines)}

Every line of the Quality table (default quality; float32: `docs/quality-records.json`, Keras) and the
real-noise headline (the default command, blind, on PolyU-dev; float32 measured in this run):

{chr(10).join(detail)}
"""
    print(text)
    failed = [(r, row) for r in args.check for row in gaps[r] if row[3] < -TOLERANCE]
    if args.update_docs:
        update_section("Runtime choice", text)
    if failed:
        print(f"over the {TOLERANCE} dB tolerance: {failed}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
