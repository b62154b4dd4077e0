#!/usr/bin/env bash
# Continue training the flagship gray and colour U-Nets together on one GPU, for a wall-clock budget.
#
#   benchmarks/train_flagship_gpu.sh DATA_DIR SECONDS RUNS_DIR
#
# DATA_DIR holds BSD432/ and photos/ (benchmarks/gpu_pack.py packs them), and may hold debian-photos/, color-small/ and
# Train400/. The colour U-Net trains on BSD432 + photos (+ debian-photos, color-small); the gray one on BSD432 read as
# gray (+ Train400): the data of issue 18. Each holds out the last 5% of every folder for validation
# (never a test set). Both runs start from the shipped weights (`--init-from unet`) and share the GPU
# (JAX backend, mixed bfloat16, batch 32 of 128x128). A short probe with both runs on the GPU measures
# the step time; each run's cosine schedule is then sized to end inside SECONDS (counted from the start
# of this script). The runs write RUNS_DIR/unet-{gray,color}/ (best.keras, best.json, log.csv, ...) and
# RUNS_DIR/unet-{gray,color}.out. With DETACH=1 they are started in their own sessions (setsid) and this
# script returns at once (they outlive a device call); otherwise it waits for both.
# Pack them with `imgdenoise pack RUNS_DIR/unet-gray --stem unet-gray`.
set -euo pipefail
data=${1:?usage: $0 DATA_DIR SECONDS RUNS_DIR}
budget=${2:?usage: $0 DATA_DIR SECONDS RUNS_DIR}
runs=${3:?usage: $0 DATA_DIR SECONDS RUNS_DIR}
py=${PYTHON:-python3}
start=$(date +%s)
export KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_MEM_FRACTION=0.45 PYTHONUNBUFFERED=1
common=(--model unet --model-config preset=base --sigma 0 75 --val-sigmas 10 25 50 75 --loss l1
        --patch-size "${PATCH:-128}" --batch-size "${BATCH:-32}" --ema 0.999 --precision mixed_bfloat16 --init-from unet
        --lr "${LR:-1.5e-4}" --data-threads 6 --verbose 2)
present() { for d in "$@"; do if [ -d "$data/$d" ]; then echo "$data/$d"; fi; done; }
mapfile -t gray_dirs < <(present BSD432 Train400)
mapfile -t color_dirs < <(present BSD432 photos debian-photos color-small)
gray=(--train "${gray_dirs[@]}" --val-fraction 0.05)
color=(--color --train "${color_dirs[@]}" --val-fraction 0.05)
mkdir -p "$runs"

# Probe: two 60-step epochs of each run at once; the second epoch's ms/step is the shared-GPU step time.
"$py" -m imgdenoise train "${common[@]}" "${gray[@]}" --epochs 2 --steps "${PROBE_STEPS:-60}" --out "$runs/probe-gray" \
  >"$runs/probe-gray.out" 2>&1 &
"$py" -m imgdenoise train "${common[@]}" "${color[@]}" --epochs 2 --steps "${PROBE_STEPS:-60}" --out "$runs/probe-color" \
  >"$runs/probe-color.out" 2>&1 &
wait
ms=$("$py" - "$runs/probe-gray.out" "$runs/probe-color.out" <<'EOF'
import re, sys  # the slower run's time per step in its last probe epoch, as Keras printed it ("85ms/step", "1s/step")
scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
print(max(float(v) * scale[u] for v, u in
          (re.findall(r"([0-9.]+)(us|ms|s)/step", open(f).read())[-1] for f in sys.argv[1:])))
EOF
)
left=$(( budget - ($(date +%s) - start) ))
# Epochs of STEPS (500) steps; 15% margin for validation, checkpoints and compilation.
epochs=$("$py" -c "print(max(1, int($left * 1000 / ($ms * 1.15) / ${STEPS:-500})))")
echo "probe: ${ms} ms/step with both runs sharing the GPU; ${left} s left -> ${epochs} epochs of ${STEPS:-500} steps each"
for which in gray color; do
  if [ "$which" = gray ]; then args=("${gray[@]}"); else args=("${color[@]}"); fi
  launch=(); if [ "${DETACH:-0}" = 1 ]; then launch=(setsid nohup); fi
  "${launch[@]}" "$py" -m imgdenoise train "${common[@]}" "${args[@]}" --epochs "$epochs" --steps "${STEPS:-500}" \
    --out "$runs/unet-$which" >"$runs/unet-$which.out" 2>&1 < /dev/null &
done
echo "started: $runs/unet-gray and $runs/unet-color"
if [ "${DETACH:-0}" != 1 ]; then wait; echo "finished: $runs/unet-gray and $runs/unet-color"; fi
