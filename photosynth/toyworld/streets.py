"""What the toy world contains: the streets of the KITTI/vKITTI2 scenes (vehicle convoys per lane, parked rows,
buildings), the objects and weather/time-of-day conditions of the BDD frames, and which clone frames the oracle
renders in which weather.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from photosynth.design import SOURCES, STYLE_DOMAINS, WEATHER_SLOTS, Domain
from photosynth.toyworld.scene import STREET_PERIOD, Camera, Facade, Raster, Thing, rasterize

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


def oracle_count(frames: int, scenes: int) -> int:
    """How many oracle frames a toy world of ``scenes`` scenes × ``frames`` frames has."""
    slots = oracle_weathers()
    return scenes * sum(1 for frame in range(frames) if frame % len(SOURCES) in slots)


_BDD_SCENES = {"city street": 0.55, "highway": 0.2, "residential": 0.18, "parking lot": 0.04, "tunnel": 0.03}


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
