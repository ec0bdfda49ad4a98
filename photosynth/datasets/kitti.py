"""KITTI readers: object detection (``label_2``, 15 fields) and tracking (``label_02``, 17 fields).

Layouts (DESIGN §6)::

    <root>/training/image_2/NNNNNN.png        <root>/training/label_2/NNNNNN.txt
    <root>/training/image_02/SSSS/NNNNNN.png  <root>/training/label_02/SSSS.txt

``root`` may also be the ``training`` folder itself. A 16th (18th in tracking) ``score`` field of result
files is accepted. Image sizes come from the image headers. Occlusion: raw level 0–3 (``-1`` on DontCare
rows), harmonized ``occluded`` is level 1 or 2 (3 means unknown).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from photosynth.datasets.classes import ClassMap, kitti_class_map
from photosynth.datasets.report import ConversionReport
from photosynth.frames import Box, Frame
from photosynth.imageio import IMAGE_SUFFIXES

#: The 15 fields of a KITTI object label line.
OBJECT_FIELDS: tuple[str, ...] = (
    "type", "truncated", "occluded", "alpha", "left", "top", "right", "bottom",
    "h", "w", "l", "x", "y", "z", "rotation_y",
)  # fmt: skip
#: The 17 fields of a KITTI tracking label line.
TRACKING_FIELDS: tuple[str, ...] = ("frame", "track_id", *OBJECT_FIELDS)


def read_kitti_object(
    root: str | Path,
    *,
    split: str = "training",
    class_map: ClassMap | None = None,
    report: ConversionReport | None = None,
) -> Iterator[Frame]:
    """Frames of the KITTI object benchmark, one per ``label_2/*.txt`` file (sorted)."""
    report = report if report is not None else ConversionReport()
    class_map = class_map or kitti_class_map()
    base = _split_dir(root, split, "label_2")
    for label_file in sorted((base / "label_2").glob("*.txt")):
        report.frames_in += 1
        records = _records(label_file, report)
        image = _image(base / "image_2", label_file.stem)
        size = report.image(f"{label_file}", image, boxes=len(records))
        if size is None:
            continue
        boxes = [_box(report, f"{label_file}:{n}", tokens, size, class_map, None, False) for n, tokens in records]
        frame = Frame(
            image=image, width=size[0], height=size[1], dataset="kitti_object", key=label_file.stem,
            boxes=[b for b in boxes if b is not None],
            source={"split": split, "frame": int(label_file.stem) if label_file.stem.isdigit() else label_file.stem,
                    "label_file": str(label_file)},
        )  # fmt: skip
        yield report.accept(frame)


def read_kitti_tracking(
    root: str | Path,
    *,
    split: str = "training",
    sequences: list[str] | None = None,
    class_map: ClassMap | None = None,
    report: ConversionReport | None = None,
) -> Iterator[Frame]:
    """Frames of KITTI tracking: every image of every sequence (frames without objects included),
    with the rows of ``label_02/SSSS.txt`` whose ``frame`` matches. ``sequences`` filters (e.g. ``["0001"]``)."""
    report = report if report is not None else ConversionReport()
    class_map = class_map or kitti_class_map()
    base = _split_dir(root, split, "label_02")
    for label_file in sorted((base / "label_02").glob("*.txt")):
        sequence = label_file.stem
        if sequences is not None and sequence not in sequences:
            continue
        by_frame: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)
        for n, tokens in _records(label_file, report):
            if len(tokens) not in (len(TRACKING_FIELDS), len(TRACKING_FIELDS) + 1):
                expected = f"expected {len(TRACKING_FIELDS)} fields ({' '.join(TRACKING_FIELDS)})"
                report.reject(f"{label_file}:{n}", "field_count", f"{expected}, got {len(tokens)}")
                continue
            if not tokens[0].isdigit() or not tokens[1].lstrip("-").isdigit():
                report.reject(f"{label_file}:{n}", "bad_number",
                              f"expected integer frame and track_id, got {tokens[0]!r} {tokens[1]!r}")  # fmt: skip
                continue
            by_frame[int(tokens[0])].append((n, tokens))
        image_dir = base / "image_02" / sequence
        on_disk = {
            int(p.stem): p for p in image_dir.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.stem.isdigit()
        }
        for index in sorted(set(on_disk) | set(by_frame)):
            report.frames_in += 1
            records = by_frame.get(index, [])
            image = on_disk.get(index) or image_dir / f"{index:06d}.png"
            size = report.image(f"{label_file}: frame {index}", image, boxes=len(records))
            if size is None:
                continue
            boxes = [
                _box(report, f"{label_file}:{n}", tokens[2:], size, class_map, int(tokens[1]), True)
                for n, tokens in records
            ]
            frame = Frame(
                image=image, width=size[0], height=size[1], dataset="kitti_tracking", key=f"{sequence}/{index:06d}",
                boxes=[b for b in boxes if b is not None],
                source={"split": split, "sequence": sequence, "frame": index, "label_file": str(label_file)},
            )  # fmt: skip
            yield report.accept(frame)


def _split_dir(root: str | Path, split: str, label_folder: str) -> Path:
    """``root/split`` or ``root`` itself, whichever holds ``label_folder``."""
    root = Path(root)
    for candidate in (root / split, root):
        if (candidate / label_folder).is_dir():
            return candidate
    raise FileNotFoundError(f"{root}: no {split}/{label_folder} folder (expected the KITTI layout, DESIGN §6)")


def _image(folder: Path, stem: str) -> Path:
    """The image ``folder/stem.<png|jpg|jpeg>`` (the ``.png`` path when none exists)."""
    for suffix in (".png", ".jpg", ".jpeg"):
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return path
    return folder / f"{stem}.png"


def _records(label_file: Path, report: ConversionReport) -> list[tuple[int, list[str]]]:
    """Non-empty lines of a label file as ``(line number, tokens)``; each counts as one box read."""
    records = []
    with label_file.open() as fh:
        for n, line in enumerate(fh, start=1):
            tokens = line.split()
            if tokens:
                records.append((n, tokens))
    report.boxes_in += len(records)
    return records


def _box(
    report: ConversionReport,
    where: str,
    tokens: list[str],
    size: tuple[int, int],
    class_map: ClassMap,
    track_id: int | None,
    int_truncation: bool,
) -> Box | None:
    """One object line (without the tracking prefix) → Box, or ``None`` when rejected."""
    if len(tokens) not in (len(OBJECT_FIELDS), len(OBJECT_FIELDS) + 1):
        expected = f"expected {len(OBJECT_FIELDS)} fields ({' '.join(OBJECT_FIELDS)})"
        report.reject(where, "field_count", f"{expected}, got {len(tokens)}")
        return None
    values = report.numbers(where, OBJECT_FIELDS[1:8], tokens[1:8])
    if values is None:
        return None
    truncated, occluded, _alpha, left, top, right, bottom = values
    if (int_truncation and truncated != int(truncated)) or occluded != int(occluded):
        report.reject(where, "bad_number", f"expected integer truncated/occluded levels, got {tokens[1]} {tokens[2]}")
        return None
    xyxy = report.geometry(where, left, top, right, bottom, *size)
    if xyxy is None:
        return None
    level = int(occluded)
    return Box(
        *xyxy, source_class=tokens[0], cls=class_map(tokens[0]), occluded=level in (1, 2), occlusion_raw=level,
        truncation=float(truncated), track_id=track_id,
    )  # fmt: skip
