"""The datasets stage of a workspace (notebook 01): dataset roots, the dataset table and its figures.

:func:`prepare_data` fills ``<workspace>/data/{kitti_object,kitti_tracking,vkitti2,bdd100k}``: symbolic
links to real roots when given, else the toy world (:func:`photosynth.toyworld.world.make_toyworld`).
Later stages only ever look in ``<workspace>/data``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from photosynth.datasets.bdd100k import read_bdd100k
from photosynth.datasets.kitti import read_kitti_object, read_kitti_tracking
from photosynth.datasets.report import ConversionReport
from photosynth.datasets.vkitti2 import join_roots, read_vkitti2, unjoin
from photosynth.design import Domain
from photosynth.frames import Frame
from photosynth.study.splits import Statistics

#: Dataset roots of a workspace, in table order.
ROOTS: tuple[str, ...] = ("kitti_tracking", "kitti_object", "vkitti2", "bdd100k")
#: Roots a real-data run must name (KITTI object is optional: the study trains on KITTI tracking).
REQUIRED_REAL: tuple[str, ...] = ("kitti_tracking", "vkitti2", "bdd100k")
#: vKITTI2 variations shown in the sample grid.
SAMPLE_VARIATIONS: tuple[str, ...] = ("clone", "morning", "sunset", "fog", "overcast", "rain")
#: BDD domains shown in the sample grid.
SAMPLE_DOMAINS: tuple[str, ...] = ("daytime_clear", "daytime_overcast", "daytime_rainy", "daytime_foggy",
                                   "daytime_snowy", "night")  # fmt: skip


def prepare_data(workspace_root: str | Path, roots: Mapping[str, str | Path | None],
                 toy: Mapping[str, Any] | None = None, seed: int = 0,
                 vkitti2_rgb_root: str | Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Make ``<workspace>/data/<name>`` for every root: a link to the real root, or the toy world.

    ``roots`` maps names of :data:`ROOTS` to folders ('' / None: not given). With none given the toy world is
    generated (``toy``: keyword arguments of ``make_toyworld``); with some given, all of
    :data:`REQUIRED_REAL` must be. ``vkitti2_rgb_root``: vKITTI2's rgb images when not under the vkitti2 root;
    ``data/vkitti2`` then joins the two (:func:`photosynth.datasets.vkitti2.join_roots`).
    Returns ``{"source": "toy world" | "real data", "roots": {name: path}}``.
    """
    from photosynth.toyworld.world import make_toyworld

    data = Path(workspace_root) / "data"
    given = {name: Path(str(p)).expanduser() for name, p in roots.items() if p}
    unknown = sorted(set(roots) - set(ROOTS))
    if unknown:
        raise ValueError(f"unknown dataset roots {unknown}; expected some of {list(ROOTS)}")
    if vkitti2_rgb_root and "vkitti2" not in given:
        raise ValueError("vkitti2_rgb_root needs vkitti2_root (the text ground truth)")
    if not given:
        result = make_toyworld(data, seed=seed, **dict(toy or {}))
        return {"source": "toy world", "roots": {n: Path(result[n]) for n in ROOTS}, "toyworld": result}
    missing = [f"{n}_root" for n in REQUIRED_REAL if n not in given]
    if missing:
        raise ValueError(f"real data needs {', '.join(f'{n}_root' for n in REQUIRED_REAL)}; missing {missing} "
                         "(leave all roots empty for the toy world)")  # fmt: skip
    rgb = {"vkitti2_rgb": Path(str(vkitti2_rgb_root)).expanduser()} if vkitti2_rgb_root else {}
    absent = [f"{n}_root={p}" for n, p in {**given, **rgb}.items() if not p.is_dir()]
    if absent:
        raise FileNotFoundError(f"dataset roots do not exist: {', '.join(absent)} (set them in the profile or "
                                "pass them as notebook parameters)")  # fmt: skip
    if (data / "manifest.json").is_file():
        raise FileExistsError(f"{data} holds a generated toy world; use a fresh workspace for real data")
    data.mkdir(parents=True, exist_ok=True)
    linked = {}
    for name in ROOTS:
        link = data / name
        if link.is_symlink():
            link.unlink()
        elif name == "vkitti2" and link.is_dir():
            unjoin(link)  # a previous run's join of separate text and rgb roots
        elif link.exists():
            raise FileExistsError(f"{link} exists and is not a link; remove it or use a fresh workspace")
        if name == "vkitti2" and rgb:
            linked[name] = join_roots(given[name], rgb["vkitti2_rgb"], link)
        elif name in given:
            os.symlink(given[name].resolve(), link, target_is_directory=True)
            linked[name] = link
    return {"source": "real data", "roots": linked}


def read_roots(roots: Mapping[str, Path], *, vkitti_cameras: Sequence[int] = (0,), bdd_split: str = "val",
               lenient: bool = False) -> dict[str, Iterable[Frame]]:  # fmt: skip
    """Frame streams of every present root (vKITTI2: all variations of ``vkitti_cameras``; BDD: one split)."""
    def report() -> ConversionReport:
        return ConversionReport(strict=not lenient)

    readers = {
        "kitti_tracking": lambda p: read_kitti_tracking(p, report=report()),
        "kitti_object": lambda p: read_kitti_object(p, report=report()),
        "vkitti2": lambda p: read_vkitti2(p, cameras=vkitti_cameras, report=report()),
        "bdd100k": lambda p: read_bdd100k(p, split=bdd_split, report=report()),
    }
    return {name: readers[name](path) for name, path in roots.items() if name in readers and Path(path).is_dir()}


def dataset_statistics(streams: Mapping[str, Iterable[Frame]]) -> pd.DataFrame:
    """The tidy statistics table (:meth:`Statistics.table`) of several frame streams, named by their keys.

    vKITTI2 rows carry the variation in the ``weather`` column (clone, fog, …).
    """
    stats = Statistics()
    for name, frames in streams.items():
        for frame in frames:
            if name == "vkitti2" and frame.weather is None:
                frame.weather = frame.source.get("variation")
            stats.add(frame, name)
    return stats.table()


def sample_examples(roots: Mapping[str, Path], seed: int = 0, bdd_split: str = "val") -> list[dict[str, Any]]:
    """One frame per source and weather with its ground truth, for ``figures.detection_examples``:
    KITTI tracking and object, vKITTI2 :data:`SAMPLE_VARIATIONS` (same frame, Camera_0), BDD :data:`SAMPLE_DOMAINS`."""
    rng = np.random.default_rng(seed)
    streams = read_roots({k: v for k, v in roots.items() if k in ("kitti_tracking", "kitti_object")})
    examples = []
    for name, frames in streams.items():
        frames = list(frames)
        if frames:
            examples.append(_example(frames[int(rng.integers(len(frames)))], name))
    if "vkitti2" in roots:
        clone = list(read_vkitti2(roots["vkitti2"], variations=["clone"], cameras=(0,)))
        if clone:
            pick = clone[int(rng.integers(len(clone)))]
            scene, index = pick.source["scene"], pick.source["frame"]
            for frame in read_vkitti2(roots["vkitti2"], scenes=[scene], variations=list(SAMPLE_VARIATIONS),
                                      cameras=(0,)):  # fmt: skip
                if frame.source["frame"] == index:
                    examples.append(_example(frame, f"vKITTI2 {frame.source['variation']}"))
    if "bdd100k" in roots:
        bdd = list(read_roots({"bdd100k": roots["bdd100k"]}, bdd_split=bdd_split)["bdd100k"])
        for name in SAMPLE_DOMAINS:
            matching = [f for f in bdd if Domain.parse(name).matches(f)]
            if matching:
                examples.append(_example(matching[int(rng.integers(len(matching)))], f"BDD {name}"))
    return examples


def _example(frame: Frame, label: str) -> dict[str, Any]:
    return {"image": frame.image, "label": f"{label} · {frame.key}", "pred": [],
            "gt": [[b.x1, b.y1, b.width, b.height] for b in frame.mapped_boxes]}  # fmt: skip
