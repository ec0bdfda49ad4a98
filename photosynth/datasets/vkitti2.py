"""Virtual KITTI 2 reader: ``SceneXX/<variation>/bbox.txt`` + ``info.txt``, both cameras, all variations.

Layout (DESIGN §6)::

    <root>/…/SceneXX/<variation>/{bbox,info}.txt                            (text ground truth)
    <rgb_root>/…/SceneXX/<variation>/frames/rgb/Camera_{0,1}/rgb_NNNNN.jpg   (images)

Scene folders are found at any depth (an archive may add a top folder); ``rgb_root`` defaults to ``root``.
``bbox.txt`` columns are located by its header (``frame cameraID trackID left right top bottom
number_pixels truncation_ratio occupancy_ratio isMoving``); ``right``/``bottom`` are inclusive integers,
so the exclusive box is ``right + 1``/``bottom + 1``. Track ids map to labels through the same scene's and
variation's ``info.txt`` (ids are per scene). Every image is a frame, with or without rows. Occlusion: raw
occupancy ratio (visible fraction); harmonized ``occluded`` is ``occupancy < occupancy_threshold``.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from photosynth.datasets.classes import ClassMap, kitti_class_map
from photosynth.datasets.report import ConversionReport, DatasetError
from photosynth.frames import Box, Frame

#: The ten rendered variations of every scene.
VARIATIONS: tuple[str, ...] = (
    "clone", "15-deg-left", "15-deg-right", "30-deg-left", "30-deg-right",
    "fog", "morning", "overcast", "rain", "sunset",
)  # fmt: skip
#: Default harmonization: an object with less than this visible fraction counts as occluded.
OCCUPANCY_THRESHOLD = 0.75
BBOX_COLUMNS: tuple[str, ...] = (
    "frame", "cameraID", "trackID", "left", "right", "top", "bottom",
    "number_pixels", "truncation_ratio", "occupancy_ratio", "isMoving",
)  # fmt: skip
_SCENE = re.compile(r"Scene\d\d")
_RGB = re.compile(r"rgb_(\d+)\.(?:jpg|jpeg|png)", re.IGNORECASE)
_MOVING = {"True": True, "False": False, "true": True, "false": False, "1": True, "0": False}


def find_scenes(root: str | Path) -> dict[str, Path]:
    """``{"Scene01": folder, …}``: every ``Scene??`` folder under ``root`` (any depth, not inside scenes)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder (expected a Virtual KITTI 2 root)")
    scenes: dict[str, Path] = {}
    for folder, dirs, _files in os.walk(root):
        for name in [d for d in dirs if _SCENE.fullmatch(d)]:
            if name in scenes:
                raise DatasetError(f"{root}: {name} found twice ({scenes[name]} and {Path(folder) / name})")
            scenes[name] = Path(folder) / name
        dirs[:] = sorted(d for d in dirs if not _SCENE.fullmatch(d))
    return dict(sorted(scenes.items()))


def read_vkitti2(
    root: str | Path,
    *,
    rgb_root: str | Path | None = None,
    scenes: Sequence[str] | None = None,
    variations: Sequence[str] | None = None,
    cameras: Sequence[int] = (0, 1),
    occupancy_threshold: float = OCCUPANCY_THRESHOLD,
    class_map: ClassMap | None = None,
    report: ConversionReport | None = None,
) -> Iterator[Frame]:
    """Frames of every scene × variation × camera (filters: ``scenes``, ``variations``, ``cameras``).

    Keys look like ``Scene01/clone/Camera_0/00012``.
    """
    report = report if report is not None else ConversionReport()
    class_map = class_map or kitti_class_map()
    unknown = sorted(set(variations or ()) - set(VARIATIONS))
    if unknown:
        raise ValueError(f"unknown vKITTI2 variations {unknown}; expected some of {', '.join(VARIATIONS)}")
    gt_scenes = find_scenes(root)
    rgb_scenes = find_scenes(rgb_root) if rgb_root is not None else gt_scenes
    if not gt_scenes:
        raise FileNotFoundError(f"{root}: no Scene?? folders with bbox.txt (expected the vKITTI2 layout, DESIGN §6)")
    for scene, scene_dir in gt_scenes.items():
        if scenes is not None and scene not in scenes:
            continue
        for variation in variations or VARIATIONS:
            bbox_file = scene_dir / variation / "bbox.txt"
            if not bbox_file.is_file():
                continue
            labels = _labels(scene_dir / variation / "info.txt")
            rows = _rows(bbox_file, report)
            rgb_dir = rgb_scenes.get(scene, scene_dir) / variation / "frames" / "rgb"
            for camera in cameras:
                yield from _camera_frames(
                    report, scene, variation, camera, rgb_dir / f"Camera_{camera}", bbox_file,
                    rows.get(camera, {}), labels, occupancy_threshold, class_map,
                )  # fmt: skip


def _camera_frames(
    report: ConversionReport,
    scene: str,
    variation: str,
    camera: int,
    image_dir: Path,
    bbox_file: Path,
    rows: dict[int, list[tuple[int, dict[str, str]]]],
    labels: dict[int, str],
    threshold: float,
    class_map: ClassMap,
) -> Iterator[Frame]:
    on_disk = {}
    if image_dir.is_dir():
        for entry in os.scandir(image_dir):
            match = _RGB.fullmatch(entry.name)
            if match:
                on_disk[int(match.group(1))] = Path(entry.path)
    for index in sorted(set(on_disk) | set(rows)):
        report.frames_in += 1
        records = rows.get(index, [])
        image = on_disk.get(index) or image_dir / f"rgb_{index:05d}.jpg"
        size = report.image(f"{bbox_file}: frame {index} camera {camera}", image, boxes=len(records))
        if size is None:
            continue
        boxes = [_box(report, f"{bbox_file}:{n}", row, size, labels, threshold, class_map) for n, row in records]
        frame = Frame(
            image=image, width=size[0], height=size[1], dataset="vkitti2",
            key=f"{scene}/{variation}/Camera_{camera}/{index:05d}", boxes=[b for b in boxes if b is not None],
            source={"scene": scene, "variation": variation, "camera": camera, "frame": index},
        )  # fmt: skip
        yield report.accept(frame)


def _labels(info_file: Path) -> dict[int, str]:
    """``trackID → label`` from one ``info.txt`` (header ``trackID label model color``)."""
    if not info_file.is_file():
        raise FileNotFoundError(f"{info_file}: missing (every vKITTI2 scene/variation needs its info.txt)")
    labels: dict[int, str] = {}
    lines = info_file.read_text().splitlines()
    header = lines[0].split() if lines else []
    if header[:2] != ["trackID", "label"]:
        raise DatasetError(f"{info_file}:1: expected the header 'trackID label model color', got {header}")
    for n, line in enumerate(lines[1:], start=2):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) < 2 or not tokens[0].isdigit():
            raise DatasetError(f"{info_file}:{n}: expected 'trackID label model color', got {line!r}")
        labels[int(tokens[0])] = tokens[1]
    return labels


def _rows(bbox_file: Path, report: ConversionReport) -> dict[int, dict[int, list[tuple[int, dict[str, str]]]]]:
    """``camera → frame → [(line, row)]``; each data line counts as one box read."""
    rows: dict[int, dict[int, list[tuple[int, dict[str, str]]]]] = defaultdict(lambda: defaultdict(list))
    with bbox_file.open() as fh:
        header = fh.readline().split()
        missing = [c for c in BBOX_COLUMNS if c not in header]
        if missing:
            raise DatasetError(f"{bbox_file}:1: header lacks {missing}; expected {' '.join(BBOX_COLUMNS)}")
        for n, line in enumerate(fh, start=2):
            tokens = line.split()
            if not tokens:
                continue
            report.boxes_in += 1
            where = f"{bbox_file}:{n}"
            if len(tokens) != len(header):
                expected = f"expected {len(header)} fields ({' '.join(header)})"
                report.reject(where, "field_count", f"{expected}, got {len(tokens)}")
                continue
            row = dict(zip(header, tokens))
            if not (row["frame"].isdigit() and row["cameraID"].isdigit()):
                got = f"{row['frame']!r} {row['cameraID']!r}"
                report.reject(where, "bad_number", f"expected integer frame and cameraID, got {got}")
                continue
            rows[int(row["cameraID"])][int(row["frame"])].append((n, row))
    return rows


def _box(
    report: ConversionReport,
    where: str,
    row: dict[str, str],
    size: tuple[int, int],
    labels: dict[int, str],
    threshold: float,
    class_map: ClassMap,
) -> Box | None:
    names = ("trackID", "left", "right", "top", "bottom", "truncation_ratio", "occupancy_ratio")
    values = report.numbers(where, names, [row[k] for k in names])
    if values is None:
        return None
    track, left, right, top, bottom, truncation, occupancy = values
    if track != int(track) or int(track) not in labels:
        report.reject(where, "unknown_track", f"trackID {row['trackID']} is not listed in this scene's info.txt")
        return None
    if row["isMoving"] not in _MOVING:
        report.reject(where, "bad_value", f"expected isMoving True/False or 1/0, got {row['isMoving']!r}")
        return None
    xyxy = report.geometry(where, left, top, right + 1, bottom + 1, *size)
    if xyxy is None:
        return None
    label = labels[int(track)]
    return Box(
        *xyxy, source_class=label, cls=class_map(label), occluded=occupancy < threshold,
        occlusion_raw=occupancy, truncation=truncation, track_id=int(track),
    )  # fmt: skip
