"""Training mixes: frame % 7 sources, paired seeded splits, translated frames, symlinked YOLO output, CLI."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml

from photosynth.cli import main
from photosynth.frames import Box, Frame
from photosynth.imageio import write_image
from photosynth.report import figures
from photosynth.design import SCENE_SEQUENCES, SOURCES, VARIATION_SOURCES, WEATHER_SLOTS, source_of
from photosynth.study.mixes import (
    MissingFramesError,
    assign_splits,
    build_mix,
    build_workspace_mixes,
    composition,
    plan_mix,
    read_manifest,
    row_labels,
    sample_examples,
    sample_items,
)
from photosynth.translate.frameset import translation_sources

HEADER = "frame cameraID trackID left right top bottom number_pixels truncation_ratio occupancy_ratio isMoving"
VARIATIONS = ("clone", "morning", "sunset", "fog", "overcast", "rain", "15-deg-left")
SIZE = (40, 20)  # width, height of every fixture image


def vkitti_frame(root: Path, scene: str, variation: str, index: int, camera: int = 0) -> Frame:
    """A hand-made reader frame (one Car box whose x1 encodes the frame index)."""
    image = root / scene / variation / "frames" / "rgb" / f"Camera_{camera}" / f"rgb_{index:05d}.jpg"
    box = Box(index % 30, 2, index % 30 + 8, 12, "Car", "Car")
    source = {"scene": scene, "variation": variation, "camera": camera, "frame": index}
    return Frame(image, *SIZE, "vkitti2", f"{scene}/{variation}/Camera_{camera}/{index:05d}", [box], source=source)


def kitti_frame(root: Path, sequence: str, index: int) -> Frame:
    image = root / "training" / "image_02" / sequence / f"{index:06d}.png"
    boxes = [Box(1, 1, 5, 5, "Van", "Van"), Box(6, 1, 9, 5, "Pedestrian")]
    return Frame(image, *SIZE, "kitti_tracking", f"{sequence}/{index:06d}", boxes,
                 source={"sequence": sequence, "frame": index})  # fmt: skip


def hand_frames(root: Path, scenes: dict[str, int]) -> tuple[list[Frame], list[Frame]]:
    """Camera 0 and 1 frames of every variation, and the cloned KITTI sequences' frames."""
    vkitti = [
        vkitti_frame(root / "vkitti2", s, v, i, c)
        for s, n in scenes.items() for v in VARIATIONS for c in (0, 1) for i in range(n)
    ]  # fmt: skip
    kitti = [kitti_frame(root / "kitti", SCENE_SEQUENCES[s], i) for s, n in scenes.items() for i in range(n)]
    return vkitti, kitti


def write_layout(root: Path, scenes: dict[str, int]) -> tuple[Path, Path]:
    """Tiny vKITTI2 (the 6 mix variations, both cameras) and KITTI tracking roots in their real layouts."""
    vkitti, kitti = root / "vkitti2" / "vkitti_2.0.3_rgb", root / "kitti_tracking"
    for s, n in scenes.items():
        for v in VARIATIONS[:6]:
            folder = vkitti / s / v
            rows = [f"{i} {c} 0 {i % 30} {i % 30 + 7} 2 11 80 0 0.9 True" for i in range(n) for c in (0, 1)]
            folder.mkdir(parents=True)
            (folder / "bbox.txt").write_text("\n".join([HEADER, *rows]) + "\n")
            (folder / "info.txt").write_text("trackID label model color\n0 Truck Big Red\n")
            for c in (0, 1):
                for i in range(n):
                    write_image(folder / "frames" / "rgb" / f"Camera_{c}" / f"rgb_{i:05d}.jpg", np.zeros((20, 40, 3), np.uint8))
        sequence = SCENE_SEQUENCES[s]
        labels = [f"{i} 3 Car 0 1 0.5 1 1 9 9 1.5 1.6 3.9 1 1 10 0.1" for i in range(n)]
        (kitti / "training" / "label_02").mkdir(parents=True, exist_ok=True)
        (kitti / "training" / "label_02" / f"{sequence}.txt").write_text("\n".join(labels) + "\n")
        for i in range(n):
            write_image(kitti / "training" / "image_02" / sequence / f"{i:06d}.png", np.zeros((20, 40, 3), np.uint8))
    return vkitti, kitti


def translate_all(vkitti_root: Path, out: Path, suffix: str = ".png", size: tuple[int, int] = SIZE) -> int:
    """Write a stand-in translation of every frame :func:`translation_sources` lists; returns the count."""
    count = 0
    for weather in WEATHER_SLOTS:
        for src in translation_sources(vkitti_root, weather):
            rel = src.resolve().relative_to(vkitti_root.resolve())
            write_image((out / weather / rel).with_suffix(suffix), np.full((size[1], size[0], 3), 200, np.uint8))
            count += 1
    return count


def test_slots_follow_frame_modulo_seven() -> None:
    assert [source_of(i) for i in range(9)] == [*SOURCES, "kitti", "clone"]
    assert SOURCES == ("kitti", "clone", "morning", "sunset", "fog", "overcast", "rain")
    assert {w: SOURCES[s] for w, s in WEATHER_SLOTS.items()} == {"fog": "fog", "overcast": "overcast", "rain": "rain"}
    with pytest.raises(ValueError):
        source_of(-1)


def test_splits_are_80_10_10_seeded_and_cover_every_frame() -> None:
    keys = [(s, i) for s in ("Scene01", "Scene02", "Scene06", "Scene18", "Scene20") for i in range(14)]
    splits = assign_splits(keys, seed=3)
    assert set(splits) == set(keys)
    assert [list(splits.values()).count(s) for s in ("train", "val", "test")] == [56, 7, 7]
    assert assign_splits(reversed(keys), seed=3) == splits  # order of the input does not matter
    assert assign_splits(keys, seed=4) != splits
    with pytest.raises(ValueError, match="summing to 1"):
        assign_splits(keys, fractions=(0.5, 0.1, 0.1))


def test_baseline_takes_two_frames_per_source_per_14_frame_scene(tmp_path: Path) -> None:
    vkitti, kitti = hand_frames(tmp_path, {"Scene01": 14, "Scene20": 14})
    items = plan_mix("baseline", vkitti, kitti, vkitti_root=tmp_path / "vkitti2", seed=0)
    assert len(items) == 28  # one per clone Camera_0 frame index
    table = composition(items)
    assert table["total"].drop("total").tolist() == [4] * 7  # 2 per source in each of 2 scenes
    assert table.loc["total", ["train", "val", "test"]].tolist() == [22, 3, 3]
    by_key = {item.frame.key: item for item in items}
    assert len(by_key) == 28
    kitti_item = by_key["Scene20/00007_kitti"]
    assert kitti_item.frame.image == tmp_path / "kitti/training/image_02/0020/000007.png"
    assert [b.source_class for b in kitti_item.frame.boxes] == ["Van", "Pedestrian"]  # KITTI's own labels
    fog = by_key["Scene01/00011_fog"].frame
    assert fog.image == tmp_path / "vkitti2/Scene01/fog/frames/rgb/Camera_0/rgb_00011.jpg"
    assert by_key["Scene01/00013_rain"].frame.source["variation"] == "rain"
    assert all(item.frame.source.get("camera", 0) == 0 for item in items)


def test_translated_mix_uses_translated_files_with_clone_labels(tmp_path: Path) -> None:
    vkitti, kitti = hand_frames(tmp_path, {"Scene01": 14})
    root, translated = tmp_path / "vkitti2", tmp_path / "translated" / "cyclegan"
    for weather, slot in WEATHER_SLOTS.items():
        for index in (slot, slot + 7):
            size = (80, 40) if index == 11 else SIZE  # one translator output at twice the size
            rel = Path("Scene01/clone/frames/rgb/Camera_0") / f"rgb_{index:05d}.png"
            write_image(translated / weather / rel, np.zeros((size[1], size[0], 3), np.uint8))
    items = plan_mix("cyclegan", vkitti, kitti, vkitti_root=root, translated=translated, seed=0)
    by_key = {item.frame.key: item.frame for item in items}
    rain = by_key["Scene01/00006_rain"]
    assert rain.image == translated / "rain/Scene01/clone/frames/rgb/Camera_0/rgb_00006.png"
    assert rain.boxes == vkitti_frame(root, "Scene01", "clone", 6).boxes
    scaled = by_key["Scene01/00011_fog"]
    assert (scaled.width, scaled.height) == (80, 40)
    assert (scaled.boxes[0].x1, scaled.boxes[0].y1, scaled.boxes[0].x2, scaled.boxes[0].y2) == (22, 4, 38, 24)
    baseline = plan_mix("baseline", vkitti, kitti, vkitti_root=root, seed=0)
    assert [(i.scene, i.index, i.split) for i in items] == [(i.scene, i.index, i.split) for i in baseline]


def test_missing_translated_frames_are_counted_and_named(tmp_path: Path) -> None:
    vkitti, kitti = hand_frames(tmp_path, {"Scene01": 14, "Scene02": 14})
    translated = tmp_path / "translated" / "nst"
    write_image(translated / "fog/Scene01/clone/frames/rgb/Camera_0/rgb_00004.jpg", np.zeros((20, 40, 3), np.uint8))
    with pytest.raises(MissingFramesError) as caught:
        plan_mix("nst", vkitti, kitti, vkitti_root=tmp_path / "vkitti2", translated=translated)
    message = str(caught.value)
    assert "11 source frame(s) missing" in message  # 12 weather slots, one translated
    assert "translated fog: 3 missing" in message and "translated rain: 4 missing" in message
    assert "rain/Scene01/clone/frames/rgb/Camera_0/rgb_00006.jpg" in message
    with pytest.raises(FileNotFoundError, match="no translated frames"):
        plan_mix("augment", vkitti, kitti, vkitti_root=tmp_path / "vkitti2", translated=tmp_path / "absent")
    with pytest.raises(ValueError, match="needs the folder"):
        plan_mix("cyclegan", vkitti, kitti, vkitti_root=tmp_path / "vkitti2")


def test_missing_kitti_frame_and_unknown_scene_are_errors(tmp_path: Path) -> None:
    vkitti, kitti = hand_frames(tmp_path, {"Scene06": 8})
    with pytest.raises(MissingFramesError, match=r"kitti: 1 missing, e.g. KITTI tracking 0006/000007"):
        plan_mix("baseline", vkitti, kitti[:7], vkitti_root=tmp_path)
    stray = [vkitti_frame(tmp_path, "Scene99", "clone", 0)]
    with pytest.raises(MissingFramesError, match="Scene99"):
        plan_mix("baseline", stray, kitti, vkitti_root=tmp_path)


def test_translation_sources_lists_the_weather_slots_of_clone_camera_0(tmp_path: Path) -> None:
    vkitti, _ = write_layout(tmp_path, {"Scene01": 12, "Scene02": 5})
    names = [f"{p.parts[-6]}/{p.name}" for p in translation_sources(vkitti, "rain")]
    assert names == ["Scene01/rgb_00006.jpg"]
    assert [p.name for p in translation_sources(vkitti, "fog")] == ["rgb_00004.jpg", "rgb_00011.jpg", "rgb_00004.jpg"]
    with pytest.raises(ValueError, match="unknown weather"):
        translation_sources(vkitti, "snow")


def test_build_mix_writes_symlinked_yolo_dataset_and_skips_when_up_to_date(tmp_path: Path) -> None:
    vkitti, kitti = write_layout(tmp_path, {"Scene01": 14, "Scene18": 7})
    translated = tmp_path / "translated" / "augment"
    assert translate_all(vkitti, translated) == 9  # frames 4,5,6,11,12,13 of Scene01 and 4,5,6 of Scene18
    out = tmp_path / "mixes" / "augment"
    result = build_mix("augment", vkitti, kitti, out, translated=translated, seed=1)
    assert not result.skipped and len(result.items) == 21
    assert result.composition.loc["total", "total"] == 21
    assert result.composition.loc["fog", "total"] == 3 and result.composition.loc["clone", "total"] == 3
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["path"] == str(out) and data["names"] == {0: "Car", 1: "Van", 2: "Truck"}
    assert data["train"] == "images/train" and data["val"] == "images/val" and data["test"] == "images/test"
    images = sorted(p for p in (out / "images").rglob("*") if p.is_symlink())
    assert len(images) == 21 and not [p for p in (out / "images").rglob("*") if p.is_file() and not p.is_symlink()]
    for image in images:
        label = Path(str(image).replace("/images/", "/labels/")).with_suffix(".txt")
        assert label.is_file(), label
        assert Path(os.readlink(image)).is_absolute()
    fog = next(p for p in images if p.name == "00011_fog.png")
    assert Path(os.readlink(fog)) == (translated / "fog/Scene01/clone/frames/rgb/Camera_0/rgb_00011.png").resolve()
    label = Path(str(fog).replace("/images/", "/labels/")).with_suffix(".txt").read_text().split()
    assert label == ["2", "0.375000", "0.350000", "0.200000", "0.500000"]  # clone's Truck: x 11..19, y 2..12 of 40×20
    kitti_label = next((out / "labels").rglob("00007_kitti.txt")).read_text().split()
    assert kitti_label[0] == "0"  # KITTI tracking's own Car
    manifest = read_manifest(out)
    assert manifest and manifest["frames"] == 21 and manifest["composition"]["kitti"]["total"] == 3
    assert (out / "composition.csv").is_file()

    again = build_mix("augment", vkitti, kitti, out, translated=translated, seed=1)
    assert again.skipped and again.composition.equals(result.composition)
    os.utime(fog.resolve(), ns=(1, 1))  # a changed input file makes the mix stale
    assert not build_mix("augment", vkitti, kitti, out, translated=translated, seed=1).skipped
    assert not build_mix("augment", vkitti, kitti, out, translated=translated, seed=2).skipped
    assert len([p for p in (out / "images").rglob("*") if p.is_symlink()]) == 21  # stale links removed
    other = tmp_path / "other"
    (other / "images").mkdir(parents=True)
    with pytest.raises(ValueError, match="not a training mix"):
        build_mix("augment", vkitti, kitti, other, translated=translated)
    assert (other / "images").is_dir()


def test_ultralytics_loads_the_mix_as_is(tmp_path: Path) -> None:
    from photosynth.runtime import ultralytics_module

    if importlib.util.find_spec("ultralytics") is None:  # importorskip would import it raw (PIL.Image.open patched)
        pytest.skip("ultralytics is not installed")

    vkitti, kitti = write_layout(tmp_path, {"Scene01": 14})
    out = tmp_path / "mixes" / "baseline"
    build_mix("baseline", vkitti, kitti, out)
    ultralytics_module()
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.data.utils import check_det_dataset

    data = check_det_dataset(str(out / "data.yaml"))
    dataset = YOLODataset(img_path=data["train"], data=data, augment=False, imgsz=64, cache=False)
    assert len(dataset.labels) == 11
    assert sum(len(label["cls"]) for label in dataset.labels) == 11  # one box per frame


def test_sample_items_picks_each_source(tmp_path: Path) -> None:
    vkitti, kitti = hand_frames(tmp_path, {"Scene01": 14})
    items = plan_mix("baseline", vkitti, kitti, vkitti_root=tmp_path / "vkitti2")
    picked = sample_items(items, per_source=2, seed=0)
    assert [item.source for item in picked] == [s for s in SOURCES for _ in range(2)]
    assert sample_items(items, per_source=2, seed=0) == picked


def test_cli_builds_a_mix_and_reports_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vkitti, kitti = write_layout(tmp_path, {"Scene02": 7})
    out = tmp_path / "mix"
    args = ["mix", "--vkitti2", str(vkitti), "--kitti-tracking", str(kitti), "--out", str(out)]
    assert main([*args, "--mix", "baseline", "--seed", "5"]) == 0
    printed = capsys.readouterr().out
    assert "overcast" in printed and (out / "data.yaml").is_file()
    assert main([*args, "--mix", "nst"]) == 2
    assert "--translated" in capsys.readouterr().err
    assert main([*args, "--mix", "nst", "--translated", str(tmp_path / "none")]) == 2
    assert main([*args, "--mix", "Bad Name", "--translated", str(tmp_path)]) == 2
    assert "bad mix name 'Bad Name'" in capsys.readouterr().err


def test_cli_takes_any_tools_folder_and_lists_every_problem_before_building(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vkitti, kitti = write_layout(tmp_path, {"Scene02": 14})
    tool = tmp_path / "mytool"
    assert translate_all(vkitti, tool, size=(80, 40)) == 6  # another size: boxes are rescaled
    (tool / "README.txt").write_text("made by mytool\n")  # a stray file: ignored, counted
    args = ["mix", "--vkitti2", str(vkitti), "--kitti-tracking", str(kitti), "--translated", str(tool)]
    assert main([*args, "--out", str(tmp_path / "m1"), "--mix", "mytool"]) == 0
    printed = capsys.readouterr().out
    assert "mytool: 6 of 6 frames" in printed and "6 of another size" in printed and "1 other file(s) ignored" in printed
    rain = sorted(tool.glob("rain/**/*.png"))
    rain[0].unlink()  # missing
    rain[1].write_bytes(b"not an image")  # unreadable
    assert main([*args, "--out", str(tmp_path / "m2"), "--mix", "mytool"]) == 2
    err = capsys.readouterr().err
    assert "1 of 6 frames missing" in err and f"rain/{rain[0].relative_to(tool / 'rain').with_suffix('.jpg').as_posix()}" in err
    assert "1 unreadable image(s)" in err and str(rain[1]) in err
    assert not (tmp_path / "m2").exists()  # nothing written


def test_add_mode_alternates_rendered_and_translated_weather_at_the_same_size(tmp_path: Path) -> None:
    vkitti, kitti = write_layout(tmp_path, {"Scene02": 28, "Scene06": 28})
    assert translate_all(vkitti, tmp_path / "translated" / "cyclegan") == 24
    replace = build_mix("cyclegan", vkitti, kitti, tmp_path / "replace", translated=tmp_path / "translated" / "cyclegan")
    add = build_mix("cyclegan+vkitti", vkitti, kitti, tmp_path / "add", translated=tmp_path / "translated" / "cyclegan")
    base = build_mix("baseline", vkitti, kitti, tmp_path / "base")
    assert len(add.items) == len(replace.items) == len(base.items) == 56
    assert [(i.frame.key, i.split) for i in add.items] == [(i.frame.key, i.split) for i in base.items]
    translated = sorted(i.index for i in add.items if i.translated and i.scene == "Scene02")
    assert translated == [5, 11, 13, 19, 25, 27]  # odd indices of the weather slots 4-6, 11-13, 18-20, 25-27
    for item in add.items:
        assert item.translated == (item.source in WEATHER_SLOTS and item.index % 2 == 1), item
        assert item.frame.dataset.startswith("translated/") == item.translated
    table = add.composition
    assert list(table.index) == ["kitti", "clone", "morning", "sunset", "fog", "fog (translated)", "overcast",
                                 "overcast (translated)", "rain", "rain (translated)", "total"]
    assert table.loc["fog", "total"] == table.loc["fog (translated)", "total"] == 4  # fog: 4 rendered, 11 translated, …
    assert table.loc["total", "total"] == 56 and list(replace.composition.index) == [*SOURCES, "total"]
    assert [e["label"].split(" · ")[0] for e in sample_examples(add.items)] == list(table.index[:-1])
    labels = {(i.scene, i.index): label for i, label in zip(add.items, row_labels(add.items))}
    assert [labels[("Scene02", i)] for i in (4, 5, 6, 11, 12, 13)] == [
        "fog", "overcast (translated)", "rain", "fog (translated)", "overcast", "rain (translated)"]


def test_workspace_mixes_on_the_toy_world(tmp_path: Path) -> None:
    from photosynth.datasets.kitti import read_kitti_tracking
    from photosynth.toyworld.world import make_toyworld

    world = make_toyworld(tmp_path / "data", scenes=2, frames=14, scale=0.1, kitti_object=0, bdd_train=0,
                          bdd_val=0, variations=list(VARIATION_SOURCES), progress=False)  # fmt: skip
    assert translate_all(Path(world["vkitti2"]), tmp_path / "translated" / "cyclegan") == 12
    results = build_workspace_mixes(tmp_path, ["baseline", "cyclegan"], seed=0)
    for result in results.values():
        assert result.out == tmp_path / "mixes" / result.mix
        assert result.composition["total"].drop("total").tolist() == [4] * 7  # 2 scenes × 14 frames
    baseline = {i.frame.key: i for i in results["baseline"].items}
    cyclegan = {i.frame.key: i for i in results["cyclegan"].items}
    assert {k: i.split for k, i in baseline.items()} == {k: i.split for k, i in cyclegan.items()}
    assert cyclegan["Scene02/00005_overcast"].frame.image.is_relative_to(tmp_path / "translated/cyclegan/overcast")
    assert baseline["Scene02/00005_overcast"].frame.image.parts[-6:-3] == ("Scene02", "overcast", "frames")
    real = next(f for f in read_kitti_tracking(world["kitti_tracking"], sequences=["0002"]) if f.source["frame"] == 7)
    assert baseline["Scene02/00007_kitti"].frame.mapped_boxes == real.mapped_boxes
    examples = sample_examples(results["cyclegan"].items)
    assert [e["label"].split(" ")[0] for e in examples] == list(SOURCES)
    fig = figures.mix_samples_figure(results["cyclegan"], caption="toy")
    assert len([ax for ax in fig.axes if ax.images]) == 7 and "cyclegan" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(FileNotFoundError, match=r"\['nst', 'augment'\] were requested"):
        build_workspace_mixes(tmp_path, ["baseline", "nst", "augment"])


def test_link_oracle_exposes_the_toy_worlds_oracle_and_is_absent_on_real_data(tmp_path: Path) -> None:
    from photosynth.study.mixes import MIXES, TRANSLATED_MIXES, link_oracle

    assert "oracle" in MIXES and "oracle" in TRANSLATED_MIXES
    assert link_oracle(tmp_path) is None and not (tmp_path / "translated").exists()  # real data: no oracle
    (tmp_path / "data" / "oracle" / "fog").mkdir(parents=True)
    link = link_oracle(tmp_path)
    assert link == tmp_path / "translated" / "oracle" and (link / "fog").is_dir()
    assert os.readlink(link) == os.path.join("..", "data", "oracle")  # relative: the workspace can move
    assert link_oracle(tmp_path) == link
    (tmp_path / "data" / "oracle" / "fog").rmdir()
    (tmp_path / "data" / "oracle").rmdir()
    assert link_oracle(tmp_path) is None and not link.is_symlink()  # a stale link goes
    link.mkdir(parents=True)
    (tmp_path / "data" / "oracle").mkdir()
    with pytest.raises(FileExistsError, match="not a link"):
        link_oracle(tmp_path)
    real = tmp_path / "real"
    for name in ("vkitti2", "kitti_tracking"):
        (real / "data" / name).mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="the oracle exists only in the toy world"):
        build_workspace_mixes(real, ["baseline", "oracle"])
