"""Tiny YOLO datasets for detector/evaluation tests: a few small images with coloured rectangles.

Writes ``images/{train,val}``, ``labels/{train,val}``, ``data.yaml`` (absolute ``path``) and ``coco.json`` (the
val split, COCO category id = class index + 1), the layout of the workspace's mixes and evaluation splits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from photosynth.frames import CLASSES

COLOURS = ((220, 30, 30), (30, 200, 30), (30, 30, 220))


def make_dataset(root: Path, n_train: int = 8, n_val: int = 4, size: int = 64, seed: int = 0,
                 classes: tuple[int, ...] = (0, 2)) -> Path:
    """Write a tiny dataset under ``root`` and return its ``data.yaml``."""
    rng = np.random.default_rng(seed)
    coco: dict = {"images": [], "annotations": [], "categories": [
        {"id": i + 1, "name": name} for i, name in enumerate(CLASSES)]}
    for split, count in (("train", n_train), ("val", n_val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            pixels = np.full((size, size, 3), 128, np.uint8) + rng.integers(0, 20, (size, size, 3), dtype=np.uint8)
            lines = []
            name = f"{split}_{index:03d}.png"
            if split == "val":
                coco["images"].append({"id": 100 + index, "file_name": f"images/val/{name}",
                                       "width": size, "height": size})
            for _ in range(int(rng.integers(1, 3))):
                cls = int(rng.choice(classes))
                w, h = (int(v) for v in rng.integers(size // 5, size // 2, 2))
                x, y = int(rng.integers(0, size - w)), int(rng.integers(0, size - h))
                pixels[y:y + h, x:x + w] = COLOURS[cls]
                lines.append(f"{cls} {(x + w / 2) / size:.6f} {(y + h / 2) / size:.6f} {w / size:.6f} {h / size:.6f}")
                if split == "val":
                    coco["annotations"].append({
                        "id": len(coco["annotations"]) + 1, "image_id": 100 + index, "category_id": cls + 1,
                        "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})
            Image.fromarray(pixels).save(root / "images" / split / name)
            (root / "labels" / split / name.replace(".png", ".txt")).write_text("\n".join(lines) + "\n")
    data = root / "data.yaml"
    data.write_text(yaml.safe_dump({"path": str(root.resolve()), "train": "images/train", "val": "images/val",
                                    "names": dict(enumerate(CLASSES))}))
    (root / "coco.json").write_text(json.dumps(coco))
    return data
