"""Choose the TV weight and NLM h factors on Train400 (training images only, never a test set).

Usage: python benchmarks/tune_classical.py [--data ../shared/datasets/train/Train400] [--images 12]
Prints mean PSNR per factor at sigma 15/25/50; the best overall goes into imgdenoise/classical.py.
"""

import argparse
from pathlib import Path

import numpy as np
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle

from imgdenoise.evaluate import load_benchmark
from imgdenoise.metrics import psnr
from imgdenoise.noise import add_protocol_noise

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "train" / "Train400"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--images", type=int, default=12)
    args = parser.parse_args()
    images = load_benchmark(args.data)[:: max(1, 400 // args.images)][: args.images]
    sigmas = (15, 25, 50)
    for name, factors, run in [
        ("tv weight / (sigma/255)", (0.5, 0.75, 1.0, 1.25, 1.5, 2.0),
         lambda x, s, f: denoise_tv_chambolle(x, weight=f * s / 255, channel_axis=-1)),
        ("nlm h / (sigma/255)", (0.6, 0.8, 1.0, 1.2),
         lambda x, s, f: denoise_nl_means(x, h=f * s / 255, sigma=s / 255, patch_size=5, patch_distance=6,
                                          fast_mode=True, channel_axis=-1).reshape(x.shape)),
    ]:
        print(name)
        for f in factors:
            scores = [np.mean([psnr(c, run(add_protocol_noise(c, s), s, f)) for _, c in images]) for s in sigmas]
            print(f"  {f:5.2f}: " + "  ".join(f"s{s}={p:.2f}" for s, p in zip(sigmas, scores))
                  + f"  mean={np.mean(scores):.2f}")


if __name__ == "__main__":
    main()
