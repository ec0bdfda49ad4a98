"""COCO-results export on non-square frames (1280×720 BDD, 1242×375 KITTI) predicted at a smaller ``imgsz``.

The model is a TorchScript "detector" that finds pure red / green / blue rectangles in whatever letterboxed batch
ultralytics feeds it and reports their boxes in that batch's pixels: the boxes are known in the original frames,
so the test checks ultralytics' letterbox → NMS → rescale path and our export together, through
:func:`photosynth.detect.predict`, without a trained network.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from photosynth import detect, runtime
from photosynth.frames import CLASSES
from photosynth.imageio import write_image

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:FutureWarning")
IMGSZ = 320
#: Frame name → (width, height) and its rectangles: colour channel (0 red, 1 green, 2 blue), x1, y1, x2, y2.
FRAMES = {
    "bdd.png": ((1280, 720), [(0, 100, 200, 300, 400), (1, 700, 300, 1100, 650)]),
    "kitti.png": ((1242, 375), [(0, 40, 150, 240, 300), (2, 900, 100, 1200, 360)]),
}


def rectangle_detector(path: Path, classes: list[int], names: dict[int, str]) -> Path:
    """A TorchScript model in ultralytics' export layout: channel ``c``'s rectangle is class ``classes[c]``."""
    import torch

    class Rectangles(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.nc = len(names)
            self.classes = classes

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = torch.zeros(x.shape[0], 4 + self.nc, 3, dtype=x.dtype, device=x.device)
            for b in range(x.shape[0]):
                for c in range(3):
                    others = torch.cat([x[b, :c], x[b, c + 1:]]).amax(0)
                    mask = (x[b, c] > 0.6) & (others < 0.4)
                    rows, cols = torch.nonzero(mask.any(1)).flatten(), torch.nonzero(mask.any(0)).flatten()
                    if rows.numel() > 0:
                        x1, x2 = cols.min().to(x.dtype), cols.max().to(x.dtype) + 1
                        y1, y2 = rows.min().to(x.dtype), rows.max().to(x.dtype) + 1
                        out[b, 0, c], out[b, 1, c] = (x1 + x2) / 2, (y1 + y2) / 2
                        out[b, 2, c], out[b, 3, c] = x2 - x1, y2 - y1
                        out[b, 4 + self.classes[c], c] = 0.9
            return out

    metadata = {"task": "detect", "names": names, "stride": 32, "imgsz": [IMGSZ, IMGSZ], "batch": 1,
                "description": "test rectangle detector"}  # fmt: skip
    torch.jit.save(torch.jit.script(Rectangles()), str(path), _extra_files={"config.txt": json.dumps(metadata)})
    return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, runtime.Workspace]:
    root = tmp_path_factory.mktemp("nonsquare")
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(CLASSES)]
    coco: dict = {"images": [], "annotations": [], "categories": categories}
    for image_id, (name, ((width, height), rects)) in enumerate(FRAMES.items(), start=1):
        pixels = np.full((height, width, 3), 40, np.uint8)
        for channel, x1, y1, x2, y2 in rects:
            pixels[y1:y2, x1:x2] = 30
            pixels[y1:y2, x1:x2, channel] = 255
        write_image(root / "images" / "val" / name, pixels)
        coco["images"].append({"id": image_id, "file_name": f"images/val/{name}", "width": width, "height": height})
    (root / "coco.json").write_text(json.dumps(coco))
    data = root / "data.yaml"
    data.write_text(yaml.safe_dump({"path": str(root), "val": "images/val", "names": dict(enumerate(CLASSES))}))
    return data, root / "coco.json", runtime.Workspace(root / "ws")


def test_boxes_come_back_in_original_pixels_with_coco_ids(dataset, tmp_path: Path) -> None:
    data, coco, ws = dataset
    weights = rectangle_detector(tmp_path / "rectangles.torchscript", [0, 2, 1], dict(enumerate(CLASSES)))
    out = detect.predict(weights, data, coco, tmp_path / "val.json", detect.PredictSettings(imgsz=IMGSZ, batch=2),
                         workspace=ws, progress=False)  # fmt: skip
    results = json.loads(out.read_text())
    ids = {entry["file_name"].split("/")[-1]: entry["id"] for entry in json.loads(coco.read_text())["images"]}
    classes = {0: 0, 1: 2, 2: 1}  # red → Car, green → Truck, blue → Van
    for name, ((width, _height), rects) in FRAMES.items():
        got = sorted((r for r in results if r["image_id"] == ids[name]), key=lambda r: r["bbox"][0])
        assert len(got) == len(rects), name
        tolerance = max(FRAMES[name][0]) / IMGSZ + 0.5  # one pixel of the letterboxed image, in original pixels
        for entry, (channel, x1, y1, x2, y2) in zip(got, sorted(rects, key=lambda r: r[1])):
            assert entry["category_id"] == classes[channel] + 1  # COCO category id = class index + 1
            assert entry["score"] == pytest.approx(0.9, abs=1e-6)
            assert entry["bbox"] == pytest.approx([x1, y1, x2 - x1, y2 - y1], abs=tolerance), (name, entry)
            assert entry["bbox"][0] + entry["bbox"][2] <= width + 1e-6


def test_a_class_outside_the_study_is_a_clear_error(dataset, tmp_path: Path) -> None:
    data, coco, ws = dataset
    names = {**dict(enumerate(CLASSES)), 3: "Tram"}
    weights = rectangle_detector(tmp_path / "tram.torchscript", [0, 2, 3], names)  # blue → class 3
    with pytest.raises(ValueError, match=r"class index 3, outside the study classes \('Car', 'Van', 'Truck'\)"):
        detect.predict(weights, data, coco, tmp_path / "val.json", detect.PredictSettings(imgsz=IMGSZ),
                       workspace=ws, progress=False)  # fmt: skip
    assert not (tmp_path / "val.json").exists()
