"""Unaligned two-domain data: two image lists, random crop and flip, and a sampler that can resume.

Every random choice about sample ``n`` (which A image, which B image, crop and flip) is a pure function of
``(seed, n)``: the sampler emits ``(a_index, b_index, augmentation_seed)`` triples, so a run resumed at step
``k`` sees exactly the batches an uninterrupted run sees, whatever the number of loader workers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from photosynth.imageio import list_images, read_rgb
from photosynth.translate.cyclegan.config import CycleGANConfig

Item = tuple[int, int, int]


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 → 3×H×W float in [-1, 1]."""
    return torch.from_numpy(np.array(rgb, copy=True)).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """N×3×H×W in [-1, 1] → N×H×W×3 uint8 (rounded, clipped)."""
    x = images.detach().float().add(1.0).mul(127.5).round_().clamp_(0, 255)
    return x.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def resize_for_training(image: Image.Image, cfg: CycleGANConfig) -> Image.Image:
    """The reference's resizing before the crop (bicubic).

    ``resize_and_crop``: to ``load_size``² (aspect not kept); ``scale_width_and_crop``: width ``load_size``,
    height by the aspect ratio but at least ``crop_size``; ``crop``: unchanged.
    """
    w, h = image.size
    if cfg.preprocess == "resize_and_crop":
        size = (cfg.load_size, cfg.load_size)
    elif cfg.preprocess == "scale_width_and_crop":
        if w == cfg.load_size and h >= cfg.crop_size:
            return image
        size = (cfg.load_size, int(max(cfg.load_size * h / w, cfg.crop_size)))
    else:
        return image
    return image.resize(size, Image.BICUBIC)


def augment(rgb: np.ndarray, cfg: CycleGANConfig, rng: np.random.Generator, path: Path) -> torch.Tensor:
    """Resize, random ``crop_size`` crop, random horizontal flip; returns a 3×crop×crop tensor in [-1, 1]."""
    image = resize_for_training(Image.fromarray(rgb), cfg)
    w, h = image.size
    c = cfg.crop_size
    if w < c or h < c:
        raise ValueError(f"{path}: {w}×{h} after '{cfg.preprocess}' is smaller than crop_size {c}")
    x, y = int(rng.integers(0, w - c + 1)), int(rng.integers(0, h - c + 1))
    array = np.asarray(image)[y : y + c, x : x + c]
    if cfg.flip and rng.random() < 0.5:
        array = array[:, ::-1]
    return to_tensor(array)


class UnalignedDataset(Dataset):
    """Indexed by ``(a_index, b_index, augmentation_seed)`` triples from :class:`UnalignedSampler`."""

    def __init__(self, a_files: Sequence[Path], b_files: Sequence[Path], cfg: CycleGANConfig) -> None:
        self.a_files, self.b_files, self.cfg = list(a_files), list(b_files), cfg

    def __len__(self) -> int:
        return max(len(self.a_files), len(self.b_files))

    def __getitem__(self, item: Item) -> dict:
        a_index, b_index, seed = item
        rng = np.random.default_rng(seed)
        a_path, b_path = self.a_files[a_index], self.b_files[b_index]
        return {
            "A": augment(read_rgb(a_path), self.cfg, rng, a_path),
            "B": augment(read_rgb(b_path), self.cfg, rng, b_path),
            "A_path": str(a_path),
            "B_path": str(b_path),
        }


class UnalignedSampler(Sampler[Item]):
    """Endless stream of ``(a_index, b_index, seed)``: A in a fresh permutation each epoch, B uniform.

    Sample ``n`` depends only on ``(seed, n)``. Rank ``r`` of ``world`` takes, at step ``s``, samples
    ``s·B·world + r·B … + B − 1``; iteration starts at ``start_step`` (resume).
    """

    def __init__(
        self, n_a: int, n_b: int, batch_size: int, seed: int, start_step: int = 0, rank: int = 0, world: int = 1
    ) -> None:
        self.n_a, self.n_b, self.batch_size, self.seed = n_a, n_b, batch_size, seed
        self.start_step, self.rank, self.world = start_step, rank, world
        self._epoch: int | None = None
        self._table: np.ndarray | None = None

    def __len__(self) -> int:  # endless; a large number keeps DataLoader's len() usable
        return 2**62

    def _epoch_table(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            rng = np.random.default_rng([self.seed, epoch])
            self._table = np.stack(
                [
                    rng.permutation(self.n_a),
                    rng.integers(0, self.n_b, self.n_a),
                    rng.integers(0, 2**31 - 1, self.n_a),
                ],
                axis=1,
            )
            self._epoch = epoch
        assert self._table is not None
        return self._table

    def sample(self, n: int) -> Item:
        """The ``n``-th sample of the global stream."""
        row = self._epoch_table(n // self.n_a)[n % self.n_a]
        return int(row[0]), int(row[1]), int(row[2])

    def __iter__(self) -> Iterator[Item]:
        step = self.start_step
        while True:
            first = (step * self.world + self.rank) * self.batch_size
            for n in range(first, first + self.batch_size):
                yield self.sample(n)
            step += 1

    def state_dict(self) -> dict:
        return {"seed": self.seed, "n_a": self.n_a, "n_b": self.n_b, "batch_size": self.batch_size, "world": self.world}


def training_files(source: str | Path | Sequence[str | Path], name: str) -> list[Path]:
    """Images of one domain from a folder, list file or list; errors name the domain."""
    try:
        files = list_images(source)
    except (FileNotFoundError, ValueError) as exc:
        raise type(exc)(f"domain {name}: {exc}") from exc
    missing = [p for p in files[:1000] if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"domain {name}: {len(missing)} listed image(s) do not exist, e.g. {missing[0]}")
    return files


def make_loader(
    dataset: UnalignedDataset, cfg: CycleGANConfig, start_step: int, rank: int = 0, world: int = 1, pin: bool = False
) -> DataLoader:
    """An endless loader of batches starting at ``start_step``; decoding runs in ``cfg.num_workers`` processes."""
    sampler = UnalignedSampler(
        len(dataset.a_files), len(dataset.b_files), cfg.batch_size, cfg.seed, start_step, rank, world
    )
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        sampler=sampler,
        num_workers=cfg.num_workers,
        pin_memory=pin,
        drop_last=True,
        persistent_workers=cfg.num_workers > 0,
        prefetch_factor=4 if cfg.num_workers > 0 else None,
        # its own generator: each new iterator draws a worker base seed, which must not move the global torch
        # RNG the checkpoint saves (a resumed run creates one more iterator than an uninterrupted one)
        generator=torch.Generator().manual_seed(cfg.seed),
    )
