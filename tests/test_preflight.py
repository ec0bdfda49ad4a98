"""Fail in the first minute: `photosynth book` lists every missing input of a profile before executing anything."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import pytest

from photosynth.report import preflight
from photosynth.weights import INCEPTION_FILE
from photosynth.runtime import Workspace
from photosynth.weights import VGG16_NOTOP


def test_full_profile_on_this_machine_lists_every_missing_input_at_once(project_root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "TORCH_HOME": str(tmp_path / "torch"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(project_root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "photosynth.cli", "book", "--profile", "full", "--root",
                           str(project_root), "--runs", str(tmp_path / "runs"), "--no-build"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 1
    items = [line for line in done.stderr.splitlines() if line.startswith("  - ")]
    assert "profile 'full' needs 6 input(s) that are missing; nothing was executed:" in done.stderr
    expected = [
        "KITTI tracking root /data/kitti/tracking does not exist [01_datasets.kitti_tracking_root]",
        "KITTI object root /data/kitti/object does not exist [01_datasets.kitti_root]",
        "Virtual KITTI 2 root /data/vkitti2 does not exist [01_datasets.vkitti2_root]",
        "BDD100K root /data/bdd100k does not exist [01_datasets.bdd100k_root]",
        "VGG16 weights for the style transfer [03_style_transfer.nst_weights=imagenet]",
        f"Inception weights {tmp_path / 'torch' / 'hub' / 'checkpoints' / INCEPTION_FILE} not found "
        "[06_results.gap_features=inception]",
    ]
    assert [item[4:].split(":")[0] for item in items] == expected, items
    assert f"{tmp_path / 'keras' / 'models' / VGG16_NOTOP} does not exist" in items[4]  # where to put it
    assert "executing" not in done.stderr and not (tmp_path / "runs" / "full" / "logs").exists()


def _real_layout(root: Path) -> dict[str, str]:
    """Tiny stand-ins for the four real dataset roots, each in its documented layout."""
    files = ["kitti_tracking/training/image_02/0000/000000.png", "kitti_tracking/training/label_02/0000.txt",
             "kitti_object/training/image_2/000000.png", "kitti_object/training/label_2/000000.txt",
             "vkitti2/vkitti_2.0.3_textgt/Scene01/clone/bbox.txt",
             *(f"vkitti2/vkitti_2.0.3_rgb/Scene01/clone/frames/rgb/Camera_0/rgb_{i:05d}.jpg" for i in range(7)),
             "bdd100k/images/100k/train/a.jpg", "bdd100k/images/100k/val/b.jpg",
             "bdd100k/labels/det_20/det_train.json", "bdd100k/labels/bdd100k_labels_images_val.json"]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * 1000)
    return {"kitti_tracking_root": str(root / "kitti_tracking"), "kitti_root": str(root / "kitti_object"),
            "vkitti2_root": str(root / "vkitti2"), "bdd100k_root": str(root / "bdd100k")}


def test_dataset_layouts_are_checked_and_the_toy_world_needs_nothing(tmp_path: Path) -> None:
    roots = _real_layout(tmp_path)
    assert preflight.dataset_roots(roots) == []
    assert preflight.dataset_roots({k: "" for k in roots}) == []  # the toy world
    (tmp_path / "bdd100k" / "labels" / "bdd100k_labels_images_val.json").unlink()
    (tmp_path / "kitti_tracking" / "training" / "label_02" / "0000.txt").unlink()
    missing = preflight.dataset_roots({**roots, "kitti_root": ""})  # KITTI object is optional
    assert [m.setting for m in missing] == ["01_datasets.kitti_tracking_root", "01_datasets.bdd100k_root"]
    assert "lacks training/label_02/*.txt" in missing[0].what
    assert "lacks labels/bdd100k_labels_images_val.json" in missing[1].what and "det_20" in missing[1].fix
    missing = preflight.dataset_roots({**roots, "vkitti2_root": ""})
    assert ("Virtual KITTI 2 root not set", "01_datasets.vkitti2_root") in [(m.what, m.setting) for m in missing]


def test_weights_cuda_and_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert preflight.vgg16_weights("none") == [] and preflight.vgg16_weights("auto") == []
    [vgg] = preflight.vgg16_weights("imagenet")
    assert "58,889,256 bytes" in vgg.fix and str(tmp_path / "keras" / "models" / VGG16_NOTOP) in vgg.fix
    short = tmp_path / "keras" / "models" / VGG16_NOTOP
    short.parent.mkdir(parents=True)
    short.write_bytes(b"x")
    assert "incomplete copy" in preflight.vgg16_weights("imagenet")[0].fix
    inception = tmp_path / "torch" / "hub" / "checkpoints" / INCEPTION_FILE
    assert preflight.inception_weights("")[0].what == f"Inception weights {inception} not found"
    inception.parent.mkdir(parents=True)
    inception.write_bytes(b"x")
    assert preflight.inception_weights("") == []
    assert preflight.inception_weights(str(tmp_path / "nope.pth"))[0].setting == "06_results.gap_features=inception"

    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert preflight.cuda_device("05_detectors", "") == [] and preflight.cuda_device("05_detectors", "cpu") == []
    [cuda] = preflight.cuda_device("05_detectors", f"{gpus},{gpus + 1}")
    assert cuda.setting == "05_detectors.device" and f"torch sees {gpus} GPU(s)" in cuda.what

    roots = _real_layout(tmp_path / "data")
    ws = Workspace(tmp_path / "ws")
    notebooks = {"01_datasets": roots, "02_cyclegan": {"weathers": ["fog", "overcast", "rain"]},
                 "03_style_transfer": {"weathers": ["fog"], "nst_weights": "none"}}
    assert preflight.translation_disk(notebooks, ws) == []
    Usage = collections.namedtuple("Usage", "total used free")
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda path: Usage(10**9, 10**9 - 100, 100))
    [disk] = preflight.translation_disk(notebooks, ws)
    assert disk.what.startswith("0.0 GB of free disk for the translated frames") and str(tmp_path) in disk.what
    assert preflight.check(notebooks, ws) == [disk]  # every check together: only the disk is short


def test_external_translations_are_named_and_found_before_anything_runs(project_root: Path, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    missing = preflight.check({"04_training_sets": {"translations": {
        "mine": str(tmp_path / "mine"), "nst": str(tmp_path / "mine"), "Mine!": "x", "gone": str(tmp_path / "gone")}}},
        Workspace(tmp_path / "ws"))
    assert [m.what for m in missing] == [
        "translator name nst: the name of a built-in or registered translator or mix; choose another name",
        "translator name 'Mine!': a translator name is lowercase letters, digits, '_' and '-'",
        f"gone: no folder {tmp_path / 'gone'}"]
    assert {m.setting for m in missing} == {"translations"}
    done = subprocess.run([sys.executable, "-m", "photosynth.cli", "book", "--profile", "smoke", "--root",
                           str(project_root), "--runs", str(tmp_path / "runs"), "--set",
                           f"common.translations={{cyclegan: {tmp_path / 'mine'}}}"], capture_output=True, text=True)
    assert done.returncode == 1 and "nothing was executed" in done.stderr and "translator name cyclegan" in done.stderr
    assert not (tmp_path / "runs" / "smoke").exists()
