"""The label formats the toy world writes, line by line as the real datasets have them: KITTI object and
tracking lines (with DontCare regions and 3D fields), vKITTI2 ``bbox.txt`` rows, and BDD100K frame records in the
2018 and det_20 layouts (:func:`bdd_labels`: a label file's worth without images, for benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from photosynth.datasets.bdd100k import BDD_IMAGE_SIZE as BDD_SIZE
from photosynth.toyworld.scene import Camera, Raster, Thing, View, rasterize
from photosynth.toyworld.streets import bdd_conditions, bdd_things

_DONTCARE_TAIL = "-1 -1 -1 -1000 -1000 -1000 -10"


def _dontcare(view: View, min_height: float) -> bool:
    """KITTI labels tiny, slivered or hidden vehicles as DontCare regions."""
    return (view.bottom - view.top + 1 < min_height or view.right - view.left + 1 < min_height / 2
            or view.occupancy < 0.1)


def _kitti_3d(view: View) -> tuple[float, ...]:
    """alpha h w l x y z rotation_y of a view's vehicle (camera coordinates, KITTI conventions)."""
    t = view.thing
    w, h, length = t.dims
    z = t.z + length / 2
    ry = np.pi / 2 if t.oncoming else -np.pi / 2
    alpha = float((ry - np.arctan2(t.x, z) + np.pi) % (2 * np.pi) - np.pi)
    return alpha, h, w, length, t.x, 1.65, z, ry


def has_label(view: View) -> bool:
    """KITTI annotators skip slivers: a view gets a label row (maybe DontCare) when it is at least 2×2 px."""
    return view.right > view.left and view.bottom > view.top


def kitti_line(view: View, min_height: float, tracking_frame: int | None = None) -> str:
    """One KITTI label line: 15 fields (object) or, with ``tracking_frame``, 17 fields (tracking)."""
    box = f"{view.left:.2f} {view.top:.2f} {view.right:.2f} {view.bottom:.2f}"
    if _dontcare(view, min_height):
        body = f"DontCare -1 -1 -10 {box} {_DONTCARE_TAIL}"
        return body if tracking_frame is None else f"{tracking_frame} -1 {body}"
    alpha, h, w, length, x, y, z, ry = _kitti_3d(view)
    truncated = f"{view.kitti_truncation}" if tracking_frame is not None else f"{view.truncation:.2f}"
    body = (f"{view.thing.kind} {truncated} {view.kitti_occlusion} {alpha:.2f} {box} "
            f"{h:.2f} {w:.2f} {length:.2f} {x:.2f} {y:.2f} {z:.2f} {ry:.2f}")  # fmt: skip
    return body if tracking_frame is None else f"{tracking_frame} {view.thing.track_id} {body}"


def vkitti_line(frame: int, camera: int, view: View) -> str:
    """One ``bbox.txt`` row (left right top bottom, inclusive integer pixels)."""
    return (f"{frame} {camera} {view.thing.track_id} {view.left} {view.right} {view.top} {view.bottom} "
            f"{view.visible_pixels} {view.truncation:.7g} {view.occupancy:.7g} {view.thing.moving}")  # fmt: skip


_LIGHTS_2018 = {"r": "red", "y": "yellow", "g": "green"}
_LIGHTS_DET20 = {"r": "R", "y": "Y", "g": "G"}
_DET20_CATEGORY = {"person": "pedestrian"}


def _bdd_category(thing: Thing) -> str:
    return {"Car": "car", "Van": "car", "Truck": "truck"}.get(thing.kind, thing.kind)


def _polys(camera: Camera, sx: float) -> list[dict[str, Any]]:
    """2018-layout ``drivable area`` and ``lane`` entries (poly2d, no box2d), in output pixels."""
    def pts(world: list[tuple[float, float]]) -> list[list[float]]:
        uv, _ = camera.project(np.array([[x, 0.0, z] for x, z in world]))
        return [[round(float(u) * sx, 3), round(float(v) * sx, 3)] for u, v in uv]

    area = {"category": "drivable area", "attributes": {"areaType": "direct"}, "manualShape": True,
            "manualAttributes": True,
            "poly2d": [{"vertices": pts([(-1.75, 4.0), (1.75, 4.0), (1.75, 60.0), (-1.75, 60.0)]),
                        "types": "LLLL", "closed": True}]}  # fmt: skip
    out = [area]
    for x in (-1.75, 1.75):
        out.append({"category": "lane", "attributes": {"laneDirection": "parallel", "laneStyle": "dashed",
                                                        "laneType": "single white"},
                    "manualShape": True, "manualAttributes": True,
                    "poly2d": [{"vertices": pts([(x, 4.0), (x, 60.0)]), "types": "LL", "closed": False}]})
    return out


def bdd_record(name: str, attributes: dict[str, str], raster: Raster, layout: str, ids: Iterator[int],
               sx: float = 1.0, empty: str = "missing") -> dict[str, Any]:
    """One BDD frame dict (``layout`` "2018" or "det_20") from a raster; boxes scaled by ``sx``.

    A det_20 frame without boxes has no ``labels`` key (``empty="missing"``) or ``labels: null``.
    """
    if layout not in ("2018", "det_20"):
        raise ValueError(f"unknown BDD layout {layout!r}; expected '2018' or 'det_20'")
    labels: list[dict[str, Any]] = []
    for view in sorted(raster.views, key=lambda v: (v.left, v.top)):
        category = _bdd_category(view.thing)
        light = view.thing.attrs.get("light") if category == "traffic light" else None
        if layout == "2018":
            colour = _LIGHTS_2018[light] if light else "none"
        else:
            category = _DET20_CATEGORY.get(category, category)
            colour = _LIGHTS_DET20[light] if light else "NA"
        x1, y1, x2, y2 = view.xyxy
        label: dict[str, Any] = {
            "id": next(ids) if layout == "2018" else str(next(ids)),
            "category": category,
            "attributes": {"occluded": view.occluded, "truncated": view.truncation > 0.02, "trafficLightColor": colour},
            "box2d": {"x1": x1 * sx, "y1": y1 * sx, "x2": x2 * sx, "y2": y2 * sx},
        }
        if layout == "2018":
            label |= {"manualShape": True, "manualAttributes": True}
        labels.append(label)
    record: dict[str, Any] = {"name": name, "attributes": attributes, "timestamp": 10000}
    if layout == "2018":
        record["labels"] = labels + [p | {"id": next(ids)} for p in _polys(raster.camera, sx)]
    elif labels or empty == "null":
        record["labels"] = labels or None
    return record


def bdd_name(rng: np.random.Generator, index: int) -> str:
    return f"{int(rng.integers(1 << 32)):08x}-{(index * 2654435761) & 0xFFFFFFFF:08x}"


def bdd_labels(n_frames: int, seed: int, layout: str = "2018", *, raster_scale: float = 0.125) -> Iterator[dict]:
    """BDD100K frame dicts without images (1280×720 coordinates), as a real label file lists them.

    Occlusion flags come from an owner mask rasterized at ``raster_scale`` of the full size (boxes are
    scaled back up, so they are multiples of ``1 / raster_scale``).
    """
    rng = np.random.default_rng([seed, 4])
    width, height = (max(8, round(s * raster_scale)) for s in BDD_SIZE)
    camera = Camera.bdd(width, height)
    conditions = bdd_conditions(n_frames, rng)
    ids = iter(range(10**12))
    for index, (weather, timeofday) in enumerate(conditions):
        things, scene = bdd_things(rng)
        raster = rasterize(camera, things, background=False, paint=False)
        attrs = {"weather": weather, "scene": scene, "timeofday": timeofday}
        yield bdd_record(f"{bdd_name(rng, index)}.jpg", attrs, raster, layout, ids, BDD_SIZE[0] / width,
                         empty="null" if index % 2 else "missing")  # fmt: skip
