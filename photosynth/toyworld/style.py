"""How the toy world looks: flat synthetic renders (vKITTI2) vs "real" renders (KITTI, BDD100K).

The two families differ on purpose so the domain gap is real and known (DESIGN §7): synthetic frames are
flat-shaded, noise-free, with simple weather (a global fog blend, straight rain streaks, tinted light);
real frames have texture, shading, sensor noise, blur and JPEG, depth-dependent haze, dark blurred rain,
a grey desaturated overcast sky and dark nights with lights.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from photosynth.toyworld.scene import FIRST_OWNER, GROUND, ROAD, SKY, Raster

#: vKITTI2 variations and how their geometry differs from ``clone`` (camera yaw in degrees, left positive).
VARIATIONS: dict[str, float] = {
    "clone": 0.0,
    "15-deg-left": 15.0,
    "15-deg-right": -15.0,
    "30-deg-left": 30.0,
    "30-deg-right": -30.0,
    "fog": 0.0,
    "morning": 0.0,
    "overcast": 0.0,
    "rain": 0.0,
    "sunset": 0.0,
}
#: BDD100K weather and time-of-day values the real renderer knows.
WEATHERS = ("clear", "partly cloudy", "overcast", "rainy", "foggy", "snowy", "undefined")
TIMES = ("daytime", "night", "dawn/dusk")


def _f(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32)


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def _desaturate(img: np.ndarray, keep: float) -> np.ndarray:
    grey = img.mean(axis=2, keepdims=True)
    return grey + keep * (img - grey)


@lru_cache(maxsize=32)
def _streaks(width: int, height: int, layer: int, slant: float, length: float, count_per_kpx: float) -> np.ndarray:
    """A cached rain-streak intensity layer in ``[0, 1]`` (fixed pattern per size and layer)."""
    rng = np.random.default_rng([width, height, layer, int(slant * 100)])
    canvas = np.zeros((height, width), np.float32)
    n = max(4, int(width * height / 1000 * count_per_kpx))
    xs, ys = rng.uniform(0, width, n), rng.uniform(0, height, n)
    dy = max(2.0, length * height)
    for x, y in zip(xs, ys):
        cv2.line(canvas, (int(x), int(y)), (int(x + slant * dy), int(y + dy)), 1.0, 1, cv2.LINE_AA)
    return canvas


def _linear(keep: float = 1.0, gain: tuple[float, float, float] = (1.0, 1.0, 1.0), offset: float = 0.0) -> np.ndarray:
    """A 3×4 colour matrix: desaturate to ``keep``, then per-channel ``gain``, plus ``offset``."""
    mix = keep * np.eye(3) + (1.0 - keep) / 3.0 * np.ones((3, 3))
    return np.hstack([np.diag(gain) @ mix, np.full((3, 1), offset)]).astype(np.float32)


#: vKITTI2 weather/light variations as one colour matrix each (+ sky colour, extra effects below).
_SYNTHETIC: dict[str, tuple[np.ndarray, tuple[int, int, int] | None]] = {
    "morning": (_linear(gain=(1.08, 1.0, 0.86), offset=12.0), None),
    "sunset": (_linear(gain=(1.0, 0.72, 0.52)), (236, 132, 86)),
    "overcast": (_linear(keep=0.7, gain=(0.85, 0.85, 0.85)), (178, 180, 184)),
    "fog": (_linear(gain=(0.45, 0.45, 0.45), offset=110.0), None),
    "rain": (_linear(keep=0.8, gain=(0.62, 0.62, 0.62)), (120, 124, 130)),
}


@lru_cache(maxsize=16)
def _streaks_u8(width: int, height: int, layer: int) -> np.ndarray:
    return np.repeat((90.0 * _streaks(width, height, layer, 0.0, 0.12, 2.0)).astype(np.uint8)[..., None], 3, axis=2)


def synthetic(raster: Raster, variation: str, frame: int) -> np.ndarray:
    """vKITTI2-style render of one variation: flat shading, simple global weather (a uniform fog blend,
    straight rain streaks, tinted light). ``clone`` and the camera rotations are the raster itself."""
    if variation not in VARIATIONS:
        raise ValueError(f"unknown vKITTI2 variation {variation!r}; expected one of {sorted(VARIATIONS)}")
    if variation not in _SYNTHETIC:
        return raster.rgb
    matrix, sky_colour = _SYNTHETIC[variation]
    img = cv2.transform(raster.rgb, matrix)
    if sky_colour is not None:
        img[raster.owner == SKY] = sky_colour
    if variation == "rain":
        h, w = raster.owner.shape
        img = cv2.add(img, _streaks_u8(w, h, frame % 4))
    return img


@lru_cache(maxsize=64)
def _texture(width: int, height: int, key: int) -> np.ndarray:
    """Low-frequency multiplicative texture around 1 (fixed per size and key)."""
    rng = np.random.default_rng([width, height, key])
    small = rng.normal(0.0, 1.0, (max(2, height // 6), max(2, width // 6))).astype(np.float32)
    coarse = rng.normal(0.0, 1.0, (max(2, height // 24), max(2, width // 24))).astype(np.float32)
    tex = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR) * 0.06
    tex += cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC) * 0.08
    return 1.0 + tex


def _shading(raster: Raster) -> np.ndarray:
    """Per-pixel shading factor: vehicles lit from above, ground texture, everything else 1."""
    h, w = raster.owner.shape
    factor = _texture(w, h, 1).copy()
    if raster.views:
        size = FIRST_OWNER + len(raster.views)
        top = np.zeros(size, np.float32)
        span = np.ones(size, np.float32)
        for view in raster.views:
            top[view.owner], span[view.owner] = view.top, max(1, view.bottom - view.top)
        rows = np.arange(h, dtype=np.float32)[:, None]
        obj = raster.owner >= FIRST_OWNER
        rel = (rows - top[raster.owner]) / span[raster.owner]
        factor = np.where(obj, 1.18 - 0.38 * np.clip(rel, 0, 1), factor)
    return factor


def _lights(img: np.ndarray, raster: Raster, strength: float) -> None:
    """Glowing lamps at the bottom corners of each vehicle (night, dusk)."""
    glow = np.zeros(img.shape[:2], np.float32)
    for view in raster.views:
        if view.thing.kind not in ("Car", "Van", "Truck", "bus"):
            continue
        w, h = view.right - view.left, view.bottom - view.top
        r = max(1, int(0.07 * w))
        y = int(view.bottom - 0.35 * h)
        for x in (view.left + int(0.12 * w), view.right - int(0.12 * w)):
            cv2.circle(glow, (x, y), r, 1.0, -1)
    glow = cv2.GaussianBlur(glow, (0, 0), 1.5)
    img += strength * glow[..., None] * np.array([255, 90, 60], np.float32)


def real(raster: Raster, weather: str, timeofday: str, rng: np.random.Generator, noise: float = 4.0) -> np.ndarray:
    """A "real camera" render: texture and shading, weather effects, time of day, sensor noise and blur."""
    if weather == "undefined":
        weather = str(rng.choice(["clear", "overcast", "partly cloudy"]))
    if weather not in WEATHERS or timeofday not in TIMES:
        raise ValueError(f"unknown weather/time {weather!r}/{timeofday!r}; expected {WEATHERS} × {TIMES}")
    h, w = raster.owner.shape
    img = _f(raster.rgb) * _shading(raster)[..., None]
    img = _desaturate(img, 0.82) * np.array([1.02, 1.0, 0.95], np.float32)
    sky = raster.owner == SKY
    if weather == "partly cloudy":
        clouds = np.clip((_texture(w, h, 7) - 1.0) * 8.0, 0, 1)[..., None]
        img[sky] = (img * (1 - clouds) + 240.0 * clouds)[sky]
    elif weather == "overcast":
        img = _desaturate(img, 0.45) * 0.88
        img[sky] = 196.0 * _texture(w, h, 3)[sky][:, None]
    elif weather == "rainy":
        img = _desaturate(img, 0.5) * 0.58
        img[sky] = 118.0
        road = (raster.owner == ROAD)
        img[road] *= 0.8
        img += 70.0 * _streaks(w, h, int(rng.integers(4)), 0.25, 0.08, 6.0)[..., None]
        img = cv2.blur(img, (1, 5))
    elif weather == "foggy":
        depth = raster.vehicle_depth()
        t = np.exp(-0.06 * depth)[..., None]
        img = img * t + np.array([208, 210, 212], np.float32) * (1 - t)
    elif weather == "snowy":
        img[sky] = 215.0
        ground = (raster.owner == GROUND) | (raster.owner == ROAD)
        img[ground] = img[ground] * 0.55 + 105.0
        flakes = (rng.random((h, w)) < 0.01).astype(np.float32)
        img += 160.0 * cv2.GaussianBlur(flakes, (3, 3), 0.6)[..., None]
    if timeofday == "night":
        img = img * 0.22
        img[sky] = (12, 14, 28)
        _lights(img, raster, 0.9)
        noise *= 1.8
    elif timeofday == "dawn/dusk":
        img = img * np.array([0.82, 0.62, 0.5], np.float32)
        img[sky] = img[sky] * 0.5 + np.array([235, 150, 110], np.float32) * 0.5
        _lights(img, raster, 0.4)
    img = cv2.GaussianBlur(img, (3, 3), 0.7)
    img += rng.normal(0.0, noise, img.shape).astype(np.float32)
    return _u8(img)
