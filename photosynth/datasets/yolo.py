"""YOLO datasets as ultralytics reads them: ``images/<split>/…``, ``labels/<split>/….txt``, ``data.yaml``.

Images are symlinked (default) or copied; label lines are ``class cx cy w h`` normalized to the image size;
``data.yaml`` has an absolute ``path`` (ultralytics resolves relative ones against its own settings) and the
class names. A frame's files are named after its key (``Scene01/clone/Camera_0/00012`` →
``images/train/Scene01/clone/Camera_0/00012.jpg``), so keys must be relative paths without ``..``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml

from photosynth.atomic import reporting_disk_full, write_text
from photosynth.datasets.report import ConversionReport
from photosynth.frames import CLASSES, Box, Frame
from photosynth.imageio import IMAGE_SUFFIXES

LinkMode = Literal["link", "copy"]


def safe_relative(name: str, what: str = "key") -> PurePosixPath:
    """``name`` as a relative path that stays inside its folder; raise ``ValueError`` otherwise."""
    path = PurePosixPath(name)
    if not name or "\\" in name or path.is_absolute() or ".." in path.parts:
        raise ValueError(
            f"{what} {name!r} would write outside the output folder (expected a relative path without '..')"
        )
    return path


def label_lines(frame: Frame) -> list[str]:
    """``class cx cy w h`` lines (normalized) for the frame's mapped boxes."""
    lines = []
    for box in frame.mapped_boxes:
        cx, cy = (box.x1 + box.x2) / 2 / frame.width, (box.y1 + box.y2) / 2 / frame.height
        lines.append(f"{box.class_id} {cx:.6f} {cy:.6f} {box.width / frame.width:.6f} {box.height / frame.height:.6f}")
    return lines


class YoloWriter:
    """Writes frames into a YOLO dataset folder; :meth:`close` writes ``data.yaml``."""

    def __init__(self, out: str | Path, *, mode: LinkMode = "link", names: Sequence[str] = CLASSES) -> None:
        if mode not in ("link", "copy"):
            raise ValueError(f"mode must be 'link' or 'copy', got {mode!r}")
        self.out = Path(os.path.abspath(out))
        self.mode = mode
        self.names = tuple(names)
        self.splits: dict[str, int] = {}

    def paths(self, frame: Frame, split: str) -> tuple[Path, Path]:
        """``(image, label)`` destinations of ``frame`` in ``split``, checked to be inside the output folder."""
        rel = safe_relative(split, "split") / safe_relative(frame.key)
        image = self.out / "images" / f"{rel}{frame.image.suffix.lower()}"
        label = self.out / "labels" / f"{rel}.txt"
        for path in (image, label):
            if not os.path.normpath(path).startswith(str(self.out) + os.sep):
                raise ValueError(f"frame {frame.key!r} would be written outside {self.out}")
        return image, label

    def add(self, frame: Frame, split: str) -> int:
        """Link/copy the image and write the label file; returns the number of label lines written."""
        image, label = self.paths(frame, split)
        lines = label_lines(frame)
        _place(frame.image, image, self.mode)
        write_text(label, "".join(f"{line}\n" for line in lines))
        self.splits[split] = self.splits.get(split, 0) + 1
        return len(lines)

    def close(self) -> Path:
        """Write ``data.yaml`` listing the splits written (see :func:`write_data_yaml`)."""
        return write_data_yaml(self.out, list(self.splits) or ["train"], self.names)


def write_data_yaml(out: str | Path, splits: Sequence[str], names: Sequence[str] = CLASSES) -> Path:
    """``data.yaml`` with absolute ``path``, one ``images/<split>`` entry per split and ``names``.

    ultralytics needs ``train`` and ``val``: when only one of them was written, the other points at it.
    """
    out = Path(os.path.abspath(out))
    data: dict[str, object] = {"path": str(out)}
    for split in splits:
        data[split] = f"images/{split}"
    for needed in ("train", "val"):
        data.setdefault(needed, f"images/{splits[0]}")
    data["nc"] = len(names)
    data["names"] = dict(enumerate(names))
    path = out / "data.yaml"
    write_text(path, yaml.safe_dump(data, sort_keys=False))
    return path


def read_yolo(
    data_yaml: str | Path, split: str, *, dataset: str = "yolo", report: ConversionReport | None = None
) -> Iterator[Frame]:
    """Frames of one split of a YOLO dataset (round trips what :class:`YoloWriter` wrote)."""
    report = report if report is not None else ConversionReport()
    data_yaml = Path(data_yaml)
    data = yaml.safe_load(data_yaml.read_text())
    if not isinstance(data, dict) or split not in data or "names" not in data:
        raise ValueError(f"{data_yaml}: expected 'path', 'names' and a {split!r} entry")
    names = data["names"]
    names = dict(enumerate(names)) if isinstance(names, list) else {int(k): v for k, v in names.items()}
    base = Path(data.get("path") or data_yaml.parent)
    image_root = base / data[split]
    label_root = base / "labels" / Path(data[split]).relative_to("images")
    for image in sorted(p for p in image_root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        rel = image.relative_to(image_root).with_suffix("")
        label = label_root / f"{rel}.txt"
        report.frames_in += 1
        text = label.read_text() if label.is_file() else ""
        lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        report.boxes_in += len(lines)
        size = report.image(str(label), image, boxes=len(lines))
        if size is None:
            continue
        boxes = [b for n, tokens in lines if (b := _box(report, f"{label}:{n}", tokens, size, names)) is not None]
        frame = Frame(image=image, width=size[0], height=size[1], dataset=dataset, key=rel.as_posix(), boxes=boxes,
                      source={"split": split})  # fmt: skip
        yield report.accept(frame)


def _box(
    report: ConversionReport, where: str, tokens: list[str], size: tuple[int, int], names: dict[int, str]
) -> Box | None:
    if len(tokens) != 5:
        report.reject(where, "field_count", f"expected 5 fields (class cx cy w h), got {len(tokens)}")
        return None
    values = report.numbers(where, ("class", "cx", "cy", "w", "h"), tokens)
    if values is None:
        return None
    cls, cx, cy, w, h = values
    if cls != int(cls) or int(cls) not in names:
        report.reject(where, "unknown_class", f"expected a class id in {sorted(names)}, got {tokens[0]}")
        return None
    width, height = size
    x1, y1, x2, y2 = (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height
    xyxy = report.geometry(where, x1, y1, x2, y2, *size)
    if xyxy is None:
        return None
    name = names[int(cls)]
    return Box(*xyxy, source_class=name, cls=name if name in CLASSES else None)


def _place(source: Path, target: Path, mode: LinkMode) -> None:
    """Symlink (absolute target) or copy ``source`` to ``target``, replacing what is there atomically."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with reporting_disk_full(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        try:
            if mode == "link":
                os.symlink(os.path.abspath(source), tmp)
            else:
                shutil.copyfile(source, tmp)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, target)
