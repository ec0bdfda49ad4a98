"""Detector training/prediction on a tiny YOLO dataset: structure and invariants, never accuracy."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from photosynth import detect, runtime
from tiny_yolo import make_dataset

TINY = detect.TrainSettings(imgsz=64, epochs=1, batch=4, workers=0, optimizer="SGD", warmup_epochs=0)


def wanted_threads() -> int:
    """A torch thread count that differs from the one ultralytics' select_device would set (cpu_count − 1)."""
    from ultralytics.utils import torch_utils

    runtime.ultralytics_module()
    return 2 if torch_utils.NUM_THREADS != 2 else 3


THREADS_SEEN: list[int] = []


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[runtime.Workspace, Path, detect.TrainResult]:
    import torch

    root = tmp_path_factory.mktemp("detect")
    data = make_dataset(root / "data")
    ws = runtime.Workspace(root / "ws")
    record = {"on_train_batch_start": lambda trainer: THREADS_SEEN.append(torch.get_num_threads())}
    result = detect.train(data, ws.stage("detectors") / "baseline", replace(TINY, threads=wanted_threads()), ws,
                          progress=False, callbacks=record)
    return ws, data, result


def test_training_and_prediction_use_the_thread_count_we_set(trained, monkeypatch: pytest.MonkeyPatch) -> None:
    """ultralytics' select_device would set cpu_count − 1 threads; training and prediction run with ours."""
    import torch
    from ultralytics.engine.predictor import BasePredictor

    ws, data, result = trained
    wanted = wanted_threads()
    assert THREADS_SEEN and set(THREADS_SEEN) == {wanted}
    from ultralytics.utils.torch_utils import select_device

    before = torch.get_num_threads()
    with detect.torch_threads(wanted) as count:
        select_device("cpu", verbose=False)
        assert count == wanted == torch.get_num_threads()
    assert torch.get_num_threads() == before, "the count is put back afterwards"
    seen: list[int] = []
    inference = BasePredictor.inference
    monkeypatch.setattr(BasePredictor, "inference",
                        lambda self, *a, **k: (seen.append(torch.get_num_threads()), inference(self, *a, **k))[1])
    detect.predict(result.best, data, data.parent / "coco.json", result.run_dir / "predictions" / "threads.json",
                   detect.PredictSettings(imgsz=64, max_det=5, threads=wanted), workspace=ws, progress=False)
    assert seen and set(seen) == {wanted}
    assert detect.cpu_threads(None) >= 1
    with pytest.raises(ValueError, match="threads"):
        detect.cpu_threads(0)


def test_training_writes_run_and_manifest(trained) -> None:
    ws, data, result = trained
    assert result.status == "trained"
    assert result.run_dir == ws.root / "detectors" / "baseline"
    assert result.best.is_file() and result.last.is_file()
    log = detect.read_results(result.run_dir)
    assert list(log["epoch"]) == [1]
    assert {"metrics/mAP50(B)", "train/box_loss", "val/box_loss"} <= set(log.columns)
    manifest = detect.read_manifest(result.run_dir)
    assert manifest["finished"] is True
    assert manifest["key"]["settings"] == TINY.key(), "the thread count is not part of the run's key"
    table = detect.run_table({"baseline": result.run_dir})
    assert table.loc[0, "mix"] == "baseline" and table.loc[0, "imgsz"] == 64 and table.loc[0, "epochs"] == 1
    assert table.loc[0, "s_per_epoch"] > 0 and 0 <= table.loc[0, "val_map50"] <= 1
    assert set(detect.training_logs({"a": result.run_dir, "b": result.run_dir}).mix) == {"a", "b"}
    by_seed = detect.run_table({("a", 0): result.run_dir, ("a", 1): result.run_dir})
    assert list(by_seed["seed"]) == [0, 1] and list(by_seed["mix"]) == ["a", "a"]
    assert list(detect.training_logs({("a", 3): result.run_dir})["seed"]) == [3]


def test_seconds_per_epoch_skips_resume_restarts() -> None:
    import pandas as pd

    log = pd.DataFrame({"time": [10.0, 20.0, 31.0, 5.0, 16.0]})  # resumed after epoch 3
    assert detect.seconds_per_epoch(log) == pytest.approx(11.0)  # median of 10, 11, 11
    assert detect.seconds_per_epoch(pd.DataFrame({"time": [7.0]})) == 7.0


def test_finished_run_is_skipped(trained) -> None:
    ws, data, result = trained
    before = result.best.stat().st_mtime_ns
    again = detect.train(data, result.run_dir, TINY, ws, progress=False)
    assert again.status == "skipped"
    assert result.best.stat().st_mtime_ns == before


def test_predictions_are_coco_results(trained) -> None:
    from pycocotools.coco import COCO

    ws, data, result = trained
    coco_gt = data.parent / "coco.json"
    out = result.run_dir / "predictions" / "val.json"
    settings = detect.PredictSettings(imgsz=64, max_det=5)
    path = detect.predict(result.best, data, coco_gt, out, settings, workspace=ws, progress=False)
    entries = json.loads(path.read_text())
    gt = json.loads(coco_gt.read_text())
    ids = {image["id"] for image in gt["images"]}
    assert entries, "a random-init model at conf 0.001 still yields boxes"
    for entry in entries:
        assert set(entry) == {"image_id", "category_id", "bbox", "score"}
        assert entry["image_id"] in ids
        assert entry["category_id"] in (1, 2, 3)
        x, y, w, h = entry["bbox"]
        assert w >= 0 and h >= 0 and x >= -1 and y >= -1 and x + w <= 65 and y + h <= 65
        assert settings.conf <= entry["score"] <= 1
    per_image = {i: sum(e["image_id"] == i for e in entries) for i in ids}
    assert max(per_image.values()) <= settings.max_det
    coco = COCO(str(coco_gt))
    loaded = coco.loadRes(str(path))
    assert len(loaded.anns) == len(entries)
    mtime = path.stat().st_mtime_ns
    detect.predict(result.best, data, coco_gt, out, settings, workspace=ws, progress=False)
    assert path.stat().st_mtime_ns == mtime, "unchanged inputs are not predicted again"


def test_sets_sharing_images_predict_each_once_and_match_one_by_one(trained, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The occlusion buckets and weather sets are subsets of the same (linked) BDD photos: predicting them
    together predicts each photo once, and every set's json equals predicting that set alone."""
    import yaml
    from ultralytics.engine.model import Model

    ws, data, result = trained
    full = json.loads((data.parent / "coco.json").read_text())
    sub = tmp_path / "subset"
    (sub / "images" / "val").mkdir(parents=True)
    chosen = full["images"][1:3]
    for image in chosen:  # linked, as the buckets link the BDD photos
        (sub / image["file_name"]).symlink_to(data.parent / image["file_name"])
    renumbered = {image["id"]: 50 + n for n, image in enumerate(chosen)}  # the subset's own ids
    (sub / "coco.json").write_text(json.dumps({
        "images": [{**image, "id": renumbered[image["id"]]} for image in chosen],
        "annotations": [{**a, "image_id": renumbered[a["image_id"]]} for a in full["annotations"]
                        if a["image_id"] in renumbered],
        "categories": full["categories"]}))
    (sub / "data.yaml").write_text(yaml.safe_dump({"path": str(sub), "train": "images/val", "val": "images/val",
                                                   "nc": 3, "names": {0: "Car", 1: "Van", 2: "Truck"}}))
    settings = detect.PredictSettings(imgsz=64, max_det=5)
    alone = [detect.predict(result.best, d, c, tmp_path / "alone" / f"{n}.json", settings, workspace=ws,
                            progress=False) for n, (d, c) in enumerate([(data, data.parent / "coco.json"),
                                                                         (sub / "data.yaml", sub / "coco.json")])]
    seen: list[int] = []
    predict = Model.predict
    monkeypatch.setattr(Model, "predict", lambda self, source=None, **k: (seen.append(len(source)),
                                                                          predict(self, source=source, **k))[1])
    together = detect.predict_sets(result.best, [(data, data.parent / "coco.json", tmp_path / "together" / "0.json"),
                                                 (sub / "data.yaml", sub / "coco.json", tmp_path / "together" / "1.json")],
                                   settings, workspace=ws, progress=False)
    assert sum(seen) == len(full["images"])  # 4 distinct photos, not 4 + 2
    for one, both in zip(alone, together):
        assert json.loads(both.read_text()) == json.loads(one.read_text())
    assert {e["image_id"] for e in json.loads(together[1].read_text())} <= {50, 51}
    seen.clear()
    assert detect.predict_sets(result.best, [(sub / "data.yaml", sub / "coco.json", together[1])], settings,
                               workspace=ws, progress=False) == [together[1]]
    assert not seen, "finished sets are not predicted again"


def test_interrupted_training_resumes(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", n_train=4, n_val=2)
    ws = runtime.Workspace(tmp_path / "ws")
    settings = detect.TrainSettings(imgsz=64, epochs=2, batch=4, workers=0)
    run_dir = ws.stage("detectors") / "mix"

    def stop_after_first(trainer) -> None:
        if trainer.epoch == 0:
            raise KeyboardInterrupt("simulated kill after epoch 1")

    with pytest.raises(KeyboardInterrupt):
        detect.train(data, run_dir, settings, ws, progress=False, callbacks={"on_fit_epoch_end": stop_after_first})
    assert detect.read_manifest(run_dir)["finished"] is False
    assert list(detect.read_results(run_dir)["epoch"]) == [1]
    result = detect.train(data, run_dir, settings, ws, progress=False)
    assert result.status == "resumed"
    assert list(detect.read_results(run_dir)["epoch"]) == [1, 2]
    assert detect.read_manifest(run_dir)["finished"] is True


def test_only_a_checkpoint_before_the_last_epoch_is_resumed(trained, tmp_path: Path) -> None:
    """ultralytics resumes an epoch checkpoint with epochs to go; a truncated one (killed while ultralytics rewrote
    it at the end), a final one (epoch -1) or the last epoch's would fail there, so those runs start over."""
    import torch

    _, _, result = trained
    assert result.last.read_bytes()[:2] == b"PK" and detect.resume_epoch(result.last, 1) is None  # final: epoch -1
    last = tmp_path / "last.pt"
    for epoch, epochs, resumed in ((0, 3, 0), (1, 3, 1), (2, 3, None), (0, 1, None)):
        torch.save({"epoch": epoch}, last)
        assert detect.resume_epoch(last, epochs) == resumed
    last.write_bytes(result.last.read_bytes()[:1000])
    assert detect.resume_epoch(last, 3) is None and detect.resume_epoch(tmp_path / "none.pt", 3) is None


def test_a_resumed_run_logs_each_epoch_once(tmp_path: Path) -> None:
    """ultralytics appends an epoch's row before it saves that epoch's checkpoint: rows past the checkpoint go."""
    results = tmp_path / "results.csv"
    results.write_text("epoch,time,loss\n1,2.5,0.3\n2,5.1,0.2\n3,7.6,0.1\n")
    detect._trim_results(results, 2)
    assert results.read_text() == "epoch,time,loss\n1,2.5,0.3\n2,5.1,0.2\n"


def test_foreign_folder_is_never_cleared(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.csv").write_text("epoch\n1\n")
    with pytest.raises(ValueError, match="not a detector run folder"):
        detect.train(make_dataset(tmp_path / "d", 2, 1), run_dir, TINY, progress=False)


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="yolov5n"):
        detect.TrainSettings(model="yolov8n")
    with pytest.raises(ValueError, match="epochs"):
        detect.TrainSettings(epochs=0)
    with pytest.raises(ValueError, match="unknown training settings"):
        detect.TrainSettings.from_mapping({"epochz": 3})
    assert detect.TrainSettings.from_mapping({"epochs": 3}).epochs == 3
    assert "device" not in TINY.key() and "epochs" in TINY.key()
    assert detect.amp_allowed("cpu") is False


def test_dataset_images_from_list_file(tmp_path: Path) -> None:
    data = make_dataset(tmp_path, 2, 3)
    images = detect.dataset_images(data, "val")
    assert [p.name for p in images] == ["val_000.png", "val_001.png", "val_002.png"]
    (tmp_path / "val.txt").write_text("\n".join(str(p) for p in images[:2]) + "\n")
    listed = tmp_path / "list.yaml"
    listed.write_text(f"path: {tmp_path}\nval: val.txt\nnames: {{0: Car}}\n")
    assert detect.dataset_images(listed, "val") == images[:2]
    with pytest.raises(ValueError, match="no 'test' entry"):
        detect.dataset_images(data, "test")


def test_match_image_ids(tmp_path: Path) -> None:
    coco = [{"id": 7, "file_name": "a/x.png"}, {"id": 8, "file_name": "b/x.png"}, {"id": 9, "file_name": "y.jpg"}]
    gt = tmp_path / "coco.json"
    gt.write_text(json.dumps({"images": coco, "annotations": [], "categories": []}))
    images = [Path("/d/a/x.png"), Path("/d/b/x.png"), Path("/d/images/y.jpg")]
    assert detect.match_image_ids(gt, images) == {images[0]: 7, images[1]: 8, images[2]: 9}
    with pytest.raises(ValueError, match="no image with a matching file_name"):
        detect.match_image_ids(gt, [*images, Path("/d/z.png")])
    with pytest.raises(ValueError, match="no image file"):
        detect.match_image_ids(gt, images[:2])
