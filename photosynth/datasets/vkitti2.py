"""Virtual KITTI 2 reader: ``SceneXX/<variation>/bbox.txt`` + ``info.txt``, both cameras, all variations.

Layout (DESIGN §6)::

    <root>/…/SceneXX/<variation>/{bbox,info}.txt                            (text ground truth)
    <rgb_root>/…/SceneXX/<variation>/frames/rgb/Camera_{0,1}/rgb_NNNNN.jpg   (images)

Scene folders are found at any depth (an archive may add a top folder); ``rgb_root`` defaults to ``root``.
The two archives may be merged into one tree or extracted side by side under one root
(``vkitti_2.0.3_textgt/SceneXX``, ``vkitti_2.0.3_rgb/SceneXX``): text and images are paired by scene
(:func:`find_scenes`).
``bbox.txt`` columns are located by its header (``frame cameraID trackID left right top bottom
number_pixels truncation_ratio occupancy_ratio isMoving``); ``right``/``bottom`` are inclusive integers,
so the exclusive box is ``right + 1``/``bottom + 1``. Track ids map to labels through the same scene's and
variation's ``info.txt`` (ids are per scene). Every image is a frame, with or without rows. Occlusion: raw
occupancy ratio (visible fraction); harmonized ``occluded`` is ``occupancy < occupancy_threshold``.
"""

from __future__ import annotations

import os
import re
import shutil
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
#: The folders of the two archives (text ground truth, rgb images).
PARTS: tuple[str, str] = ("vkitti_2.0.3_textgt", "vkitti_2.0.3_rgb")
#: What a scene folder holds, tested on each of its variation folders.
_HOLDING = {"images": lambda v: (v / "frames").is_dir(), "text": lambda v: (v / "bbox.txt").is_file()}
_MOVING = {"True": True, "False": False, "true": True, "false": False, "1": True, "0": False}


def find_scenes(root: str | Path, holding: str = "images") -> dict[str, Path]:
    """``{"Scene01": folder, …}``: the ``Scene??`` folders under ``root`` (any depth, links followed) that hold
    ``holding``: ``"images"`` (some ``<variation>/frames``) or ``"text"`` (some ``<variation>/bbox.txt``).

    vKITTI2 comes as two archives, ``vkitti_2.0.3_rgb`` and ``vkitti_2.0.3_textgt``, each with its own
    ``SceneXX`` folders; extracted side by side under one root, every scene appears twice, once per kind, and
    each call picks the folder of its kind (a merged extraction holds both in one). Two folders of one scene
    holding the same kind are an error.
    """
    if holding not in _HOLDING:
        raise ValueError(f"holding must be one of {', '.join(_HOLDING)}, got {holding!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder (expected a Virtual KITTI 2 root)")
    scenes: dict[str, Path] = {}
    seen: set[tuple[int, int]] = set()
    for folder, dirs, _files in os.walk(root, followlinks=True):
        stat = os.stat(folder)
        if (stat.st_dev, stat.st_ino) in seen:  # a link loop or a folder reached twice
            dirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        for name in [d for d in dirs if _SCENE.fullmatch(d)]:
            path = Path(folder) / name
            if not any(_HOLDING[holding](variation) for variation in path.iterdir() if variation.is_dir()):
                continue
            if name in scenes:
                raise DatasetError(f"{root}: {name} with {holding} found twice ({scenes[name]} and {path})")
            scenes[name] = path
        dirs[:] = sorted(d for d in dirs if not _SCENE.fullmatch(d))
    return dict(sorted(scenes.items()))


def frame_index(path: str | Path) -> int | None:
    """``NNNNN`` of a vKITTI2 frame file ``rgb_NNNNN.<jpg|jpeg|png>``, else ``None``."""
    match = _RGB.fullmatch(Path(path).name)
    return int(match.group(1)) if match else None


def clone_frames(root: str | Path, camera: str = "Camera_0") -> list[Path]:
    """Every ``clone`` RGB frame of one camera under a vKITTI2 root (any top folder), scene by scene, each sorted."""
    frames: list[Path] = []
    for scene in find_scenes(root).values():
        folder = scene / "clone" / "frames" / "rgb" / camera
        if folder.is_dir():
            frames += sorted(p for p in folder.iterdir() if frame_index(p) is not None)
    if not frames:
        raise FileNotFoundError(f"{root}: no vKITTI2 clone frames (looked for Scene??/clone/frames/rgb/{camera}/rgb_NNNNN.jpg)")
    return frames


def join_roots(root: str | Path, rgb_root: str | Path, out: str | Path) -> Path:
    """A folder ``out`` of links, ``PARTS[0]/SceneXX`` → the text scene folders under ``root`` and
    ``PARTS[1]/SceneXX`` → the image scene folders under ``rgb_root``: one root that reads like the archives
    extracted side by side.

    Links are per scene, so globs that do not follow linked folders (``**``) still find the frames. A previous
    join at ``out`` is replaced (:func:`unjoin`).
    """
    out = Path(out)
    found = {}
    for part, (folder, holding) in zip(PARTS, ((root, "text"), (rgb_root, "images"))):
        found[part] = find_scenes(folder, holding)
        if not found[part]:
            raise FileNotFoundError(f"{folder}: no Scene?? folders with {holding} (expected the vKITTI2 layout)")
    if out.exists() or out.is_symlink():
        unjoin(out)
    for part, scenes in found.items():
        (out / part).mkdir(parents=True)
        for scene, folder in scenes.items():
            os.symlink(folder.resolve(), out / part / scene, target_is_directory=True)
    return out


def unjoin(folder: str | Path) -> None:
    """Remove a :func:`join_roots` folder (its links only, never their targets); anything else is an error."""
    folder = Path(folder)
    parts = [] if folder.is_symlink() or not folder.is_dir() else list(folder.iterdir())
    if not parts or not all(p.name in PARTS and p.is_dir() and not p.is_symlink()
                            and all(s.is_symlink() for s in p.iterdir()) for p in parts):  # fmt: skip
        raise FileExistsError(f"{folder} exists and is not a join of vKITTI2 roots; remove it or use a fresh workspace")
    shutil.rmtree(folder)  # rmtree removes links, it does not follow them


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
    gt_scenes = find_scenes(root, "text")
    rgb_scenes = find_scenes(rgb_root if rgb_root is not None else root, "images")
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
            rows = _rows(bbox_file, cameras, report)
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


def _rows(bbox_file: Path, cameras: Sequence[int],
          report: ConversionReport) -> dict[int, dict[int, list[tuple[int, dict[str, str]]]]]:  # fmt: skip
    """``camera → frame → [(line, row)]`` of ``cameras``; each of their data lines (and each malformed line)
    counts as one box read, so the report reconciles when cameras are left out."""
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
            where = f"{bbox_file}:{n}"
            row = dict(zip(header, tokens))
            if len(tokens) == len(header) and row["cameraID"].isdigit() and int(row["cameraID"]) not in cameras:
                continue
            report.boxes_in += 1
            if len(tokens) != len(header):
                expected = f"expected {len(header)} fields ({' '.join(header)})"
                report.reject(where, "field_count", f"{expected}, got {len(tokens)}")
                continue
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
