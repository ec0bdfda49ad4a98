"""Geometry and rasterization of the toy world (DESIGN §7).

Objects live in a ground-plane world (``X`` right, ``Y`` up, ``Z`` ahead, metres; the ego camera at the
origin). A :class:`Camera` projects their faces into the image; :func:`rasterize` paints them far-to-near
into a flat-shaded image and an owner mask, so every object's visible fraction is exact from the render
order. Styles (synthetic vs "real", weather) are applied afterwards by :mod:`photosynth.toyworld.style`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

#: Visible fraction below which an object counts as occluded (KITTI level ≥ 1, BDD ``occluded``); the same
#: value as the vKITTI2 reader's default occupancy threshold, so the harmonized flag agrees across datasets.
OCCLUDED_BELOW = 0.75
#: Depth written for sky pixels.
SKY_DEPTH = 1000.0
_SHIFT = 2  # sub-pixel bits for cv2 polygon filling
_ONE = 1 << _SHIFT

# Region codes of the background (owner values below FIRST_OWNER).
SKY, BUILDING, GROUND, ROAD, MARK = 0, 1, 2, 3, 4
FIRST_OWNER = 8


@dataclass(frozen=True)
class Camera:
    """Pinhole camera at height ``mount`` looking along +Z, turned left by ``yaw`` degrees, moved right by
    ``baseline`` metres (the right camera of a stereo pair)."""

    width: int
    height: int
    f: float
    cx: float
    cy: float
    mount: float = 1.65
    yaw: float = 0.0
    baseline: float = 0.0

    @classmethod
    def kitti(cls, width: int, height: int, yaw: float = 0.0, baseline: float = 0.0) -> "Camera":
        """KITTI-like intrinsics (f ≈ 0.58·width, horizon at 46 % of the height)."""
        return cls(width, height, 0.58 * width, width / 2, 0.46 * height, 1.65, yaw, baseline)

    @classmethod
    def bdd(cls, width: int, height: int) -> "Camera":
        """BDD100K-like intrinsics (dashboard camera, wider image, horizon near the middle)."""
        return cls(width, height, 0.72 * width, width / 2, 0.47 * height, 1.35)

    def to_camera(self, pts: np.ndarray) -> np.ndarray:
        """World points ``(N, 3)`` into camera coordinates (x right, y up, z ahead)."""
        theta = math.radians(self.yaw)
        x = pts[:, 0] - self.baseline
        z = pts[:, 2]
        xc = x * math.cos(theta) + z * math.sin(theta)
        zc = -x * math.sin(theta) + z * math.cos(theta)
        return np.stack([xc, pts[:, 1] - self.mount, zc], axis=1)

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates ``(N, 2)`` and camera depths ``(N,)`` of world points."""
        return self.project_camera(self.to_camera(pts))

    def project_camera(self, cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates and depths of points already in camera coordinates."""
        depth = cam[:, 2]
        safe = np.maximum(depth, 1e-3)
        uv = np.stack([self.cx + self.f * cam[:, 0] / safe, self.cy - self.f * cam[:, 1] / safe], axis=1)
        return uv, depth

    def ground_depth(self) -> np.ndarray:
        """Depth of the ground plane per image row (sky rows get :data:`SKY_DEPTH`)."""
        rows = np.arange(self.height, dtype=np.float32) + 0.5 - self.cy
        with np.errstate(divide="ignore"):
            depth = np.where(rows > 0.5, self.f * self.mount / np.maximum(rows, 1e-3), SKY_DEPTH)
        return np.minimum(depth, SKY_DEPTH).astype(np.float32)


# --- object models -----------------------------------------------------------------------------------

#: Real-world size (width, height, length in m) of each kind.
DIMENSIONS: dict[str, tuple[float, float, float]] = {
    "Car": (1.8, 1.5, 4.3),
    "Van": (2.0, 2.3, 5.0),
    "Truck": (2.5, 3.7, 8.5),
    "bus": (2.6, 3.2, 11.0),
    "person": (0.6, 1.75, 0.4),
    "traffic light": (0.45, 1.1, 0.3),
    "traffic sign": (0.8, 0.8, 0.05),
}

# (face, polygon in face coordinates, colour role). Rear face: (u across 0..1, v down 0..1);
# side face: (s along the length 0..1, v down 0..1).
Part = tuple[str, tuple[tuple[float, float], ...], str]


def _rect(face: str, a0: float, v0: float, a1: float, v1: float, role: str) -> Part:
    return face, ((a0, v0), (a1, v0), (a1, v1), (a0, v1)), role


MODELS: dict[str, tuple[Part, ...]] = {
    # low body, narrower cabin with a big rear window, wheels under the body
    "Car": (
        _rect("side", 0.0, 0.5, 1.0, 0.92, "side"),
        ("side", ((0.25, 0.08), (0.7, 0.08), (0.85, 0.5), (0.08, 0.5)), "side"),
        ("side", ((0.3, 0.14), (0.66, 0.14), (0.76, 0.46), (0.18, 0.46)), "window"),
        _rect("side", 0.1, 0.78, 0.26, 1.0, "wheel"),
        _rect("side", 0.72, 0.78, 0.88, 1.0, "wheel"),
        _rect("rear", 0.0, 0.48, 1.0, 0.9, "body"),
        ("rear", ((0.16, 0.02), (0.84, 0.02), (0.97, 0.48), (0.03, 0.48)), "body"),
        ("rear", ((0.22, 0.08), (0.78, 0.08), (0.88, 0.42), (0.12, 0.42)), "window"),
        _rect("rear", 0.04, 0.55, 0.2, 0.66, "light"),
        _rect("rear", 0.8, 0.55, 0.96, 0.66, "light"),
        _rect("rear", 0.06, 0.88, 0.24, 1.0, "wheel"),
        _rect("rear", 0.76, 0.88, 0.94, 1.0, "wheel"),
    ),
    # one tall box with a band of windows near the top
    "Van": (
        _rect("side", 0.0, 0.0, 1.0, 0.9, "side"),
        _rect("side", 0.04, 0.1, 0.45, 0.38, "window"),
        _rect("side", 0.55, 0.1, 0.92, 0.38, "window"),
        _rect("side", 0.1, 0.84, 0.24, 1.0, "wheel"),
        _rect("side", 0.76, 0.84, 0.9, 1.0, "wheel"),
        _rect("rear", 0.0, 0.0, 1.0, 0.92, "body"),
        _rect("rear", 0.08, 0.1, 0.46, 0.36, "window"),
        _rect("rear", 0.54, 0.1, 0.92, 0.36, "window"),
        _rect("rear", 0.02, 0.62, 0.12, 0.78, "light"),
        _rect("rear", 0.88, 0.62, 0.98, 0.78, "light"),
        _rect("rear", 0.08, 0.9, 0.26, 1.0, "wheel"),
        _rect("rear", 0.74, 0.9, 0.92, 1.0, "wheel"),
    ),
    # tall cargo box on a dark chassis, split rear doors, twin wheels
    "Truck": (
        _rect("side", 0.0, 0.0, 1.0, 0.8, "cargo"),
        _rect("side", 0.0, 0.8, 1.0, 0.87, "trim"),
        _rect("side", 0.06, 0.84, 0.16, 1.0, "wheel"),
        _rect("side", 0.18, 0.84, 0.28, 1.0, "wheel"),
        _rect("side", 0.8, 0.84, 0.9, 1.0, "wheel"),
        _rect("rear", 0.0, 0.0, 1.0, 0.8, "cargo"),
        _rect("rear", 0.485, 0.04, 0.515, 0.78, "trim"),
        _rect("rear", 0.0, 0.8, 1.0, 0.88, "trim"),
        _rect("rear", 0.04, 0.81, 0.14, 0.87, "light"),
        _rect("rear", 0.86, 0.81, 0.96, 0.87, "light"),
        _rect("rear", 0.04, 0.88, 0.3, 1.0, "wheel"),
        _rect("rear", 0.7, 0.88, 0.96, 1.0, "wheel"),
    ),
    "bus": (
        _rect("side", 0.0, 0.0, 1.0, 0.88, "body"),
        _rect("side", 0.03, 0.12, 0.97, 0.45, "window"),
        _rect("side", 0.1, 0.84, 0.2, 1.0, "wheel"),
        _rect("side", 0.8, 0.84, 0.9, 1.0, "wheel"),
        _rect("rear", 0.0, 0.0, 1.0, 0.9, "body"),
        _rect("rear", 0.06, 0.08, 0.94, 0.45, "window"),
        _rect("rear", 0.06, 0.9, 0.26, 1.0, "wheel"),
        _rect("rear", 0.74, 0.9, 0.94, 1.0, "wheel"),
    ),
    "person": (
        ("rear", ((0.3, 0.0), (0.7, 0.0), (0.75, 0.14), (0.25, 0.14)), "skin"),
        _rect("rear", 0.05, 0.14, 0.95, 0.55, "body"),
        _rect("rear", 0.15, 0.55, 0.47, 1.0, "trim"),
        _rect("rear", 0.53, 0.55, 0.85, 1.0, "trim"),
    ),
    "traffic light": (
        _rect("rear", 0.0, 0.0, 1.0, 1.0, "trim"),
        _rect("rear", 0.25, 0.06, 0.75, 0.3, "lamp_r"),
        _rect("rear", 0.25, 0.38, 0.75, 0.62, "lamp_y"),
        _rect("rear", 0.25, 0.7, 0.75, 0.94, "lamp_g"),
    ),
    "traffic sign": (
        _rect("rear", 0.0, 0.0, 1.0, 1.0, "body"),
        _rect("rear", 0.15, 0.15, 0.85, 0.85, "window"),
    ),
}


#: Kinds drawn as a single flat face (no side).
FLAT_KINDS = frozenset({"person", "traffic light", "traffic sign"})


@dataclass
class Thing:
    """One object placed in the world for one frame (rear face centre at ``(x, elevation, z)``)."""

    kind: str
    x: float
    z: float
    rgb: tuple[int, int, int]
    track_id: int = -1
    elevation: float = 0.0
    oncoming: bool = False
    moving: bool = True
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def dims(self) -> tuple[float, float, float]:
        return DIMENSIONS[self.kind]


@dataclass
class View:
    """How one thing appears in one rendered image (pixel box inclusive, clipped to the image)."""

    thing: Thing
    owner: int
    left: int
    top: int
    right: int
    bottom: int
    full_pixels: int
    image_pixels: int
    visible_pixels: int = 0
    depth: float = 0.0

    @property
    def truncation(self) -> float:
        """Fraction of the silhouette outside the image."""
        return 1.0 - self.image_pixels / self.full_pixels

    @property
    def occupancy(self) -> float:
        """Fraction of the in-image silhouette that is not hidden by nearer objects."""
        return self.visible_pixels / self.image_pixels if self.image_pixels else 0.0

    @property
    def occluded(self) -> bool:
        return self.occupancy < OCCLUDED_BELOW

    @property
    def kitti_occlusion(self) -> int:
        """KITTI level: 0 fully visible, 1 partly, 2 largely occluded, 3 unknown (mostly out of view)."""
        if self.truncation > 0.6:
            return 3
        if self.occupancy >= OCCLUDED_BELOW:
            return 0
        return 1 if self.occupancy >= 0.5 else 2

    @property
    def kitti_truncation(self) -> int:
        """KITTI tracking's integer truncation level 0/1/2."""
        return 0 if self.truncation < 0.02 else (1 if self.truncation < 0.5 else 2)

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        """Exclusive float box (DESIGN §4)."""
        return float(self.left), float(self.top), float(self.right + 1), float(self.bottom + 1)


@dataclass
class Raster:
    """A flat-shaded render with what the styles need: owner mask, region codes, depth, views."""

    rgb: np.ndarray
    owner: np.ndarray
    depth: np.ndarray
    views: list[View]
    camera: Camera

    def vehicle_depth(self) -> np.ndarray:
        """Per-pixel depth with the objects' depths painted in."""
        lut = np.full(int(self.owner.max()) + 1, 0.0, dtype=np.float32)
        for view in self.views:
            lut[view.owner] = view.depth
        return np.where(self.owner >= FIRST_OWNER, lut[self.owner], self.depth)


@lru_cache(maxsize=None)
def _model_arrays(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """A model's parts flattened: per-vertex (a, v, is_side), per-part vertex offsets and colour roles."""
    parts = MODELS[kind]
    a = np.array([p[0] for _, poly, _ in parts for p in poly])
    v = np.array([p[1] for _, poly, _ in parts for p in poly])
    side = np.array([face == "side" for face, poly, _ in parts for _ in poly])
    offsets = np.cumsum([0] + [len(poly) for _, poly, _ in parts])
    return a, v, side, offsets, tuple(role for _, _, role in parts)


def _colour(thing: Thing, role: str) -> tuple[int, int, int]:
    """The colour of one part, never pure black (rasterize uses non-zero pixels as the silhouette;
    object colours are at least 1 per channel)."""
    if role == "side":
        r, g, b = thing.rgb
        return max(1, int(r * 0.72)), max(1, int(g * 0.72)), max(1, int(b * 0.72))
    if role == "light":
        return (250, 245, 215) if thing.oncoming else (200, 20, 25)
    if role.startswith("lamp_"):
        lit = role[-1] == thing.attrs.get("light", "g")[0]
        return _LAMPS[role[-1]] if lit else (45, 45, 45)
    if role == "window" and thing.kind == "traffic sign":
        return 250, 250, 250
    return _FIXED.get(role, thing.rgb)


_LAMPS = {"r": (240, 40, 30), "y": (245, 200, 30), "g": (40, 230, 90)}
_FIXED = {"window": (60, 75, 95), "wheel": (22, 22, 24), "trim": (40, 40, 44), "skin": (225, 185, 150)}


def _polygons(things: Sequence[Thing], camera: Camera) -> list[list[tuple[np.ndarray, tuple[int, int, int]]] | None]:
    """Projected part polygons (fixed-point pixels) of every thing, ``None`` for one too close to the camera.

    The side face shown is the one facing the camera (none when the camera is between the two sides). All
    things are projected in one call.
    """
    chunks, layout = [], []
    for thing in things:
        w, h, length = thing.dims
        a, v, side, offsets, roles = _model_arrays(thing.kind)
        eye = camera.baseline
        left, right = thing.x - w / 2, thing.x + w / 2
        side_x = left if eye < left else (right if eye > right else None)
        pts = np.empty((len(a), 3))
        pts[:, 0] = np.where(side, side_x if side_x is not None else 0.0, left + a * w)
        pts[:, 1] = thing.elevation + h * (1.0 - v)
        pts[:, 2] = np.where(side, thing.z + a * length, thing.z)
        chunks.append(pts)
        layout.append((side_x is not None and thing.kind not in FLAT_KINDS, side, offsets, roles))
    if not chunks:
        return []
    uv, depth = camera.project(np.concatenate(chunks))
    fixed = np.round(np.clip(uv, -1e6, 1e6) * _ONE).astype(np.int32)
    out: list[list[tuple[np.ndarray, tuple[int, int, int]]] | None] = []
    start = 0
    for thing, pts, (show_side, side, offsets, roles) in zip(things, chunks, layout):
        stop = start + len(pts)
        if depth[start:stop].min() < 1.0:
            out.append(None)
        else:
            mine = fixed[start:stop]
            out.append([(mine[offsets[i]:offsets[i + 1]], _colour(thing, role)) for i, role in enumerate(roles)
                        if show_side or not side[offsets[i]]])  # fmt: skip
        start = stop
    return out


def _clip_near(cam: np.ndarray, near: float = 0.5) -> np.ndarray:
    """Clip a convex polygon (camera coordinates) to the half-space ``z >= near``."""
    out = []
    for i in range(len(cam)):
        a, b = cam[i], cam[(i + 1) % len(cam)]
        if a[2] >= near:
            out.append(a)
        if (a[2] >= near) != (b[2] >= near):
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out)


def _fill(camera: Camera, quads: np.ndarray, colours: list[tuple[int, int, int]], code: int, rgb: np.ndarray,
          owner: np.ndarray, depth: np.ndarray | None = None, zs: np.ndarray | None = None) -> None:
    """Fill convex world polygons ``(N, K, 3)`` in order (clipped to the near plane) into the maps."""
    if len(quads) == 0:
        return
    n, k, _ = quads.shape
    cam = camera.to_camera(quads.reshape(-1, 3))
    uv, _ = camera.project_camera(cam)
    fixed = np.round(np.clip(uv, -1e5, 1e5) * _ONE).astype(np.int32).reshape(n, k, 2)
    cam = cam.reshape(n, k, 3)
    in_front = cam[:, :, 2].min(axis=1) >= 0.5
    for i in range(n):
        poly = fixed[i]
        if not in_front[i]:
            clipped = _clip_near(cam[i])
            if len(clipped) < 3:
                continue
            poly = np.round(np.clip(camera.project_camera(clipped)[0], -1e5, 1e5) * _ONE).astype(np.int32)
        cv2.fillConvexPoly(rgb, poly, colours[i], cv2.LINE_8, _SHIFT)
        cv2.fillConvexPoly(owner, poly, code, cv2.LINE_8, _SHIFT)
        if depth is not None and zs is not None:
            cv2.fillConvexPoly(depth, poly, float(zs[i]), cv2.LINE_8, _SHIFT)


def _strips(x: np.ndarray, z0: np.ndarray, z1: np.ndarray, half: float = 0.08) -> np.ndarray:
    """Flat ground quads ``(N, 4, 3)`` from ``x - half`` to ``x + half`` and ``z0`` to ``z1``."""
    zero = np.zeros_like(z0)
    return np.stack([np.stack([x - half, zero, z0], 1), np.stack([x + half, zero, z0], 1),
                     np.stack([x + half, zero, z1], 1), np.stack([x - half, zero, z1], 1)], axis=1)


#: A building facade: (x of the facade plane, first z, length, height, rgb).
Facade = tuple[float, float, float, float, tuple[int, int, int]]
STREET_PERIOD = 240.0
_MARK = (225, 225, 215)


@lru_cache(maxsize=32)
def _street_base(camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The static part of the street for one camera: sky, ground, road and its edge lines."""
    h, w = camera.height, camera.width
    horizon = int(np.clip(np.ceil(camera.cy - 0.5), 0, h))
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[:horizon] = _sky(w, horizon)
    rgb[horizon:] = (118, 122, 104)
    owner = np.full((h, w), GROUND, np.uint16)
    owner[:horizon] = SKY
    depth = np.repeat(camera.ground_depth()[:, None], w, axis=1)
    one = np.ones(1)
    _fill(camera, _strips(0 * one, one, 300 * one, half=8.5), [(92, 92, 96)], ROAD, rgb, owner)
    edges = np.array([-8.2, 8.2])
    _fill(camera, _strips(edges, np.ones(2), np.full(2, 300.0)), [_MARK] * 2, MARK, rgb, owner)
    for array in (rgb, owner, depth):
        array.setflags(write=False)
    return rgb, owner, depth


def paint_background(camera: Camera, travelled: float, facades: list[Facade], rgb: np.ndarray,
                     owner: np.ndarray, depth: np.ndarray) -> None:
    """Sky, ground, road, building facades and lane marks for an ego that has ``travelled`` metres."""
    for target, base in zip((rgb, owner, depth), _street_base(camera)):
        np.copyto(target, base)
    if facades:
        x, z0, length, height = (np.array([f[i] for f in facades], dtype=float) for i in range(4))
        za = (z0 - travelled) % STREET_PERIOD - 20.0
        zb = za + length
        za = np.maximum(za, 1.0)
        keep = np.flatnonzero(zb > za)
        keep = keep[np.argsort(-za[keep])]
        x, za, zb, height = x[keep], za[keep], zb[keep], height[keep]
        zero = np.zeros_like(x)
        quads = np.stack([np.stack([x, zero, za], 1), np.stack([x, height, za], 1),
                          np.stack([x, height, zb], 1), np.stack([x, zero, zb], 1)], axis=1)
        _fill(camera, quads, [facades[i][4] for i in keep], BUILDING, rgb, owner, depth, (za + zb) / 2)
    starts = np.arange(-(travelled % 9.0), 90.0, 9.0) + 2.0
    starts = starts[starts + 3.0 > 1.0]
    lanes = np.repeat(np.array([-5.25, -1.75, 1.75, 5.25]), len(starts))
    z0 = np.tile(starts, 4)
    _fill(camera, _strips(lanes, np.maximum(z0, 1.0), z0 + 3.0), [_MARK] * len(lanes), MARK, rgb, owner)


@lru_cache(maxsize=16)
def _sky(width: int, rows: int) -> np.ndarray:
    """A light-blue sky gradient of ``rows`` rows (cached per size; callers copy it)."""
    t = np.linspace(0.0, 1.0, max(rows, 1), dtype=np.float32)[:, None, None]
    top, bottom = np.array([95, 150, 225], np.float32), np.array([190, 215, 240], np.float32)
    sky = (top * (1 - t) + bottom * t).astype(np.uint8)
    return np.repeat(sky, width, axis=1)[:rows]


def rasterize(camera: Camera, things: list[Thing], travelled: float = 0.0,
              facades: list[Facade] | None = None, background: bool = True, paint: bool = True) -> Raster:
    """Paint the background, then ``things`` far-to-near; returns the image, owner mask and views.

    Each thing's silhouette is drawn in its own patch first, so its full pixel count (for truncation) is
    known; pasting far-to-near makes ``visible_pixels`` exact for every view. Things wholly outside the
    image or behind the camera get no view. ``background=False`` skips the street and ``paint=False`` the
    colours (labels-only use: the owner mask and views are the same).
    """
    height, width = camera.height, camera.width
    rgb = np.empty((height, width, 3), np.uint8)
    owner = np.empty((height, width), np.uint16)
    depth = np.empty((height, width), np.float32)
    if background:
        paint_background(camera, travelled, facades or [], rgb, owner, depth)
    else:
        rgb[:], owner[:], depth[:] = 0, SKY, SKY_DEPTH
    centres = camera.to_camera(np.array([[t.x, 0.0, t.z] for t in things]).reshape(-1, 3))
    xc, zc = centres[:, 0], centres[:, 2]
    reach = np.array([t.dims[0] + t.dims[2] for t in things]).reshape(-1)
    in_view = (zc > 0.5) & (np.abs(xc) - reach < (zc + reach) * (camera.width / 2 + 2) / camera.f)
    views: list[View] = []
    order = [int(i) for i in np.argsort(-zc, kind="stable") if in_view[i]]
    for i, polys in zip(order, _polygons([things[i] for i in order], camera)):
        thing = things[i]
        if not polys:
            continue
        pts = np.concatenate([p for p, _ in polys]) >> _SHIFT
        x0, y0 = (pts.min(axis=0) - 1).tolist()
        x1, y1 = (pts.max(axis=0) + 2).tolist()
        if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height or (x1 - x0) * (y1 - y0) > 16 * width * height:
            continue
        offset = np.array([x0, y0], np.int32) << _SHIFT
        patch = np.zeros((y1 - y0, x1 - x0, 3 if paint else 1), np.uint8)
        for poly, colour in polys:
            cv2.fillConvexPoly(patch, poly - offset, colour if paint else 1, cv2.LINE_8, _SHIFT)
        # part colours are >= 1 per channel, so the grey patch is non-zero exactly on the silhouette
        mask = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY) if paint else patch[:, :, 0]
        full = cv2.countNonZero(mask)
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        sub = mask[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        inside = cv2.countNonZero(sub) if sub.size else 0
        if full == 0 or inside == 0:
            continue
        bx, by, bw, bh = cv2.boundingRect(sub)
        code = FIRST_OWNER + len(views)
        sel = sub > 0
        owner[cy0:cy1, cx0:cx1][sel] = code
        if paint:
            rgb[cy0:cy1, cx0:cx1][sel] = patch[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0][sel]
        views.append(View(thing, code, cx0 + bx, cy0 + by, cx0 + bx + bw - 1, cy0 + by + bh - 1, full, inside,
                          depth=float(zc[i])))
    if views:
        counts = np.bincount(owner.ravel(), minlength=FIRST_OWNER + len(views))
        for view in views:
            view.visible_pixels = int(counts[view.owner])
    return Raster(rgb, owner, depth, views, camera)
