"""Virtual KITTI 2 reader: layout search, per-scene track labels, inclusive boxes, flags, policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from photosynth.cli import main
from photosynth.datasets.convert import convert_vkitti2
from photosynth.datasets.report import ConversionReport, DatasetError
from photosynth.datasets.vkitti2 import find_scenes, join_roots, read_vkitti2, unjoin
from photosynth.imageio import write_image

HEADER = "frame cameraID trackID left right top bottom number_pixels truncation_ratio occupancy_ratio isMoving"
INFO = "trackID label model color"


def scene(gt: Path, rgb: Path, name: str, variation: str, rows: list[str], info: list[str], frames: int = 2) -> None:
    """One scene/variation: text ground truth under ``gt``, images (both cameras) under ``rgb``."""
    folder = gt / name / variation
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bbox.txt").write_text("\n".join([HEADER, *rows]) + "\n")
    (folder / "info.txt").write_text("\n".join([INFO, *info]) + "\n")
    for camera in (0, 1):
        for f in range(frames):
            path = rgb / name / variation / "frames" / "rgb" / f"Camera_{camera}" / f"rgb_{f:05d}.jpg"
            write_image(path, np.zeros((25, 40, 3), np.uint8))


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """Text ground truth and rgb in different top folders; track 0 is a Car in Scene01, a Truck in Scene02."""
    gt, rgb = tmp_path / "vkitti_2.0.3_textgt", tmp_path / "vkitti_2.0.3_rgb"
    scene(gt, rgb, "Scene01", "clone",
          ["0 0 0 3 12 2 9 80 0 0.9 True", "0 1 0 4 13 2 9 80 0 0.5 False", "1 0 5 0 39 0 24 900 0.25 0 1"],
          ["0 Car Sedan4Door Black", "5 Van Van Red"])  # fmt: skip
    scene(gt, rgb, "Scene01", "fog", ["1 1 5 1 2 3 4 5 0 1 0"], ["0 Car Sedan4Door Black", "5 Van Van Red"])
    scene(gt, rgb, "Scene02", "clone", ["0 0 0 0 9 0 9 100 0 1 False"], ["0 Truck Truck White"])
    return gt, rgb


def test_reads_both_cameras_all_variations_with_per_scene_labels(roots: tuple[Path, Path]) -> None:
    gt, rgb = roots
    frames = list(read_vkitti2(gt, rgb_root=rgb))
    assert [f.key for f in frames] == [
        f"{s}/{v}/Camera_{c}/{i:05d}"
        for s, v in (("Scene01", "clone"), ("Scene01", "fog"), ("Scene02", "clone"))
        for c in (0, 1) for i in (0, 1)
    ]  # fmt: skip
    by_key = {f.key: f for f in frames}
    box = by_key["Scene01/clone/Camera_0/00000"].boxes[0]
    # left right top bottom = 3 12 2 9, inclusive → exclusive x2 = 13, y2 = 10
    assert (box.x1, box.y1, box.x2, box.y2, box.cls, box.track_id) == (3, 2, 13, 10, "Car", 0)
    assert (box.occlusion_raw, box.occluded) == (0.9, False)
    assert by_key["Scene01/clone/Camera_1/00000"].boxes[0].occluded  # occupancy 0.5 < 0.75
    full = by_key["Scene01/clone/Camera_0/00001"].boxes[0]  # bare 0 ratios, isMoving 1, box up to the border
    assert (full.cls, full.x2, full.y2, full.truncation, full.occlusion_raw) == ("Van", 40, 25, 0.25, 0.0)
    assert by_key["Scene02/clone/Camera_0/00000"].boxes[0].cls == "Truck"  # same track id, other scene
    assert by_key["Scene01/clone/Camera_0/00001"].width == 40 and by_key["Scene02/clone/Camera_1/00001"].boxes == []
    assert by_key["Scene01/fog/Camera_1/00001"].source == {"scene": "Scene01", "variation": "fog", "camera": 1, "frame": 1}


def test_filters_and_threshold(roots: tuple[Path, Path]) -> None:
    gt, rgb = roots
    frames = list(read_vkitti2(gt, rgb_root=rgb, scenes=["Scene01"], variations=["clone"], cameras=[1],
                               occupancy_threshold=0.4))  # fmt: skip
    assert [f.key for f in frames] == ["Scene01/clone/Camera_1/00000", "Scene01/clone/Camera_1/00001"]
    assert frames[0].boxes[0].occluded is False  # 0.5 is not below 0.4
    with pytest.raises(ValueError, match="unknown vKITTI2 variations"):
        list(read_vkitti2(gt, variations=["snow"]))


def test_images_beside_text_when_no_rgb_root(tmp_path: Path) -> None:
    scene(tmp_path / "top", tmp_path / "top", "Scene06", "clone", ["0 0 0 1 2 1 2 4 0 1 True"], ["0 Car a b"], frames=1)
    assert find_scenes(tmp_path) == {"Scene06": tmp_path / "top" / "Scene06"}
    assert len(list(read_vkitti2(tmp_path, cameras=[0]))) == 1


BAD_ROWS = [
    ("0 0 9 3 12 2 9 80 0 0.9 True", "unknown_track", "trackID 9 is not listed"),
    ("0 0 0 3 12 2 9 80 0 0.9 Maybe", "bad_value", "expected isMoving"),
    ("0 0 0 3 12 2 9 80 0 0.9", "field_count", "expected 11 fields"),
    ("0 0 0 nan 12 2 9 80 0 0.9 True", "not_finite", "expected finite"),
    ("0 0 0 12 3 2 9 80 0 0.9 True", "inverted", "expected x1 <= x2"),
    ("0 0 0 50 60 2 9 80 0 0.9 True", "outside_image", "expected a box overlapping the 40x25 image"),
]


@pytest.mark.parametrize(("row", "reason", "message"), BAD_ROWS)
def test_bad_rows_strict_and_lenient(tmp_path: Path, row: str, reason: str, message: str) -> None:
    rows = ["0 0 0 3 12 2 9 80 0 0.9 True", row, "1 0 1 3 12 2 9 80 0 0.9 False"]
    scene(tmp_path, tmp_path, "Scene01", "clone", rows, ["0 Car a b", "1 Pedestrian c d"])
    with pytest.raises(DatasetError, match=rf"Scene01/clone/bbox\.txt:3: {message}"):
        list(read_vkitti2(tmp_path))
    report = convert_vkitti2(tmp_path, tmp_path / "out", lenient=True)
    assert (report.boxes_in, report.boxes_out, dict(report.rejected), dict(report.unmapped)) == (
        3, 1, {reason: 1}, {"Pedestrian": 1}
    )
    assert report.frames_out == 4


def test_missing_image_rejects_the_frame_with_its_rows(tmp_path: Path) -> None:
    scene(tmp_path, tmp_path, "Scene01", "clone", ["0 0 0 3 12 2 9 80 0 0.9 True", "2 0 0 3 12 2 9 80 0 0.9 True"],
          ["0 Car a b"])  # fmt: skip
    report = ConversionReport(strict=False)
    frames = list(read_vkitti2(tmp_path, cameras=[0], report=report))
    assert len(frames) == 2 and dict(report.frames_rejected) == {"missing_image": 1}
    assert report.rejections[0].where.endswith("bbox.txt: frame 2 camera 0")
    with pytest.raises(DatasetError, match="rgb_00002.jpg does not exist"):
        list(read_vkitti2(tmp_path, cameras=[0]))


def test_bad_header_and_missing_info(tmp_path: Path) -> None:
    scene(tmp_path, tmp_path, "Scene01", "clone", [], ["0 Car a b"], frames=0)
    (tmp_path / "Scene01" / "clone" / "bbox.txt").write_text("frame camera left\n")
    with pytest.raises(DatasetError, match=r"bbox\.txt:1: header lacks"):
        list(read_vkitti2(tmp_path))
    (tmp_path / "Scene01" / "clone" / "bbox.txt").write_text(HEADER + "\n")
    (tmp_path / "Scene01" / "clone" / "info.txt").unlink()
    with pytest.raises(FileNotFoundError, match="info.txt"):
        list(read_vkitti2(tmp_path))


def test_archives_side_by_side_under_one_root_are_paired(roots: tuple[Path, Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``vkitti_2.0.3_rgb/SceneXX`` beside ``vkitti_2.0.3_textgt/SceneXX`` (as downloaded): text from one tree,
    images from the other — the same frames as with an explicit ``rgb_root``."""
    gt, rgb = roots
    assert find_scenes(tmp_path, "text") == {"Scene01": gt / "Scene01", "Scene02": gt / "Scene02"}
    assert find_scenes(tmp_path, "images") == {"Scene01": rgb / "Scene01", "Scene02": rgb / "Scene02"}
    paired = list(read_vkitti2(tmp_path))
    explicit = list(read_vkitti2(gt, rgb_root=rgb))
    assert len(paired) == 12 and paired == explicit
    assert paired[0].image == rgb / "Scene01" / "clone" / "frames" / "rgb" / "Camera_0" / "rgb_00000.jpg"
    out = tmp_path / "out"
    assert main(["convert", "vkitti2", "--root", str(tmp_path), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert (report["frames_out"], report["boxes_in"], report["boxes_out"]) == (12, 5, 5)
    capsys.readouterr()


def test_separate_rgb_root_and_one_camera_through_the_cli(roots: tuple[Path, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Camera 1's rows are not read when only camera 0 is converted (they used to count as boxes read, so the
    report failed to reconcile)."""
    gt, rgb = roots
    out = tmp_path / "out"
    assert main(["convert", "vkitti2", "--root", str(gt), "--rgb-root", str(rgb), "--out", str(out),
                 "--cameras", "0"]) == 0  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert (report["frames_out"], report["boxes_in"], report["boxes_out"], report["reconciled"]) == (6, 3, 3, True)
    capsys.readouterr()


def test_linked_trees_are_followed(roots: tuple[Path, Path], tmp_path: Path) -> None:
    """A folder of links to the two trees (how a workspace joins separate roots) reads like the real thing."""
    gt, rgb = roots
    joined = tmp_path / "joined"
    joined.mkdir()
    (joined / "text").symlink_to(gt, target_is_directory=True)
    (joined / "rgb").symlink_to(rgb, target_is_directory=True)
    assert [f.key for f in read_vkitti2(joined)] == [f.key for f in read_vkitti2(gt, rgb_root=rgb)]
    assert find_scenes(joined, "images")["Scene02"] == joined / "rgb" / "Scene02"


def test_a_scene_twice_of_the_same_kind_is_an_error(roots: tuple[Path, Path], tmp_path: Path) -> None:
    gt, rgb = roots
    scene(tmp_path / "copy", tmp_path / "copy", "Scene02", "fog", [], ["0 Truck Truck White"], frames=1)
    with pytest.raises(DatasetError, match=r"Scene02 with text found twice"):
        find_scenes(tmp_path, "text")
    with pytest.raises(DatasetError, match=r"Scene02 with images found twice"):
        list(read_vkitti2(gt, rgb_root=tmp_path))
    with pytest.raises(ValueError, match="holding must be one of"):
        find_scenes(tmp_path, "labels")


def test_workspace_joins_a_separate_rgb_root(roots: tuple[Path, Path], tmp_path: Path) -> None:
    """Notebook 01's ``vkitti2_rgb_root``: ``data/vkitti2`` joins both trees, and every later stage (which only
    looks in ``data/vkitti2``) reads it like the archives extracted side by side."""
    from photosynth.study.datasets import prepare_data
    from photosynth.datasets.vkitti2 import clone_frames

    gt, rgb = roots
    given = {"kitti_tracking": tmp_path / "kitti", "vkitti2": gt, "bdd100k": tmp_path / "bdd"}
    for name in ("kitti", "bdd"):
        (tmp_path / name).mkdir()
    ws = tmp_path / "ws"
    joined = prepare_data(ws, given, vkitti2_rgb_root=rgb)["roots"]["vkitti2"]
    assert joined == ws / "data" / "vkitti2" and not joined.is_symlink()
    assert [f.key for f in read_vkitti2(joined)] == [f.key for f in read_vkitti2(gt, rgb_root=rgb)]
    assert [p.name for p in clone_frames(joined)] == ["rgb_00000.jpg", "rgb_00001.jpg"] * 2
    assert len(sorted(joined.glob("**/Scene*/clone/frames/rgb/Camera_0/*"))) == 4  # the domain-gap sets' glob
    prepare_data(ws, given, vkitti2_rgb_root=rgb)  # a rerun re-links
    assert prepare_data(ws, given)["roots"]["vkitti2"].is_symlink()  # and without the rgb root: one link again
    assert len(list(rgb.rglob("*.jpg"))) == 12 and len(list(gt.rglob("*.txt"))) == 6  # targets untouched
    with pytest.raises(FileExistsError, match="not a join of vKITTI2 roots"):
        unjoin(gt)  # a real folder is never removed
    with pytest.raises(FileNotFoundError, match="no Scene.. folders with images"):
        join_roots(gt, tmp_path / "kitti", tmp_path / "j")
    with pytest.raises(FileNotFoundError, match="vkitti2_rgb_root=/nonexistent"):
        prepare_data(ws, given, vkitti2_rgb_root="/nonexistent")
    with pytest.raises(ValueError, match="vkitti2_rgb_root needs vkitti2_root"):
        prepare_data(ws, {"kitti_tracking": tmp_path / "kitti", "bdd100k": tmp_path / "bdd"}, vkitti2_rgb_root=rgb)
