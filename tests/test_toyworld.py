"""The toy world: real layouts, determinism, exact occlusion, vKITTI2 inclusive boxes, read-back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from photosynth.datasets.bdd100k import BDD_IMAGE_SIZE, bdd_frames, read_bdd100k
from photosynth.datasets.kitti import read_kitti_object, read_kitti_tracking
from photosynth.toyworld.scene import FIRST_OWNER, OCCLUDED_BELOW, Camera, Thing, rasterize
from photosynth.toyworld.style import VARIATIONS
from photosynth.toyworld.labels import bdd_labels, bdd_record
from photosynth.toyworld.streets import STUDY_WEATHERS, Street, bdd_conditions
from photosynth.toyworld.world import make_toyworld
from photosynth.datasets.vkitti2 import OCCUPANCY_THRESHOLD, read_vkitti2
from photosynth.imageio import image_size

SMALL = dict(scenes=2, frames=3, scale=0.12, kitti_object=5, bdd_train=9, bdd_val=6, seed=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return make_toyworld(tmp_path_factory.mktemp("toy") / "data", progress=False, **SMALL)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_layouts_are_the_real_ones(world: dict) -> None:
    root = Path(world["root"])
    files = _files(root)
    for seq in ("0001", "0002"):
        assert f"kitti_tracking/training/label_02/{seq}.txt" in files
        assert {f"kitti_tracking/training/image_02/{seq}/{i:06d}.png" for i in range(3)} <= files
    assert {f"kitti_object/training/{d}/{i:06d}.{e}" for i in range(5) for d, e in (("image_2", "png"), ("label_2", "txt"))} <= files
    for scene in ("Scene01", "Scene02"):
        for variation in VARIATIONS:
            base = f"vkitti2/{scene}/{variation}"
            assert {f"{base}/bbox.txt", f"{base}/info.txt"} <= files
            assert {f"{base}/frames/rgb/Camera_{c}/rgb_{i:05d}.jpg" for c in (0, 1) for i in range(3)} <= files
        bbox = (root / f"vkitti2/{scene}/clone/bbox.txt").read_text().splitlines()
        assert bbox[0].split() == ("frame cameraID trackID left right top bottom number_pixels truncation_ratio "
                                   "occupancy_ratio isMoving").split()  # fmt: skip
        assert {row.split()[-1] for row in bbox[1:]} <= {"True", "False"}
        assert (root / f"vkitti2/{scene}/clone/info.txt").read_text().splitlines()[0] == "trackID label model color"
    for split, n in (("train", 9), ("val", 6)):
        assert len(list((root / "bdd100k/images/100k" / split).glob("*.jpg"))) == n
        assert f"bdd100k/labels/bdd100k_labels_images_{split}.json" in files
        assert f"bdd100k/labels/det_20/det_{split}.json" in files
    assert "manifest.json" in files
    assert not [f for f in files if Path(f).name.startswith(".")]  # no temporary files left behind
    total = 2 * 3 * (2 * 10 + 1) + 5 + 9 + 6
    assert world["counts"]["images"] == total


def test_image_sizes_scale_and_vary(world: dict) -> None:
    root = Path(world["root"])
    assert image_size(root / "kitti_tracking/training/image_02/0001/000000.png") == (149, 45)
    assert image_size(root / "vkitti2/Scene01/fog/frames/rgb/Camera_1/rgb_00002.jpg") == (149, 45)
    sizes = {image_size(p) for p in (root / "kitti_object/training/image_2").glob("*.png")}
    assert len(sizes) == 2  # 000003 has another KITTI size
    assert {image_size(p) for p in (root / "bdd100k/images/100k/val").glob("*.jpg")} == {(154, 86)}


def test_kitti_label_fields(world: dict) -> None:
    root = Path(world["root"])
    rows = [r.split() for r in (root / "kitti_tracking/training/label_02/0001.txt").read_text().splitlines()]
    assert rows and all(len(r) == 17 for r in rows)
    for r in rows:
        if r[2] == "DontCare":
            assert r[1] == "-1" and r[3:6] == ["-1", "-1", "-10"] and r[10:] == ["-1", "-1", "-1", "-1000", "-1000", "-1000", "-10"]
        else:
            assert r[2] in ("Car", "Van", "Truck") and r[3] in ("0", "1", "2") and r[4] in ("0", "1", "2", "3")
    object_rows = [r.split() for p in (root / "kitti_object/training/label_2").glob("*.txt") for r in p.read_text().splitlines()]
    assert object_rows and all(len(r) == 15 for r in object_rows)


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    tiny = dict(scenes=1, frames=2, scale=0.1, kitti_object=1, bdd_train=2, bdd_val=1, progress=False)
    a = make_toyworld(tmp_path / "a", seed=3, **tiny)
    b = make_toyworld(tmp_path / "b", seed=3, **tiny)
    c = make_toyworld(tmp_path / "c", seed=4, **tiny)

    def digest(root: str) -> dict[str, str]:
        return {f: hashlib.sha256((Path(root) / f).read_bytes()).hexdigest()
                for f in _files(Path(root)) if f != "manifest.json"}  # fmt: skip

    assert digest(a["root"]) == digest(b["root"])
    assert digest(a["root"]) != digest(c["root"])
    again = make_toyworld(tmp_path / "a", seed=3, **tiny)
    assert again["skipped"] is True and again["counts"] == a["counts"]
    changed = make_toyworld(tmp_path / "a", seed=3, **(tiny | {"bdd_val": 2}))
    assert changed["skipped"] is False and changed["counts"]["bdd_val_frames"] == 2


def test_occlusion_follows_render_order() -> None:
    camera = Camera.kitti(300, 90)
    far = Thing("Truck", 0.0, 20.0, (200, 100, 30), track_id=1)
    near = Thing("Car", 0.3, 14.0, (30, 60, 200), track_id=2)
    raster = rasterize(camera, [near, far])  # input order must not matter
    views = {v.thing.track_id: v for v in raster.views}
    assert views[2].occupancy == 1.0 and not views[2].occluded
    assert 0.0 < views[1].occupancy < OCCLUDED_BELOW and views[1].occluded and views[1].kitti_occlusion in (1, 2)
    for v in raster.views:
        assert v.visible_pixels == int((raster.owner == v.owner).sum())
    alone = rasterize(camera, [far]).views[0]
    assert alone.occupancy == 1.0 and alone.image_pixels == views[1].image_pixels


def test_occlusion_consistent_over_scenes() -> None:
    """Every occluded view has a nearer view overlapping its box; unoverlapped views are fully visible."""
    street = Street.generate(seed=0, key=2, frames=12)
    checked = 0
    for frame in range(0, 12, 3):
        for yaw in (0.0, 30.0):
            raster = street.raster(Camera.kitti(200, 60, yaw=yaw), frame)
            for v in raster.views:
                nearer = [u for u in raster.views if u.depth < v.depth and u.left <= v.right and v.left <= u.right
                          and u.top <= v.bottom and v.top <= u.bottom]  # fmt: skip
                assert (v.visible_pixels < v.image_pixels) == bool(nearer) or v.visible_pixels == v.image_pixels
                if not nearer:
                    assert v.visible_pixels == v.image_pixels
                checked += 1
    assert checked > 20


def test_vkitti_boxes_are_inclusive_pixels() -> None:
    street = Street.generate(seed=5, key=0, frames=4)
    raster = street.raster(Camera.kitti(248, 75), 2)
    assert raster.views
    for v in raster.views:
        ys, xs = np.nonzero(raster.owner == v.owner)
        if v.visible_pixels == 0:
            continue
        if v.occupancy == 1.0:  # the silhouette touches all four inclusive edges
            assert (xs.min(), xs.max(), ys.min(), ys.max()) == (v.left, v.right, v.top, v.bottom)
        else:
            assert v.left <= xs.min() and xs.max() <= v.right and v.top <= ys.min() and ys.max() <= v.bottom
    assert min(v.owner for v in raster.views) == FIRST_OWNER


def test_readers_read_the_toy_world(world: dict) -> None:
    root = Path(world["root"])
    vk = list(read_vkitti2(root / "vkitti2"))
    assert len(vk) == 2 * 10 * 2 * 3
    kt = list(read_kitti_tracking(root / "kitti_tracking"))
    assert len(kt) == 6
    ko = list(read_kitti_object(root / "kitti_object"))
    assert len(ko) == 5
    # tracking sequence 0001 shows Scene01's clone geometry from Camera_0, frame by frame
    clone = {f.source["frame"]: f for f in vk if f.source["scene"] == "Scene01" and f.source["variation"] == "clone"
             and f.source["camera"] == 0}  # fmt: skip
    matched = 0
    for frame in (f for f in kt if f.source.get("sequence") == "0001"):
        synthetic = {b.track_id: b for b in clone[frame.source["frame"]].boxes}
        for box in frame.mapped_boxes:
            twin = synthetic[box.track_id]
            assert twin.cls == box.cls
            assert abs(twin.x1 - box.x1) < 1e-6 and abs(twin.x2 - 1 - box.x2) < 1e-6  # inclusive vs KITTI float
            assert box.occluded == twin.occluded  # same harmonized threshold
            matched += 1
    assert matched > 0
    assert OCCLUDED_BELOW == OCCUPANCY_THRESHOLD
    for layout in ("2018", "det_20"):
        frames = list(read_bdd100k(root / "bdd100k", split="train", layout=layout))
        assert len(frames) == 9
        assert {f.weather for f in frames if f.timeofday == "daytime"} >= set(STUDY_WEATHERS)
    old = [f.mapped_boxes for f in read_bdd100k(root / "bdd100k", split="val", layout="2018")]
    new = [f.mapped_boxes for f in read_bdd100k(root / "bdd100k", split="val", layout="det_20")]
    assert [[(b.x1, b.y1, b.cls, b.occluded) for b in bs] for bs in old] == \
        [[(b.x1, b.y1, b.cls, b.occluded) for b in bs] for bs in new]  # fmt: skip


def test_bdd_labels_look_like_bdd() -> None:
    frames = list(bdd_labels(150, seed=2))
    assert frames == list(bdd_labels(150, seed=2))
    boxes = [label for f in frames for label in f["labels"] if "box2d" in label]
    polys = [label for f in frames for label in f["labels"] if "box2d" not in label]
    assert 14 <= len(boxes) / len(frames) <= 22
    assert {p["category"] for p in polys} == {"drivable area", "lane"} and all("poly2d" in p for p in polys)
    assert {"car", "truck", "person", "traffic light", "traffic sign"} <= {b["category"] for b in boxes}
    assert all(isinstance(b["id"], int) for b in boxes)
    assert all(0 <= b["box2d"]["x1"] < b["box2d"]["x2"] <= 1280 and 0 <= b["box2d"]["y1"] < b["box2d"]["y2"] <= 720
               for b in boxes)  # fmt: skip
    assert any(b["attributes"]["occluded"] for b in boxes) and any(b["attributes"]["truncated"] for b in boxes)
    read = list(bdd_frames(frames, Path("/nonexistent"), "toy", {"split": "train"}, image_size=BDD_IMAGE_SIZE))
    assert len(read) == 150 and sum(len(f.mapped_boxes) for f in read) > 150
    det = list(bdd_labels(40, seed=2, layout="det_20"))
    labels = [label for f in det for label in (f.get("labels") or [])]
    assert labels and all(isinstance(label["id"], str) and "box2d" in label for label in labels)
    assert "pedestrian" in {label["category"] for label in labels} or "person" not in {b["category"] for b in boxes}


def test_empty_det20_frames_have_missing_or_null_labels() -> None:
    raster = rasterize(Camera.bdd(64, 36), [], background=False)
    ids = iter(range(100))
    attrs = {"weather": "clear", "scene": "highway", "timeofday": "daytime"}
    assert "labels" not in bdd_record("a.jpg", attrs, raster, "det_20", ids, empty="missing")
    assert bdd_record("a.jpg", attrs, raster, "det_20", ids, empty="null")["labels"] is None
    old = bdd_record("a.jpg", attrs, raster, "2018", ids)
    assert old["labels"] and all("box2d" not in label for label in old["labels"])
    with pytest.raises(ValueError, match="layout"):
        bdd_record("a.jpg", attrs, raster, "per_image", ids)


def test_every_study_weather_gets_daytime_images() -> None:
    rng = np.random.default_rng(0)
    conditions = bdd_conditions(10, rng, weather={"clear": 1.0}, timeofday={"night": 1.0}, style_min=2)
    for weather in STUDY_WEATHERS:
        assert conditions.count((weather, "daytime")) == 2
    assert conditions.count(("clear", "night")) == 2


def test_domain_gap_is_real(world: dict) -> None:
    from photosynth.imageio import read_rgb

    root = Path(world["root"])
    real = read_rgb(root / "kitti_tracking/training/image_02/0001/000001.png").astype(float)
    clone = read_rgb(root / "vkitti2/Scene01/clone/frames/rgb/Camera_0/rgb_00001.jpg").astype(float)
    fog = read_rgb(root / "vkitti2/Scene01/fog/frames/rgb/Camera_0/rgb_00001.jpg").astype(float)
    assert np.abs(real - clone).mean() > 3.0  # same geometry, different render
    assert fog.std() < clone.std()  # the synthetic fog is a flat blend


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Scene99"):
        make_toyworld(tmp_path, scenes=["Scene99"], progress=False)
    with pytest.raises(ValueError, match="frames"):
        make_toyworld(tmp_path, frames=0, progress=False)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from photosynth.cli import main

    out = tmp_path / "w"
    argv = ["toyworld", "--out", str(out), "--frames", "1", "--scenes", "1", "--scale", "0.08",
            "--bdd-train", "4", "--bdd-val", "4", "--kitti-object", "1", "--seed", "2"]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["counts"]["images"] == 21 + 1 + 8
    assert json.loads((out / "manifest.json").read_text())["params"]["seed"] == 2
    assert main(["toyworld", "--out", str(out), "--scenes", "7"]) == 2


# --- the oracle ---------------------------------------------------------------------------------------------

#: Digests of files of ``make_toyworld(scenes=1, frames=7, scale=0.1, kitti_object=1, bdd_train=2, bdd_val=2,
#: seed=1)`` computed on ``main`` before the oracle existed (PNG: decoded pixels, text: bytes), so adding the
#: oracle provably left the rest of the world as it was (JPEG bytes depend on the libjpeg build; the oracle
#: on/off test below compares those byte for byte on this machine).
BEFORE_ORACLE = {
    "bdd100k/labels/bdd100k_labels_images_val.json": "8f451aa059f5cd15",
    "kitti_object/training/image_2/000000.png": "155d72868637e1e1",
    "kitti_object/training/label_2/000000.txt": "c12010c82d775a0b",
    "kitti_tracking/training/image_02/0001/000004.png": "6ce9720711e010b0",
    "kitti_tracking/training/image_02/0001/000006.png": "baefb9b81b73eb6a",
    "kitti_tracking/training/label_02/0001.txt": "0ad68a8c7f58c56d",
    "vkitti2/Scene01/clone/bbox.txt": "08cc2a529c008575",
    "vkitti2/Scene01/30-deg-left/bbox.txt": "69fda08c14ab39ee",
}
GOLDEN = dict(scenes=1, frames=7, scale=0.1, kitti_object=1, bdd_train=2, bdd_val=2, seed=1, progress=False)


def _digest(path: Path) -> str:
    from photosynth.imageio import read_rgb

    data = read_rgb(path).tobytes() if path.suffix == ".png" else path.read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.fixture(scope="module")
def oracle_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A workspace whose toy world has every weather slot in two scenes (frames 4, 5, 6 and 11, 12, 13)."""
    from photosynth.design import VARIATION_SOURCES

    ws = tmp_path_factory.mktemp("oracle")
    world = make_toyworld(ws / "data", scenes=2, frames=14, scale=0.1, kitti_object=0, bdd_train=0, bdd_val=0,
                          variations=list(VARIATION_SOURCES), progress=False)  # fmt: skip
    return world | {"workspace": ws}


def test_oracle_frames_are_exactly_the_weather_slots_at_the_clone_size(oracle_world: dict) -> None:
    from photosynth.imageio import mirrored_path
    from photosynth.translate.frameset import translation_sources
    from photosynth.design import WEATHER_SLOTS

    vkitti, oracle = Path(oracle_world["vkitti2"]), Path(oracle_world["oracle"])
    expected = {}
    for weather in WEATHER_SLOTS:
        for clone in translation_sources(vkitti, weather):
            expected[mirrored_path(clone, vkitti, oracle / weather)] = clone
    assert {p for p in oracle.rglob("*") if p.is_file()} == set(expected)
    assert len(expected) == 2 * 2 * 3 == oracle_world["counts"]["oracle_frames"]
    for path, clone in expected.items():
        assert image_size(path) == image_size(clone)
    fog = [p.name for p in (oracle / "fog").rglob("*.jpg")]
    assert sorted(fog) == ["rgb_00004.jpg", "rgb_00004.jpg", "rgb_00011.jpg", "rgb_00011.jpg"]


def test_oracle_is_the_real_render_of_the_clone_geometry(oracle_world: dict) -> None:
    from photosynth.imageio import read_rgb

    root = Path(oracle_world["root"])
    clone = read_rgb(root / "vkitti2/Scene01/clone/frames/rgb/Camera_0/rgb_00004.jpg").astype(float)
    rendered_fog = read_rgb(root / "vkitti2/Scene01/fog/frames/rgb/Camera_0/rgb_00004.jpg").astype(float)
    oracle = read_rgb(root / "oracle/fog/Scene01/clone/frames/rgb/Camera_0/rgb_00004.jpg").astype(float)
    assert np.abs(oracle - rendered_fog).mean() > 3.0  # depth haze, texture and noise, not vKITTI's flat blend
    # same geometry: the oracle's edges line up with the clone's (correlation of horizontal gradients)
    gx = [np.diff(img.mean(axis=2), axis=1).ravel() for img in (clone, oracle)]
    assert np.corrcoef(*gx)[0, 1] > 0.3


def test_oracle_mix_has_the_clone_frames_labels(oracle_world: dict) -> None:
    from photosynth.datasets.vkitti2 import read_vkitti2
    from photosynth.datasets.yolo import label_lines
    from photosynth.study.mixes import build_workspace_mixes, link_oracle
    from photosynth.design import WEATHER_SLOTS

    ws = oracle_world["workspace"]
    link = link_oracle(ws)
    assert link == ws / "translated" / "oracle" and link.is_symlink() and link_oracle(ws) == link
    results = build_workspace_mixes(ws, ["baseline", "oracle"], seed=0)
    oracle, baseline = results["oracle"], results["baseline"]
    assert oracle.composition.equals(baseline.composition)
    clones = {(f.source["scene"], f.source["frame"]): f
              for f in read_vkitti2(oracle_world["vkitti2"], variations=["clone"], cameras=(0,))}  # fmt: skip
    slots = [item for item in oracle.items if item.source in WEATHER_SLOTS]
    assert len(slots) == 12
    for item in slots:
        assert item.frame.image.is_relative_to(link / item.source)
        label = oracle.out / "labels" / item.split / f"{item.frame.key}.txt"
        clone = clones[(item.scene, item.index)]
        assert label.read_text() == "".join(f"{line}\n" for line in label_lines(clone))
        assert (oracle.out / "images" / item.split / f"{item.frame.key}.jpg").resolve() == item.frame.image.resolve()
    others = {i.frame.key: i.frame.image for i in baseline.items if i.source not in WEATHER_SLOTS}
    assert others == {i.frame.key: i.frame.image for i in oracle.items if i.source not in WEATHER_SLOTS}


def test_adding_the_oracle_changes_no_other_file(tmp_path: Path) -> None:
    on = Path(make_toyworld(tmp_path / "on", **GOLDEN)["root"])
    off = Path(make_toyworld(tmp_path / "off", oracle=False, **GOLDEN)["root"])
    assert not (off / "oracle").exists() and len(list((on / "oracle").rglob("*.jpg"))) == 3
    files = _files(on) - {"manifest.json"}
    others = {f for f in files if not f.startswith("oracle/")}
    assert others == _files(off) - {"manifest.json"}
    assert all((on / f).read_bytes() == (off / f).read_bytes() for f in others)
    assert {f: _digest(on / f) for f in BEFORE_ORACLE} == BEFORE_ORACLE
