#!/usr/bin/env bash
# The real-photo model (issue 15): the colour U-Net fine-tuned for realistic camera noise
# (camera pipeline, correlated Gaussian noise, JPEG: imgdenoise.noise.realistic_noise), trained on
# clean colour photographs only. Resumes from runs/unet-real/checkpoint.keras when present.
# Usage: benchmarks/train_real.sh [DATASETS] [INIT]   (defaults: ../shared/datasets, the shipped Gaussian unet)
set -euo pipefail
DATA=${1:-../shared/datasets}
INIT=${2:-unet}
RUN=runs/unet-real
IMGDENOISE=${IMGDENOISE:-.venv/bin/imgdenoise}
if [ -f "$RUN/checkpoint.keras" ]; then
  exec "$IMGDENOISE" train --out "$RUN" --resume --verbose 2
fi
exec "$IMGDENOISE" train --model unet --color --init-from "$INIT" \
  --train "$DATA/train/BSD432" "$DATA/train/photos" "$DATA/train/color-small" \
  --noise realistic --sigma 1 25 --loss l1 --patch-size 96 --batch-size 8 \
  --epochs 24 --steps 500 --lr 1.5e-4 --schedule cosine --ema 0.999 --out "$RUN" --verbose 2
