"""The core install: `pip install imgdenoise` without extras, in a fresh virtual environment.

Measures what issue 19 asks of it and checks what must hold:
- install size: the packages it adds to a fresh venv (site-packages without pip and setuptools, which
  every venv has), target < 300 MB;
- cold start: wall time of `imgdenoise denoise small.png -o out.png` (a 256x192 colour PNG: process start,
  model load, noise reading, two passes, write), median of 5 runs, target < 1.5 s on 2 cores;
- no TensorFlow, Keras or SciPy imported, and no TensorFlow or absl lines on the terminal;
- the same output as the Keras path of the full install (this process), within 1e-4 (float32 arrays).

Usage: python benchmarks/core_install.py [--venv DIR] [--check] [--update-docs]
  --check          exit 1 if a check fails (CI runs this after `make test`); the time is reported only
  --update-docs    write the section "Core install" of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import ROOT, hardware, today, update_section  # noqa: E402

HEAVY = ("tensorflow", "keras", "scipy", "torch", "jax")
NOISE_LINES = ("absl", "oneDNN", "tensorflow", "cpu_feature_guard", "TF_ENABLE")


def install(venv: Path) -> Path:
    """A fresh venv at ``venv`` with this checkout installed, core only; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True)
    return python


def site_packages_mb(python: Path) -> float:
    """Size of what the install added: site-packages without pip, setuptools and their helpers."""
    folder = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    venv_own = ("pip", "setuptools", "_distutils_hack", "pkg_resources", "distutils-precedence.pth")
    total = sum(f.stat().st_size for entry in folder.iterdir() if not entry.name.startswith(venv_own)
                for f in ([entry] if entry.is_file() else entry.rglob("*")) if f.is_file())
    return total / 2**20


def sample(folder: Path) -> Path:
    """A 256x192 colour PNG with noise of sigma 20 on a gradient."""
    from PIL import Image

    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, 256)[None, :, None] * np.ones((192, 256, 3))
    path = folder / "small.png"
    Image.fromarray(np.clip(ramp + rng.normal(0, 20, ramp.shape), 0, 255).astype(np.uint8)).save(path)
    return path


def cold_starts(python: Path, image: Path, runs: int = 5) -> tuple[list[float], str]:
    """Wall times of the command in fresh processes, and what the last one printed on stderr."""
    command = [str(python.parent / "imgdenoise"), "denoise", str(image), "-q", "--overwrite", "-o"]
    times, stderr = [], ""
    for i in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command + [str(image.with_name(f"out{i}.png"))], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode:
            raise RuntimeError(f"core install: denoise failed: {done.stderr}")
        stderr = done.stderr
    return times, stderr


def core_output(python: Path, image: Path) -> tuple[np.ndarray, list[str]]:
    """The core install's float32 result for ``image`` (default model, blind) and the heavy modules it loaded."""
    out = image.with_suffix(".npy")
    code = (f"import sys, numpy as np; from imgdenoise import load_model; from imgdenoise.io import read_image; "
            f"np.save({str(out)!r}, load_model().denoise(read_image({str(image)!r}).pixels)); "
            f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return np.load(out), done.stdout.split()


def keras_output(image: Path) -> np.ndarray:
    """The full install's Keras path on the same image."""
    from imgdenoise import load_model
    from imgdenoise.io import read_image

    return load_model(runtime="keras").denoise(read_image(image).pixels)


def throughput(runs: int = 3) -> dict[str, float]:
    """Megapixels per second of the shipped colour U-Net (one pass) on a 1 MP image under ``auto`` (ONNX
    Runtime) and ``keras``, in this process, runs interleaved; median of ``runs``."""
    from imgdenoise import load_model

    image = np.random.default_rng(1).random((1024, 1024, 3), dtype=np.float32)
    denoisers = {runtime: load_model("unet", runtime=runtime) for runtime in ("auto", "keras")}
    times = {runtime: [] for runtime in denoisers}
    for _ in range(runs + 1):  # the first run of each warms up
        for runtime, denoiser in denoisers.items():
            start = time.perf_counter()
            denoiser.denoise(image, 25.0, quality="fast")
            times[runtime].append(time.perf_counter() - start)
    return {runtime: image.shape[0] * image.shape[1] / 1e6 / statistics.median(t[1:]) for runtime, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", help="where to make the venv (default: a temporary folder)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a check fails")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(args.venv) if args.venv else Path(tmp) / "venv"
        python = install(venv) if not (venv / "bin" / "python").is_file() else venv / "bin" / "python"
        size = site_packages_mb(python)
        image = sample(Path(tmp))
        times, stderr = cold_starts(python, image)
        core, heavy = core_output(python, image)
        difference = float(np.abs(core - keras_output(image)).max())
    speed = throughput() if args.update_docs else {}
    noise = [line for line in stderr.splitlines() if any(word in line for word in NOISE_LINES)]
    result = {"size_mb": round(size, 1), "cold_start_s": round(statistics.median(times), 2),
              "cold_starts_s": [round(t, 2) for t in times], "heavy_modules": heavy, "terminal_noise": noise,
              "max_abs_difference_vs_keras": difference}
    print(json.dumps(result, indent=1))
    failures = ([f"imported {', '.join(heavy)}"] if heavy else []) + ([f"printed {noise[0]!r}"] if noise else []) \
        + ([f"output differs from the Keras path by {difference:.2e}"] if difference > 1e-4 else []) \
        + ([f"installs {size:.0f} MB"] if size > 300 else [])
    if args.update_docs:
        runs, median = ", ".join(f"{t:.2f}" for t in times), statistics.median(times)
        versus = f"{speed['auto']:.2f} vs {speed['keras']:.2f} MP/s ({speed['auto'] / speed['keras']:.2f}x)"
        update_section("Core install", f"""
## Core install: no TensorFlow (issue 19)

`python benchmarks/core_install.py --update-docs` ({today()}; {hardware()}): `pip install imgdenoise` with
no extras, in a fresh venv, then `imgdenoise denoise small.png -o out.png` (256x192 colour, blind, standard
quality) in fresh processes.

| measure | target | measured |
|---|---|---|
| install size (site-packages, without pip/setuptools) | < 300 MB | {size:.0f} MB |
| cold start, median of {len(times)} (process start to file written) | < 1.5 s | {median:.2f} s (runs: {runs}) |
| TensorFlow / Keras / SciPy imported | none | {', '.join(heavy) or 'none'} |
| TensorFlow or absl lines on the terminal | none | {len(noise)} |
| output vs the full install's Keras path (float32, max abs) | < 1e-4 | {difference:.1e} |
| speed, colour U-Net one pass at 1 MP: `auto` (ONNX Runtime) vs `keras`, same process | | {versus} |

The core runs the shipped networks on ONNX Runtime from the `.onnx` files shipped beside their float16
weights (the same float16 numbers the Keras path loads); the full install does the same by default
(`--runtime auto`: no TensorFlow start-up for a single image) and keeps `--runtime keras|xla|bf16|eager`
for the Keras engines (for long batches `keras`, and `bf16` on CPUs with bfloat16 units, are faster:
[Inference speed](#inference-speed)).
""")
    if failures:
        print("core install: " + "; ".join(failures), file=sys.stderr)
        if args.check:
            sys.exit(1)


if __name__ == "__main__":
    main()
