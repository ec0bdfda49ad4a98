"""Classical weather augmentation (albumentations 2.0.8): the cheap rival of CycleGAN and NST.

Each weather has a named preset (a list of albumentations transforms, all with ``p=1``, sizes scaled to
the frame). A frame's result depends only on ``(seed, frame key)``: a fresh ``Compose`` seeded with
:func:`photosynth.translate.frameset.frame_seed` is built per frame, so any shard, order or resume gives
the same pixels. Outputs go to ``<workspace>/translated/augment/<weather>/`` with the guarantees of
:mod:`photosynth.translate.frameset` (mirrored paths, original size, atomic writes, resume, shards).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from photosynth import imageio
from photosynth.translate import frameset


def _albumentations() -> Any:
    """Import albumentations with its online update check off."""
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    import albumentations

    return albumentations


def _fog(A: Any, width: int, height: int) -> list[Any]:
    return [
        A.RandomFog(alpha_coef=0.08, fog_coef_range=(0.3, 0.6), p=1.0),
        A.RandomBrightnessContrast(brightness_limit=(0.0, 0.1), contrast_limit=(-0.4, -0.2), p=1.0),
    ]


def _rain(A: Any, width: int, height: int) -> list[Any]:
    return [
        A.RandomBrightnessContrast(brightness_limit=(-0.25, -0.1), contrast_limit=(-0.3, -0.1), p=1.0),
        A.RandomRain(
            slant_range=(-10, 10), drop_length=max(1, height // 12), drop_width=1, drop_color=(200, 200, 200),
            blur_value=3, brightness_coefficient=0.8, rain_type="heavy", p=1.0,
        ),
    ]


def _overcast(A: Any, width: int, height: int) -> list[Any]:
    return [
        A.RandomBrightnessContrast(brightness_limit=(-0.2, -0.05), contrast_limit=(-0.35, -0.15), p=1.0),
        A.HueSaturationValue(hue_shift_limit=(0, 0), sat_shift_limit=(-50, -25), val_shift_limit=(0, 0), p=1.0),
    ]


def _snow(A: Any, width: int, height: int) -> list[Any]:
    return [
        A.RandomSnow(brightness_coeff=2.0, snow_point_range=(0.1, 0.3), method="bleach", p=1.0),
        A.RandomBrightnessContrast(brightness_limit=(0.0, 0.1), contrast_limit=(-0.2, 0.0), p=1.0),
    ]


def _sun(A: Any, width: int, height: int) -> list[Any]:
    return [
        A.RandomSunFlare(
            flare_roi=(0.0, 0.0, 1.0, 0.5), src_radius=max(2, int(0.3 * width)), src_color=(255, 255, 255),
            angle_range=(0.0, 1.0), num_flare_circles_range=(6, 10), method="overlay", p=1.0,
        ),
        A.RandomBrightnessContrast(brightness_limit=(0.05, 0.2), contrast_limit=(0.0, 0.2), p=1.0),
    ]


#: Weather name → builder of its transforms for a ``(width, height)`` frame.
PRESETS: dict[str, Callable[[Any, int, int], list[Any]]] = {
    "fog": _fog,
    "rain": _rain,
    "overcast": _overcast,
    "snow": _snow,
    "sun": _sun,
}


def pipeline(weather: str, width: int, height: int, seed: int) -> Any:
    """The seeded ``albumentations.Compose`` of a weather preset for a frame of the given size."""
    if weather not in PRESETS:
        raise ValueError(f"unknown weather preset {weather!r}; choose one of {', '.join(PRESETS)}")
    A = _albumentations()
    return A.Compose(PRESETS[weather](A, width, height), seed=int(seed))


def augment(rgb: np.ndarray, weather: str, seed: int = 0, key: str = "") -> np.ndarray:
    """Apply a weather preset to one H×W×3 uint8 RGB frame; ``(seed, key)`` fixes the random draw."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    out = pipeline(weather, width, height, frameset.frame_seed(seed, key))(image=rgb)["image"]
    return np.ascontiguousarray(out, dtype=np.uint8)


def augment_dataset(
    sources: Sequence[str | Path],
    src_root: str | Path,
    out_root: str | Path,
    weather: str,
    seed: int = 0,
    shard: str | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Augment ``sources`` into ``out_root`` (mirrored paths, original size, atomic, resumable, shardable).

    Writes ``manifest.json`` beside the images and returns its payload; outputs made with other settings
    raise ``ValueError`` unless ``overwrite`` (:func:`photosynth.translate.frameset.plan`).
    """
    if weather not in PRESETS:
        raise ValueError(f"unknown weather preset {weather!r}; choose one of {', '.join(PRESETS)}")
    settings = {
        "method": "augment",
        "weather": weather,
        "preset": [type(t).__name__ for t in pipeline(weather, 64, 64, 0).transforms],
        "albumentations": _albumentations().__version__,
        "seed": seed,
        "src_root": str(Path(src_root).resolve()),
    }
    jobs, todo = frameset.plan(sources, src_root, out_root, shard, settings=settings, overwrite=overwrite)
    payload: dict[str, Any] = {
        "settings": settings,
        "frames": len(jobs),
        "skipped_existing": len(jobs) - len(todo),
        "status": "running",
    }
    frameset.write_manifest(out_root, shard, payload)

    def work(batch: list[frameset.Job]) -> None:
        for job in batch:
            imageio.write_image(job.dst, augment(imageio.read_rgb(job.src), weather, seed, job.key))

    written = frameset.run_jobs(todo, work, 1, desc=f"augment → {weather}", progress=progress)
    payload.update(written=written, status="complete")
    frameset.write_manifest(out_root, shard, payload)
    return payload
