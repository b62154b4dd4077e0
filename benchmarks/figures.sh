#!/usr/bin/env bash
# Regenerate the figures in docs/figures/ with the project's own commands.
#   benchmarks/figures.sh            (datasets from ../shared/datasets unless DATA is set)
set -euo pipefail
data=${DATA:-../shared/datasets/test}
bin=${IMGDENOISE:-.venv/bin/imgdenoise}
reference=${REFERENCE:-../shared/reference/dncnn_sigma25_keras2.h5}
mkdir -p docs/figures
# DnCNN: the authors' sigma-25 weights where present (imported, not shipped), else our DnCNN-S.
dncnn=dncnn
if [ -f "$reference" ]; then
  tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
  dncnn=$tmp/dncnn-authors-sigma25.keras
  "$bin" import-weights dncnn "$reference" -o "$dncnn" --overwrite
fi
# Noisy / BM3D / DnCNN (one pass, as published) / U-Net (default quality) / clean on a Set12 image,
# with a zoomed crop and PSNR/SSIM per panel.
"$bin" compare "$data/Set12/08.png" --sigma 25 --methods "bm3d,$dncnn:fast,unet" --gray \
  -o docs/figures/comparison-set12-08-sigma25.png --overwrite
# Colour: noisy / CBM3D / U-Net one pass / U-Net default quality / clean on a Kodak24 image (no
# colour DnCNN weights are at hand).
"$bin" compare "$data/Kodak24/kodim23.png" --sigma 25 --methods bm3d,unet:fast,unet \
  -o docs/figures/comparison-kodak24-23-sigma25.png --overwrite
# PSNR versus sigma for each method on Set12.
"$bin" evaluate --model unet "$dncnn:fast" --method bm3d --data "$data/Set12" --sigma 15 25 50 \
  --plot docs/figures/psnr-vs-sigma-set12.png --json docs/figures/psnr-vs-sigma-set12.json
# The flagship's training curves, as `imgdenoise train` draws them.
cp runs/unet-gray/curves.png docs/figures/training-curves-unet-gray.png
# The first GPU stage of the same model (runs/README.md), drawn by the same plotting function.
"${PYTHON:-.venv/bin/python}" -c "from imgdenoise.plotting import plot_training_curves as p; \
p('runs/unet-gray-gpu/stage1-log.csv', 'docs/figures/training-curves-unet-gray-gpu.png')"
