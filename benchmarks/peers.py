"""Measured against the peers' own code: speed of DnCNN, DRUNet, SCUNet and Restormer as the ``deepinv``
package implements them, beside each imgdenoise quality level and runtime, in one run on one 2 MP colour
image, with each network's FLOPs per pixel; published CBSD68 sigma-25 PSNR beside it.

The peers run on PyTorch (CPU, as many threads as cores) with untrained weights: speed does not depend on
the weights. Each processes the image in 512 x 512 tiles (their memory at 2 MP whole would exceed many
machines'), one tile first as a warm-up; imgdenoise runs its own path (``Denoiser.denoise``, automatic
tiling). FLOPs count multiply-adds x 2 of one network pass (PyTorch's FlopCounterMode for the peers, the
convolutions for imgdenoise, every pass of a quality level). PSNR: the peers' as published (CBSD68,
sigma 25; other test code than ours), ours measured by ``benchmarks/quality.py`` (docs/quality-records.json).

Needs ``deepinv`` and ``torch`` (not dependencies of the package). Usage:
  python benchmarks/peers.py [--megapixels 2] [--update-docs] [--figure docs/figures/peers.png]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import ROOT, machine, today, update_section  # noqa: E402

# CBSD68, sigma 25, as published: DnCNN (colour, CDnCNN-B) and DRUNet from the DRUNet paper (Zhang et al.,
# TPAMI 2021, Table 4), SCUNet (Zhang et al., MIR 2023) and Restormer (Zamir et al., CVPR 2022) as issue 18
# quotes them.
PUBLISHED = {"DnCNN": 31.24, "DRUNet": 31.69, "SCUNet": 31.79, "Restormer": 31.79}
TILE = 512


def peer_networks():
    import deepinv as dinv

    return {"DnCNN": dinv.models.DnCNN(in_channels=3, out_channels=3, pretrained=None),
            "DRUNet": dinv.models.DRUNet(in_channels=3, out_channels=3, pretrained=None),
            "SCUNet": dinv.models.SCUNet(in_nc=3, pretrained=None),
            "Restormer": dinv.models.Restormer(in_channels=3, out_channels=3, pretrained=None)}


def torch_flops_per_pixel(network, size: int = 256) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(1, 3, size, size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        network(x, 25 / 255)
    return counter.get_total_flops() / size**2


def time_peer(network, image: np.ndarray) -> float:
    """Seconds for ``network`` over ``image`` (H, W, 3) in 512 x 512 tiles, after one warm-up tile."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    with torch.no_grad():
        network(x[..., :TILE, :TILE], 25 / 255)
        start = time.perf_counter()
        for top in range(0, x.shape[2], TILE):
            for left in range(0, x.shape[3], TILE):
                network(x[..., top:top + TILE, left:left + TILE], 25 / 255)
    return time.perf_counter() - start


def test_image(megapixels: float) -> np.ndarray:
    """scikit-image's astronaut (a real photograph, 512 x 512) tiled to about ``megapixels``, noisy."""
    from skimage import data

    width = 1536
    height = max(256, round(megapixels * 1e6 / width / 256) * 256)  # 2 MP: 1536 x 1280
    tiled = np.tile(data.astronaut().astype(np.float32) / 255, (-(-height // 512), width // 512, 1))[:height]
    noisy = tiled + np.random.default_rng(0).normal(0, 25 / 255, tiled.shape).astype(np.float32)
    return np.clip(noisy, 0, 1)


def ours(image: np.ndarray) -> list[dict]:
    from speed import pipeline_flops

    from imgdenoise.loading import load_model

    records = json.loads((ROOT / "docs" / "quality-records.json").read_text())
    psnr = {r["method"]: r["psnr"] for r in records if r["dataset"] == "CBSD68" and r["sigma"] == 25}
    rows = []
    for runtime in ("keras", "bf16"):
        denoiser = load_model("unet", runtime=runtime)
        for quality in ("fast", "standard"):
            denoiser.denoise(image[:256, :256], 25, quality=quality)  # warm-up
            start = time.perf_counter()
            denoiser.denoise(image, 25, quality=quality)
            seconds = time.perf_counter() - start
            label = f"imgdenoise unet, {quality}, {runtime}" + (" (PSNR: float32's)" if runtime == "bf16" else "")
            rows.append({"method": label, "seconds": seconds,
                         "flops": pipeline_flops(denoiser, 3, quality),
                         "psnr": psnr.get("unet" if quality == "standard" else f"unet:{quality}"),
                         "measured_psnr": True})
    return rows


def peers(image: np.ndarray) -> list[dict]:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    rows = []
    for name, network in peer_networks().items():
        network.eval()
        rows.append({"method": f"{name} (deepinv)", "seconds": time_peer(network, image),
                     "flops": torch_flops_per_pixel(network), "psnr": PUBLISHED[name], "measured_psnr": False,
                     "versions": f"deepinv {__import__('deepinv').__version__}, PyTorch {torch.__version__}"})
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def table(rows, megapixels: float) -> str:
    lines = ["| method | MFLOP / pixel | seconds | MP/s | CBSD68 sigma 25 (dB) |", "|---|---|---|---|---|"]
    for r in rows:
        psnr = "" if r["psnr"] is None else f"{r['psnr']:.2f}" + ("" if r["measured_psnr"] else " (published)")
        lines.append(f"| {r['method']} | {r['flops'] / 1e6:.2f} | {r['seconds']:.1f} | "
                     f"{megapixels / r['seconds']:.3f} | {psnr} |")
    return "\n".join(lines)


def dominance(rows) -> str:
    """Which peer is both faster and better (published PSNR) than which imgdenoise setting."""
    ours = [r for r in rows if r["measured_psnr"]]
    beaten = [f"{p['method']} beats {o['method']}" for p in rows if not p["measured_psnr"] for o in ours
              if p["seconds"] < o["seconds"] and p["psnr"] > o["psnr"]]
    return ("No peer is both faster and better than any imgdenoise setting here." if not beaten
            else "Peers both faster and better: " + "; ".join(beaten) + ".")


def figure(rows, megapixels: float, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imgdenoise.files import atomic_target

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for r in rows:
        if r["psnr"] is None:
            continue
        ours = r["measured_psnr"]
        ax.scatter(megapixels / r["seconds"], r["psnr"], marker="o" if ours else "s", color="C0" if ours else "C3")
        label = r["method"].replace("imgdenoise unet, ", "ours: ").replace(" (PSNR: float32's)", "")
        below = ours and "bf16" in label  # keras above its point, bf16 below: the pairs share a PSNR
        ax.annotate(label, (megapixels / r["seconds"], r["psnr"]), fontsize=7, xytext=(4, -9 if below else 4),
                    textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("megapixels per second, this 2-core CPU (log)")
    ax.set_ylabel("CBSD68, sigma 25: PSNR (dB)")
    ax.set_title("imgdenoise (measured) vs peers (published PSNR, deepinv code timed)", fontsize=9)
    ax.grid(alpha=0.3)
    with atomic_target(path) as target:
        fig.savefig(target, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megapixels", type=float, default=2.0)
    parser.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "peers.png"))
    parser.add_argument("--update-docs", action="store_true")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "peers.json"),
                        help="where the measured rows are kept")
    parser.add_argument("--plot-only", action="store_true", help="redraw the figure from --json, measuring nothing")
    parser.add_argument("--peers-only", action="store_true", help=argparse.SUPPRESS)  # the PyTorch half (JSON)
    args = parser.parse_args()
    if args.plot_only:
        saved = json.loads(Path(args.json).read_text())
        figure(saved["rows"], saved["megapixels"], Path(args.figure))
        return
    started = time.time()
    image = test_image(args.megapixels)
    megapixels = image.shape[0] * image.shape[1] / 1e6
    if args.peers_only:
        print(json.dumps(peers(image)))
        return
    # TensorFlow and PyTorch in one process can crash: the peers run in a child process.
    child = subprocess.run([sys.executable, __file__, "--peers-only", "--megapixels", str(args.megapixels)],
                           capture_output=True, text=True, check=True)
    rows = ours(image) + json.loads(child.stdout.strip().splitlines()[-1])
    Path(args.json).write_text(json.dumps({"megapixels": megapixels, "rows": rows}, indent=1) + "\n")
    text = table(rows, megapixels)
    print(text)
    figure(rows, megapixels, Path(args.figure))
    if args.update_docs:
        update_section("peers", f"""
## Against the peers' own code (issue 19)

Command: `python benchmarks/peers.py --update-docs`, {today()}, {machine()};
{time.time() - started:.0f} s.
One {image.shape[1]}x{image.shape[0]} colour image ({megapixels:.1f} MP: scikit-image's astronaut tiled, sigma
25). Peers: {rows[-1]["versions"]} (CPU, untrained weights, 512 x 512 tiles); their PSNR as
published. Ours: `Denoiser.denoise`; PSNR measured (`benchmarks/quality.py`).

{text}

{dominance(rows)}

![PSNR against speed](figures/peers.png)
""", doc=ROOT / "docs" / "benchmarks.md")


if __name__ == "__main__":
    main()
