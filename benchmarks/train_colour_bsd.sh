#!/usr/bin/env bash
# Issue 18: the colour U-Net trained further on six times more photographs: BSD432 (the set CDnCNN and
# FFDNet were trained on, CBSD68 removed), the CC0 photos, color-small, and Debian's wallpaper photographs
# when data/debian-photos exists (benchmarks/debian_photos.py). Starts from the shipped weights; Gaussian
# noise drawn per batch (sigma 0-50, where the benchmark lines are); validation on the last 5% of every
# folder at sigma 15/25/50 (never a test set). Resumes from runs/unet-color-bsd/checkpoint.keras when present,
# or, after a session ended without it, from the float16 weights it kept (INIT).
# Usage: [RUN=runs/NAME] [EPOCHS=40] [LR=1e-4] [PATCH=96] benchmarks/train_colour_bsd.sh [DATASETS] [INIT]
#   (defaults: ../shared/datasets, the shipped unet; RUN=runs/unet-color-bsd, the first stage)
set -euo pipefail
DATA=${1:-../shared/datasets}
INIT=${2:-unet}
RUN=${RUN:-runs/unet-color-bsd}
IMGDENOISE=${IMGDENOISE:-.venv/bin/imgdenoise}
if [ -f "$RUN/checkpoint.keras" ]; then
  exec "$IMGDENOISE" train --out "$RUN" --resume --verbose 2
fi
EXTRA=()
if [ -d data/debian-photos ]; then EXTRA=(data/debian-photos); fi
exec "$IMGDENOISE" train --model unet --model-config preset=base --color --init-from "$INIT" \
  --train "$DATA/train/BSD432" "$DATA/train/photos" "$DATA/train/color-small" "${EXTRA[@]}" \
  --val-fraction 0.05 --sigma 0 50 --val-sigmas 15 25 50 --loss l1 --patch-size "${PATCH:-96}" --batch-size 8 \
  --epochs "${EPOCHS:-40}" --steps 500 --lr "${LR:-1e-4}" --schedule cosine --ema 0.999 --precision auto --seed 3 \
  --out "$RUN" --verbose 2
