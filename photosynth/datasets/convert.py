"""Conversions: a reader's frames → YOLO dataset + ``coco.json`` + ``report.json`` in one output folder.

Output: ``OUT/data.yaml``, ``OUT/images/<split>/…``, ``OUT/labels/<split>/…``, ``OUT/coco.json``,
``OUT/report.json``. Nothing is written outside ``OUT`` (frame keys that would escape it are rejected by
the readers and refused by the writer). The report reconciles boxes read with boxes written, rejected
and unmapped; a conversion whose counts do not reconcile raises.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from tqdm import tqdm

from photosynth.datasets.bdd100k import read_bdd100k
from photosynth.datasets.classes import ClassMap
from photosynth.datasets.coco import CocoWriter
from photosynth.datasets.kitti import read_kitti_object, read_kitti_tracking
from photosynth.datasets.report import ConversionReport
from photosynth.datasets.vkitti2 import OCCUPANCY_THRESHOLD, read_vkitti2
from photosynth.datasets.yolo import LinkMode, YoloWriter
from photosynth.frames import Frame


def write_dataset(
    frames: Iterable[Frame], out: str | Path, *, split: str, report: ConversionReport, mode: LinkMode = "link",
    description: str = "",
) -> ConversionReport:  # fmt: skip
    """Write ``frames`` as a YOLO dataset and ``coco.json`` into ``out``, then ``report.json``.

    ``out/images/<split>`` and ``out/labels/<split>`` are emptied first, so a re-run leaves no stale files.
    """
    out = Path(os.path.abspath(out))
    out.mkdir(parents=True, exist_ok=True)
    for stale in (out / "images" / split, out / "labels" / split):
        if stale.is_dir():
            shutil.rmtree(stale)
    yolo = YoloWriter(out, mode=mode)
    with CocoWriter(out / "coco.json", description=description) as coco:
        for frame in tqdm(frames, desc=f"convert {description or out.name}", unit="frame", leave=False):
            report.wrote(yolo.add(frame, split))
            image, _ = yolo.paths(frame, split)
            coco.add(frame, image.relative_to(out / "images" / split).as_posix())
    yolo.close()
    report.write(out / "report.json")
    report.check()
    return report


def convert_kitti(
    root: str | Path, out: str | Path, *, split: str = "train", lenient: bool = False, mode: LinkMode = "link",
    class_map: ClassMap | None = None,
) -> ConversionReport:  # fmt: skip
    """KITTI object (``training/label_2``) → ``out``."""
    report = ConversionReport(strict=not lenient)
    frames = read_kitti_object(root, class_map=class_map, report=report)
    return write_dataset(frames, out, split=split, report=report, mode=mode, description="kitti_object")


def convert_kitti_tracking(
    root: str | Path, out: str | Path, *, split: str = "train", lenient: bool = False, mode: LinkMode = "link",
    sequences: Sequence[str] | None = None, class_map: ClassMap | None = None,
) -> ConversionReport:  # fmt: skip
    """KITTI tracking (``training/label_02``) → ``out``."""
    report = ConversionReport(strict=not lenient)
    seqs = list(sequences) if sequences else None
    frames = read_kitti_tracking(root, sequences=seqs, class_map=class_map, report=report)
    return write_dataset(frames, out, split=split, report=report, mode=mode, description="kitti_tracking")


def convert_vkitti2(
    root: str | Path, out: str | Path, *, split: str = "train", lenient: bool = False, mode: LinkMode = "link",
    rgb_root: str | Path | None = None, scenes: Sequence[str] | None = None,
    variations: Sequence[str] | None = None, cameras: Sequence[int] = (0, 1),
    occupancy_threshold: float = OCCUPANCY_THRESHOLD, class_map: ClassMap | None = None,
) -> ConversionReport:  # fmt: skip
    """Virtual KITTI 2 (all or some scenes × variations × cameras) → ``out``."""
    report = ConversionReport(strict=not lenient)
    frames = read_vkitti2(
        root, rgb_root=rgb_root, scenes=scenes, variations=variations, cameras=cameras,
        occupancy_threshold=occupancy_threshold, class_map=class_map, report=report,
    )  # fmt: skip
    return write_dataset(frames, out, split=split, report=report, mode=mode, description="vkitti2")


def convert_bdd100k(
    root: str | Path, out: str | Path, *, split: str = "val", lenient: bool = False, mode: LinkMode = "link",
    layout: str = "auto", labels: str | Path | None = None, class_map: ClassMap | None = None,
) -> ConversionReport:  # fmt: skip
    """One BDD100K split (any label layout) → ``out`` (written as the same split name)."""
    report = ConversionReport(strict=not lenient)
    frames = read_bdd100k(root, split=split, layout=layout, labels=labels, class_map=class_map, report=report)
    return write_dataset(frames, out, split=split, report=report, mode=mode, description="bdd100k")
