"""Training and validation data.

Small datasets (Train400 is 52 MB as float32) are decoded once and held in
memory, so the CPU cores spend their time in the model, not in decoding.
Batches are random patches with random flips and 90-degree rotations and fresh
noise every batch; a batch's randomness depends only on ``(seed, epoch, index)``,
so a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from imgdenoise.estimator import estimate_image_sigma
from imgdenoise.io import EXTENSIONS, is_image_file, read_image, to_channels
from imgdenoise.noise import GaussianNoise
from imgdenoise.transforms import dihedral


def list_images(folder) -> list[Path]:
    """Image files directly in ``folder`` (or ``folder`` itself if it is a file), sorted."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
    if not files:
        raise ValueError(f"{folder}: no image files ({', '.join(sorted(EXTENSIONS))}) found")
    return files


def split_held_out(items: list, fraction: float) -> tuple[list, list]:
    """``(kept, held_out)``: the last ``fraction`` of ``items`` (at least one) held out for validation, as
    ``imgdenoise train`` holds out images of each training folder."""
    count = max(1, int(len(items) * fraction))
    return items[:len(items) - count], items[len(items) - count:]


def load_images(paths, channels: int) -> list[np.ndarray]:
    """Decode ``paths`` to float32 (H, W, channels) arrays in [0, 1]."""
    return [to_channels(read_image(p).pixels, channels) for p in paths]


def load_paired_folders(root, channels: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pairs from ``root/noisy`` and ``root/clean`` matched by file name."""
    root = Path(root)
    noisy_files = {p.name: p for p in list_images(root / "noisy")}
    clean_files = {p.name: p for p in list_images(root / "clean")}
    names = sorted(noisy_files.keys() & clean_files.keys())
    if not names:
        raise ValueError(f"{root}: no file name appears in both noisy/ and clean/")
    noisy = load_images([noisy_files[n] for n in names], channels)
    clean = load_images([clean_files[n] for n in names], channels)
    for name, a, b in zip(names, noisy, clean):
        if a.shape != b.shape:
            raise ValueError(f"{root}: {name} differs in size between noisy/ {a.shape} and clean/ {b.shape}")
    return noisy, clean


def true_level(noisy: np.ndarray, clean: np.ndarray) -> float:
    """A pair's noise level: the standard deviation of ``noisy - clean`` (0-255)."""
    return float(np.std(noisy.astype(np.float64) - clean) * 255.0)


def read_levels(noisy_images, clean_images, level_reader=None) -> list[float]:
    """``level_reader(noisy, clean)`` of each pair (default: :func:`estimate_image_sigma` of the noisy
    image), on a thread per core (the estimators spend their time in NumPy, which releases the GIL)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    read = level_reader or (lambda noisy, clean: estimate_image_sigma(noisy))
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return [float(level) for level in pool.map(read, noisy_images, clean_images)]


class PatchSampler:
    """Random square patches of a set of images: each image picked in proportion to its area, cut at a
    random place and given one of the 8 flips and rotations (:func:`~imgdenoise.transforms.dihedral`).

    ``images``: (H, W, C) arrays; those smaller than ``patch_size`` are left out (ValueError if none is
    left). ``partners``: optional images aligned with ``images`` (real noisy counterparts), cut at the
    same place with the same transform. All randomness comes from the ``rng`` given, so a batch depends
    only on its generator's seed.
    """

    def __init__(self, images, patch_size: int, *, partners=None):
        keep = [i for i, im in enumerate(images) if min(im.shape[:2]) >= patch_size]
        if not keep:
            raise ValueError(f"no training image is at least {patch_size}x{patch_size}; use a smaller patch size")
        self.kept = keep  # indices of ``images`` that are sampled
        self.images = [images[i] for i in keep]
        self.partners = None if partners is None else [partners[i] for i in keep]
        self.patch_size = patch_size
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], np.float64)
        self.weights = areas / areas.sum()

    def picks(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` image indices, drawn in proportion to the images' areas."""
        return rng.choice(len(self.images), size=count, p=self.weights)

    def patches(self, rng: np.random.Generator, picks) -> tuple[np.ndarray, np.ndarray | None]:
        """One patch of each picked image, (N, p, p, C) float32, and the partners' patches (or None)."""
        p = self.patch_size
        cut, partners = [], []
        for index in picks:
            image = self.images[index]
            top, left = rng.integers(0, image.shape[0] - p + 1), rng.integers(0, image.shape[1] - p + 1)
            mode = rng.integers(0, 8)
            cut.append(dihedral(image[top:top + p, left:left + p], mode))
            if self.partners is not None:
                partners.append(dihedral(self.partners[index][top:top + p, left:left + p], mode))
        stacked = np.stack(cut).astype(np.float32)
        return stacked, (np.stack(partners).astype(np.float32) if self.partners is not None else None)


class PatchDataset(keras.utils.PyDataset):
    """Random noisy/clean patch batches for ``model.fit``.

    Args:
        images: clean images, float32 (H, W, C).
        noise: a noise model from :mod:`imgdenoise.noise`, called on each batch;
            ignored when ``noisy_images`` (paired data) is given.
        noisy_images: optional real noisy counterparts of ``images``. Their sigma input (for
            noise-conditional models) is one level per whole pair, ``level_reader``'s (default: the
            :func:`estimate_image_sigma` of the noisy image), not each patch's own (with signal-dependent
            noise the two differ from patch to patch, and blind use reads whole images).
        level_reader: ``(noisy, clean) -> level (0-255)`` for each pair: an estimator's reading of the noisy
            image (what blind denoising will read), or :func:`true_level`.
        noise_conditional: yield ``((noisy, sigma_map), clean)`` instead of ``(noisy, clean)``.
        steps: batches per epoch.
        shard: ``(index, count)``: yield only slice ``index`` of ``count`` of every batch, so that the
            processes of a multi-worker run together see exactly the single-process batches.
    """

    def __init__(self, images, *, noise=None, noisy_images=None, patch_size=64, batch_size=16,
                 steps=1000, noise_conditional=False, seed=0, shard=(0, 1), level_reader=None, **kwargs):
        super().__init__(**kwargs)
        self.sampler = PatchSampler(images, patch_size, partners=noisy_images)
        self.noisy_sigmas = (None if noisy_images is None
                             else read_levels(self.sampler.partners, self.sampler.images, level_reader))
        self.noise = noise or GaussianNoise(25.0)
        self.patch_size, self.batch_size, self.steps = patch_size, batch_size, steps
        self.noise_conditional, self.seed = noise_conditional, seed
        self.shard = shard
        if batch_size % shard[1]:
            raise ValueError(f"batch size {batch_size} must be a multiple of the {shard[1]} workers")
        self.epoch = 0  # set by the training loop (see ``set_epoch``), not by Keras' epoch hooks

    @property
    def images(self) -> list[np.ndarray]:
        """The clean images patches are cut from (those at least a patch in size)."""
        return self.sampler.images

    def __len__(self):
        return self.steps

    def set_epoch(self, epoch: int):
        """Select the epoch whose batches ``__getitem__`` returns (training sets it each epoch)."""
        self.epoch = epoch

    def __getitem__(self, index):
        batch = self._global_batch(index)
        if self.shard[1] == 1:
            return batch
        per = self.batch_size // self.shard[1]
        return keras.tree.map_structure(lambda a: a[self.shard[0] * per:(self.shard[0] + 1) * per], batch)

    def _global_batch(self, index):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        picks = self.sampler.picks(rng, self.batch_size)
        clean, noisy = self.sampler.patches(rng, picks)
        if noisy is None:
            noisy, sigmas = self.noise(clean, rng)
        else:
            sigmas = np.array([self.noisy_sigmas[i] for i in picks], np.float32)
        if self.noise_conditional:
            sigma_map = np.broadcast_to((sigmas / 255.0)[:, None, None, None], clean.shape[:3] + (1,))
            return (noisy, np.ascontiguousarray(sigma_map, np.float32)), clean
        return noisy, clean


def validation_set(images, *, sigmas, crop=128, multiple=1, noise_conditional=False, seed=0,
                   noisy_images=None, noise=None, level_reader=None):
    """A fixed validation batch: one centre crop per image, noise drawn once.

    ``sigmas`` (0-255) are assigned to the images in turn, so a blind model is
    validated across its range; a ``noise`` model (:mod:`imgdenoise.noise`), when
    given, is drawn instead, seeded. With ``noisy_images``, each is told the level
    ``level_reader`` reads on its pair, as in :class:`PatchDataset`. Returns ``(inputs, clean)``
    for ``model.fit``.
    """
    size = min(crop, *(min(im.shape[:2]) for im in images))
    size -= size % multiple
    if size < multiple or size == 0:
        raise ValueError("validation images are too small")

    def centre(im):
        top, left = (im.shape[0] - size) // 2, (im.shape[1] - size) // 2
        return im[top:top + size, left:left + size]

    clean = np.stack([centre(im) for im in images]).astype(np.float32)
    rng = np.random.default_rng(seed)
    if noise is not None and noisy_images is None:
        noisy, sigma = noise(clean, rng)
    elif noisy_images is None:
        sigma = np.array([sigmas[i % len(sigmas)] for i in range(len(images))], np.float32)
        noisy = GaussianNoise.add(clean, sigma, rng)
    else:
        noisy = np.stack([centre(im) for im in noisy_images]).astype(np.float32)
        sigma = np.array(read_levels(noisy_images, images, level_reader), np.float32)  # as in PatchDataset
    if noise_conditional:
        sigma_map = np.broadcast_to((sigma / 255.0)[:, None, None, None], clean.shape[:3] + (1,))
        return (noisy, np.ascontiguousarray(sigma_map, np.float32)), clean
    return noisy, clean


class LevelTargets(keras.utils.PyDataset):
    """A noise-conditional :class:`PatchDataset`'s batches as ``(noisy, level)`` for a noise-level
    estimator: ``level`` (N, 1) is each patch's noise level / 255."""

    def __init__(self, patches: PatchDataset, **kwargs):
        super().__init__(**kwargs)
        if not patches.noise_conditional:
            raise ValueError("LevelTargets needs a noise-conditional PatchDataset (it reads the sigma maps)")
        self.patches = patches

    def __len__(self):
        return len(self.patches)

    def set_epoch(self, epoch: int):
        self.patches.set_epoch(epoch)

    def __getitem__(self, index):
        return level_targets(self.patches[index])


def level_targets(batch):
    """``((noisy, sigma_map), clean)`` -> ``(noisy, sigma_map[:, 0, 0])``: the targets of a noise-level estimator."""
    (noisy, sigma_map), _ = batch
    return noisy, np.ascontiguousarray(sigma_map[:, 0, 0, :])
