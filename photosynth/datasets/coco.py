"""COCO detection json for the study's classes, loadable by ``pycocotools.coco.COCO``.

Image ids are 1, 2, … in the order frames are added (readers yield in a stable, sorted order, so the same
input gives the same ids); category id = ``CLASSES`` index + 1; ``bbox`` is ``[x, y, w, h]`` from the
exclusive ``x1 y1 x2 y2``. Images and annotations are spooled to temporary files while frames arrive, so
memory does not grow with the dataset. :class:`CocoIndex` maps image paths back to ids (prediction export).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import IO

from photosynth.atomic import atomic_open, reporting_disk_full
from photosynth.frames import CLASSES, Frame


class CocoWriter:
    """Collects frames and writes one COCO json on :meth:`close` (use as a context manager)."""

    def __init__(self, path: str | Path, *, names: Sequence[str] = CLASSES, description: str = "") -> None:
        self.path = Path(path)
        self.names = tuple(names)
        self.description = description
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._images: IO[str] = tempfile.TemporaryFile("w+", dir=self.path.parent)
        self._annotations: IO[str] = tempfile.TemporaryFile("w+", dir=self.path.parent)
        self.image_count = 0
        self.annotation_count = 0

    def add(self, frame: Frame, file_name: str) -> int:
        """Add a frame as image ``file_name`` with its mapped boxes; returns its image id."""
        self.image_count += 1
        image_id = self.image_count
        image = {
            "id": image_id, "file_name": file_name, "width": frame.width, "height": frame.height,
            "key": frame.key, "weather": frame.weather, "scene": frame.scene, "timeofday": frame.timeofday,
        }  # fmt: skip
        with reporting_disk_full(self.path):  # the spool files live beside it
            _append(self._images, image)
            for box in frame.mapped_boxes:
                self.annotation_count += 1
                w, h = box.x2 - box.x1, box.y2 - box.y1
                annotation = {
                    "id": self.annotation_count, "image_id": image_id, "category_id": box.class_id + 1,
                    "bbox": [box.x1, box.y1, w, h], "area": w * h, "iscrowd": 0, "occluded": box.occluded,
                }  # fmt: skip
                _append(self._annotations, annotation)
        return image_id

    def close(self) -> Path:
        """Write the json atomically and release the spool files."""
        categories = [{"id": i + 1, "name": n, "supercategory": "vehicle"} for i, n in enumerate(self.names)]
        try:
            with atomic_open(self.path) as out:
                out.write('{"info": ' + json.dumps({"description": self.description}) + ', "images": [')
                _copy_items(self._images, out)
                out.write('], "annotations": [')
                _copy_items(self._annotations, out)
                out.write('], "categories": ' + json.dumps(categories) + "}\n")
        finally:
            self._images.close()
            self._annotations.close()
        return self.path

    def __enter__(self) -> CocoWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self._images.close()
            self._annotations.close()


class CocoIndex:
    """Image ids of a COCO json by ``file_name``; :meth:`id_for` also accepts any path ending in one."""

    def __init__(self, coco_json: str | Path) -> None:
        with Path(coco_json).open() as fh:
            images = json.load(fh)["images"]
        self.ids: dict[str, int] = {im["file_name"]: im["id"] for im in images}

    def id_for(self, path: str | Path) -> int:
        """The id of the image whose ``file_name`` is ``path`` or a trailing part of it."""
        parts = PurePosixPath(Path(path).as_posix()).parts
        for start in range(len(parts)):
            found = self.ids.get("/".join(parts[start:]))
            if found is not None:
                return found
        raise KeyError(f"{path}: no image with a matching file_name in the COCO index")


def _append(spool: IO[str], item: dict[str, object]) -> None:
    spool.write(json.dumps(item))
    spool.write("\n")


def _copy_items(spool: IO[str], out: IO[str]) -> None:
    """Copy newline-separated json items as a comma-separated sequence."""
    spool.seek(0)
    first = True
    for line in spool:
        if not first:
            out.write(",")
        out.write(line.rstrip("\n"))
        first = False
