#!/usr/bin/env bash
# The noise-level estimator of the real-photo model (issue 15): trained on the same clean photographs
# and synthetic noise as runs/unet-real, to read the level that model is conditioned on.
# Resumes from runs/level-real/checkpoint.keras when present.
# Usage: benchmarks/train_level.sh [DATASETS]   (default ../shared/datasets)
set -euo pipefail
DATA=${1:-../shared/datasets}
RUN=runs/level-real
IMGDENOISE=${IMGDENOISE:-.venv/bin/imgdenoise}
if [ -f "$RUN/checkpoint.keras" ]; then
  exec "$IMGDENOISE" train --out "$RUN" --resume --verbose 2
fi
exec "$IMGDENOISE" train --model level --color \
  --train "$DATA/train/BSD432" "$DATA/train/photos" "$DATA/train/color-small" \
  --noise realistic --sigma 1 25 --loss log-l1 --patch-size 96 --batch-size 16 \
  --epochs 30 --steps 100 --lr 1e-3 --schedule cosine --precision float32 --out "$RUN" --verbose 2
