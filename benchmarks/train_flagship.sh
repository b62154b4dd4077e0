#!/usr/bin/env bash
# Train (or resume) the flagship noise-conditional U-Net, gray then colour.
#
#   benchmarks/train_flagship.sh gray     # Train400, sigma 0-75, 100 x 500 steps
#   benchmarks/train_flagship.sh color    # color-small, initialised from the gray model
#   benchmarks/train_flagship.sh color+gray   # ablation: color-small pooled with Train400 (gray as RGB)
#
# Each run resumes from its checkpoint in runs/ when there is one, so the same command
# continues a run across sessions. About 0.16 s/step on 2 cores with mixed bfloat16.
set -euo pipefail
which=${1:?usage: $0 gray|color|color+gray}
data=${DATA:-../shared/datasets/train}
py=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2
common=(--model unet --model-config preset=base --sigma 0 75 --val-sigmas 10 25 50 75 --loss l1
        --patch-size 96 --batch-size 8 --steps 500 --ema 0.999 --verbose 2)
case $which in
  gray)
    out=runs/unet-gray
    args=(--train "$data/Train400" --epochs 100 --lr 8e-4) ;;
  color)
    out=runs/unet-color
    args=(--color --train "$data/color-small" --val-fraction 0.1 --epochs 40 --lr 4e-4
          --init-from runs/unet-gray/best.keras) ;;
  color+gray)
    out=runs/unet-color-gray
    args=(--color --train "$data/color-small" "$data/Train400" --val-fraction 0.1 --epochs 40 --lr 4e-4
          --init-from runs/unet-gray/best.keras) ;;
  *) echo "usage: $0 gray|color|color+gray" >&2; exit 2 ;;
esac
if [ -f "$out/checkpoint.keras" ]; then
  exec "$py" -m imgdenoise train --out "$out" --resume --verbose 2
fi
exec "$py" -m imgdenoise train "${common[@]}" "${args[@]}" --out "$out"
