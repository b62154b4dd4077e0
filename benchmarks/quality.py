"""The quality table: our shipped models, DnCNN, BM3D and the scikit-image classics on the
standard benchmark sets, with the field's protocol, every method on identical noisy inputs.

Usage:
  python benchmarks/quality.py                       # everything (long: BM3D on colour is slow)
  python benchmarks/quality.py --sets BSD68 --sigmas 25 --methods unet dncnn bm3d
  python benchmarks/quality.py --update-docs         # rewrite the section in docs/benchmarks.md

Methods: shipped model names (unet, dncnn, seed), optionally with a quality after a colon
(`unet:fast`, one network pass; `unet:best`, the standard passes under the 8 flips and rotations;
no suffix: the default, `standard`, two passes; see imgdenoise.passes.QUALITIES); `dncnn-official`
(the DnCNN authors' sigma-25 gray weights from ../shared/reference, measured where they apply); and
bm3d, nlm, tv, wavelet, noisy. The DnCNN rows are measured as DnCNN is published, one pass
(`dncnn:fast`, `dncnn-official:fast`).
Gray sets (BSD68, Set12) use gray models; colour sets (CBSD68, Kodak24) colour ones where shipped.

Classical methods are deterministic and slow (BM3D on the colour sets takes hours on 2 cores), so
their records are cached in benchmarks/results/classical.json, keyed by method, its parameters, the
library versions, sigma
and a hash of the set's files: a rerun re-measures them only when one of those changes (--no-cache
forces it). Every neural model is measured in the run itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS, ROOT, hardware, machine, today, update_section  # noqa: E402

from imgdenoise.evaluate import evaluate  # noqa: E402
from imgdenoise.passes import DEFAULT_QUALITY, split_quality  # noqa: E402

SETS = {"BSD68": False, "Set12": False, "CBSD68": True, "Kodak24": True}  # name -> colour
# Published PSNR (dB) at sigma 15/25/50, from the papers' tables (DnCNN, FFDNet, DPIR, SwinIR, SCUNet).
PUBLISHED = {
    "BSD68": {"BM3D": (31.07, 28.57, 25.62), "DnCNN": (31.73, 29.23, 26.23), "DRUNet": (31.91, 29.48, 26.59),
              "best published": (32.00, 29.55, 26.67)},
    "Set12": {"BM3D": (32.37, 29.97, 26.72), "DnCNN": (32.86, 30.44, 27.18), "DRUNet": (33.25, 30.94, 27.90)},
    "CBSD68": {"CBM3D": (33.52, 30.71, 27.38), "CDnCNN": (33.89, 31.23, 27.92), "DRUNet": (34.30, 31.69, 28.51),
               "best published": (34.46, 31.84, 28.63)},
    "Kodak24": {"CBM3D": (34.28, 32.15, 28.46), "CDnCNN": (34.48, 32.03, 28.85), "DRUNet": (35.31, 32.89, 29.86),
                "best published": (35.43, 33.02, 29.94)},
}
REFERENCE = ROOT.parent / "shared" / "reference" / "dncnn_sigma25_keras2.h5"
CLASSICAL = ("bm3d", "nlm", "tv", "wavelet", "noisy")
CACHE = ROOT / "benchmarks" / "results" / "classical.json"


def split_method(name: str) -> tuple[str, str]:
    """``"unet:fast"`` -> ``("unet", "fast")``; no suffix: the default quality."""
    base, quality = split_quality(name)
    return base, quality or DEFAULT_QUALITY


def classical_key(name: str, folder: Path, sigma: float) -> str:
    """Cache key of a classical method's record: what would change its result."""
    from importlib.metadata import version

    from imgdenoise import classical

    files = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            files.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    parts = [name, f"sigma={sigma:g}", f"tv={classical.TV_WEIGHT_PER_SIGMA}", f"nlm={classical.NLM_H_PER_SIGMA}",
             f"bm3d={version('bm3d')}", f"scikit-image={version('scikit-image')}", f"numpy={version('numpy')}",
             f"files={files.hexdigest()[:16]}"]
    return "|".join(parts)


def save_cache(cache: dict):
    """Write ``cache`` atomically, merged with what other runs of this script cached meanwhile."""
    on_disk = json.loads(CACHE.read_text()) if CACHE.is_file() else {}
    cache.update({key: value for key, value in on_disk.items() if key not in cache})
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE.with_name(f".{CACHE.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(cache, indent=1) + "\n")
    tmp.replace(CACHE)


def measure(name, denoiser, folder: Path, colour: bool, sigmas, cache: dict | None,
            cached_only: bool = False) -> list[dict]:
    """Records of one method on one set, from the cache where a classical result is already known
    (``cached_only``: classical results not in the cache are left out, not computed)."""
    if cache is None or name not in CLASSICAL:
        return evaluate(denoiser, folder, sigmas, method=name, gray=not colour, quality=split_method(name)[1])
    records = []
    for sigma in sigmas:
        key = classical_key(name, folder, sigma) + f"|gray={not colour}"
        if key not in cache and cached_only:
            continue
        if key not in cache:
            record = evaluate(denoiser, folder, [sigma], method=name, gray=not colour)[0]
            cache[key] = {**record, "measured": today(), "machine": hardware()}
            save_cache(cache)
        records.append(cache[key])
    return records


def load_method(name: str):
    """A shipped model or classical method by name (``:quality`` suffix ignored here), or the DnCNN
    authors' weights."""
    name = split_method(name)[0]
    if name == "dncnn-official":
        from imgdenoise.inference import Denoiser
        from imgdenoise.legacy import import_keras2_weights
        from imgdenoise.pretrained import card_for_model

        model = import_keras2_weights("dncnn", REFERENCE)
        return Denoiser({1: (model, card_for_model(model))})
    from imgdenoise import load_model

    return load_model(name, runtime="float32")  # the networks' quality; the default runtime's: runtime_quality.py


def applies(name: str, denoiser, colour: bool, sigma: float) -> bool:
    """Whether a method is measured on a set: the official DnCNN only at gray sigma 25."""
    if name.startswith("dncnn-official"):
        return not colour and sigma == 25 and REFERENCE.is_file()
    variants = getattr(denoiser, "variants", None)
    # A model is scored with its own gray or colour weights only (the colour training data holds
    # three Set12 images, so a colour model must never be scored on Set12).
    return variants is None or (3 if colour else 1) in variants


def markdown(records, sets, sigmas, methods):
    out = []
    for set_name in sets:
        rows = [r for r in records if r["dataset"] == set_name]
        if not rows:
            continue
        out += [f"**{set_name}** (PSNR dB / SSIM; sigma {', '.join(f'{s:g}' for s in sigmas)})", "",
                "| method | " + " | ".join(f"sigma {s:g}" for s in sigmas) + " | s / MP |",
                "|---|" + "---|" * (len(sigmas) + 1)]
        for method in methods:
            cells, speed = [], []
            for s in sigmas:
                hit = [r for r in rows if r["method"] == method and r["sigma"] == s]
                cells.append(f"{hit[0]['psnr']:.2f} / {hit[0]['ssim']:.4f}" if hit else "-")
                speed += [h["seconds_per_mpix"] for h in hit]
            if speed:
                out.append(f"| {method} (measured) | " + " | ".join(cells) + f" | {sum(speed) / len(speed):.2f} |")
        for name, values in PUBLISHED.get(set_name, {}).items():
            published = dict(zip((15.0, 25.0, 50.0), values))
            out.append(f"| {name} (published) | " + " | ".join(f"{published[s]:.2f}" if s in published else "-"
                                                               for s in sigmas) + " | |")
        out.append("")
    return "\n".join(out)


FLOOR = {"BSD68": "DnCNN", "CBSD68": "CDnCNN", "Kodak24": "CDnCNN"}  # issue 3's floor and goal rows
GOAL = "DRUNet"


def targets(records, method: str = "unet") -> str:
    """Markdown: ``method``'s PSNR (3 decimals) against the published floor (DnCNN) and goal (DRUNet)."""
    out = ["| set | sigma | ours | floor | ours - floor | goal | ours - goal |", "|---|---|---|---|---|---|---|"]
    for set_name, floor_name in FLOOR.items():
        published = PUBLISHED[set_name]
        for sigma, floor, goal in zip((15.0, 25.0, 50.0), published[floor_name], published[GOAL]):
            hit = [r for r in records if r["method"] == method and r["dataset"] == set_name and r["sigma"] == sigma]
            if not hit:
                continue
            ours = hit[0]["psnr"]
            out.append(f"| {set_name} | {sigma:g} | {ours:.3f} | {floor:.2f} ({floor_name}) | {ours - floor:+.3f}"
                       f"{'' if ours >= floor else ' (missed)'} | {goal:.2f} | {ours - goal:+.3f}"
                       f"{' (met)' if ours >= goal else ''} |")
    return "\n".join(out) if len(out) > 2 else ""


def classical_dates(records) -> str:
    cached = [r for r in records if r["method"] in CLASSICAL and "measured" in r]
    if not cached:
        return "in this run"
    runs = sorted({f"{r['measured']} on {r.get('machine', 'an unrecorded machine')}" for r in cached})
    return ("by this script earlier (cached, see the script's docstring; their s / MP are from those runs): "
            + "; ".join(runs))


def update_cards(records, method: str = "unet"):
    """Write ``method``'s measured PSNR/SSIM (at each quality measured: ``method``, ``method:fast``, ...)
    into the shipped cards of its networks."""
    from imgdenoise.pretrained import WEIGHTS_DIR, shipped_cards

    for stem, typed in shipped_cards().items():
        if typed.name != method:
            continue
        colour = typed.channels == 3
        card = json.loads((WEIGHTS_DIR / f"{stem}.json").read_text())  # edited as written, key order kept
        mine = [r for r in records if split_method(r["method"])[0] == method and SETS.get(r["dataset"]) == colour]
        if not mine:
            continue
        card["benchmarks"] = [{"dataset": r["dataset"], "sigma": r["sigma"],
                               "quality": split_method(r["method"])[1],
                               "psnr": round(r["psnr"], 4), "ssim": round(r["ssim"], 4)} for r in mine]
        card["benchmarks_source"] = f"python benchmarks/quality.py ({today()}, docs/benchmarks.md, Quality)"
        (WEIGHTS_DIR / f"{stem}.json").write_text(json.dumps(card, indent=2) + "\n")
        print(f"updated {stem}.json", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=str(DATASETS / "test"), help="folder holding the benchmark sets")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--sigmas", type=float, nargs="+", default=[15.0, 25.0, 50.0])
    parser.add_argument("--methods", nargs="+",
                        default=["unet", "unet:fast", "dncnn:fast", "dncnn-official:fast", "bm3d", "nlm", "tv",
                                 "wavelet", "noisy"])
    parser.add_argument("--no-cache", action="store_true", help="re-measure the classical methods too")
    parser.add_argument("--cached-only", action="store_true",
                        help="classical methods: use cached results, leave out (do not compute) the others")
    parser.add_argument("--json", default=None, help="write all records (with per-image values) here")
    parser.add_argument("--update-docs", action="store_true")
    parser.add_argument("--update-cards", action="store_true",
                        help="write the unet rows (default quality) into the shipped model cards")
    args = parser.parse_args()

    started = time.time()
    cache = None if args.no_cache else (json.loads(CACHE.read_text()) if CACHE.is_file() else {})
    records = []
    for name in args.methods:
        try:
            denoiser = load_method(name)
        except (ValueError, FileNotFoundError) as error:
            print(f"skipping {name}: {error}", file=sys.stderr)
            continue
        for set_name in args.sets:
            colour = SETS[set_name]
            sigmas = [s for s in args.sigmas if applies(name, denoiser, colour, s)]
            if sigmas:
                found = measure(name, denoiser, Path(args.datasets) / set_name, colour, sigmas, cache, args.cached_only)
                records += found
                print(f"{name} on {set_name}: " + ", ".join(f"{r['sigma']:g}: {r['psnr']:.2f}" for r in found),
                      flush=True)
    table = markdown(records, args.sets, args.sigmas, args.methods)
    goals = targets(records)
    print(table, goals, sep="\n")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1) + "\n")
    if args.update_cards:
        update_cards(records)
    if args.update_docs:
        command = "python benchmarks/quality.py " + " ".join(sys.argv[1:])
        pending = "" if not args.cached_only else (
            " A classical method shows - where its result is not cached yet (`--cached-only`; BM3D on the"
            " colour sets takes hours on 2 cores, so the cache is filled across sessions).")
        update_section("quality", f"""
## Quality: shipped models against DnCNN, BM3D and the classics

Command: `{command.strip()}`, {today()}, {machine()}; {time.time() - started:.0f} s in all.
"(measured)" rows are computed on identical noisy inputs: the neural models in this run on this
machine, the classical methods {classical_dates(records)}; "(published)" rows are the
papers' figures for reference.{pending} s / MP is the mean wall-clock seconds per megapixel.
`unet` is our default (quality `standard`: two network passes per image, fused; FLOPs and speed in
Inference speed); `unet:fast` one pass; `dncnn:fast` one pass, as DnCNN is published.

{table}
**Targets** (issue 3): the default `unet` against the published floor (DnCNN, CDnCNN) and goal
(DRUNet) figures; a floor is met when ours - floor >= 0 (rounding to 2 decimals can hide the sign).

{goals}
""")


if __name__ == "__main__":
    main()
