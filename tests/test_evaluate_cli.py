"""``photosynth evaluate`` and :func:`evaluate_predictions`: metrics.csv structure and clear errors."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from photosynth.cli import main
from photosynth.metrics.ap import ap50_legacy, ap50_standard
from photosynth.metrics.evaluate import COLUMNS, evaluate_predictions

GT = {
    "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
    "categories": [{"id": 1, "name": "Car"}, {"id": 2, "name": "Van"}, {"id": 3, "name": "Truck"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "area": 2500, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 0, 50, 50], "area": 2500, "iscrowd": 0},
        {"id": 3, "image_id": 2, "category_id": 3, "bbox": [10, 10, 80, 40], "area": 3200, "iscrowd": 0},
    ],
}
PRED = [
    {"image_id": 1, "category_id": 1, "bbox": [1, 1, 50, 50], "score": 0.9},
    {"image_id": 1, "category_id": 1, "bbox": [300, 0, 50, 50], "score": 0.8},
    {"image_id": 2, "category_id": 3, "bbox": [12, 10, 80, 40], "score": 0.7},
    {"image_id": 2, "category_id": 2, "bbox": [12, 10, 80, 40], "score": 0.2},
]


@pytest.fixture()
def files(tmp_path):
    gt, pred = tmp_path / "bucket_0-5" / "coco.json", tmp_path / "pred.json"
    gt.parent.mkdir()
    gt.write_text(json.dumps(GT))
    pred.write_text(json.dumps(PRED))
    return gt, pred


def test_evaluate_predictions_frame() -> None:
    frame = evaluate_predictions(GT, PRED, "0-5")
    assert tuple(frame.columns) == COLUMNS
    assert frame["class"].tolist() == ["Car", "Van", "Truck", "mean"]
    assert (frame["split"] == "0-5").all()
    by = frame.set_index("class")
    assert by.loc["Car", "n_gt"] == 2 and by.loc["Car", "n_pred"] == 2 and by.loc["Van", "n_pred"] == 1
    assert math.isnan(by.loc["Van", "ap50_standard"]) and math.isnan(by.loc["Van", "ap50_legacy"])
    assert by.loc["mean", "ap50_standard"] == pytest.approx(ap50_standard(GT, PRED).mean)
    assert by.loc["mean", "ap50_legacy"] == pytest.approx(ap50_legacy(GT, PRED).mean)
    assert by.loc["mean", "ap50_standard"] == pytest.approx(by.loc[["Car", "Truck"], "ap50_standard"].mean())
    assert by.loc["mean", "n_gt"] == 3 and by.loc["mean", "n_pred"] == 4
    values = by[["ap50_standard", "ap50_legacy"]].dropna().to_numpy()
    assert ((values >= 0) & (values <= 1)).all()


def test_cli_writes_metrics_csv(files, tmp_path, capsys) -> None:
    gt, pred = files
    out = tmp_path / "results"
    assert main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--out", str(out), "--split-name", "0-5"]) == 0
    frame = pd.read_csv(out / "metrics.csv")
    assert tuple(frame.columns) == COLUMNS and len(frame) == 4
    pd.testing.assert_frame_equal(frame, evaluate_predictions(gt, pred, "0-5"), check_dtype=False)
    assert "metrics.csv" in capsys.readouterr().out
    assert main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--out", str(out)]) == 0
    assert (pd.read_csv(out / "metrics.csv")["split"] == "bucket_0-5").all()  # default: gt's folder


@pytest.mark.parametrize("case,message", [
    ("missing_pred", "pred.json: file not found"),
    ("bad_json", "not valid JSON"),
    ("unknown_image", "prediction #1: unknown image_id 77"),
    ("unknown_category", "prediction #0: unknown category_id 9"),
    ("not_a_list", "expected a JSON list"),
])
def test_cli_bad_inputs_exit_nonzero(files, tmp_path, capsys, case, message) -> None:
    gt, pred = files
    if case == "missing_pred":
        pred.unlink()
    elif case == "bad_json":
        pred.write_text('[{"image_id": 1,')
    elif case == "unknown_image":
        pred.write_text(json.dumps([PRED[0], {**PRED[1], "image_id": 77}]))
    elif case == "unknown_category":
        pred.write_text(json.dumps([{**PRED[0], "category_id": 9}]))
    else:
        pred.write_text(json.dumps({"annotations": PRED}))
    code = main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err
    assert not (tmp_path / "o" / "metrics.csv").exists()


def test_cli_missing_gt(tmp_path, files, capsys) -> None:
    _, pred = files
    code = main(["evaluate", "--gt", str(tmp_path / "nope.json"), "--pred", str(pred), "--out", str(tmp_path)])
    assert code == 2 and "nope.json: file not found" in capsys.readouterr().err
