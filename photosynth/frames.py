"""The one record every reader yields and every writer takes.

Conventions (DESIGN §4): boxes are float pixel coordinates ``x1, y1, x2, y2`` with the origin at the
top-left corner of the top-left pixel and ``x2, y2`` exclusive. ``cls`` is the study class (``Car``,
``Van``, ``Truck``) or ``None`` when the source class is not mapped; ``source_class`` is the label as the
dataset spells it. ``occluded`` is the harmonized boolean, ``occlusion_raw`` the value as read (KITTI
level 0-3, vKITTI2 occupancy ratio, BDD boolean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The study's classes, in YOLO class-id order (COCO category id = index + 1).
CLASSES: tuple[str, ...] = ("Car", "Van", "Truck")
#: Classes counted as vehicles for the occlusion buckets.
VEHICLES: frozenset[str] = frozenset(CLASSES)


@dataclass(frozen=True, slots=True)
class Box:
    """One labelled object in one frame."""

    x1: float
    y1: float
    x2: float
    y2: float
    source_class: str
    cls: str | None = None
    occluded: bool = False
    occlusion_raw: float | int | bool | None = None
    truncation: float | None = None
    track_id: int | str | None = None

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def class_id(self) -> int:
        """YOLO class id of the mapped class (raises for unmapped boxes)."""
        if self.cls is None:
            raise ValueError(f"box of source class {self.source_class!r} is not mapped to a study class")
        return CLASSES.index(self.cls)


@dataclass(slots=True)
class Frame:
    """One image with its boxes and what is known about where it came from.

    ``key`` is unique within a dataset and stable across runs (e.g. ``Scene01/clone/Camera_0/00012``);
    writers derive output file names from it. ``source`` holds dataset-specific ids (scene, variation,
    camera, sequence, frame index, split).
    """

    image: Path
    width: int
    height: int
    dataset: str
    key: str
    boxes: list[Box] = field(default_factory=list)
    weather: str | None = None
    scene: str | None = None
    timeofday: str | None = None
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def mapped_boxes(self) -> list[Box]:
        """Boxes whose class maps to a study class."""
        return [b for b in self.boxes if b.cls is not None]

    @property
    def occluded_vehicles(self) -> int:
        """Number of occluded Car/Van/Truck boxes (what the occlusion buckets count)."""
        return sum(1 for b in self.boxes if b.cls in VEHICLES and b.occluded)
