#!/usr/bin/env bash
# Issue 18, item 2: does a U-Net of another shape at the same cost train better per CPU-hour?
# Trains the shipped shape and an alternative from scratch, one after the other, with the same recipe,
# data, seed and validation images (the last 5% of every training folder; never a test set), and prints
# each run's validation PSNR per epoch. Compare the runs' log.csv (val PSNR at sigma 15/25/50, seconds).
#   shipped:     widths 32 64 128 192, 2 residual blocks at every scale         (0.51 MFLOP per pixel)
#   alternative: widths 24 48 128 256, 2 blocks, 4 at the bottleneck            (0.48 MFLOP per pixel)
#     (fewer channels at full resolution, more at low resolution, more blocks at the bottleneck)
# Usage: [STEPS=500] [EPOCHS=4] benchmarks/unet_shapes.sh [DATASETS] [OUT]
set -euo pipefail
DATA=${1:-../shared/datasets}
OUT=${2:-runs/unet-shapes}
IMGDENOISE=${IMGDENOISE:-.venv/bin/imgdenoise}
EXTRA=()
if [ -d data/debian-photos ]; then EXTRA=(data/debian-photos); fi
train() {  # NAME MODEL-CONFIG...
  local name=$1; shift
  if [ -f "$OUT/$name/checkpoint.keras" ]; then
    "$IMGDENOISE" train --out "$OUT/$name" --resume --verbose 2
    return
  fi
  "$IMGDENOISE" train --model unet --model-config "$@" --color \
    --train "$DATA/train/BSD432" "$DATA/train/photos" "$DATA/train/color-small" "${EXTRA[@]}" \
    --val-fraction 0.05 --sigma 0 50 --val-sigmas 15 25 50 --loss l1 --patch-size 96 --batch-size 8 \
    --epochs "${EPOCHS:-4}" --steps "${STEPS:-500}" --lr 2e-4 --schedule cosine --ema 0 --precision auto \
    --seed 5 --out "$OUT/$name" --verbose 2
}
train shipped 'widths=[32,64,128,192]' blocks=2
train alternative 'widths=[24,48,128,256]' 'blocks=[2,2,2,4]'
# The table for docs/benchmarks.md: validation PSNR (dB, the mean over the held-out images at sigma 15/25/50)
# after each epoch.
"${PYTHON:-.venv/bin/python}" - "$OUT" <<'PY'
import csv, sys
from pathlib import Path
runs = {name: list(csv.DictReader(open(Path(sys.argv[1]) / name / "log.csv"))) for name in ("shipped", "alternative")}
epochs = max(len(rows) for rows in runs.values())
print("| shape | " + " | ".join(f"epoch {e + 1}" for e in range(epochs)) + " |")
print("|---|" + "---|" * epochs)
for name, rows in runs.items():
    print(f"| {name} | " + " | ".join(f"{float(r['val_psnr']):.2f}" for r in rows) + " |")
PY
