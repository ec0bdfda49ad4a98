"""YOLO and COCO writers: round trip, ultralytics and pycocotools load them, nothing escapes the output."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from photosynth.datasets.coco import CocoIndex, CocoWriter
from photosynth.datasets.convert import write_dataset
from photosynth.datasets.report import ConversionReport
from photosynth.datasets.yolo import YoloWriter, read_yolo
from photosynth.frames import Box, Frame
from photosynth.imageio import write_image


def frames(tmp_path: Path) -> list[Frame]:
    """Two frames of different sizes and suffixes, nested keys, mapped and unmapped boxes."""
    a = write_image(tmp_path / "src" / "a.png", np.full((37, 62, 3), 90, np.uint8))
    b = write_image(tmp_path / "src" / "b.jpg", np.full((40, 50, 3), 90, np.uint8))
    return [
        Frame(a, 62, 37, "test", "Scene01/clone/Camera_0/00000", boxes=[
            Box(1.25, 2.5, 30.0, 20.75, "Car", "Car", occluded=True),
            Box(40.0, 3.0, 62.0, 37.0, "Truck", "Truck"),
            Box(5.0, 5.0, 9.0, 9.0, "Pedestrian", None),
        ], weather="fog"),
        Frame(b, 50, 40, "test", "Scene01/clone/Camera_0/00001", boxes=[Box(0.0, 0.0, 10.5, 12.0, "Van", "Van")]),
    ]  # fmt: skip


def counted(items: list[Frame], report: ConversionReport) -> Iterator[Frame]:
    """Hand-made frames passed through the report as a reader would."""
    for frame in items:
        report.frames_in += 1
        report.boxes_in += len(frame.boxes)
        yield report.accept(frame)


def test_yolo_round_trip_and_layout(tmp_path: Path) -> None:
    source = frames(tmp_path)
    report = ConversionReport()
    write_dataset(counted(source, report), tmp_path / "out", split="train", report=report, mode="link")
    assert (report.frames_out, report.boxes_out, dict(report.unmapped)) == (2, 3, {"Pedestrian": 1})
    out = tmp_path / "out"
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["path"] == str(out.absolute()) and Path(data["path"]).is_absolute()
    assert (data["train"], data["val"], data["names"]) == ("images/train", "images/train", {0: "Car", 1: "Van", 2: "Truck"})
    image = out / "images" / "train" / "Scene01" / "clone" / "Camera_0" / "00000.png"
    assert image.is_symlink() and os.readlink(image) == str(source[0].image.absolute())
    lines = (out / "labels" / "train" / "Scene01" / "clone" / "Camera_0" / "00000.txt").read_text().splitlines()
    assert lines[1] == f"2 {51 / 62:.6f} {20 / 37:.6f} {22 / 62:.6f} {34 / 37:.6f}"
    back = list(read_yolo(out / "data.yaml", "train"))
    assert [f.key for f in back] == [f.key for f in source]
    for original, read in zip(source, back):
        assert (read.width, read.height) == (original.width, original.height)
        assert len(read.boxes) == len(original.mapped_boxes)
        for want, got in zip(original.mapped_boxes, read.boxes):
            assert got.cls == want.cls
            assert np.allclose([got.x1, got.y1, got.x2, got.y2], [want.x1, want.y1, want.x2, want.y2], atol=1e-3)


def test_copy_mode_copies(tmp_path: Path) -> None:
    writer = YoloWriter(tmp_path / "out", mode="copy")
    writer.add(frames(tmp_path)[1], "val")
    path = writer.close()
    copied = tmp_path / "out" / "images" / "val" / "Scene01" / "clone" / "Camera_0" / "00001.jpg"
    assert copied.is_file() and not copied.is_symlink()
    assert yaml.safe_load(path.read_text())["train"] == "images/val"


@pytest.mark.parametrize("key", ["../x", "/abs/x", "a/../../x"])
def test_writer_refuses_keys_outside_the_output(tmp_path: Path, key: str) -> None:
    frame = frames(tmp_path)[0]
    frame.key = key
    with pytest.raises(ValueError, match="outside the output folder"):
        YoloWriter(tmp_path / "out").add(frame, "train")
    assert not (tmp_path / "x.png").exists()


def test_coco_loads_in_pycocotools(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    with CocoWriter(tmp_path / "coco.json") as writer:
        ids = [writer.add(f, f"{f.key}{f.image.suffix}") for f in frames(tmp_path)]
    coco = COCO(str(tmp_path / "coco.json"))
    assert ids == [1, 2] and sorted(coco.getImgIds()) == [1, 2]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["Car", "Van", "Truck"]
    assert coco.getCatIds(catNms=["Truck"]) == [3]
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert [(a["category_id"], a["bbox"]) for a in anns] == [(1, [1.25, 2.5, 28.75, 18.25]), (3, [40.0, 3.0, 22.0, 34.0])]
    assert anns[0]["area"] == pytest.approx(28.75 * 18.25) and anns[0]["occluded"] is True
    assert coco.loadImgs([1])[0]["weather"] == "fog" and coco.loadImgs([2])[0]["width"] == 50
    index = CocoIndex(tmp_path / "coco.json")
    assert index.id_for("/any/where/images/val/Scene01/clone/Camera_0/00001.jpg") == 2
    with pytest.raises(KeyError, match="no image with a matching file_name"):
        index.id_for("/elsewhere/00009.jpg")


def test_ultralytics_loads_the_dataset_as_is(tmp_path: Path) -> None:
    from photosynth.runtime import ultralytics_module

    ultralytics_module()
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    report = ConversionReport()
    write_dataset(counted(frames(tmp_path), report), tmp_path / "out", split="train", report=report)
    data = check_det_dataset(str(tmp_path / "out" / "data.yaml"), autodownload=False)
    assert data["nc"] == 3 and Path(data["train"]).is_dir()
    dataset = YOLODataset(img_path=data["train"], data=data, task="detect", augment=False, imgsz=64)
    labels = sorted(dataset.labels, key=lambda item: item["im_file"])
    assert [lab["cls"].ravel().tolist() for lab in labels] == [[0.0, 2.0], [1.0]]
    assert [tuple(lab["shape"]) for lab in labels] == [(37, 62), (40, 50)]
