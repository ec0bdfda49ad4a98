"""What a conversion read, wrote, rejected and did not map — and the policy for bad input.

Strict mode (the default) raises :class:`DatasetError` naming the file and line (or JSON entry) and what
was expected. Lenient mode records the bad record with its reason and goes on. Either way the counts
reconcile: ``boxes_in == boxes_out + sum(rejected) + sum(unmapped)`` (:meth:`ConversionReport.check`).

Some drops are not errors in either mode (DESIGN §4): a box that has no area left after clipping is dropped
and counted under ``zero_area``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from photosynth.atomic import write_json
from photosynth.frames import Frame
from photosynth.imageio import ImageError, image_size

#: Rejection records kept in memory (the counts are always complete).
MAX_RECORDS = 10_000


class DatasetError(ValueError):
    """Bad dataset input; the message names the file and line or entry and what was expected."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected record: where it was, why, and how many boxes went with it."""

    where: str
    reason: str
    detail: str
    boxes: int
    frame: bool


class ConversionReport:
    """Counts of one conversion plus the error policy (``strict`` raises, lenient records)."""

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict
        self.frames_in = 0
        self.frames_out = 0
        self.boxes_in = 0
        self.boxes_out = 0
        self.rejected: Counter[str] = Counter()
        self.frames_rejected: Counter[str] = Counter()
        self.unmapped: Counter[str] = Counter()
        self.non_box: Counter[str] = Counter()
        self.rejections: list[Rejection] = []
        self.rejections_not_kept = 0

    # --- policy -------------------------------------------------------------------------------
    def reject(
        self, where: str, reason: str, detail: str, *, boxes: int = 1, frame: bool = False, error: bool = True
    ) -> None:
        """Reject ``boxes`` boxes (and the frame when ``frame``): raise in strict mode if ``error``, else record."""
        if self.strict and error:
            raise DatasetError(f"{where}: {detail}")
        self.rejected[reason] += boxes
        if frame:
            self.frames_rejected[reason] += 1
        if len(self.rejections) < MAX_RECORDS:
            self.rejections.append(Rejection(where, reason, detail, boxes, frame))
        else:
            self.rejections_not_kept += 1

    def image(self, where: str, path: Path, boxes: int) -> tuple[int, int] | None:
        """``(width, height)`` of a frame's image from its header; a missing or unreadable image rejects
        the frame and its ``boxes`` records (``missing_image`` / ``corrupt_image``)."""
        if not path.is_file():
            self.reject(where, "missing_image", f"image {path} does not exist", boxes=boxes, frame=True)
            return None
        try:
            return image_size(path)
        except ImageError as exc:
            self.reject(where, "corrupt_image", f"expected a readable image: {exc}", boxes=boxes, frame=True)
            return None

    # --- counting -----------------------------------------------------------------------------
    def accept(self, frame: Frame) -> Frame:
        """Count a frame the reader yields: its unmapped boxes go to ``unmapped`` by source class."""
        for box in frame.boxes:
            if box.cls is None:
                self.unmapped[box.source_class] += 1
        return frame

    def wrote(self, boxes: int) -> None:
        """A writer wrote one frame with ``boxes`` boxes."""
        self.frames_out += 1
        self.boxes_out += boxes

    # --- validation helpers shared by the readers ---------------------------------------------
    def numbers(self, where: str, names: tuple[str, ...], tokens: list[str]) -> list[float] | None:
        """Parse ``tokens`` as finite floats (field names for the message); ``None`` when rejected."""
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            self.reject(where, "bad_number", f"expected numbers in fields {', '.join(names)}, got {tokens}")
            return None
        bad = [n for n, v in zip(names, values) if not math.isfinite(v)]
        if bad:
            self.reject(where, "not_finite", f"expected finite numbers, got NaN/inf in {', '.join(bad)}")
            return None
        return values

    def geometry(
        self, where: str, x1: float, y1: float, x2: float, y2: float, width: int, height: int
    ) -> tuple[float, float, float, float] | None:
        """Validate and clip an exclusive ``x1 y1 x2 y2`` box to a ``width×height`` image.

        Non-finite values, ``x2 < x1``/``y2 < y1`` and boxes entirely outside the image are errors;
        a box with no area left after clipping is dropped (``zero_area``). ``None`` when not kept.
        """
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            self.reject(where, "not_finite", f"expected finite box coordinates, got {(x1, y1, x2, y2)}")
            return None
        if x2 < x1 or y2 < y1:
            self.reject(where, "inverted", f"expected x1 <= x2 and y1 <= y2, got {(x1, y1, x2, y2)}")
            return None
        if (x2 > x1 and y2 > y1) and (x1 >= width or y1 >= height or x2 <= 0 or y2 <= 0):
            self.reject(
                where, "outside_image",
                f"expected a box overlapping the {width}x{height} image, got {(x1, y1, x2, y2)} (entirely outside)",
            )
            return None
        cx1, cy1 = min(max(x1, 0.0), width), min(max(y1, 0.0), height)
        cx2, cy2 = min(max(x2, 0.0), width), min(max(y2, 0.0), height)
        if cx2 <= cx1 or cy2 <= cy1:
            self.reject(where, "zero_area", f"box {(x1, y1, x2, y2)} has no area", error=False)
            return None
        return cx1, cy1, cx2, cy2

    # --- results ------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise ``RuntimeError`` unless ``boxes_in == boxes_out + rejected + unmapped``."""
        total = self.boxes_out + sum(self.rejected.values()) + sum(self.unmapped.values())
        if total != self.boxes_in:
            raise RuntimeError(
                f"box counts do not reconcile: boxes_in={self.boxes_in} but boxes_out={self.boxes_out} + "
                f"rejected={sum(self.rejected.values())} + unmapped={sum(self.unmapped.values())} = {total}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The ``report.json`` content."""
        return {
            "boxes_in": self.boxes_in,
            "boxes_out": self.boxes_out,
            "rejected": dict(sorted(self.rejected.items())),
            "unmapped": dict(sorted(self.unmapped.items())),
            "frames_in": self.frames_in,
            "frames_out": self.frames_out,
            "frames_rejected": dict(sorted(self.frames_rejected.items())),
            "non_box": dict(sorted(self.non_box.items())),
            "strict": self.strict,
            "reconciled": self.boxes_in
            == self.boxes_out + sum(self.rejected.values()) + sum(self.unmapped.values()),
            "rejections": [asdict(r) for r in self.rejections],
            "rejections_not_kept": self.rejections_not_kept,
        }

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON atomically."""
        return write_json(path, self.to_dict())
