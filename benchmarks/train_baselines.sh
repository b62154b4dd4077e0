#!/usr/bin/env bash
# Train the issue-2 baselines on Train400 (sigma 25): the original `seed` model
# (BCE, as the original project) and DnCNN-S (MSE, as the paper), each well
# under an hour on a 2-core CPU. Usage: benchmarks/train_baselines.sh [DATA] [RUNS]
set -euo pipefail
data=${1:-../shared/datasets/train/Train400}
runs=${2:-runs}
py=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2
"$py" -m imgdenoise train --model seed --train "$data" --sigma 25 --loss bce --patch-size 64 \
  --batch-size 16 --epochs 10 --steps 300 --lr 1e-3 --out "$runs/seed-s25" --verbose 2 &
"$py" -m imgdenoise train --model dncnn --train "$data" --sigma 25 --loss mse --patch-size 40 \
  --batch-size 32 --epochs 12 --steps 250 --lr 1e-3 --out "$runs/dncnn-s25" --verbose 2 &
wait
