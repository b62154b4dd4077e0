#!/usr/bin/env bash
# Take the tracked files that GPU training does not read out of the working tree before a device call
# (which sends at most 64 MiB), and put them back after it.
#
#   bash benchmarks/gpu_tree.sh hide      # removes them (they stay committed)
#   bash benchmarks/gpu_tree.sh restore   # git checkout of the same paths
#   bash benchmarks/gpu_tree.sh list      # the tracked files hide removes
#
# Hidden: the exported .onnx weights (training reads the .npz), the float16 weights of earlier runs,
# figures and benchmark records. benchmarks/gpu_pack.py asks `list` to size a call.
set -euo pipefail
cd "$(dirname "$0")/.."
HIDE=('imgdenoise/weights/*.onnx' 'runs/*/*.npz' 'docs/figures' 'docs/*.json' 'benchmarks/results' 'runs/*/*.png')
case "${1:-}" in
  hide) git ls-files -z -- "${HIDE[@]}" | xargs -0 rm -f ;;
  restore) git checkout -- "${HIDE[@]}" ;;
  list) git ls-files -- "${HIDE[@]}" ;;
  *) echo "usage: $0 hide|restore|list" >&2; exit 2 ;;
esac
