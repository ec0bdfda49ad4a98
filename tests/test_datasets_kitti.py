"""KITTI object and tracking readers: DESIGN §6 quirks, strict/lenient policy, reconciliation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from photosynth.datasets.convert import convert_kitti, convert_kitti_tracking
from photosynth.datasets.kitti import read_kitti_object, read_kitti_tracking
from photosynth.datasets.report import ConversionReport, DatasetError
from photosynth.imageio import write_image

FILLER = "-1 -1 -10 {} -1 -1 -1 -1000 -1000 -1000 -10"


def image(path: Path, width: int, height: int) -> Path:
    return write_image(path, np.zeros((height, width, 3), np.uint8))


def obj(kind: str, box: str, trunc: str = "0.00", occ: str = "0") -> str:
    return f"{kind} {trunc} {occ} -1.5 {box} 1.5 1.6 3.9 1.0 1.5 20.0 0.1"


def object_root(tmp_path: Path, lines: list[str], size: tuple[int, int] = (62, 37)) -> Path:
    root = tmp_path / "kitti_object"
    (root / "training" / "label_2").mkdir(parents=True)
    (root / "training" / "label_2" / "000000.txt").write_text("\n".join(lines) + "\n")
    image(root / "training" / "image_2" / "000000.png", *size)
    return root


def tracking_root(tmp_path: Path, rows: list[str], frames: int = 3) -> Path:
    root = tmp_path / "kitti_tracking"
    (root / "training" / "label_02").mkdir(parents=True)
    (root / "training" / "label_02" / "0001.txt").write_text("\n".join(rows) + "\n")
    for f in range(frames):
        image(root / "training" / "image_02" / "0001" / f"{f:06d}.png", 60 + f, 30)
    return root


def test_object_reader_quirks(tmp_path: Path) -> None:
    lines = [
        obj("Car", "10.00 5.00 61.00 20.00", occ="1"),  # touches the right border of a 62-wide image
        obj("Van", "1.0 1.0 5.0 6.0", occ="3"),  # 3 = unknown, not occluded
        obj("Truck", "2 2 8 9", trunc="0.45", occ="2") + " 0.93",  # 16th field: score
        obj("Pedestrian", "3 3 4 8"),
        "DontCare " + FILLER.format("20.5 3.0 30.0 12.0"),
    ]
    root = object_root(tmp_path, lines)
    image(root / "training" / "image_2" / "000001.png", 50, 40)  # second frame, other size
    (root / "training" / "label_2" / "000001.txt").write_text("")
    report = ConversionReport()
    frames = list(read_kitti_object(root, report=report))
    assert [(f.key, f.width, f.height) for f in frames] == [("000000", 62, 37), ("000001", 50, 40)]
    boxes = frames[0].boxes
    assert [(b.source_class, b.cls, b.occluded, b.occlusion_raw) for b in boxes] == [
        ("Car", "Car", True, 1), ("Van", "Van", False, 3), ("Truck", "Truck", True, 2),
        ("Pedestrian", None, False, 0), ("DontCare", None, False, -1),
    ]  # fmt: skip
    assert (boxes[0].x1, boxes[0].y1, boxes[0].x2, boxes[0].y2) == (10.0, 5.0, 61.0, 20.0)
    assert boxes[2].truncation == pytest.approx(0.45)
    assert report.boxes_in == 5 and report.unmapped == {"Pedestrian": 1, "DontCare": 1}


def test_tracking_reader_groups_frames_and_keeps_empty_ones(tmp_path: Path) -> None:
    rows = [
        "0 3 Car 1 0 -1.7 1 2 30 20 1.5 1.6 3.9 1 1.5 20 0.1",  # int truncation level 1
        "0 -1 DontCare -1 -1 -10 40 2 50 10 " + "-1 -1 -1 -1000 -1000 -1000 -10",
        "2 3 Car 0 2 -1.7 5 5 100 25 1.5 1.6 3.9 1 1.5 20 0.1",  # x2 beyond 62 → clipped
        "2 7 Truck 2 1 -1.7 0 0 9 9 1.5 1.6 3.9 1 1.5 20 0.1",
    ]
    root = tracking_root(tmp_path, rows)
    frames = list(read_kitti_tracking(root))
    assert [f.key for f in frames] == ["0001/000000", "0001/000001", "0001/000002"]
    assert [f.width for f in frames] == [60, 61, 62]
    assert frames[1].boxes == []
    car, dontcare = frames[0].boxes
    assert (car.track_id, car.truncation, dontcare.track_id, dontcare.cls) == (3, 1.0, -1, None)
    clipped = frames[2].boxes[0]
    assert (clipped.x2, clipped.occluded, clipped.occlusion_raw) == (62.0, True, 2)
    assert frames[2].source == {"split": "training", "sequence": "0001", "frame": 2,
                                "label_file": str(root / "training" / "label_02" / "0001.txt")}  # fmt: skip


def test_tracking_rejects_fractional_truncation(tmp_path: Path) -> None:
    root = tracking_root(tmp_path, ["0 3 Car 0.5 0 -1.7 1 2 30 20 1.5 1.6 3.9 1 1.5 20 0.1"], frames=1)
    with pytest.raises(DatasetError, match=r"0001\.txt:1: expected integer truncated"):
        list(read_kitti_tracking(root))


GOOD = obj("Car", "1 1 20 20")
#: (bad line, rejection reason); every line lands in frame 000000 of a 62×37 image.
BAD_LINES = [
    ("Car 0.00 0 -1.5 10 5", "field_count"),  # truncated line
    (GOOD + " 0.9 extra", "field_count"),  # wrong field count
    (obj("Car", "nan 1 20 20"), "not_finite"),
    (obj("Car", "30 1 20 20"), "inverted"),
    (obj("Car", "70 1 90 20"), "outside_image"),
    (obj("Car", "1 one 20 20"), "bad_number"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_bad_object_lines_strict_and_lenient(tmp_path: Path, line: str, reason: str) -> None:
    root = object_root(tmp_path, [GOOD, line, obj("Tram", "1 1 5 5")])
    with pytest.raises(DatasetError) as err:
        list(read_kitti_object(root))
    assert "label_2/000000.txt:2: expected" in str(err.value)
    report = convert_kitti(root, tmp_path / "out", lenient=True)
    assert (report.boxes_in, report.boxes_out, dict(report.rejected), dict(report.unmapped)) == (
        3, 1, {reason: 1}, {"Tram": 1}
    )
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["rejections"][0]["where"].endswith("000000.txt:2") and saved["reconciled"]


def test_zero_area_box_is_dropped_even_in_strict_mode(tmp_path: Path) -> None:
    root = object_root(tmp_path, [GOOD, obj("Van", "5 5 5 9")])
    report = convert_kitti(root, tmp_path / "out")
    assert (report.boxes_out, dict(report.rejected)) == (1, {"zero_area": 1})


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_missing_or_corrupt_image(tmp_path: Path, damage: str) -> None:
    rows = ["0 3 Car 0 0 -1.7 1 2 30 20 1.5 1.6 3.9 1 1.5 20 0.1", "1 3 Car 0 0 -1.7 1 2 30 20 1.5 1.6 3.9 1 1.5 20 0.1",
            "1 4 Cyclist 0 0 -1.7 1 2 30 20 1.5 1.6 3.9 1 1.5 20 0.1"]  # fmt: skip
    root = tracking_root(tmp_path, rows, frames=2)
    target = root / "training" / "image_02" / "0001" / "000001.png"
    target.unlink() if damage == "missing" else target.write_bytes(b"\x89PNG not really")
    expected = "image .*000001.png does not exist" if damage == "missing" else "expected a readable image"
    with pytest.raises(DatasetError, match=rf"0001\.txt: frame 1: {expected}"):
        list(read_kitti_tracking(root))
    report = convert_kitti_tracking(root, tmp_path / "out", lenient=True)
    reason = f"{damage}_image"
    assert (report.boxes_in, report.boxes_out, dict(report.rejected)) == (3, 1, {reason: 2})
    assert (report.frames_in, report.frames_out, dict(report.frames_rejected)) == (2, 1, {reason: 1})


def test_missing_label_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="label_2"):
        list(read_kitti_object(tmp_path))
