"""Real camera noise: denoisers scored on real noisy/clean pairs (PolyU-dev), nothing added.

PolyU (Xu et al. 2018): JPEGs from real cameras at high ISO, each paired with the mean of ~500
shots of the same static scene. PolyU-dev is a validation set: we choose between candidates and
report with it, and never fit weights to it.

Rows (all blind unless labelled oracle; every method sees the identical inputs):
- the default command (`imgdenoise denoise photo.jpg -o out.png`: no sigma);
- the Gaussian U-Net (`unet`) blind, with the classical estimator;
- the Gaussian U-Net told the Gaussian-equivalent sigma `level-coarse` reads, at full resolution only (the
  default before the pixel-shuffled pass for camera noise);
- the default path (full-resolution and pixel-shuffled passes) at the best single sigma and at each
  image's best sigma (oracles);
- the Gaussian U-Net at the one sigma best for all images together (an oracle: chosen on the pairs);
- the Gaussian U-Net at each image's best sigma (a per-image oracle);
- CBM3D with the estimated sigma, and with each image's true noise level (oracle: the residual's
  standard deviation);
- any `--candidate` (a real-photo model: a `.keras` run file or a shipped name), blind;
- the published PolyU figures, as published.

A second table checks the noise level each blind path uses against the residual standard deviation
of the pairs (what `imgdenoise info` and the service's X-Sigma report).

Usage: python benchmarks/real_noise.py [--paired ../shared/datasets/real/PolyU-dev]
         [--candidate MODEL ...] [--no-bm3d] [--no-shipped] [--json FILE] [--update-docs]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, ROOT, machine, today, update_section  # noqa: E402

from imgdenoise import load_model  # noqa: E402
from imgdenoise.estimator import load_level_estimator  # noqa: E402
from imgdenoise.evaluate import evaluate_paired, load_pairs  # noqa: E402

SWEEP = (2, 3, 4, 6, 8, 10, 12, 14, 16, 20)  # 0-255: the default path is told the noise std, the U-Net more
# PSNR on PolyU as published (the figures quoted in issue 15; other protocols and test crops than ours).
PUBLISHED = (("CBDNet (published)", 37.81), ("Restormer, trained on SIDD (published)", 37.51),
             ("NAFNet (published)", 36.04), ("DMID (published)", 38.62))


class LevelOnly:
    """An estimator's level without its noise-kind test: the denoiser then gives camera noise the standard
    passes (full resolution only), as the default did before the pixel-shuffled pass."""

    def __init__(self, estimator):
        self.estimate, self.card = estimator.estimate, estimator.card


def residual_levels(pairs) -> list[float]:
    """Each pair's true noise level: the standard deviation of noisy - clean (0-255)."""
    return [float(np.std(noisy.astype(np.float64) - clean) * 255.0) for _, noisy, clean in pairs]


def per_image_sigma(denoiser, pairs, sigmas, label) -> dict:
    """One record for ``denoiser`` told ``sigmas[i]`` on pair ``i``."""
    records = [evaluate_paired(denoiser, [pair], method=label, dataset="", sigma=s) for pair, s in zip(pairs, sigmas)]
    entries = [r["per_image"][0] for r in records]
    return {"method": label, "psnr": float(np.mean([e["psnr"] for e in entries])),
            "ssim": float(np.mean([e["ssim"] for e in entries])), "per_image": entries}


def sweep(denoiser, pairs, label) -> tuple[dict, dict]:
    """The best single sigma for all pairs (oracle) and each pair's best sigma (per-image oracle)."""
    scored = {s: evaluate_paired(denoiser, pairs, method=label, dataset="", sigma=s) for s in SWEEP}
    best = max(scored, key=lambda s: scored[s]["psnr"])
    single = {**scored[best], "method": f"{label} at sigma {best:g} for all images (oracle)"}
    per_image = [max((scored[s]["per_image"][i] for s in SWEEP), key=lambda e: e["psnr"]) for i in range(len(pairs))]
    chosen = [SWEEP[int(np.argmax([scored[s]["per_image"][i]["psnr"] for s in SWEEP]))] for i in range(len(pairs))]
    oracle = {"method": f"{label} at each image's best sigma (per-image oracle)",
              "psnr": float(np.mean([e["psnr"] for e in per_image])),
              "ssim": float(np.mean([e["ssim"] for e in per_image])), "per_image": per_image, "sigmas": chosen}
    return single, oracle


def level_error(denoiser, pairs, truth, label) -> dict:
    """How the noise level ``denoiser`` uses blind compares with each pair's true level."""
    return _compared([denoiser.for_sigma(None).noise_level(noisy) for _, noisy, _ in pairs], truth, label)


def _compared(read, truth, label) -> dict:
    diff = np.array(read) - np.array(truth)
    return {"path": label, "mean_abs_error": float(np.mean(np.abs(diff))), "bias": float(np.mean(diff)),
            "correlation": float(np.corrcoef(read, truth)[0, 1]), "mean_read": float(np.mean(read))}


def camera_of(name: str) -> str:
    """PolyU names start with the camera (``Canon600D_...``, ``Sony_...``)."""
    return name.split("_", 1)[0]


def by_camera(record) -> dict[str, float]:
    """Mean PSNR per camera of a record's per-image values."""
    groups = {}
    for entry in record.get("per_image") or []:
        groups.setdefault(camera_of(entry["image"]), []).append(entry["psnr"])
    return {camera: float(np.mean(values)) for camera, values in sorted(groups.items())}


def tables(rows, levels, noisy, images) -> str:
    cameras = list(by_camera(noisy))
    lines = ["| method | PSNR (dB) | SSIM | vs noisy input | " + " | ".join(cameras) + " |",
             "|---|---|---|---|" + "---|" * len(cameras)]
    lines.append(f"| noisy input | {noisy['psnr']:.2f} | {noisy['ssim']:.4f} | | "
                 + " | ".join(f"{v:.2f}" for v in by_camera(noisy).values()) + " |")
    for r in rows:
        ssim = f"{r['ssim']:.4f}" if r.get("ssim") is not None else ""
        per_camera = by_camera(r)
        lines.append(f"| {r['method']} | {r['psnr']:.2f} | {ssim} | {r['psnr'] - noisy['psnr']:+.2f} | "
                     + " | ".join(f"{per_camera[c]:.2f}" if c in per_camera else "" for c in cameras) + " |")
    lines += ["", f"Noise level used blind vs the true level (standard deviation of noisy - clean, 0-255), "
              f"{images} images:", "",
              "| blind path | mean level read | mean abs error | bias | correlation |", "|---|---|---|---|---|"]
    lines += [f"| {lv['path']} | {lv['mean_read']:.2f} | {lv['mean_abs_error']:.2f} | {lv['bias']:+.2f} | "
              f"{lv['correlation']:.2f} |" for lv in levels]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paired", default=str(DATASETS / "real" / "PolyU-dev"))
    parser.add_argument("--candidate", action="append", default=[], metavar="MODEL",
                        help="a real-photo model to score blind: a .keras run file (its card names the level "
                             "estimator it was trained to be told) or a shipped name; repeatable")
    parser.add_argument("--quality", default="standard", help="candidates' quality (default: standard)")
    parser.add_argument("--no-bm3d", action="store_true", help="skip CBM3D (minutes)")
    parser.add_argument("--no-shipped", action="store_true", help="candidates only (choosing between them)")
    parser.add_argument("--json", help="write every record (with per-image values) here")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    started = time.time()
    pairs, problems = load_pairs(args.paired)
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    truth = residual_levels(pairs)
    noisy = evaluate_paired(load_model("noisy"), pairs, method="noisy input", dataset="")
    rows, levels = [], []
    if not args.no_shipped:
        default = load_model("default", runtime="float32")  # the default runtime's gap: runtime_quality.py
        rows.append(evaluate_paired(default, pairs, method="**default command (blind)**", dataset=""))
        levels.append(level_error(default, pairs, truth, f"default command ({default.for_sigma(None).name})"))
        unet = load_model("unet", runtime="float32")
        rows.append(evaluate_paired(unet, pairs, method="Gaussian U-Net, blind", dataset=""))
        levels.append(level_error(unet, pairs, truth, "Gaussian U-Net (classical estimator)"))
        equivalent = load_model("unet", runtime="float32")
        equivalent.estimator = LevelOnly(load_level_estimator("level-coarse"))
        rows.append(evaluate_paired(equivalent, pairs, method="Gaussian U-Net told the Gaussian-equivalent sigma "
                                    "(level-coarse), full resolution only", dataset=""))
        rows += sweep(default, pairs, "default path")
        rows += sweep(unet, pairs, "Gaussian U-Net")
        if not args.no_bm3d:
            bm3d = load_model("bm3d")
            rows.append(evaluate_paired(bm3d, pairs, method="CBM3D, estimated sigma", dataset=""))
            rows.append(per_image_sigma(bm3d, pairs, truth, "CBM3D at each image's true noise level (oracle)"))
    for path in args.candidate:
        model = load_model(path)
        label = model.name if Path(path).suffix != ".keras" else Path(path).parent.name
        rows.append(evaluate_paired(model, pairs, method=f"candidate {label}, blind", dataset="",
                                    quality=args.quality))
        levels.append(level_error(model, pairs, truth, f"candidate {label}"))
    rows += [{"method": name, "psnr": value, "ssim": None} for name, value in PUBLISHED]
    text = tables(rows, levels, noisy, len(pairs))
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"noisy": noisy, "rows": rows, "levels": levels, "truth": truth},
                                              indent=1) + "\n")
    if args.update_docs:
        update_section("real-noise", f"""
## Real camera noise (PolyU-dev)

Command: `python benchmarks/real_noise.py --update-docs`, {today()}, {machine()}; {time.time() - started:.0f} s.
{len(pairs)} real pairs from `{Path(args.paired).name}` (two cameras, ISO 1600-6400, 512x512 JPEG crops; clean =
mean of ~500 shots), nothing added; PSNR on RGB, outputs rounded to 8 bits, default quality. A validation
set: used to choose between candidates and to report, never to fit weights. Oracle rows are chosen on these
very pairs and are not achievable blind; published rows are as their papers give them (other protocols).

{text}
""", doc=ROOT / "docs" / "benchmarks.md")


if __name__ == "__main__":
    main()
