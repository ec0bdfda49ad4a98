"""Translation fidelity: SSIM/PSNR against the oracle, KID/FID as torchmetrics computes them, recall and
content kept, a CSV that reconciles with the frames on disk, and the CLI's errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photosynth.cli import main
from photosynth.imageio import write_image
from photosynth.metrics import fidelity as measures
from photosynth.study import fidelity
from photosynth.metrics.domain_gap import extract_features, feature_network

SIZE = (48, 24)  # width, height of the hand-made frames (SSIM needs >= 11 px a side)
SLOTS = {"fog": (4, 11), "overcast": (5, 12), "rain": (6, 13)}
HEADER = "frame cameraID trackID left right top bottom number_pixels truncation_ratio occupancy_ratio isMoving"


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8)


def _rel(frame: int) -> str:
    return f"Scene01/clone/frames/rgb/Camera_0/rgb_{frame:05d}.jpg"


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """vKITTI2 (clone + rendered weathers, 14 frames, one Car a frame), oracle renders of the slot frames,
    cyclegan's fog translation of one of the two fog frames, and five target photos."""
    vkitti = tmp_path / "vkitti2"
    for variation in ("clone", *SLOTS):
        folder = vkitti / "Scene01" / variation
        rows = [f"{i} 0 0 {2 + i} {20 + i} 4 15 100 0 1 True" for i in range(14)]
        folder.mkdir(parents=True)
        (folder / "bbox.txt").write_text("\n".join([HEADER, *rows]) + "\n")
        (folder / "info.txt").write_text("trackID label model color\n0 Car Sedan4Door Red\n")
        for i in range(14):
            write_image(folder / "frames/rgb/Camera_0" / f"rgb_{i:05d}.jpg", _image(i + 100 * len(variation)))
    for weather, frames in SLOTS.items():
        for i in frames:
            write_image(tmp_path / "oracle" / weather / _rel(i), _image(1000 + i))
    write_image(tmp_path / "translated/cyclegan/fog" / _rel(4), _image(2000))
    targets = [tmp_path / "bdd" / f"{i}.jpg" for i in range(5)]
    for i, path in enumerate(targets):
        write_image(path, _image(3000 + i))
    (tmp_path / "foggy.txt").write_text("".join(f"{p}\n" for p in targets))
    return {"root": tmp_path, "vkitti": vkitti, "oracle": tmp_path / "oracle", "targets": tmp_path / "foggy.txt",
            "cyclegan": tmp_path / "translated/cyclegan/fog"}  # fmt: skip


def tiny_net(dim: int = 4):  # noqa: ANN201
    """A seeded random-init CNN with ``dim`` features on 16×16 inputs."""
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, dim, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                 torch.nn.Flatten()).eval()  # fmt: skip
    return feature_network(module, f"tiny test CNN ({dim} features)", (16, 16))


def test_ssim_of_a_frame_with_itself_is_one_and_psnr_is_capped() -> None:
    frame = _image(1)
    assert measures.frame_scores(frame, frame) == (1.0, measures.PSNR_CAP)
    noisy = np.clip(frame.astype(int) + np.random.default_rng(2).integers(-20, 21, frame.shape), 0, 255).astype(np.uint8)
    ssim, psnr = measures.frame_scores(noisy, frame)
    assert 0 < ssim < 1 and 20 < psnr < 40  # ±20 levels of uniform noise: about 25 dB
    small = np.asarray(__import__("PIL.Image", fromlist=["Image"]).fromarray(frame).resize((24, 12)))
    assert measures.frame_scores(small, frame)[0] < 1  # resized to the target's size first
    with pytest.raises(ValueError, match="smaller than SSIM"):
        measures.frame_scores(frame[:8], frame[:8])


def test_kid_and_fid_equal_torchmetrics(tmp_path: Path) -> None:
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    net = tiny_net(4)
    rng = np.random.default_rng(0)
    a = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(12)]
    b = [np.clip(im.astype(int) + 60, 0, 255).astype(np.uint8) for im in a[::-1]]
    ours = measures.distances(extract_features(a, net), extract_features(b, net), seed=3, kid_subsets=5)

    def tensors(images: list[np.ndarray]) -> torch.Tensor:  # uint8, as FeatureNet modules take them
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)

    class Double(torch.nn.Module):  # torchmetrics keeps the features' dtype: float64 like ours, not float32's 1e-4
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.double()

    features = torch.nn.Sequential(net.module, Double())
    kid = KernelInceptionDistance(feature=features, subsets=5, subset_size=12)  # whole sets: no sampling noise
    fid = FrechetInceptionDistance(feature=features, input_img_size=(3, 16, 16))
    for metric in (kid, fid):
        metric.update(tensors(b), real=True)
        metric.update(tensors(a), real=False)
    kid_mean, kid_std = (float(v) for v in kid.compute())
    assert ours["kid"] == pytest.approx(kid_mean, rel=1e-9) and ours["kid_std"] == pytest.approx(kid_std, abs=1e-12)
    assert ours["fid"] == pytest.approx(float(fid.compute()), rel=1e-6)
    assert ours["fid"] > 0 and ours["kid"] > 0  # the shifted set is measurably apart
    few = measures.distances(extract_features(a[:4], net), extract_features(b[:4], net))
    assert math.isnan(few["fid"]) and math.isfinite(few["kid"])  # 4 images, 4 dimensions: no FID
    assert not measures.fid_allowed(4, 100, 4) and measures.fid_allowed(5, 100, 4)


def test_recall_counts_on_hand_made_predictions() -> None:
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "key": "a"}, {"id": 2, "file_name": "b.jpg", "key": "b"}],
            "categories": [{"id": 1, "name": "Car"}, {"id": 3, "name": "Truck"}],
            "annotations": [{"id": i + 1, "image_id": img, "category_id": 1, "bbox": box, "area": 100, "iscrowd": 0}
                            for i, (img, box) in enumerate([(1, [0, 0, 10, 10]), (1, [20, 0, 10, 10]),
                                                            (2, [0, 0, 10, 10])])]}  # fmt: skip
    every = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
             {"image_id": 1, "category_id": 1, "bbox": [21, 1, 10, 10], "score": 0.8},
             {"image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.7}]  # fmt: skip
    counts = measures.recall_counts(coco, every)
    assert counts.to_dict("list") == {"key": ["a", "b"], "n_gt": [2, 1], "found": [2, 1]}
    erased = [p for p in every if p["image_id"] == 1]  # the car of b is gone
    assert measures.recall_counts(coco, erased).found.tolist() == [2, 0]
    weak = [dict(p, score=0.1) if p["image_id"] == 2 else p for p in every]
    assert measures.recall_counts(coco, weak).found.tolist() == [2, 0]  # below the score threshold
    assert measures.recall_counts(coco, weak, min_score=0.05).found.tolist() == [2, 1]
    shifted = [dict(p, bbox=[6, 0, 10, 10]) if p["image_id"] == 2 else p for p in every]  # IoU 4/16 < 0.5
    wrong = [dict(p, category_id=3) if p["image_id"] == 2 else p for p in every]
    assert measures.recall_counts(coco, shifted).found.tolist() == measures.recall_counts(coco, wrong).found.tolist() == [2, 0]


def test_content_kept_is_relative_to_the_reference_on_the_same_frames() -> None:
    counts = pd.DataFrame({"weather": "fog", "translator": ["oracle"] * 3 + ["erase"] * 2 + ["clone"] * 3,
                           "key": ["a", "b", "c", "a", "b", "a", "b", "c"], "n_gt": [2, 2, 4, 2, 2, 2, 2, 4],
                           "found": [2, 1, 0, 1, 0, 0, 0, 4]})  # fmt: skip
    sets = {"clone": {}, "oracle": {}}
    row = pd.Series({"weather": "fog", "translator": "erase"})
    got = fidelity._content(row, counts, sets)
    assert got.recall == 0.25 and got.reference == "oracle" and got.reference_recall == 0.75
    assert got.content_kept == pytest.approx(1 / 3)  # oracle recall on a and b only, not on c
    real = fidelity._content(row, counts, {"clone": {}})  # no oracle: relative to the clone frames
    assert real.reference == "clone" and real.reference_recall == 0.0 and math.isnan(real.content_kept)


def test_csv_reconciles_with_the_frames_on_disk(layout: dict[str, Path], tmp_path: Path) -> None:
    jobs = [fidelity.Job(w, layout["vkitti"], layout["targets"],
                         {"cyclegan": layout["cyclegan"]} if w == "fog" else {}, layout["oracle"] / w)
            for w in SLOTS]  # fmt: skip
    table = fidelity.fidelity_table(jobs, tiny_net(), progress=False)
    csv = fidelity.write_table(table, tmp_path / "out" / "fidelity.csv")
    back = pd.read_csv(csv)
    assert list(back.columns) == list(fidelity.COLUMNS)
    assert back.translator.tolist() == ["clone", "vkitti", "cyclegan", "oracle", "clone", "vkitti", "oracle",
                                        "clone", "vkitti", "oracle"]  # fmt: skip
    on_disk = {("fog", "cyclegan"): len(list(layout["cyclegan"].rglob("*.jpg")))}
    for weather in SLOTS:
        on_disk[(weather, "oracle")] = len(list((layout["oracle"] / weather).rglob("*.jpg")))
        on_disk[(weather, "clone")] = on_disk[(weather, "vkitti")] = len(SLOTS[weather])
    assert {(r.weather, r.translator): r.n_frames for r in back.itertuples()} == on_disk
    assert back[back.translator == "oracle"].ssim.isna().all()  # the oracle is what the others are measured against
    assert back[back.translator != "oracle"].ssim.between(-1, 1).all() and (back.n_target == 5).all()
    assert back.fid.isna().all()  # 1–2 frames against 4 features: FID is not reported
    assert back.recall.isna().all()  # no detector given
    half = fidelity.fidelity_table(jobs[:1], tiny_net(), max_images=1, progress=False)
    assert half.n_frames.tolist() in ([1, 1, 1, 1], [1, 1, 0, 1]) and (half.n_target == 1).all()


def test_bad_translated_folders_are_named(layout: dict[str, Path]) -> None:
    write_image(layout["cyclegan"] / _rel(5), _image(9))  # an overcast-slot frame in the fog folder
    job = fidelity.Job("fog", layout["vkitti"], layout["targets"], {"cyclegan": layout["cyclegan"]})
    with pytest.raises(ValueError, match="rgb_00005.jpg: not a clone frame of the fog slot"):
        fidelity.job_sets(job)
    (layout["oracle"] / "fog" / _rel(11)).unlink()
    job = fidelity.Job("fog", layout["vkitti"], layout["targets"], {}, layout["oracle"] / "fog")
    with pytest.raises(FileNotFoundError, match="no oracle render of 1 fog slot frame"):
        fidelity.job_sets(job)
    with pytest.raises(ValueError, match="reference row"):
        fidelity.job_sets(fidelity.Job("fog", layout["vkitti"], layout["targets"], {"clone": layout["cyclegan"]}))


def test_criteria_of_issue_11() -> None:
    table = pd.DataFrame({"translator": ["clone", "a", "b", "c"], "kind": ["reference"] + ["translator"] * 3,
                          "weather": "fog", "kid": [0.2, 0.1, 0.3, 0.1], "content_kept": [0.5, 0.9, 0.9, math.nan]})
    got = fidelity.criteria(table).set_index("translator")
    assert got.keeps_content.tolist()[:2] == [True, True] and got.keeps_content.isna().tolist() == [False, False, True]
    assert got.moves_to_target.tolist() == [True, False, True]


def test_cli_writes_the_csv_and_names_bad_input(layout: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "cli" / "fog.csv"
    args = ["fidelity", "--translated", str(layout["cyclegan"]), "--targets", str(layout["targets"]),
            "--vkitti2", str(layout["vkitti"]), "--out", str(out), "--features", "random_cnn"]  # fmt: skip
    assert main([*args, "--oracle", str(layout["oracle"] / "fog")]) == 0
    table = pd.read_csv(out)
    assert table.translator.tolist() == ["clone", "vkitti", "cyclegan", "oracle"] and table.n_frames.tolist() == [2, 2, 1, 2]
    assert "random-init" in capsys.readouterr().out
    assert main([*args, "--oracle", "none"]) == 0 and pd.read_csv(out).ssim.isna().all()
    capsys.readouterr()
    bad = {
        "--oracle": ([*args, "--oracle", str(tmp_path / "nowhere")], "pass 'none' on real data"),
        "--translated": ([*args, "--oracle", "none", "--translated", str(tmp_path / "missing")], "no such folder"),
        "--weather": ([*args, "--oracle", "none", "--weather", "snow"], "is not one of fog, overcast, rain"),
        "--detector": ([*args, "--oracle", "none", "--detector", str(tmp_path / "best.pt")], "no such weights file"),
        "--name": ([*args, "--oracle", "none", "--name", "clone"], "reference rows"),
    }
    for flag, (argv, message) in bad.items():
        assert main(argv) == 2, flag
        assert message in capsys.readouterr().err, flag
    write_image(layout["cyclegan"] / _rel(6), _image(9))
    assert main([*args, "--oracle", "none"]) == 1
    assert "not a clone frame of the fog slot" in capsys.readouterr().err


@pytest.mark.slow
def test_reference_detector_end_to_end_on_the_toy_world(tmp_path: Path) -> None:
    """A real (tiny) reference detector: the recall columns reconcile with the clone labels of every set."""
    from photosynth import detect, runtime
    from photosynth.datasets.yolo import label_lines
    from photosynth.study import datasets, mixes, splits

    ws = runtime.Workspace(tmp_path / "ws")
    runtime.configure(ws)
    toy = {"scenes": 2, "frames": 14, "scale": 0.12, "kitti_object": 0, "bdd_train": 16, "bdd_val": 4, "bdd_style_min": 3}
    data = datasets.prepare_data(ws.root, {}, toy, seed=0)
    splits.build_splits(data["roots"]["bdd100k"], ws.root / "splits", style_images=3, seed=0,
                        eval_domains=["daytime_clear"])  # fmt: skip
    mixes.link_oracle(ws.root)
    frames = fidelity.reference_frames(ws.root / "data/vkitti2", ws.root / "data/kitti_tracking",
                                       ws.root / "translated/oracle")  # fmt: skip
    assert len(frames) == 2 * 14 + 2 * 2 * 3  # every KITTI tracking frame and every oracle render
    yolo = fidelity.write_frames(frames, tmp_path / "reference_data", "train")
    settings = detect.TrainSettings(imgsz=64, epochs=1, batch=8, optimizer="SGD", warmup_epochs=0, workers=0)
    best = detect.train(yolo, tmp_path / "reference", settings, ws, progress=False).best
    jobs = fidelity.workspace_jobs(ws.root, [])
    table = fidelity.fidelity_table(jobs, tiny_net(), detector=best, work=tmp_path / "work", min_score=0.0,
                                    progress=False)  # fmt: skip
    clones = fidelity.clone_frames(ws.root / "data/vkitti2")
    for row in table.itertuples():
        keys = fidelity.slot_frames(ws.root / "data/vkitti2", row.weather)
        assert row.n_boxes == sum(len(label_lines(clones[k])) for k in keys)
        assert 0 <= row.found <= row.n_boxes and row.reference == "oracle"
    oracle = table[table.translator == "oracle"]
    assert ((oracle.content_kept == 1.0) | oracle.content_kept.isna()).all()
