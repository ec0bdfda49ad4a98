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
frame by frame (the "real" and the synthetic render of one world). What the scenes contain is
:mod:`.streets`'s; the label lines and records are :mod:`.labels`'s.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from photosynth.atomic import write_text
from photosynth.datasets.bdd100k import BDD_IMAGE_SIZE as BDD_SIZE
from photosynth.design import ORACLE, SCENE_SEQUENCES, SOURCES
from photosynth.imageio import write_image
from photosynth.toyworld.labels import bdd_name, bdd_record, has_label, kitti_line, vkitti_line
from photosynth.toyworld.scene import Camera, Raster, rasterize
from photosynth.toyworld.streets import (
    BDD_TIME_MIX,
    BDD_WEATHER_MIX,
    Street,
    bdd_conditions,
    bdd_things,
    oracle_count,
    oracle_weathers,
    street_facades,
)  # fmt: skip
from photosynth.toyworld.style import VARIATIONS, real, synthetic

VERSION = 2  # bump when the rendering changes: a manifest of another version is regenerated
KITTI_SIZE = (1242, 375)
#: KITTI object images come in these sizes (DESIGN §4); most are the first.
KITTI_OBJECT_SIZES = ((1242, 375), (1241, 376), (1238, 374), (1224, 370))

STEREO_BASELINE = 0.532


def oracle_path(root: str | Path, weather: str, scene: str, frame: int) -> Path:
    """Where the oracle render of clone Camera_0 frame ``frame`` of ``scene`` in ``weather`` lies under ``root``."""
    return Path(root) / ORACLE / weather / scene / "clone" / "frames" / "rgb" / "Camera_0" / f"rgb_{frame:05d}.jpg"


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
                                   sorted(raster.views, key=lambda v: v.thing.track_id) if has_label(v)]
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
            lines = [kitti_line(v, self.min_height) for v in raster.views if has_label(v)]
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
            name = bdd_name(rng, index)
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
