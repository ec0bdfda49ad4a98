"""BDD100K weather domains and occlusion buckets (DESIGN §1, CONTRIBUTING's workspace layout).

* **Weather domains** are ``<timeofday>_<weather>`` filters (``daytime_foggy``; spaces and ``/`` become
  ``_``) or a time of day alone (``night``, ``dawn_dusk``). :func:`write_weather_lists` samples N images per
  domain with a seed (the style sources of CycleGAN/NST; the study used 500 per weather, daytime only) into
  ``splits/weather/<domain>.txt``, one absolute path a line.
* **Occlusion buckets**: each image's number of occluded vehicles (``Frame.occluded_vehicles``);
  :func:`balanced_cuts` picks cut points ``c1 < c2`` so occluded instances divide ≈1:1:1 between images with
  ≤ c1, c1 < n ≤ c2 and > c2 of them (the study used 5 and 10); the cumulative sets ``0-<c1>``, ``0-<c2>``,
  ``0-all`` are written as YOLO datasets (split ``val``) + ``coco.json`` under ``splits/buckets/<name>/``.
* **Per-weather evaluation sets** ``splits/weather_eval/<domain>/`` (same format) and a statistics table
  (:class:`Statistics`: images, boxes, occluded share per class and weather).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from photosynth.atomic import write_text
from photosynth.datasets.bdd100k import label_source, read_bdd100k
from photosynth.datasets.classes import bdd_class_map
from photosynth.datasets.convert import write_dataset
from photosynth.datasets.report import ConversionReport
from photosynth.design import STYLE_DOMAINS, Domain
from photosynth.frames import CLASSES, Frame

#: Evaluation domains written by default (daytime weathers, then times of day).
EVAL_DOMAINS: tuple[str, ...] = (
    "daytime_clear", "daytime_overcast", "daytime_rainy", "daytime_foggy", "daytime_snowy", "night", "dawn_dusk",
)  # fmt: skip
#: Style-source domains sampled by default (the three styles plus clear daytime as a reference).
STYLE_SOURCE_DOMAINS: tuple[str, ...] = ("daytime_clear", *STYLE_DOMAINS.values())
#: The original study's fixed cut points.
STUDY_CUTS: tuple[int, int] = (5, 10)


def sample_domain(frames: Iterable[Frame], domain: str | Domain, n: int | None, seed: int) -> tuple[list[Path], int]:
    """Up to ``n`` image paths of ``domain`` (all when ``n`` is None), drawn with ``seed``; plus how many matched.

    The draw depends only on the matching frames' keys and the seed (sorted first), not on input order.
    """
    dom = Domain.parse(domain) if isinstance(domain, str) else domain
    matching = sorted((f for f in frames if dom.matches(f)), key=lambda f: f.key)
    if n is None or n >= len(matching):
        chosen = matching
    else:
        rng = np.random.default_rng([seed, *dom.name.encode()])
        chosen = [matching[i] for i in sorted(rng.choice(len(matching), size=n, replace=False))]
    return [Path(os.path.abspath(f.image)) for f in chosen], len(matching)


def write_weather_lists(
    frames: Sequence[Frame], out: str | Path, domains: Sequence[str] = STYLE_SOURCE_DOMAINS, n: int | None = 500,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Write ``out/<domain>.txt`` (absolute image paths) for each domain; returns per-domain counts and paths.

    A domain with no images is an error (a style needs images): the message names it and what exists.
    """
    out = Path(out)
    summary: dict[str, dict[str, Any]] = {}
    for name in domains:
        paths, available = sample_domain(frames, name, n, seed)
        if not paths:
            present = Counter(Domain(f.timeofday, f.weather).name for f in frames)
            raise ValueError(f"weather domain {name!r} has no images (present: {dict(sorted(present.items()))})")
        write_text(out / f"{name}.txt", "".join(f"{p}\n" for p in paths))
        summary[name] = {"path": str(out / f"{name}.txt"), "images": len(paths), "available": available}
    return summary


# --- occlusion buckets ----------------------------------------------------------------------------------


def balanced_cuts(counts: Sequence[int]) -> tuple[int, int]:
    """Cut points ``c1 < c2`` that divide the occluded instances ≈1:1:1 between images with ≤ c1,
    c1 < n ≤ c2 and > c2 occluded vehicles (``counts``: occluded vehicles per image).

    Each cut minimises the distance of the cumulative instance share to 1/3 resp. 2/3.
    """
    counts = np.asarray(counts, dtype=int)
    total = int(counts.sum())
    if total == 0:
        raise ValueError("no occluded vehicles in the evaluation images: occlusion buckets are undefined")
    values = np.arange(int(counts.max()) + 1)
    per_value = np.bincount(counts, minlength=len(values)) * values
    share = np.cumsum(per_value) / total  # share of instances in images with <= v occluded vehicles
    c1 = int(np.argmin(np.abs(share - 1 / 3)))  # < max: share(0) = 0 is nearer 1/3 than share(max) = 1
    rest = values > c1
    c2 = int(values[rest][np.argmin(np.abs(share[rest] - 2 / 3))])
    return c1, c2


def bucket_names(cuts: tuple[int, int]) -> list[str]:
    """``["0-<c1>", "0-<c2>", "0-all"]``."""
    return [f"0-{cuts[0]}", f"0-{cuts[1]}", "0-all"]


def bucket_frames(frames: Sequence[Frame], cuts: tuple[int, int]) -> dict[str, list[Frame]]:
    """The cumulative buckets: images with at most c1 / c2 / any number of occluded vehicles."""
    c1, c2 = cuts
    if not 0 <= c1 < c2:
        raise ValueError(f"cut points must satisfy 0 <= c1 < c2, got {cuts}")
    names = bucket_names(cuts)
    return {
        names[0]: [f for f in frames if f.occluded_vehicles <= c1],
        names[1]: [f for f in frames if f.occluded_vehicles <= c2],
        names[2]: list(frames),
    }


def instance_shares(counts: Sequence[int], cuts: tuple[int, int]) -> list[float]:
    """Share of occluded instances in images with ≤ c1, c1 < n ≤ c2 and > c2 occluded vehicles."""
    counts = np.asarray(counts, dtype=int)
    total = max(int(counts.sum()), 1)
    c1, c2 = cuts
    parts = [counts[counts <= c1].sum(), counts[(counts > c1) & (counts <= c2)].sum(), counts[counts > c2].sum()]
    return [float(p) / total for p in parts]


def write_eval_set(
    frames: Sequence[Frame], out: str | Path, mode: str = "link", description: str = ""
) -> dict[str, Any]:
    """One evaluation set: YOLO dataset (split ``val``) + ``coco.json`` + ``report.json`` in ``out``."""
    report = ConversionReport()
    for frame in frames:
        report.frames_in += 1
        report.boxes_in += len(frame.boxes)
        report.accept(frame)
    write_dataset(frames, out, split="val", report=report, mode=mode, description=description)  # type: ignore[arg-type]
    return {"path": str(Path(out).resolve()), "images": len(frames), "boxes": report.boxes_out,
            "occluded": sum(f.occluded_vehicles for f in frames)}  # fmt: skip


# --- statistics -------------------------------------------------------------------------------------------


class Statistics:
    """Counts per dataset × weather × time of day × class: images, boxes, occluded boxes (streaming)."""

    def __init__(self) -> None:
        self.images: Counter[tuple[str, str, str]] = Counter()
        self.boxes: Counter[tuple[str, str, str, str]] = Counter()
        self.occluded: Counter[tuple[str, str, str, str]] = Counter()

    def add(self, frame: Frame, dataset: str | None = None) -> Frame:
        group = (dataset or frame.dataset, frame.weather or "n/a", frame.timeofday or "n/a")
        self.images[group] += 1
        for box in frame.mapped_boxes:
            self.boxes[(*group, box.cls)] += 1
            self.occluded[(*group, box.cls)] += int(box.occluded)
        return frame

    def update(self, frames: Iterable[Frame], dataset: str | None = None) -> "Statistics":
        for frame in frames:
            self.add(frame, dataset)
        return self

    def table(self) -> pd.DataFrame:
        """Tidy table: dataset, weather, timeofday, class, images, boxes, occluded, occluded_share."""
        rows = []
        for group, images in sorted(self.images.items()):
            for cls in CLASSES:
                boxes = self.boxes[(*group, cls)]
                occluded = self.occluded[(*group, cls)]
                rows.append((*group, cls, images, boxes, occluded, occluded / boxes if boxes else float("nan")))
        columns = ["dataset", "weather", "timeofday", "class", "images", "boxes", "occluded", "occluded_share"]
        return pd.DataFrame(rows, columns=columns)


def summary_table(stats: pd.DataFrame, by: Sequence[str] = ("dataset",)) -> pd.DataFrame:
    """Wide table per ``by`` group: images, boxes per class, occluded share per class and overall."""
    by = list(by)
    unknown = set(by) - {"dataset", "weather", "timeofday"}
    if unknown:
        raise ValueError(f"summary_table groups by dataset/weather/timeofday, got {sorted(unknown)}")
    images = stats.drop_duplicates(["dataset", "weather", "timeofday"]).groupby(by)["images"].sum()
    grouped = stats.groupby([*by, "class"])[["boxes", "occluded"]].sum().unstack("class", fill_value=0)
    table = pd.DataFrame({"images": images})
    for cls in CLASSES:
        boxes = grouped["boxes"].get(cls, 0)
        table[f"{cls} boxes"] = boxes
        table[f"{cls} occluded %"] = (100 * grouped["occluded"].get(cls, 0) / boxes.replace(0, np.nan)).round(1)
    total = grouped["boxes"].sum(axis=1)
    table["boxes"] = total
    table["occluded %"] = (100 * grouped["occluded"].sum(axis=1) / total.replace(0, np.nan)).round(1)
    return table


# --- the whole stage ------------------------------------------------------------------------------------


def _label_stamp(root: Path, split: str, layout: str) -> dict[str, Any]:
    found_layout, path = label_source(root, split, layout)
    stat = path.stat()
    return {"layout": found_layout, "path": str(path), "size": stat.st_size, "mtime": stat.st_mtime}


def build_splits(
    bdd_root: str | Path,
    out: str | Path,
    *,
    eval_split: str = "val",
    style_split: str = "train",
    style_images: int | None = 500,
    style_domains: Sequence[str] = STYLE_SOURCE_DOMAINS,
    eval_domains: Sequence[str] = EVAL_DOMAINS,
    cuts: str | tuple[int, int] = "balanced",
    seed: int = 0,
    layout: str = "auto",
    mode: str = "link",
    lenient: bool = False,
    bdd_map: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Write the splits stage into ``out``: ``weather/<domain>.txt`` from ``style_split``; ``buckets/<name>/``
    and ``weather_eval/<domain>/`` from ``eval_split``; ``statistics.csv``; ``manifest.json``.

    ``cuts``: ``"balanced"`` (≈1:1:1 occluded instances), ``"study"`` (5, 10) or explicit ``(c1, c2)``.
    Eval domains without images are skipped (listed in the summary). A stage whose manifest matches its
    inputs and parameters is left as it is.
    """
    bdd_root, out = Path(bdd_root).resolve(), Path(out).resolve()
    for name in (*style_domains, *eval_domains):
        Domain.parse(name)
    params = {
        "bdd_root": str(bdd_root), "eval_split": eval_split, "style_split": style_split, "style_images": style_images,
        "style_domains": list(style_domains), "eval_domains": list(eval_domains),
        "cuts": cuts if isinstance(cuts, str) else list(cuts), "seed": seed, "layout": layout, "mode": mode,
        "lenient": lenient, "bdd_map": dict(bdd_map or {}),
        "labels": {s: _label_stamp(bdd_root, s, layout) for s in dict.fromkeys((eval_split, style_split))},
    }  # fmt: skip
    manifest = out / "manifest.json"
    if manifest.is_file():
        old = json.loads(manifest.read_text())
        if old.get("params") == params:
            return old["summary"] | {"skipped": True}
    for stale in ("weather", "buckets", "weather_eval"):  # a rebuild must not leave old sets behind
        if (out / stale).is_dir():
            shutil.rmtree(out / stale)
    class_map = bdd_class_map(bdd_map)
    stats = Statistics()
    reports = {}

    def read(split: str, keep_boxes: bool) -> list[Frame]:
        """All frames of a split (counted into ``stats``); without boxes when only images are needed."""
        report = ConversionReport(strict=not lenient)
        stream = read_bdd100k(bdd_root, split=split, layout=layout, class_map=class_map, report=report)
        frames = [stats.add(f) if keep_boxes else replace(stats.add(f), boxes=[])
                  for f in tqdm(stream, desc=f"read BDD {split}", unit="frame", mininterval=2.0)]
        reports[split] = {"frames": len(frames), "boxes_in": report.boxes_in,
                          "rejected": dict(report.rejected), "unmapped": dict(report.unmapped)}  # fmt: skip
        return frames

    evaluation = read(eval_split, keep_boxes=True)
    style = evaluation if style_split == eval_split else read(style_split, keep_boxes=False)
    weather = write_weather_lists(style, out / "weather", style_domains, style_images, seed)

    counts = [f.occluded_vehicles for f in evaluation]
    chosen = STUDY_CUTS if cuts == "study" else (balanced_cuts(counts) if cuts == "balanced" else tuple(cuts))
    if not isinstance(chosen, tuple) or len(chosen) != 2:
        raise ValueError(f"cuts must be 'balanced', 'study' or (c1, c2), got {cuts!r}")
    buckets = {name: write_eval_set(frames, out / "buckets" / name, mode, f"bucket {name}")
               for name, frames in bucket_frames(evaluation, chosen).items()}  # fmt: skip
    weather_eval, empty = {}, []
    for name in eval_domains:
        dom = Domain.parse(name)
        frames = [f for f in evaluation if dom.matches(f)]
        if frames:
            weather_eval[name] = write_eval_set(frames, out / "weather_eval" / name, mode, f"weather {name}")
        else:
            empty.append(name)
    table = stats.table()
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "statistics.csv", table.to_csv(index=False))
    summary = {
        "cuts": list(chosen), "instance_shares": instance_shares(counts, chosen),
        "occluded_per_image": {str(k): v for k, v in sorted(Counter(counts).items())},
        "weather": weather, "buckets": buckets, "weather_eval": weather_eval, "empty_eval_domains": empty,
        "statistics": str(out / "statistics.csv"), "reads": reports,
    }  # fmt: skip
    write_text(manifest, json.dumps({"params": params, "summary": summary}, indent=1))
    return summary | {"skipped": False}
