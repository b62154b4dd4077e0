#!/usr/bin/env bash
# The one command of a GPU lease (device tool, about 15 minutes): train the gray and colour U-Nets
# further on the packed data and bring back their best models.
#
#   bash benchmarks/gpu_session.sh PACK SECONDS     # on the device; PACK from benchmarks/gpu_pack.py
#
# Installs PACK/wheels into /tmp/site (nothing is fetched there), unpacks PACK/data.tar into /tmp/data,
# runs benchmarks/train_flagship_gpu.sh for SECONDS (keep it 60-90 s under the call's timeout_s) and
# copies each run's best.keras and a tar of its logs into $OUT (at most 8 files come back):
# unet-{gray,color}.keras and unet-{gray,color}-logs.tar. Here: `imgdenoise pack` on a folder with the
# .keras as best.keras and the logs untarred beside it.
set -euo pipefail
pack=${1:?usage: $0 PACK SECONDS}
budget=${2:?usage: $0 PACK SECONDS}
out=${OUT:-/tmp/gpu-out}
cd "$(dirname "$0")/.."
start=$(date +%s)
py=${PYTHON:-python3}
if compgen -G "$pack/wheels/*.whl" >/dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$pack"/wheels/*.whl
  export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
data=${DATA:-/tmp/data}
mkdir -p "$data" "$out"
tar -xf "$pack/data.tar" -C "$data"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
left=$(( budget - ($(date +%s) - start) ))
echo "setup took $(( $(date +%s) - start )) s; training for ${left} s"
runs=/tmp/gpu-runs
PYTHON=$py bash benchmarks/train_flagship_gpu.sh "$data" "$left" "$runs" || echo "training failed (rc $?)"
for which in gray color; do
  run=$runs/unet-$which
  [ -f "$run/best.keras" ] && cp "$run/best.keras" "$out/unet-$which.keras"
  tar -cf "$out/unet-$which-logs.tar" -C "$runs" --ignore-failed-read "unet-$which.out" \
    "unet-$which/best.json" "unet-$which/log.csv" "unet-$which/config.json" 2>/dev/null || true
  tail -n 3 "$run/log.csv" 2>/dev/null || tail -n 20 "$runs/unet-$which.out" || true
done
ls -la "$out"
