"""What the frame-by-frame translators (NST, albumentations) share: which frames, where outputs go,
per-frame seeds, batches with a progress bar, and a manifest beside the outputs.

The guarantees come from :mod:`photosynth.imageio`: outputs mirror the input paths relative to the input
root (same stems, so the training mixes find them), are written atomically, finished ones are skipped on
re-run (resume), and ``--shard i/n`` splits the work between processes.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from photosynth import imageio
from photosynth.atomic import remove_stale_temps, write_json
from photosynth.datasets.vkitti2 import clone_frames, frame_index
from photosynth.design import SOURCES, STYLE_DOMAINS, WEATHER_SLOTS
from photosynth.environment import versions

#: Distributions whose versions a translator manifest records (they shape the pixels).
LIBRARIES: tuple[str, ...] = ("numpy", "pillow", "keras", "tensorflow", "torch", "albumentations", "opencv-python", "scipy")
#: The manifest every translator writes beside its outputs (one per shard: ``manifest.shard-i-of-n.json``).
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Job:
    """One frame to translate: the input, its key (path relative to the input root) and the output."""

    src: Path
    key: str
    dst: Path


def frame_seed(seed: int, key: str) -> int:
    """A stable 32-bit seed for one frame: the same ``seed`` and ``key`` give the same value in every process."""
    return zlib.crc32(f"{int(seed)}:{key}".encode()) & 0x7FFFFFFF


def frame_key(src: str | Path, src_root: str | Path) -> str:
    """The frame's path relative to the input root (POSIX), e.g. ``Scene01/clone/frames/rgb/Camera_0/rgb_00004.jpg``."""
    try:
        return Path(src).resolve().relative_to(Path(src_root).resolve()).as_posix()
    except ValueError as exc:
        raise ValueError(f"{src} is not inside the input root {Path(src_root).resolve()}") from exc


def plan(
    sources: Sequence[str | Path],
    src_root: str | Path,
    out_root: str | Path,
    shard: str | None = None,
    suffix: str | None = None,
    settings: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> tuple[list[Job], list[Job]]:
    """``(all jobs of this shard, the ones to do)``, outputs mirrored under ``out_root``.

    Finished outputs are kept (resume) when this shard's manifest was written with the same ``settings``;
    other settings raise ``ValueError`` (stale outputs would be mixed with new ones) unless ``overwrite``,
    which redoes every frame.
    """
    jobs = []
    for src in imageio.shard(sorted(Path(s) for s in sources), shard):
        jobs.append(Job(src=Path(src), key=frame_key(src, src_root), dst=imageio.mirrored_path(src, src_root, out_root,
                                                                                                 suffix)))
    if overwrite:
        return jobs, jobs
    previous = manifest_path(out_root, shard)
    if settings is not None and previous.is_file():
        before = json.loads(previous.read_text()).get("settings")
        if before is not None and before != json.loads(json.dumps(settings, default=str)):
            raise ValueError(
                f"{out_root} holds outputs made with other settings ({previous}); use another output folder, "
                "delete it, or overwrite"
            )
    return jobs, [job for job in jobs if not job.dst.is_file()]


def batches(jobs: Sequence[Job], size: int) -> Iterator[list[Job]]:
    """Consecutive batches of at most ``size`` jobs."""
    if size < 1:
        raise ValueError(f"batch size must be >= 1, got {size}")
    for start in range(0, len(jobs), size):
        yield list(jobs[start : start + size])


def run_jobs(
    jobs: Sequence[Job],
    work: Callable[[list[Job]], None],
    batch_size: int = 1,
    desc: str = "translate",
    progress: bool = True,
) -> int:
    """Call ``work`` on batches of ``jobs`` under a tqdm progress bar (frames); returns the number done."""
    done = 0
    with tqdm(total=len(jobs), desc=desc, unit="frame", disable=not progress) as bar:
        for batch in batches(jobs, batch_size):
            work(batch)
            done += len(batch)
            bar.update(len(batch))
    return done


def manifest_path(out_root: str | Path, shard: str | None = None) -> Path:
    """``manifest.json``, or ``manifest.shard-i-of-n.json`` for a shard of several."""
    index, count = imageio.parse_shard(shard)
    name = MANIFEST if count == 1 else f"manifest.shard-{index}-of-{count}.json"
    return Path(out_root) / name


def write_manifest(out_root: str | Path, shard: str | None, payload: dict[str, Any]) -> Path:
    """Write the stage manifest (payload + shard, library versions, time) atomically beside the outputs."""
    record = {
        **payload,
        "shard": shard or "0/1",
        "versions": versions(LIBRARIES),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = manifest_path(out_root, shard)
    remove_stale_temps(path)  # a run killed while writing it left its temporary
    return write_json(path, record, indent=2, default=str)


def translation_sources(vkitti_root: str | Path, weather: str) -> list[Path]:
    """The clone Camera_0 frames whose slot is ``weather`` (what a translator must translate for the training
    mixes), sorted. Lists image files only (``<root>/…/SceneXX/clone/frames/rgb/Camera_0/rgb_NNNNN.*``)."""
    if weather not in WEATHER_SLOTS:
        raise ValueError(f"unknown weather {weather!r}; expected one of {', '.join(WEATHER_SLOTS)}")
    slot = WEATHER_SLOTS[weather]
    return sorted(p for p in clone_frames(vkitti_root) if frame_index(p) % len(SOURCES) == slot)  # type: ignore[operator]


def frames_to_translate(vkitti_root: str | Path, weather: str) -> list[Path]:
    """The clone frames a translator translates into ``weather``: :func:`translation_sources` for the study's
    weathers (fog, overcast, rain); for other presets (snow, sun), every clone Camera_0 frame, sorted."""
    if weather in WEATHER_SLOTS:
        return translation_sources(vkitti_root, weather)
    root = Path(vkitti_root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no vKITTI2 root (run notebook 01 or pass the folder)")
    return sorted(clone_frames(root))


def style_list(workspace_root: str | Path, weather: str) -> Path:
    """``<workspace>/splits/weather/<domain>.txt``: the BDD style images of ``weather`` (fog, overcast, rain)."""
    if weather not in STYLE_DOMAINS:
        raise ValueError(f"no BDD style domain for weather {weather!r}; known: {', '.join(sorted(STYLE_DOMAINS))}")
    path = Path(workspace_root) / "splits" / "weather" / f"{STYLE_DOMAINS[weather]}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no style image list for {weather!r} (made by notebook 01 / `photosynth split`)")
    return path
