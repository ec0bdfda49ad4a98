"""BDD100K reader: three label layouts, streaming, quirks (DESIGN §6), policy and reconciliation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from photosynth.datasets.bdd100k import BDD_IMAGE_SIZE, bdd_frames, label_source, read_bdd100k
from photosynth.datasets.classes import bdd_class_map
from photosynth.datasets.convert import convert_bdd100k
from photosynth.datasets.report import ConversionReport, DatasetError
from photosynth.imageio import write_image

W, H = 64, 36


def label(category: str, box: tuple[float, ...] | None = (1, 2, 30, 20), ident: Any = 1, **attributes: Any) -> dict:
    entry: dict[str, Any] = {"id": ident, "category": category, "manualShape": True, "manualAttributes": True,
                             "attributes": {"occluded": False, "truncated": False, "trafficLightColor": "none",
                                            **attributes}}  # fmt: skip
    if box is None:
        entry["poly2d"] = [{"vertices": [[0, 0], [5, 5], [0, 5]], "types": "LLL", "closed": True}]
    else:
        entry["box2d"] = dict(zip(("x1", "y1", "x2", "y2"), box))
    return entry


def frame(name: str, labels: Any, weather: str = "rainy", **extra: Any) -> dict:
    return {"name": name, "attributes": {"weather": weather, "scene": "city street", "timeofday": "daytime"},
            "timestamp": 10000, "labels": labels, **extra}  # fmt: skip


def bdd_root(tmp_path: Path, frames: list[dict], layout: str = "2018", images: list[str] | None = None) -> Path:
    root = tmp_path / "bdd100k"
    for name in images if images is not None else [f["name"] for f in frames]:
        write_image(root / "images" / "100k" / "val" / name, np.zeros((H, W, 3), np.uint8))
    if layout == "per_image":
        for f in frames:
            folder = root / "labels" / "100k" / "val"
            folder.mkdir(parents=True, exist_ok=True)
            stem = f["name"].removesuffix(".jpg")
            record = {"name": stem, "attributes": f["attributes"], "frames": [{"timestamp": 0, "objects": f["labels"]}]}
            (folder / f"{stem}.json").write_text(json.dumps(record))
        return root
    path = root / "labels" / ("bdd100k_labels_images_val.json" if layout == "2018" else "det_20/det_val.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(frames))
    return root


def test_2018_list(tmp_path: Path) -> None:
    frames = [
        frame("b1c66a42-6f7d68ca.jpg", [
            label("car", ident=5, occluded=True), label("truck", (10, 10, 80, 30), ident=6),
            label("person", ident=7), label("bus", ident=8), label("drivable area", None, ident=9),
            label("lane", None, ident=10),
        ]),
        frame("b1c81faa-3df17267.jpg", [], weather="foggy"),
    ]  # fmt: skip
    root = bdd_root(tmp_path, frames)
    report = ConversionReport()
    out = list(read_bdd100k(root, report=report))
    assert [(f.key, f.width, f.height, f.weather) for f in out] == [
        ("b1c66a42-6f7d68ca", W, H, "rainy"), ("b1c81faa-3df17267", W, H, "foggy")]  # fmt: skip
    car, truck, person, bus = out[0].boxes
    assert (car.cls, car.occluded, car.occlusion_raw, car.track_id) == ("Car", True, True, 5)
    assert (truck.cls, truck.x2, truck.occluded) == ("Truck", W, False)  # clipped at the 64-px border
    assert (person.cls, bus.cls) == (None, None)
    assert (out[0].scene, out[0].timeofday, out[0].source["layout"]) == ("city street", "daytime", "2018")
    assert report.boxes_in == 4 and report.non_box == {"drivable area": 1, "lane": 1}
    assert report.unmapped == {"person": 1, "bus": 1}
    mapped = list(read_bdd100k(root, class_map=bdd_class_map({"bus": "Truck"})))
    assert mapped[0].boxes[3].cls == "Truck"


def test_det20_string_ids_missing_and_null_labels_capitalised_keys(tmp_path: Path) -> None:
    capital = label("car", ident="00001234")
    capital["attributes"] = {"Occluded": True, "Truncated": False, "trafficLightColor": "NA"}
    frames = [frame("a.jpg", [capital, label("pedestrian", ident="2"), label("other vehicle", ident="3")]),
              frame("b.jpg", None), {k: v for k, v in frame("c.jpg", []).items() if k != "labels"}]  # fmt: skip
    root = bdd_root(tmp_path, frames, layout="det_20")
    assert label_source(root, "val") == ("det_20", root / "labels" / "det_20" / "det_val.json")
    report = ConversionReport()
    out = list(read_bdd100k(root, report=report))
    assert [len(f.boxes) for f in out] == [3, 0, 0]
    car = out[0].boxes[0]
    assert (car.track_id, car.occluded, car.truncation) == ("00001234", True, 0.0)
    assert report.unmapped == {"pedestrian": 1, "other vehicle": 1}


def test_per_image_files(tmp_path: Path) -> None:
    frames = [frame("x1.jpg", [label("car", occluded=True)]), frame("x2.jpg", [label("truck")], weather="snowy")]
    root = bdd_root(tmp_path, frames, layout="per_image")
    out = list(read_bdd100k(root))
    assert [(f.key, f.weather, f.boxes[0].cls, f.image.name) for f in out] == [
        ("x1", "rainy", "Car", "x1.jpg"), ("x2", "snowy", "Truck", "x2.jpg")]  # fmt: skip
    with pytest.raises(FileNotFoundError, match="no BDD100K labels for split 'train'"):
        list(read_bdd100k(root, split="train"))


def test_attributes_as_json_booleans_or_strings(tmp_path: Path) -> None:
    """``"false"`` is false (``bool("false")`` is True: the bug this pins), in any case, beside JSON booleans."""
    labels = [label("car", occluded="false", truncated="false"), label("car", occluded="TRUE", truncated="True"),
              label("car", occluded=True, truncated=False), label("car", occluded=" False ", truncated="fALSE")]
    labels.append({k: v for k, v in label("car").items() if k != "attributes"})  # no attributes at all
    root = bdd_root(tmp_path, [frame("a.jpg", labels)])
    boxes = next(read_bdd100k(root)).boxes
    assert [(b.occluded, b.occlusion_raw, b.truncation) for b in boxes] == [
        (False, False, 0.0), (True, True, 1.0), (True, True, 0.0), (False, False, 0.0), (False, None, None)]


def _good() -> dict:
    return label("car")


#: (frame-level or label-level problem, rejection reason, message fragment, boxes rejected)
BAD_FRAMES = [
    (frame("../x.jpg", [_good()]), "unsafe_name", "expected a relative image name", 1),
    (frame("/etc/x.jpg", [_good()]), "unsafe_name", "expected a relative image name", 1),
    (frame("missing.jpg", [_good(), _good()]), "missing_image", "does not exist", 2),
    (frame("corrupt.jpg", [_good()]), "corrupt_image", "expected a readable image", 1),
    (frame("ok2.jpg", [label("car", ("nan", 1, 5, 5))]), "not_finite", "expected finite", 1),
    (frame("ok2.jpg", [label("car", (9, 1, 5, 5))]), "inverted", "expected x1 <= x2", 1),
    (frame("ok2.jpg", [label("car", (100, 1, 120, 5))]), "outside_image", "expected a box overlapping", 1),
    (frame("ok2.jpg", [{"id": 1, "category": "car", "attributes": {}}]), "no_geometry", "expected 'box2d'", 1),
    (frame("ok2.jpg", {"car": 1}), "bad_entry", "expected 'labels' to be a list", 0),
    (frame("ok2.jpg", [label("car", occluded="yes")]), "bad_attribute", "expected 'occluded' true or false", 1),
    (frame("ok2.jpg", [label("car", truncated=1)]), "bad_attribute", "expected 'truncated' true or false", 1),
    (frame("ok2.jpg", [label("car", occluded=None, truncated="0")]), "bad_attribute", "got '0'", 1),
]


@pytest.mark.parametrize(("bad", "reason", "message", "lost"), BAD_FRAMES)
def test_bad_input_strict_and_lenient(tmp_path: Path, bad: dict, reason: str, message: str, lost: int) -> None:
    frames = [frame("ok1.jpg", [_good(), label("person")]), bad]
    root = bdd_root(tmp_path, frames, images=["ok1.jpg", "ok2.jpg", "corrupt.jpg"])
    (root / "images" / "100k" / "val" / "corrupt.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    with pytest.raises(DatasetError, match=rf"bdd100k_labels_images_val\.json: entry 1 .*{message}"):
        list(read_bdd100k(root))
    report = convert_bdd100k(root, tmp_path / "out", lenient=True)
    assert (report.boxes_in, report.boxes_out, dict(report.unmapped)) == (2 + lost, 1, {"person": 1})
    assert dict(report.rejected) == {reason: lost}
    assert not (tmp_path / "x.jpg").exists() and not list((tmp_path / "out").rglob("*x.jpg"))


def test_reader_streams_frames_before_the_end_of_the_file(tmp_path: Path) -> None:
    """The first frames come out although the file is cut off later (a whole-file load would fail first)."""
    root = bdd_root(tmp_path, [frame("ok1.jpg", [_good()]), frame("ok2.jpg", [])])
    path = root / "labels" / "bdd100k_labels_images_val.json"
    path.write_text(path.read_text()[:-1] + ', {"name": "ok3.jpg", "labels": [{"cate')
    stream = read_bdd100k(root)
    assert next(stream).key == "ok1" and next(stream).key == "ok2"
    with pytest.raises(DatasetError, match=r"bdd100k_labels_images_val\.json: expected a JSON list"):
        next(stream)
    report = ConversionReport(strict=False)
    assert [f.key for f in read_bdd100k(root, report=report)] == ["ok1", "ok2"]
    assert report.frames_rejected == {"bad_json": 1}


def test_frames_from_a_generator_are_built_one_at_a_time() -> None:
    pulled: list[int] = []

    def records() -> Iterator[dict]:
        for i in range(1000):
            pulled.append(i)
            yield frame(f"f{i}.jpg", [_good()])

    frames = bdd_frames(records(), Path("/nowhere"), "gen", {"split": "val"}, image_size=BDD_IMAGE_SIZE)
    first = next(frames)
    assert (first.key, first.width, first.height, len(pulled)) == ("f0", 1280, 720, 1)


def test_per_image_file_that_is_not_json(tmp_path: Path) -> None:
    root = bdd_root(tmp_path, [frame("x1.jpg", [_good()])], layout="per_image")
    broken = root / "labels" / "100k" / "val" / "x0.json"
    broken.write_text('{"name": "x0", "frames": [')
    with pytest.raises(DatasetError, match=r"x0\.json: expected a JSON object"):
        list(read_bdd100k(root))
    report = ConversionReport(strict=False)
    assert [f.key for f in read_bdd100k(root, report=report)] == ["x1"]
    assert report.frames_rejected == {"bad_json": 1} and report.rejections[0].where == str(broken)
