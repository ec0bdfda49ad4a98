"""BDD weather domains, occlusion buckets, evaluation sets and statistics (hand-checked counts)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from photosynth.frames import Box, Frame
from photosynth.imageio import write_image
from photosynth.design import STYLE_DOMAINS, Domain
from photosynth.study.splits import (
    Statistics, balanced_cuts, bucket_frames, build_splits, instance_shares, sample_domain,
    summary_table, write_eval_set, write_weather_lists,
)  # fmt: skip


def _box(cls: str | None, occluded: bool, source: str | None = None) -> Box:
    return Box(10, 10, 30, 25, source_class=source or (cls or "person").lower(), cls=cls, occluded=occluded)


def _frame(tmp: Path, key: str, weather: str, time: str, occluded: int, visible: int = 1, extra: list[Box] = ()) -> Frame:
    image = tmp / "img" / f"{key}.jpg"
    if not image.exists():
        write_image(image, np.full((40, 64, 3), 90, np.uint8))
    boxes = [_box("Car", True) for _ in range(occluded)] + [_box("Car", False) for _ in range(visible)] + list(extra)
    return Frame(image, 64, 40, "bdd100k", key, boxes, weather=weather, timeofday=time)


def test_style_domains_contract() -> None:
    assert STYLE_DOMAINS == {"fog": "daytime_foggy", "overcast": "daytime_overcast", "rain": "daytime_rainy"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("daytime_foggy", ("daytime", "foggy")), ("night", ("night", None)), ("dawn_dusk", ("dawn/dusk", None)),
     ("dawn_dusk_rainy", ("dawn/dusk", "rainy")), ("daytime_partly_cloudy", ("daytime", "partly cloudy"))],
)  # fmt: skip
def test_domain_names_round_trip(name: str, expected: tuple) -> None:
    dom = Domain.parse(name)
    assert (dom.timeofday, dom.weather) == expected and dom.name == name


def test_bad_domain_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="daytime_foggy"):
        Domain.parse("daytime_misty")


def test_balanced_cuts_by_hand() -> None:
    counts = [0, 1, 1, 2, 3, 3, 6]  # 16 instances; cumulative share ≤v: 0, 2, 4, 10, 10, 10, 16 (/16)
    assert balanced_cuts(counts) == (2, 3)
    assert instance_shares(counts, (2, 3)) == [4 / 16, 6 / 16, 6 / 16]
    assert instance_shares(counts, (5, 10)) == [10 / 16, 6 / 16, 0.0]
    with pytest.raises(ValueError, match="no occluded"):
        balanced_cuts([0, 0])
    assert balanced_cuts([4, 4, 4]) == (0, 4)  # one value only: the first bucket holds no occluded instances


def test_buckets_are_cumulative(tmp_path: Path) -> None:
    frames = [_frame(tmp_path, f"f{i}", "clear", "daytime", n) for i, n in enumerate([0, 1, 1, 2, 3, 3, 6])]
    buckets = bucket_frames(frames, (2, 3))
    assert list(buckets) == ["0-2", "0-3", "0-all"]
    assert [len(v) for v in buckets.values()] == [4, 6, 7]
    assert [sum(f.occluded_vehicles for f in v) for v in buckets.values()] == [4, 10, 16]
    with pytest.raises(ValueError, match="c1 < c2"):
        bucket_frames(frames, (3, 3))


def test_sampling_is_seeded_and_filtered(tmp_path: Path) -> None:
    frames = [_frame(tmp_path, f"fog{i}", "foggy", "daytime", 0) for i in range(10)]
    frames += [_frame(tmp_path, "fognight", "foggy", "night", 0), _frame(tmp_path, "clear", "clear", "daytime", 0)]
    a, available = sample_domain(frames, "daytime_foggy", 4, seed=1)
    assert available == 10 and len(a) == 4 and all(p.is_absolute() and p.stem.startswith("fog") for p in a)
    assert a == sample_domain(list(reversed(frames)), "daytime_foggy", 4, seed=1)[0]  # order-independent
    assert {tuple(sample_domain(frames, "daytime_foggy", 4, seed=s)[0]) for s in range(6)} != {tuple(a)}
    assert len(sample_domain(frames, "daytime_foggy", 50, seed=1)[0]) == 10
    summary = write_weather_lists(frames, tmp_path / "weather", ["daytime_foggy", "daytime_clear"], n=3, seed=0)
    lines = (tmp_path / "weather" / "daytime_foggy.txt").read_text().splitlines()
    assert len(lines) == 3 and all(Path(line).is_file() for line in lines)
    assert summary["daytime_clear"]["images"] == 1 and summary["daytime_foggy"]["available"] == 10
    with pytest.raises(ValueError, match="daytime_snowy.*no images"):
        write_weather_lists(frames, tmp_path / "w2", ["daytime_snowy"], n=3)


def test_eval_set_is_yolo_and_coco(tmp_path: Path) -> None:
    pycocotools = pytest.importorskip("pycocotools.coco")
    frames = [_frame(tmp_path, "a", "clear", "daytime", 2, 1, [_box(None, False)]),
              _frame(tmp_path, "b", "rainy", "daytime", 0, 2, [_box("Truck", True, "truck")])]  # fmt: skip
    info = write_eval_set(frames, tmp_path / "set")
    assert info == {"path": str((tmp_path / "set").resolve()), "images": 2, "boxes": 6, "occluded": 3}
    coco = pycocotools.COCO(str(tmp_path / "set" / "coco.json"))
    assert len(coco.getImgIds()) == 2 and len(coco.getAnnIds()) == 6
    report = json.loads((tmp_path / "set" / "report.json").read_text())
    assert report["boxes_in"] == 7 and report["unmapped"] == {"person": 1} and report["reconciled"]
    assert sorted(p.name for p in (tmp_path / "set" / "labels" / "val").iterdir()) == ["a.txt", "b.txt"]
    assert "val: images/val" in (tmp_path / "set" / "data.yaml").read_text()


def test_statistics_by_hand(tmp_path: Path) -> None:
    frames = [_frame(tmp_path, "a", "clear", "daytime", 1, 1, [_box("Truck", True, "truck"), _box(None, True)]),
              _frame(tmp_path, "b", "clear", "daytime", 0, 0),
              _frame(tmp_path, "c", "foggy", "daytime", 0, 3)]  # fmt: skip
    table = Statistics().update(frames).table()
    clear = table[(table.weather == "clear")].set_index("class")
    assert clear.loc["Car", ["images", "boxes", "occluded"]].tolist() == [2, 2, 1]
    assert clear.loc["Car", "occluded_share"] == 0.5 and clear.loc["Truck", "occluded_share"] == 1.0
    assert math.isnan(clear.loc["Van", "occluded_share"])
    wide = summary_table(table)
    assert wide.loc["bdd100k", "images"] == 3 and wide.loc["bdd100k", "boxes"] == 6
    assert wide.loc["bdd100k", "Car boxes"] == 5 and wide.loc["bdd100k", "occluded %"] == round(100 * 2 / 6, 1)
    per_weather = summary_table(table, ["weather"])
    assert per_weather["images"].to_dict() == {"clear": 2, "foggy": 1}


@pytest.fixture(scope="module")
def toy_bdd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from photosynth.toyworld.world import make_toyworld

    root = tmp_path_factory.mktemp("toy")
    make_toyworld(root, scenes=1, frames=1, scale=0.1, kitti_object=0, bdd_train=12, bdd_val=16, seed=3,
                  variations=["clone"], bdd_style_min=2, progress=False)  # fmt: skip
    return root / "bdd100k"


def test_build_splits_on_the_toy_world(toy_bdd: Path, tmp_path: Path) -> None:
    from photosynth.datasets.bdd100k import read_bdd100k

    out = tmp_path / "splits"
    summary = build_splits(toy_bdd, out, style_images=2, seed=0)
    val = list(read_bdd100k(toy_bdd, split="val"))
    counts = [f.occluded_vehicles for f in val]
    c1, c2 = summary["cuts"]
    assert (c1, c2) == balanced_cuts(counts)
    assert summary["buckets"][f"0-{c1}"]["images"] == sum(n <= c1 for n in counts)
    assert summary["buckets"][f"0-{c2}"]["images"] == sum(n <= c2 for n in counts)
    assert summary["buckets"]["0-all"]["images"] == 16
    assert summary["buckets"]["0-all"]["occluded"] == sum(counts)
    for name in ("daytime_clear", "daytime_foggy", "daytime_overcast", "daytime_rainy"):
        lines = (out / "weather" / f"{name}.txt").read_text().splitlines()
        assert len(lines) == 2 and all("/images/100k/train/" in line and Path(line).is_file() for line in lines)
    for name, info in summary["weather_eval"].items():
        dom = Domain.parse(name)
        assert info["images"] == sum(dom.matches(f) for f in val)
        assert (out / "weather_eval" / name / "coco.json").is_file()
    assert sum(f.timeofday == "daytime" and f.weather == "foggy" for f in val) >= 2
    assert (out / "statistics.csv").is_file() and (out / "manifest.json").is_file()
    assert build_splits(toy_bdd, out, style_images=2, seed=0)["skipped"] is True
    study = build_splits(toy_bdd, out, style_images=2, seed=0, cuts="study")
    assert study["cuts"] == [5, 10] and not study["skipped"]
    assert sorted(p.name for p in (out / "buckets").iterdir()) == ["0-10", "0-5", "0-all"]  # old cuts removed


def test_cli_split(toy_bdd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from photosynth.cli import main

    out = tmp_path / "s"
    assert main(["split", "--bdd", str(toy_bdd), "--out", str(out), "--style-images", "1", "--cuts", "1,3",
                 "--eval-domains", "daytime_foggy,night"]) == 0  # fmt: skip
    brief = json.loads(capsys.readouterr().out)
    assert brief["cuts"] == [1, 3] and list(brief["buckets"]) == ["0-1", "0-3", "0-all"]
    assert set(brief["weather_eval"]) | set(brief["empty_eval_domains"]) == {"daytime_foggy", "night"}
    assert main(["split", "--bdd", str(toy_bdd), "--out", str(out), "--cuts", "x"]) == 2
    assert main(["split", "--bdd", str(toy_bdd), "--out", str(out), "--eval-domains", "sunny"]) == 2
