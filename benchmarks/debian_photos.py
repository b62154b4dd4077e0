"""Extra colour training images: the photographs among Debian's desktop wallpapers.

``color-small`` has 39 colour images (about 7 megapixels); CDnCNN was trained on 432. Debian
ships a few dozen free-licensed photographs as desktop wallpapers (MATE's nature set, the
Ubuntu wallpapers packaged for Lomiri, KDE Plasma's photo wallpapers, and Enlightenment's 4K
backgrounds). This script fetches those packages with ``apt-get download`` (the only network access
it needs, and only to the Debian mirror), unpacks them with ``dpkg-deb``, keeps the photographs
listed in ``PHOTOS`` (drawings, renders, patterns and gradients are left out, as is a night-sky shot
full of sensor noise), and writes each one downscaled to about ``--megapixels`` as an 8-bit PNG.
Enlightenment's backgrounds are Edje files (``.edj``): ``edje_decc`` (Debian package
``libedje-bin``, which must be installed) unpacks each, and its largest image is used. Downscaling by 2-8x
averages away JPEG artefacts and sensor noise, so the results serve as clean targets (as
DIV2K-style training sets are made).

None of these images is in a benchmark set: the script checks each against every image of the
test sets (``--test-sets``) by the correlation of 32x32 gray thumbnails, and stops if any exceeds
0.95 (the highest, 2026-11-26: 0.88, a pier in fog against a BSD68 savanna). They are not
committed to this repository (their licences are in each package's
``/usr/share/doc/PACKAGE/copyright``).

Usage:
  python benchmarks/debian_photos.py --out data/debian-photos
  imgdenoise train --color --train ../shared/datasets/train/color-small data/debian-photos ...
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DATASETS  # noqa: E402

from imgdenoise.data import list_images  # noqa: E402

BACKGROUNDS = "usr/share/backgrounds"
PLASMA = "usr/share/wallpapers"
ENLIGHTENMENT = "usr/share/enlightenment/data/backgrounds"
PHOTOS = {
    "mate-backgrounds": [f"{BACKGROUNDS}/mate/nature/{name}.jpg" for name in (
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops",
        "Storm", "TwoWings", "Wood", "YellowFlower")],
    "lomiri-wallpapers-16.04": [f"{BACKGROUNDS}/{name}.jpg" for name in (
        "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace",
        "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede",
        "aitzgorri_by_Aitzol_Berasategi", "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich",
        "friends_by_Aitzol_Berasategi", "greentock_by_Peter_Nerlich", "life_by_Aitzol_Berasategi",
        "picosdeeuropa_by_Aitzol_Berasategi", "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi")],
    "lomiri-wallpapers-20.04": [f"{BACKGROUNDS}/Kleiber_by_Lukas_Baubkus.jpg"],
    "plasma-workspace-wallpapers": [f"{PLASMA}/{name}/contents/images/{size}.jpg" for name, size in (
        ("BytheWater", "800x600"), ("ColdRipple", "800x600"), ("ColorfulCups", "2560x1600"),
        ("EveningGlow", "800x600"), ("FallenLeaf", "800x600"), ("Grey", "800x600"), ("Kite", "800x600"),
        ("OneStandsOut", "800x600"), ("Path", "800x600"), ("summer_1am", "800x600"))],
    "enlightenment-data": [f"{ENLIGHTENMENT}/{name}.edj" for name in (  # 3840x2160 (BSD-2-Clause)
        "Bamboo", "Foggy-Trees", "God-Rays", "Green-Maple", "Lichen-Branches", "Mountain", "Peaks", "Red-Maple",
        "Sea-of-Lanterns", "Snow-Trees", "Spruce-Needles", "Sunset-Clouds", "White-Flower", "Yellow-Flower")],
}


def fetch_packages(packages, workdir: Path) -> Path:
    """Download and unpack ``packages`` into ``workdir/root``; returns that root."""
    subprocess.run(["apt-get", "download", *packages], cwd=workdir, check=True)
    root = workdir / "root"
    for deb in sorted(workdir.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def edje_image(edj: Path, workdir: Path) -> Path:
    """The largest image in the Edje file ``edj``, unpacked by ``edje_decc`` into ``workdir``."""
    subprocess.run(["edje_decc", str(edj.resolve())], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    images = [p for p in (workdir / edj.stem).glob("*") if p.suffix.lower() in (".png", ".jpg")]
    if not images:
        sys.exit(f"{edj}: no image inside (has the package changed?)")

    def pixels(path):
        with Image.open(path) as im:
            return im.width * im.height

    return max(images, key=pixels)


def downscaled(image: Image.Image, megapixels: float) -> Image.Image:
    """``image`` resized (Lanczos, aspect kept) to about ``megapixels``, at least 2x smaller per side."""
    w, h = image.size
    scale = min(0.5, (megapixels * 1e6 / (w * h)) ** 0.5)
    return image.resize((round(w * scale), round(h * scale)), Image.LANCZOS, reducing_gap=3.0)


def thumbnail(path) -> np.ndarray:
    """A 32x32 gray thumbnail as a unit vector with zero mean (for correlations)."""
    with Image.open(path) as im:
        a = np.asarray(im.convert("L").resize((32, 32), Image.BILINEAR), np.float64).ravel()
    a -= a.mean()
    return a / (np.linalg.norm(a) + 1e-12)


def closest_test_image(paths, test_root: Path) -> tuple[float, str, str]:
    """The highest thumbnail correlation between ``paths`` and any test-set image, and the pair."""
    tests = [path for folder in sorted(test_root.glob("*")) if folder.is_dir() for path in list_images(folder)]
    if not tests:
        return 0.0, "", ""
    corr = np.stack([thumbnail(p) for p in paths]) @ np.stack([thumbnail(t) for t in tests]).T
    i, j = np.unravel_index(corr.argmax(), corr.shape)
    return float(corr[i, j]), str(paths[i]), str(tests[j])


def output_name(package: str, path: str) -> str:
    parts = Path(path).parts
    stem = parts[-4] if package == "plasma-workspace-wallpapers" else Path(path).stem
    return f"{package.split('-')[0]}_{stem}.png"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="data/debian-photos", help="folder for the PNGs")
    parser.add_argument("--megapixels", type=float, default=0.5, help="size of each output image")
    parser.add_argument("--test-sets", default=str(DATASETS / "test"), help="folder of the benchmark sets")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if shutil.which("edje_decc") is None:  # checked before downloading half a gigabyte
        sys.exit("edje_decc not found (it unpacks Enlightenment's .edj backgrounds): apt-get install libedje-bin")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = fetch_packages(sorted(PHOTOS), Path(tmp))
        total = 0
        for package, paths in PHOTOS.items():
            for path in paths:
                source = root / path
                if not source.is_file():
                    sys.exit(f"{package}: {path} not found (has the package changed?)")
                if source.suffix == ".edj":
                    source = edje_image(source, Path(tmp))
                with Image.open(source) as im:
                    small = downscaled(im.convert("RGB"), args.megapixels)
                small.save(out / output_name(package, path))
                total += small.width * small.height
                print(f"{output_name(package, path)}: {im.size[0]}x{im.size[1]} -> {small.width}x{small.height}")
    count = sum(len(p) for p in PHOTOS.values())
    print(f"{count} images, {total / 1e6:.1f} megapixels in {out} (mean {total / count / 1e6:.2f} MP)")
    written = sorted(out.glob("*.png"))
    corr, ours, test = closest_test_image(written, Path(args.test_sets))
    print(f"closest test image: {test} ~ {ours}, thumbnail correlation {corr:.2f}")
    if corr > 0.95:
        sys.exit(f"{ours} may be the test image {test}: not usable for training")


if __name__ == "__main__":
    main()
