"""The toy world (DESIGN §7): procedural street scenes written in the real dataset layouts (DESIGN §6).

:func:`make_toyworld` writes, under one root::

    kitti_tracking/training/{image_02/SSSS/NNNNNN.png, label_02/SSSS.txt}     "real" render of the scenes
    kitti_object/training/{image_2/NNNNNN.png, label_2/NNNNNN.txt}             "real" snapshots, sizes vary
    vkitti2/SceneXX/<variation>/{bbox.txt, info.txt, frames/rgb/Camera_{0,1}/rgb_NNNNN.jpg}   synthetic
    oracle/<weather>/SceneXX/clone/frames/rgb/Camera_0/rgb_NNNNN.jpg          "real" render, target weather
    bdd100k/images/100k/{train,val}/<id>.jpg
    bdd100k/labels/bdd100k_labels_images_{train,val}.json, labels/det_20/det_{train,val}.json
    manifest.json

KITTI tracking sequences 0001/0002/0006/0018/0020 show the same geometry as vKITTI2 Scene01/02/06/18/20
frame by frame (the "real" and the synthetic render of one world). :func:`bdd_labels` yields BDD frame
dicts without images (for label-file benchmarks).

The **oracle** (DESIGN §7) is a perfect translation: every clone Camera_0 frame that a weather slot of the
training mixes uses (:func:`oracle_weathers`: ``frame % 7`` of :data:`photosynth.design.WEATHER_SLOTS`)
rendered once more by the *real* renderer in that slot's BDD style weather (fog → daytime foggy, overcast →
daytime overcast, rain → daytime rainy; :data:`photosynth.design.STYLE_DOMAINS`). Same geometry, so
the clone frame's boxes are its labels. Its paths mirror the clone frame's path relative to ``vkitti2/``, as
a translator's output does, so ``oracle/`` can serve as ``<workspace>/translated/oracle``
(:func:`photosynth.study.mixes.link_oracle`). Its noise comes from a random stream of its own: every other
image and label is byte-identical with or without it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from photosynth.toyworld.scene import STREET_PERIOD, Camera, Facade, Raster, Thing, View, rasterize
from photosynth.toyworld.style import VARIATIONS, real, synthetic
from photosynth.atomic import write_text
from photosynth.imageio import write_image
from photosynth.design import ORACLE, SCENE_SEQUENCES, SOURCES, STYLE_DOMAINS, WEATHER_SLOTS, Domain

VERSION = 2  # bump when the rendering changes: a manifest of another version is regenerated
KITTI_SIZE = (1242, 375)
#: KITTI object images come in these sizes (DESIGN §4); most are the first.
KITTI_OBJECT_SIZES = ((1242, 375), (1241, 376), (1238, 374), (1224, 370))
BDD_SIZE = (1280, 720)
STEREO_BASELINE = 0.532
EGO_SPEED = 0.8  # metres per frame
#: Street vehicles farther than this are not drawn (they would be a few pixels tall at small scales).
MAX_DEPTH = 42.0
#: Default share of BDD weathers and times of day in the toy world.
BDD_WEATHER_MIX: dict[str, float] = {
    "clear": 0.3, "overcast": 0.16, "rainy": 0.15, "foggy": 0.14, "snowy": 0.08, "partly cloudy": 0.1,
    "undefined": 0.07,
}  # fmt: skip
BDD_TIME_MIX: dict[str, float] = {"daytime": 0.72, "night": 0.18, "dawn/dusk": 0.1}
#: The daytime weathers the study uses (style sources and evaluation): each gets images in every split.
STUDY_WEATHERS = ("clear", "overcast", "rainy", "foggy")

_PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    "Car": {"Red": (190, 35, 40), "Blue": (40, 70, 170), "Silver": (175, 178, 182), "Black": (35, 35, 40),
            "White": (230, 230, 228), "Green": (40, 110, 70)},
    "Van": {"White": (236, 236, 232), "Yellow": (230, 190, 40), "Silver": (170, 172, 176), "Blue": (70, 120, 190)},
    "Truck": {"Orange": (225, 120, 30), "White": (225, 225, 215), "Green": (60, 120, 50), "Brown": (130, 90, 55)},
    "bus": {"Yellow": (235, 185, 30), "Blue": (40, 90, 170), "White": (230, 230, 230)},
    "person": {"Red": (170, 40, 40), "Blue": (50, 60, 130), "Grey": (110, 110, 110)},
    "traffic light": {"Black": (30, 30, 30)},
    "traffic sign": {"Blue": (30, 80, 180), "Red": (200, 30, 30), "Green": (30, 120, 60)},
}  # fmt: skip
_MODELS = {"Car": ("Sedan4Door", "Hatchback", "SUV", "Coupe"), "Van": ("Minivan", "CargoVan"),
           "Truck": ("BoxTruck", "Lorry")}  # fmt: skip


# --- the street world (KITTI / vKITTI2) --------------------------------------------------------------------


@dataclass
class Track:
    """A vehicle of a scene: lane position, depth at frame 0, speed relative to the ego (m/frame)."""

    track_id: int
    kind: str
    model: str
    colour: str
    rgb: tuple[int, int, int]
    x: float
    z0: float
    speed: float
    moving: bool
    oncoming: bool

    def at(self, frame: int) -> Thing:
        return Thing(self.kind, self.x, self.z0 + self.speed * frame, self.rgb, self.track_id,
                     oncoming=self.oncoming, moving=self.moving)  # fmt: skip


def _pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    """One key of ``weights``, drawn proportionally to its weight."""
    keys = list(weights)
    cumulative = np.cumsum([weights[k] for k in keys])
    return keys[min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), len(keys) - 1)]


def _vehicle(rng: np.random.Generator, kinds: Mapping[str, float]) -> tuple[str, str, str, tuple[int, int, int]]:
    """Kind, model, colour name and jittered RGB (channels 1..255) of a new object."""
    kind = _pick(rng, kinds) if len(kinds) > 1 else next(iter(kinds))
    palette = _PALETTES[kind]
    colour = list(palette)[int(rng.integers(len(palette)))]
    jitter = rng.integers(-12, 13, 3).tolist()
    rgb = tuple(min(255, max(1, c + j)) for c, j in zip(palette[colour], jitter))
    models = _MODELS.get(kind, (kind,))
    return kind, models[int(rng.integers(len(models)))], colour, rgb  # type: ignore[return-value]


def street_tracks(rng: np.random.Generator, frames: int) -> list[Track]:
    """Vehicles of one scene: convoys per lane (same speed per lane, so they never collide)."""
    lanes = (  # (x, speed relative to ego, moving, oncoming, gap range, class weights)
        (0.0, rng.uniform(-0.25, 0.25), True, False, (10.0, 30.0), {"Car": 0.45, "Van": 0.2, "Truck": 0.35}),
        (3.5, rng.uniform(-0.35, 0.35), True, False, (8.0, 25.0), {"Car": 0.45, "Van": 0.2, "Truck": 0.35}),
        (-3.5, -EGO_SPEED - rng.uniform(0.4, 0.9), True, True, (12.0, 35.0), {"Car": 0.5, "Van": 0.2, "Truck": 0.3}),
        (7.2, -EGO_SPEED, False, False, (1.0, 9.0), {"Car": 0.7, "Van": 0.2, "Truck": 0.1}),
        (-7.2, -EGO_SPEED, False, False, (1.0, 9.0), {"Car": 0.7, "Van": 0.2, "Truck": 0.1}),
    )  # fmt: skip
    near, far = 2.0, MAX_DEPTH
    tracks = []
    for x, speed, moving, oncoming, (gap_lo, gap_hi), kinds in lanes:
        if abs(speed) < 0.02:
            speed = 0.02 if speed >= 0 else -0.02
        travel = speed * (frames - 1)
        lo, hi = min(near, near - travel), max(far, far - travel)
        z = lo - rng.uniform(0.0, gap_hi)
        while z < hi:
            kind, model, colour, rgb = _vehicle(rng, kinds)
            if rng.random() < 0.75 or not moving:
                jitter = rng.uniform(-0.25, 0.25)
                tracks.append(Track(-1, kind, model, colour, rgb, x + jitter, z, speed, moving, oncoming))
            length = 4.3 if kind == "Car" else (5.0 if kind == "Van" else 8.5)
            gap = rng.uniform(gap_lo, gap_hi) * (4.0 if not moving and rng.random() < 0.15 else 1.0)
            z += length + gap
    ids = np.sort(rng.choice(np.arange(3 * len(tracks) + 20), size=len(tracks), replace=False))
    for track, track_id in zip(tracks, ids):
        track.track_id = int(track_id)
    return tracks


def street_facades(rng: np.random.Generator) -> list[Facade]:
    """Building facades along both sides of the street (one period of the repeating street)."""
    facades: list[Facade] = []
    for x in (-13.0, 13.0):
        z = rng.uniform(0, 10)
        while z < STREET_PERIOD:
            length = rng.uniform(10, 30)
            grey = rng.integers(90, 200)
            tint = rng.integers([-20, -20, 0], [30, 20, 40])
            colour = (int(grey + tint[0]), int(grey + tint[1]), int(grey - tint[2]))
            facades.append((x, z, length, rng.uniform(6, 20), colour))
            z += length + rng.uniform(0, 8)
    return facades


@dataclass
class Street:
    """One scene of the street world: its tracks and buildings, rendered through any camera."""

    tracks: list[Track]
    facades: list[Facade]

    @classmethod
    def generate(cls, seed: int, key: int, frames: int) -> "Street":
        rng = np.random.default_rng([seed, 1, key])
        return cls(street_tracks(rng, frames), street_facades(rng))

    def raster(self, camera: Camera, frame: int) -> Raster:
        things = [t.at(frame) for t in self.tracks]
        # vehicles of the ego lane keep their distance (they would otherwise drive through the ego car)
        shown = [t for t in things if 1.0 < t.z < MAX_DEPTH and not (abs(t.x) < 2.0 and t.z < 6.0)]
        return rasterize(camera, shown, EGO_SPEED * frame, self.facades)


def oracle_weathers() -> dict[int, tuple[str, str, str]]:
    """Slot (``frame % 7``) → ``(vKITTI2 weather, BDD weather, BDD time of day)`` of the oracle render."""
    out = {}
    for weather, slot in WEATHER_SLOTS.items():
        domain = Domain.parse(STYLE_DOMAINS[weather])
        out[slot] = (weather, str(domain.weather), str(domain.timeofday))
    return out


def oracle_path(root: str | Path, weather: str, scene: str, frame: int) -> Path:
    """Where the oracle render of clone Camera_0 frame ``frame`` of ``scene`` in ``weather`` lies under ``root``."""
    return Path(root) / ORACLE / weather / scene / "clone" / "frames" / "rgb" / "Camera_0" / f"rgb_{frame:05d}.jpg"


def oracle_count(frames: int, scenes: int) -> int:
    """How many oracle frames a toy world of ``scenes`` scenes × ``frames`` frames has."""
    slots = oracle_weathers()
    return scenes * sum(1 for frame in range(frames) if frame % len(SOURCES) in slots)


# --- label formats ----------------------------------------------------------------------------------------

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


def _labelled(view: View) -> bool:
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


# --- BDD100K -----------------------------------------------------------------------------------------------

_BDD_SCENES = {"city street": 0.55, "highway": 0.2, "residential": 0.18, "parking lot": 0.04, "tunnel": 0.03}
_LIGHTS_2018 = {"r": "red", "y": "yellow", "g": "green"}
_LIGHTS_DET20 = {"r": "R", "y": "Y", "g": "G"}
_DET20_CATEGORY = {"person": "pedestrian"}


def bdd_things(rng: np.random.Generator) -> tuple[list[Thing], str]:
    """Objects of one BDD-like frame and its scene attribute: ~18 visible boxes on average, like BDD100K
    (mostly cars, parked in mutually occluding rows, plus traffic lights and signs, people, trucks, buses)."""
    scene = _pick(rng, _BDD_SCENES)
    if rng.random() < 0.02:
        return [], scene
    things: list[Thing] = []

    def add(kind: str, x: float, z: float, **kw: Any) -> None:
        rgb = _vehicle(rng, {kind: 1.0})[3] if kind in _PALETTES else (128, 128, 128)
        things.append(Thing(kind, x, z, rgb, **kw))

    parked = scene in ("city street", "residential", "parking lot")
    for x in (-7.2, 7.2):  # parked rows: long chains of mutually occluding cars
        if parked:
            z = rng.uniform(4.0, 12.0)
            for _ in range(int(rng.integers(0, 7))):
                add("Van" if rng.random() < 0.1 else "Car", x + rng.uniform(-0.2, 0.2), z, moving=False)
                z += rng.uniform(5.0, 9.0)
    for x, oncoming in ((-3.5, True), (0.0, False), (3.5, False)):
        z = rng.uniform(5.0, 20.0)
        for _ in range(int(rng.integers(0, 4 if parked else 6))):
            add("Van" if rng.random() < 0.1 else "Car", x + rng.uniform(-0.3, 0.3), z, oncoming=oncoming)
            z += rng.uniform(7.0, 22.0)
    for kind, mean in (("Truck", 0.45), ("bus", 0.17)):
        for _ in range(int(rng.poisson(mean))):
            add(kind, float(rng.choice([-3.5, 0.0, 3.5])), rng.uniform(8.0, 45.0))
    for _ in range(int(rng.poisson(1.3))):
        add("person", float(rng.choice([-1, 1])) * rng.uniform(9.0, 11.0), rng.uniform(5.0, 35.0))
    for _ in range(int(rng.poisson(3.2))):
        add("traffic light", rng.uniform(-6.0, 6.0), rng.uniform(15.0, 60.0), elevation=4.8,
            attrs={"light": str(rng.choice(["r", "y", "g"], p=[0.45, 0.1, 0.45]))})
    for _ in range(int(rng.poisson(4.2))):
        add("traffic sign", float(rng.choice([-1, 1])) * rng.uniform(9.0, 10.5), rng.uniform(6.0, 55.0),
            elevation=rng.uniform(2.0, 3.2))
    return things, scene


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


def bdd_conditions(n: int, rng: np.random.Generator, weather: Mapping[str, float] | None = None,
                   timeofday: Mapping[str, float] | None = None, style_min: int = 1) -> list[tuple[str, str]]:
    """``(weather, timeofday)`` for ``n`` frames: the first ``style_min`` × 4 frames cycle through the daytime
    :data:`STUDY_WEATHERS` (so each has images), the rest follow the mixes; then shuffled."""
    guaranteed = [(w, "daytime") for _ in range(style_min) for w in STUDY_WEATHERS][:n]
    rest = [(_pick(rng, weather or BDD_WEATHER_MIX), _pick(rng, timeofday or BDD_TIME_MIX))
            for _ in range(n - len(guaranteed))]  # fmt: skip
    out = guaranteed + rest
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _bdd_name(rng: np.random.Generator, index: int) -> str:
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
        yield bdd_record(f"{_bdd_name(rng, index)}.jpg", attrs, raster, layout, ids, BDD_SIZE[0] / width,
                         empty="null" if index % 2 else "missing")  # fmt: skip


# --- writing ------------------------------------------------------------------------------------------------


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(16, round(size[0] * scale)), max(8, round(size[1] * scale))


class _Writer:
    """Writes one toy world; counts what it wrote."""

    def __init__(self, root: Path, seed: int, scale: float, bar: tqdm) -> None:
        self.root, self.seed, self.scale, self.bar = root, seed, scale, bar
        self.counts: dict[str, int] = {}
        self.min_height = max(4.0, 18 * scale)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def image(self, path: Path, rgb: np.ndarray, quality: int = 95) -> None:
        write_image(path, rgb, quality=quality)
        self.count("images")
        self.bar.update(1)

    def street(self, scene: str, index: int, frames: int, variations: Sequence[str], oracle: bool) -> None:
        """One vKITTI2 scene (all variations, both cameras), its KITTI tracking sequence and, with ``oracle``,
        the oracle renders of its weather-slot clone frames."""
        street = Street.generate(self.seed, index, frames)
        sequence = SCENE_SEQUENCES[scene]
        size = _scaled(KITTI_SIZE, self.scale)
        vroot = self.root / "vkitti2" / scene
        kroot = self.root / "kitti_tracking" / "training"
        info = "trackID label model color\n" + "".join(
            f"{t.track_id} {t.kind} {t.model} {t.colour}\n" for t in street.tracks)
        rows: dict[str, list[str]] = {v: [] for v in variations}
        kitti_rows: list[str] = []
        slots = oracle_weathers() if oracle else {}
        for frame in range(frames):
            rng = np.random.default_rng([self.seed, 2, index, frame])
            for camera_id, baseline in ((0, 0.0), (1, STEREO_BASELINE)):
                rasters: dict[float, Raster] = {}
                for variation in variations:
                    yaw = VARIATIONS[variation]
                    if yaw not in rasters:
                        rasters[yaw] = street.raster(Camera.kitti(*size, yaw=yaw, baseline=baseline), frame)
                    raster = rasters[yaw]
                    out = vroot / variation / "frames" / "rgb" / f"Camera_{camera_id}" / f"rgb_{frame:05d}.jpg"
                    self.image(out, synthetic(raster, variation, frame))
                    rows[variation] += [vkitti_line(frame, camera_id, v) for v in raster.views]
                if camera_id == 0:
                    raster = rasters.get(0.0) or street.raster(Camera.kitti(*size), frame)
                    out = kroot / "image_02" / sequence / f"{frame:06d}.png"
                    self.image(out, real(raster, "clear", "daytime", rng))
                    kitti_rows += [kitti_line(v, self.min_height, frame) for v in
                                   sorted(raster.views, key=lambda v: v.thing.track_id) if _labelled(v)]
                    if frame % len(SOURCES) in slots:
                        weather, bdd_weather, timeofday = slots[frame % len(SOURCES)]
                        own = np.random.default_rng([self.seed, 6, index, frame])  # the oracle's own stream
                        self.image(oracle_path(self.root, weather, scene, frame), real(raster, bdd_weather, timeofday, own))
                        self.count("oracle_frames")
        header = " ".join(("frame cameraID trackID left right top bottom number_pixels truncation_ratio "
                           "occupancy_ratio isMoving").split())  # fmt: skip
        for variation in variations:
            write_text(vroot / variation / "bbox.txt", header + "\n" + "".join(r + "\n" for r in rows[variation]))
            write_text(vroot / variation / "info.txt", info)
            self.count("vkitti2_boxes", len(rows[variation]))
        write_text(kroot / "label_02" / f"{sequence}.txt", "".join(r + "\n" for r in kitti_rows))
        self.count("kitti_tracking_frames", frames)
        self.count("kitti_tracking_boxes", len(kitti_rows))

    def kitti_object(self, n: int) -> None:
        """Independent "real" snapshots; every fourth one has another KITTI image size."""
        kroot = self.root / "kitti_object" / "training"
        for index in range(n):
            rng = np.random.default_rng([self.seed, 3, index])
            street = Street.generate(self.seed, 1000 + index, 1)
            size = KITTI_OBJECT_SIZES[3 - (index // 4) % 3] if index % 4 == 3 else KITTI_OBJECT_SIZES[0]
            raster = street.raster(Camera.kitti(*_scaled(size, self.scale)), 0)
            self.image(kroot / "image_2" / f"{index:06d}.png", real(raster, "clear", "daytime", rng))
            lines = [kitti_line(v, self.min_height) for v in raster.views if _labelled(v)]
            write_text(kroot / "label_2" / f"{index:06d}.txt", "".join(line + "\n" for line in lines))
            self.count("kitti_object_boxes", len(lines))
        self.count("kitti_object_frames", n)

    def bdd(self, split: str, n: int, weather: Mapping[str, float] | None, timeofday: Mapping[str, float] | None,
            style_min: int) -> None:
        """One BDD100K split: images plus the 2018 and det_20 label files."""
        broot = self.root / "bdd100k"
        rng = np.random.default_rng([self.seed, 5, 0 if split == "train" else 1])
        camera = Camera.bdd(*_scaled(BDD_SIZE, self.scale))
        records: dict[str, list[dict]] = {"2018": [], "det_20": []}
        ids = {"2018": iter(range(10**12)), "det_20": iter(range(10**12))}
        for index, (w, t) in enumerate(bdd_conditions(n, rng, weather, timeofday, style_min)):
            things, scene = bdd_things(rng)
            raster = rasterize(camera, things, float(rng.uniform(0, 240)), street_facades(rng))
            name = _bdd_name(rng, index)
            self.image(broot / "images" / "100k" / split / f"{name}.jpg", real(raster, w, t, rng), quality=80)
            attrs = {"weather": w, "scene": scene, "timeofday": t}
            for layout in records:
                records[layout].append(bdd_record(f"{name}.jpg", attrs, raster, layout, ids[layout],
                                                  empty="null" if index % 2 else "missing"))  # fmt: skip
            self.count(f"bdd_{split}_boxes", len(raster.views))
        write_text(broot / "labels" / f"bdd100k_labels_images_{split}.json", json.dumps(records["2018"]))
        write_text(broot / "labels" / "det_20" / f"det_{split}.json", json.dumps(records["det_20"]))
        self.count(f"bdd_{split}_frames", n)


def make_toyworld(
    root: str | Path,
    *,
    scenes: int | Sequence[str] = 5,
    frames: int = 40,
    scale: float = 0.25,
    kitti_object: int | None = None,
    bdd_train: int = 80,
    bdd_val: int = 80,
    seed: int = 0,
    variations: Sequence[str] | None = None,
    bdd_weather: Mapping[str, float] | None = None,
    bdd_timeofday: Mapping[str, float] | None = None,
    bdd_style_min: int = 2,
    oracle: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Write the toy world under ``root`` (layouts in the module docstring); returns paths and counts.

    ``scenes``: how many of Scene01/02/06/18/20 (or their names); ``frames`` per scene; ``scale`` of the real
    image sizes (1242×375 KITTI/vKITTI2, 1280×720 BDD); ``kitti_object`` images (default ``frames``);
    BDD images per split; ``variations`` of vKITTI2 (default all 10); BDD weather/time-of-day mixes (weights)
    and ``bdd_style_min`` daytime images guaranteed per study weather (clear/overcast/rainy/foggy) and split;
    ``oracle``: also the oracle renders (module docstring; needs the ``clone`` variation).
    Deterministic by ``seed``; a root whose ``manifest.json`` has the same parameters is left as it is.
    """
    root = Path(root).expanduser().resolve()
    names = list(SCENE_SEQUENCES)[:scenes] if isinstance(scenes, int) else list(scenes)
    unknown = sorted(set(names) - set(SCENE_SEQUENCES)) + sorted(set(variations or ()) - set(VARIATIONS))
    if unknown or not names:
        raise ValueError(f"unknown or no scenes/variations {unknown}; scenes are {list(SCENE_SEQUENCES)}, "
                         f"variations {list(VARIATIONS)}")  # fmt: skip
    if frames < 1 or scale <= 0 or min(bdd_train, bdd_val) < 0:
        raise ValueError(f"need frames >= 1, scale > 0 and BDD counts >= 0 "
                         f"(got {frames}, {scale}, {bdd_train}, {bdd_val})")
    variations = list(variations or VARIATIONS)
    oracle = oracle and "clone" in variations
    kitti_object = frames if kitti_object is None else kitti_object
    params = {"version": VERSION, "scenes": names, "frames": frames, "scale": scale, "kitti_object": kitti_object,
              "bdd_train": bdd_train, "bdd_val": bdd_val, "seed": seed, "variations": variations,
              "bdd_weather": dict(bdd_weather or BDD_WEATHER_MIX), "bdd_timeofday": dict(bdd_timeofday or BDD_TIME_MIX),
              "bdd_style_min": bdd_style_min, "oracle": oracle}  # fmt: skip
    manifest_path = root / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params:
            return manifest["result"] | {"skipped": True}
    total = len(names) * frames * (2 * len(variations) + 1) + kitti_object + bdd_train + bdd_val
    total += oracle_count(frames, len(names)) if oracle else 0
    start, cpu = time.perf_counter(), time.process_time()
    with tqdm(total=total, desc="toy world", unit="img", disable=not progress, mininterval=2.0) as bar:
        writer = _Writer(root, seed, scale, bar)
        for name in names:
            writer.street(name, list(SCENE_SEQUENCES).index(name), frames, variations, oracle)
        writer.kitti_object(kitti_object)
        writer.bdd("train", bdd_train, bdd_weather, bdd_timeofday, bdd_style_min)
        writer.bdd("val", bdd_val, bdd_weather, bdd_timeofday, bdd_style_min)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    result = {
        "root": str(root),
        "kitti_tracking": str(root / "kitti_tracking"),
        "kitti_object": str(root / "kitti_object"),
        "vkitti2": str(root / "vkitti2"),
        "bdd100k": str(root / "bdd100k"),
        "oracle": str(root / ORACLE) if oracle else None,
        "counts": writer.counts,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "images_per_second": round(writer.counts.get("images", 0) / max(seconds, 1e-9), 1),
        "images_per_cpu_second": round(writer.counts.get("images", 0) / max(cpu, 1e-9), 1),
    }
    write_text(manifest_path, json.dumps({"params": params, "result": result}, indent=2))
    return result | {"skipped": False}
