#!/usr/bin/env bash
# The real-photo model (issue 15): the colour U-Net fine-tuned for realistic camera noise, trained on
# clean colour photographs only (BSD432, photos, color-small).
#  1. benchmarks/synthesize_pairs.py puts the realistic noise (camera pipeline, correlated noise, JPEG:
#     imgdenoise.noise.realistic_noise) on every photograph 3 times, once, as 8-bit PNG pairs
#     (making it afresh per batch costs five training steps);
#  2. the U-Net trains on those pairs, told the noise level level-std reads on
#     each whole noisy image: the level blind denoising will give it.
# Both steps resume where they stopped (files written; runs/unet-real-pairs/checkpoint.keras).
# Usage: benchmarks/train_real.sh [DATASETS] [INIT]   (defaults: ../shared/datasets, the shipped Gaussian unet)
set -euo pipefail
DATA=${1:-../shared/datasets}
INIT=${2:-unet}
PAIRS=data/realistic-pairs
RUN=runs/unet-real-pairs
PYTHON=${PYTHON:-.venv/bin/python}
IMGDENOISE=${IMGDENOISE:-.venv/bin/imgdenoise}
"$PYTHON" benchmarks/synthesize_pairs.py --out "$PAIRS" --draws 3 \
  --train "$DATA/train/BSD432" "$DATA/train/photos" "$DATA/train/color-small"
if [ -f "$RUN/checkpoint.keras" ]; then
  exec "$IMGDENOISE" train --out "$RUN" --resume --verbose 2
fi
exec "$IMGDENOISE" train --model unet --color --init-from "$INIT" \
  --paired --train "$PAIRS/train" --val "$PAIRS/val" --level-estimator level-std \
  --loss l1 --patch-size 96 --batch-size 8 --epochs 36 --steps 500 --lr 1e-4 --schedule cosine \
  --ema 0.999 --out "$RUN" --verbose 2
