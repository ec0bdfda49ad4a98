"""Image helpers of the style transfer: working-size resizes, luminance and chroma, colour matching, loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from photosynth import imageio

ImageLike = np.ndarray | str | Path


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of an H×W×3 uint8 image to ``size`` = (width, height)."""
    if (rgb.shape[1], rgb.shape[0]) == tuple(size):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(tuple(size), Image.Resampling.BICUBIC))


def luminance_rgb(rgb: np.ndarray) -> np.ndarray:
    """The image's luminance (ITU-R 601) repeated in three channels."""
    y = np.asarray(Image.fromarray(rgb).convert("L"))
    return np.repeat(y[..., None], 3, axis=2)


def with_chroma_of(luma_source: np.ndarray, chroma_source: np.ndarray) -> np.ndarray:
    """Luminance of ``luma_source`` with the chroma (Cb, Cr) of ``chroma_source`` (same size)."""
    y = Image.fromarray(luma_source).convert("YCbCr").split()[0]
    _, cb, cr = Image.fromarray(chroma_source).convert("YCbCr").split()
    return np.asarray(Image.merge("YCbCr", (y, cb, cr)).convert("RGB"))


def match_color(rgb: np.ndarray, style: np.ndarray) -> np.ndarray:
    """``rgb`` (H×W×3 uint8) with each channel's mean and standard deviation set to ``style``'s (any size)."""
    x, ref = rgb.astype("float64"), style.astype("float64")
    mean, std = x.mean(axis=(0, 1)), x.std(axis=(0, 1))
    out = (x - mean) / np.maximum(std, 1e-6) * ref.std(axis=(0, 1)) + ref.mean(axis=(0, 1))
    return np.clip(np.rint(out), 0, 255).astype("uint8")


def load(image: ImageLike) -> np.ndarray:
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an H×W×3 uint8 RGB image, got {image.dtype} {image.shape}")
        return image
    return imageio.read_rgb(image)


def to_uint8(x01: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(x01), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
