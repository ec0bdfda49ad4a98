"""BDD100K reader, streamed: the 2018 list, the 2020 ``det_20`` list and per-image files (DESIGN §6).

Layouts::

    <root>/images/100k/<split>/<id>.jpg
    <root>/labels/bdd100k_labels_images_<split>.json     ("2018": a JSON list of frames)
    <root>/labels/det_20/det_<split>.json                ("det_20": same frame shape, string ids)
    <root>/labels/100k/<split>/<id>.json                 ("per_image": {name, attributes, frames: [{objects}]})

List files are parsed incrementally with ``ijson`` (one frame dict at a time), so memory does not grow with
the file. Entries without ``box2d`` but with ``poly2d`` (drivable area, lanes) are not boxes: they are
counted in ``report.non_box``. ``labels`` may be missing or null (a frame without objects). Attribute keys
may be capitalised (``Occluded``). ``occluded``/``truncated`` are JSON booleans or the strings ``true``/``false``
(any case; some exports write strings); any other value rejects the box (``bad_attribute``). Frame names must be
relative paths inside the image folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import ijson

from photosynth.datasets.classes import ClassMap, bdd_class_map
from photosynth.datasets.report import ConversionReport
from photosynth.frames import Box, Frame

LAYOUTS: tuple[str, ...] = ("2018", "det_20", "per_image")
#: BDD100K's image size, for label-only reads (``image_size=BDD_IMAGE_SIZE``).
BDD_IMAGE_SIZE: tuple[int, int] = (1280, 720)


def label_source(root: str | Path, split: str, layout: str = "auto") -> tuple[str, Path]:
    """``(layout, path)`` of the labels of ``split`` (``layout="auto"`` picks the first that exists)."""
    root = Path(root)
    candidates = {
        "2018": root / "labels" / f"bdd100k_labels_images_{split}.json",
        "det_20": root / "labels" / "det_20" / f"det_{split}.json",
        "per_image": root / "labels" / "100k" / split,
    }
    if layout != "auto" and layout not in candidates:
        raise ValueError(f"unknown BDD100K layout {layout!r}; expected auto or one of {', '.join(LAYOUTS)}")
    for name in LAYOUTS if layout == "auto" else (layout,):
        if candidates[name].exists():
            return name, candidates[name]
    looked = ", ".join(str(candidates[n]) for n in (LAYOUTS if layout == "auto" else (layout,)))
    raise FileNotFoundError(f"{root}: no BDD100K labels for split {split!r} (looked for {looked})")


def read_bdd100k(
    root: str | Path,
    *,
    split: str = "val",
    layout: str = "auto",
    labels: str | Path | None = None,
    image_size: tuple[int, int] | None = None,
    class_map: ClassMap | None = None,
    report: ConversionReport | None = None,
) -> Iterator[Frame]:
    """Frames of one BDD100K split, streamed from its label file(s).

    ``labels`` overrides the label path (with ``layout="auto"``: a folder is per-image files, a file a list).
    ``image_size`` skips reading image headers and checking that images exist, using the given
    ``(width, height)`` for every frame — only for label-only work such as benchmarks (e.g.
    ``BDD_IMAGE_SIZE``); conversions leave it ``None`` so sizes come from the images.
    """
    report = report if report is not None else ConversionReport()
    if labels is not None:
        path = Path(labels)
        if layout == "auto":
            layout = "per_image" if path.is_dir() else "2018"
        elif layout not in LAYOUTS:
            raise ValueError(f"unknown BDD100K layout {layout!r}; expected auto or one of {', '.join(LAYOUTS)}")
    else:
        layout, path = label_source(root, split, layout)
    images = Path(root) / "images" / "100k" / split
    context = {"split": split, "layout": layout}
    if layout == "per_image":
        records = _per_image_records(path, report)
        yield from bdd_frames(records, images, str(path), context, image_size, class_map, report)
        return
    with path.open("rb") as fh:
        try:
            yield from bdd_frames(
                ijson.items(fh, "item", use_float=True), images, str(path), context, image_size, class_map, report
            )
        except ijson.JSONError as exc:
            report.reject(str(path), "bad_json", f"expected a JSON list of frames ({exc}); reading stopped",
                          boxes=0, frame=True)  # fmt: skip


def bdd_frames(
    records: Iterable[Any],
    images: Path,
    where: str,
    context: dict[str, str],
    image_size: tuple[int, int] | None = None,
    class_map: ClassMap | None = None,
    report: ConversionReport | None = None,
) -> Iterator[Frame]:
    """Frames from BDD frame dicts (any iterable: a stream, a loaded list); ``where`` names the source file."""
    report = report if report is not None else ConversionReport()
    class_map = class_map or bdd_class_map()
    for index, record in enumerate(records):
        entry = f"{where}: entry {index}"
        report.frames_in += 1
        if not isinstance(record, dict):
            got = type(record).__name__
            report.reject(entry, "bad_entry", f"expected a frame object, got {got}", boxes=0, frame=True)
            continue
        name = record.get("name")
        if isinstance(name, str) and not PurePosixPath(name).suffix:
            name += ".jpg"
        entry = f"{entry} ({name})"
        raw = _objects(record)
        if raw is not None and not isinstance(raw, list):
            report.reject(entry, "bad_entry", f"expected 'labels' to be a list or null, got {type(raw).__name__}",
                          boxes=0, frame=True)  # fmt: skip
            continue
        raw = raw or []
        nboxes = sum(1 for label in raw if not _is_non_box(label))
        report.boxes_in += nboxes
        rel = _safe_name(name)
        if rel is None:
            report.reject(entry, "unsafe_name", f"expected a relative image name inside {images}, got {name!r}",
                          boxes=nboxes, frame=True)  # fmt: skip
            continue
        image = images / rel
        size = image_size or report.image(entry, image, boxes=nboxes)
        if size is None:
            continue
        boxes = []
        for j, label in enumerate(raw):
            if _is_non_box(label):
                report.non_box[str(label.get("category"))] += 1
                continue
            box = _box(report, f"{entry} label {j}", label, size, class_map)
            if box is not None:
                boxes.append(box)
        attributes = _get(record, "attributes") or {}
        frame = Frame(
            image=image, width=size[0], height=size[1], dataset="bdd100k", key=str(rel.with_suffix("")),
            boxes=boxes, weather=_get(attributes, "weather"), scene=_get(attributes, "scene"),
            timeofday=_get(attributes, "timeofday"), source={**context, "name": str(rel), "entry": index},
        )  # fmt: skip
        yield report.accept(frame)


def _per_image_records(folder: Path, report: ConversionReport) -> Iterator[dict[str, Any]]:
    """Per-image label files (sorted), each a ``{name, attributes, frames: [{objects}]}`` dict."""
    for path in sorted(folder.glob("*.json")):
        try:
            with path.open() as fh:
                yield json.load(fh)
        except json.JSONDecodeError as exc:
            report.frames_in += 1
            report.reject(str(path), "bad_json", f"expected a JSON object: {exc}", boxes=0, frame=True)


def _objects(record: dict[str, Any]) -> Any:
    """The label list of a frame dict: ``labels`` (list layouts) or ``frames[0].objects`` (per image)."""
    if "frames" in record and "labels" not in record:
        frames = record["frames"] or [{}]
        return frames[0].get("objects") if isinstance(frames[0], dict) else None
    return record.get("labels")


def _get(mapping: Any, key: str) -> Any:
    """``mapping[key]`` or its capitalised spelling (``Occluded``); ``None`` when absent."""
    if not isinstance(mapping, dict):
        return None
    value = mapping.get(key)
    return mapping.get(key.capitalize()) if value is None else value


def _is_non_box(label: Any) -> bool:
    return isinstance(label, dict) and label.get("box2d") is None and label.get("poly2d") is not None


def _flag(value: Any) -> bool | None:
    """A BDD boolean attribute: a JSON boolean or the string ``true``/``false`` (any case); else ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _safe_name(name: Any) -> PurePosixPath | None:
    """A frame name as a relative path without ``..`` parts, else ``None``."""
    if not isinstance(name, str) or not name or "\\" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or path.parts[0] in ("", "."):
        return None
    return path


def _box(report: ConversionReport, where: str, label: Any, size: tuple[int, int], class_map: ClassMap) -> Box | None:
    if not isinstance(label, dict) or not isinstance(label.get("category"), str):
        report.reject(where, "bad_entry", "expected a label object with a string 'category'")
        return None
    box2d = label.get("box2d")
    if not isinstance(box2d, dict):
        report.reject(where, "no_geometry", "expected 'box2d' {x1, y1, x2, y2} (or 'poly2d' for non-box labels)")
        return None
    try:
        x1, y1, x2, y2 = (float(box2d[k]) for k in ("x1", "y1", "x2", "y2"))
    except (KeyError, TypeError, ValueError):
        report.reject(where, "bad_number", f"expected numeric box2d x1, y1, x2, y2, got {box2d}")
        return None
    xyxy = report.geometry(where, x1, y1, x2, y2, *size)
    if xyxy is None:
        return None
    attributes = _get(label, "attributes") or {}
    flags: dict[str, bool | None] = {}
    for key in ("occluded", "truncated"):
        value = _get(attributes, key)
        flags[key] = None if value is None else _flag(value)
        if value is not None and flags[key] is None:
            report.reject(where, "bad_attribute", f"expected {key!r} true or false (a JSON boolean or the string, "
                          f"any case), got {value!r}")  # fmt: skip
            return None
    category = label["category"]
    return Box(
        *xyxy, source_class=category, cls=class_map(category), occluded=bool(flags["occluded"]),
        occlusion_raw=flags["occluded"], truncation=None if flags["truncated"] is None else float(flags["truncated"]),
        track_id=label.get("id"),
    )  # fmt: skip
