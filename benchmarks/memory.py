"""Peak memory and time of denoising one large image from the command line.

Writes a synthetic RGB 16-bit TIFF of --megapixels (default 50; 3:2 aspect, uncompressed, as a
camera RAW conversion would be), then runs ``imgdenoise denoise`` on it under ``/usr/bin/time -v``
and reports the peak resident memory (maximum RSS) and wall-clock time of that process.

Usage: python benchmarks/memory.py [--megapixels 50] [--model default] [--update-docs]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, today, update_section  # noqa: E402


def synthetic_tiff(path: Path, megapixels: float, seed: int = 0):
    """Smooth colour gradients plus sigma-10 noise, written band by band (never held as float)."""
    import tifffile

    width = int(round(np.sqrt(megapixels * 1e6 * 3 / 2)))
    height = int(round(megapixels * 1e6 / width))
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width, dtype=np.float32)

    def rows():
        for y in range(height):
            base = np.stack([x, x[::-1], np.full_like(x, y / height)], axis=-1) * 0.8 + 0.1
            noisy = base + rng.normal(0, 10 / 255, base.shape).astype(np.float32)
            yield np.round(np.clip(noisy, 0, 1) * 65535).astype(np.uint16)

    data = np.lib.format.open_memmap(path.with_suffix(".npy"), mode="w+", dtype=np.uint16, shape=(height, width, 3))
    for y, row in enumerate(rows()):
        data[y] = row
    tifffile.imwrite(path, data, photometric="rgb")
    del data
    path.with_suffix(".npy").unlink()
    return height, width


def measure(args_list: list[str]) -> tuple[float, float, str]:
    """(peak RSS in GiB, wall seconds, stderr) of a command under /usr/bin/time -v."""
    result = subprocess.run(["/usr/bin/time", "-v", *args_list], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args_list)} failed:\n{result.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", result.stderr).group(1)
    seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(wall.split(":"))))
    return peak_kb / 2**20, seconds, result.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megapixels", type=float, default=50.0)
    parser.add_argument("--model", default="default")
    parser.add_argument("--sigma", type=float, default=10.0)
    parser.add_argument("--max-memory", type=float, default=None, help="passed to imgdenoise denoise (GiB)")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "big.tif", Path(tmp) / "big-denoised.tif"
        height, width = synthetic_tiff(src, args.megapixels)
        size_mib = src.stat().st_size / 2**20
        command = [sys.executable, "-m", "imgdenoise", "denoise", str(src), "-o", str(dst), "--model", args.model,
                   "--sigma", str(args.sigma), "-q"]
        if args.max_memory:
            command += ["--max-memory", str(args.max_memory)]
        baseline_gib, _, _ = measure([sys.executable, "-c", "import imgdenoise.inference, keras, tensorflow"])
        peak_gib, seconds, _ = measure(command)
        import tifffile

        with tifffile.TiffFile(dst) as tif:
            page = tif.pages[0]
            assert page.shape == (height, width, 3) and page.dtype == np.uint16, (page.shape, page.dtype)
            output = f"{page.shape[1]}x{page.shape[0]} RGB uint16, tiled {page.tilewidth}x{page.tilelength}"
    mp = height * width / 1e6
    table = "\n".join([
        "| image | model | peak RSS (GiB) | Python + TensorFlow alone (GiB) | wall time (s) | MP/s (end to end) "
        "| output |",
        "|---|---|---|---|---|---|---|",
        f"| {width}x{height} RGB 16-bit TIFF ({mp:.1f} MP, {size_mib:.0f} MiB) "
        f"| {args.model} | {peak_gib:.2f} | {baseline_gib:.2f} | {seconds:.0f} | {mp / seconds:.2f} | {output} |"])
    print(table)
    if args.update_docs:
        update_section("memory", f"""
## Memory: one {mp:.0f}-megapixel image

Command: `python benchmarks/memory.py {' '.join(sys.argv[1:])}`, {today()}, {machine()}.
`imgdenoise denoise` on a synthetic RGB 16-bit TIFF under `/usr/bin/time -v` (peak RSS is the
whole process: Python, TensorFlow, the 16-bit input, tiles, and the output stream). The input is
held as uint16; tiles follow the activation budget (`--max-memory`, GiB; 0.5 is the default); the output
TIFF is written tile by tile as bands finish.

{table}
""")


if __name__ == "__main__":
    main()
