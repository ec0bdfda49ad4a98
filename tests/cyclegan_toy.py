"""Tiny image folders and configs shared by the CycleGAN tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from photosynth.imageio import write_image
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.train import train


#: ``photosynth cyclegan/cut train`` flags of a model that takes a few steps per second on one CPU core.
TINY_FLAGS = ["--ngf", "4", "--ndf", "4", "--n-blocks", "1", "--n-layers-d", "2", "--load-size", "24",
              "--crop-size", "16", "--batch-size", "2", "--num-workers", "1", "--quiet"]


def make_images(folder: Path, sizes: list[tuple[int, int]], seed: int = 0, suffix: str = ".jpg") -> list[Path]:
    """Random-noise images of the given ``(width, height)`` sizes in ``folder``; returns their paths."""
    rng = np.random.default_rng(seed)
    paths = []
    for i, (w, h) in enumerate(sizes):
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        paths.append(write_image(folder / f"img_{i:03d}{suffix}", rgb))
    return paths


def tiny_config(**overrides) -> CycleGANConfig:
    """A model small enough to take a few training steps per second on one CPU core."""
    values = dict(
        ngf=4, ndf=4, n_blocks=1, n_layers_d=2, preprocess="scale_width_and_crop", load_size=24, crop_size=16,
        steps=3, decay_steps=3, batch_size=2, pool_size=3, checkpoint_every=2, sample_every=2,
    )
    values.update(overrides)
    return CycleGANConfig(**values)


def tiny_generator(folder: Path) -> Path:
    """A one-step tiny CycleGAN checkpoint in ``folder`` (trained on random images) to translate with."""
    a, b = folder / "train_A", folder / "train_B"
    make_images(a, [(30, 20)] * 2, seed=5)
    make_images(b, [(30, 20)] * 2, seed=6)
    return train(tiny_config(batch_size=1, num_workers=0), a, b, folder / "model", until_step=1,
                 progress=False).checkpoint


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """One torch thread: on the shared 2-core machine OpenMP spinning makes tiny models ~8x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
