"""Score a COCO results file against COCO ground truth: per class and mean, both AP@0.5 numbers.

Results computed anywhere (ultralytics, mmdetection, …) are scored the same way. ``ap50_standard`` is
pycocotools' AP@0.5, ``ap50_legacy`` YOLOv5 ``val.py``'s (the original study's number); see
:mod:`photosynth.metrics.ap`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from photosynth.atomic import atomic_open
from photosynth.metrics.ap import Detections, GroundTruth, as_detections, as_ground_truth, match, score

#: Columns of ``metrics.csv``, in order.
COLUMNS = ("split", "class", "ap50_standard", "ap50_legacy", "n_gt", "n_pred")


def evaluate_predictions(gt: GroundTruth | Mapping[str, Any] | str | Path,
                         preds: Detections | Sequence[Mapping[str, Any]] | str | Path,
                         split_name: str = "split") -> pd.DataFrame:
    """One row per ground-truth category plus a ``mean`` row (columns :data:`COLUMNS`).

    A class without ground truth has NaN APs and is left out of the mean; ``n_gt`` counts the non-crowd
    ground truth, ``n_pred`` the predictions of the class in the input.
    """
    gt = as_ground_truth(gt)
    dets = as_detections(preds, gt)
    standard, legacy = score(match(gt, dets, "ap50_standard")), score(match(gt, dets, "ap50_legacy"))
    rows = [
        {"split": split_name, "class": s.name, "ap50_standard": s.ap, "ap50_legacy": leg.ap,
         "n_gt": s.n_gt, "n_pred": s.n_pred}
        for s, leg in zip(standard.classes, legacy.classes)
    ]
    rows.append({"split": split_name, "class": "mean", "ap50_standard": standard.mean, "ap50_legacy": legacy.mean,
                 "n_gt": sum(r["n_gt"] for r in rows), "n_pred": sum(r["n_pred"] for r in rows)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_metrics(frame: pd.DataFrame, out_dir: str | Path) -> Path:
    """Write ``out_dir/metrics.csv`` atomically and return its path."""
    target = Path(out_dir) / "metrics.csv"
    with atomic_open(target, "w", newline="") as fh:
        frame.to_csv(fh, index=False)
    return target
