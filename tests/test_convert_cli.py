"""``photosynth convert``: exit codes, output files, report.json keys."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from photosynth.cli import main
from photosynth.imageio import write_image

ROW = "{f} 3 {kind} 0 1 -1.7 1 2 30 20 1.5 1.6 3.9 1 1.5 20 0.1"


def tracking_root(tmp_path: Path, rows: list[str]) -> Path:
    root = tmp_path / "kitti_tracking"
    (root / "training" / "label_02").mkdir(parents=True)
    (root / "training" / "label_02" / "0000.txt").write_text("\n".join(rows) + "\n")
    for f in range(2):
        write_image(root / "training" / "image_02" / "0000" / f"{f:06d}.png", np.zeros((30, 40, 3), np.uint8))
    return root


def test_convert_writes_all_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tracking_root(tmp_path, [ROW.format(f=0, kind="Car"), ROW.format(f=1, kind="Pedestrian")])
    out = tmp_path / "out"
    assert main(["convert", "kitti-tracking", "--root", str(root), "--out", str(out), "--copy"]) == 0
    for name in ("data.yaml", "coco.json", "report.json"):
        assert (out / name).is_file()
    assert not (out / "images" / "train" / "0000" / "000000.png").is_symlink()
    assert (out / "labels" / "train" / "0000" / "000001.txt").read_text() == ""
    report = json.loads((out / "report.json").read_text())
    assert {"boxes_in", "boxes_out", "rejected", "unmapped"} <= set(report)
    assert (report["boxes_in"], report["boxes_out"], report["rejected"], report["unmapped"]) == (2, 1, {}, {"Pedestrian": 1})
    assert '"boxes_out": 1' in capsys.readouterr().out


def test_strict_error_exits_1_naming_the_line_and_lenient_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tracking_root(tmp_path, [ROW.format(f=0, kind="Car"), "1 3 Car 0 1 -1.7 1 2"])
    args = ["convert", "kitti-tracking", "--root", str(root), "--out", str(tmp_path / "out")]
    assert main(args) == 1
    assert "0000.txt:2: expected 17 fields" in capsys.readouterr().err
    assert main([*args, "--lenient"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["rejected"], report["reconciled"]) == ({"field_count": 1}, True)
    assert report["rejections"][0]["where"].endswith("0000.txt:2")


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "kitti", "--root", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["convert", "bdd100k", "--root", str(tmp_path), "--out", str(tmp_path / "o"), "--map", "car"]) == 2
    with pytest.raises(SystemExit):
        main(["convert", "nuscenes", "--root", str(tmp_path), "--out", str(tmp_path / "out")])


def test_missing_layout_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "vkitti2", "--root", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    assert "no Scene?? folders" in capsys.readouterr().err


def test_relative_out_and_rerun_leave_no_stale_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tracking_root(tmp_path, [ROW.format(f=0, kind="Car")])
    monkeypatch.chdir(tmp_path)
    stale = tmp_path / "rel" / "labels" / "train" / "0009" / "000000.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("0 0.5 0.5 0.1 0.1\n")
    assert main(["convert", "kitti-tracking", "--root", str(root), "--out", "rel"]) == 0
    assert not stale.exists() and (tmp_path / "rel" / "images" / "train" / "0000" / "000000.png").is_symlink()
    assert main(["convert", "kitti-tracking", "--root", str(root), "--out", str(root)]) == 2


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from photosynth.toyworld.world import make_toyworld

    return make_toyworld(tmp_path_factory.mktemp("toy"), scenes=1, frames=3, scale=0.1, kitti_object=3, bdd_train=0,
                         bdd_val=6, variations=["clone", "fog"], progress=False)  # fmt: skip


@pytest.mark.parametrize(
    ("dataset", "root", "extra", "count"),
    [("kitti", "kitti_object", [], "kitti_object"), ("kitti-tracking", "kitti_tracking", [], "kitti_tracking"),
     ("vkitti2", "vkitti2", [], "vkitti2"), ("bdd100k", "bdd100k", ["--layout", "2018"], "bdd_val"),
     ("bdd100k", "bdd100k", ["--layout", "det_20"], "bdd_val")],
)  # fmt: skip
def test_toy_world_converts_strictly(toy: dict, tmp_path: Path, dataset: str, root: str, extra: list[str],
                                     count: str) -> None:  # fmt: skip
    from pycocotools.coco import COCO

    out = tmp_path / "out"
    assert main(["convert", dataset, "--root", toy[root], "--out", str(out), *extra]) == 0
    report = json.loads((out / "report.json").read_text())
    expected_boxes = toy["counts"].get(f"{count}_boxes")
    assert report["boxes_in"] == expected_boxes and report["reconciled"] and report["rejected"] == {}
    frames = 3 * 2 * 2 if dataset == "vkitti2" else toy["counts"][f"{count}_frames"]
    assert report["frames_out"] == frames == len(list((out / "labels").rglob("*.txt")))
    coco = COCO(str(out / "coco.json"))
    assert len(coco.getImgIds()) == frames and len(coco.getAnnIds()) == report["boxes_out"] > 0
