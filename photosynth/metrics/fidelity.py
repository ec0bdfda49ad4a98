"""Translation fidelity measures (DESIGN §2), pure functions on images, features and boxes: SSIM and PSNR of a
frame against its oracle render, KID/FID between feature sets (FID only where the sample allows it), and the
recall of a detector's boxes against ground truth. :mod:`photosynth.study.fidelity` applies them to the
workspace's translations.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from photosynth.metrics import domain_gap
from photosynth.metrics.ap import match

#: Each frame's PSNR is capped here (dB): identical frames would give +inf.
PSNR_CAP = 100.0
#: Detections from this score up count for recall (ultralytics' default prediction threshold).
MIN_SCORE = 0.25
#: IoU a detection needs with a ground-truth box to find it.
IOU = 0.5
#: SSIM's Gaussian window (torchmetrics' default): frames must be at least this many pixels on each side.
SSIM_WINDOW = 11
#: KID subsets and their largest size (torchmetrics' defaults).
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000


def _tensor(rgb: np.ndarray) -> Any:
    import torch

    return torch.tensor(rgb).permute(2, 0, 1)[None].float() / 255.0


def frame_scores(image: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """SSIM and PSNR (dB, capped at :data:`PSNR_CAP`) of one RGB uint8 frame against its target.

    ``image`` is resized (bilinear) to the target's size when they differ.
    """
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    if min(target.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"frames of {target.shape[1]}×{target.shape[0]} px are smaller than SSIM's "
                         f"{SSIM_WINDOW}-px window")  # fmt: skip
    if image.shape != target.shape:
        image = np.asarray(Image.fromarray(image).resize((target.shape[1], target.shape[0]), Image.BILINEAR))
    a, b = _tensor(image), _tensor(target)
    ssim = float(structural_similarity_index_measure(a, b, data_range=1.0))
    psnr = float(peak_signal_noise_ratio(a, b, data_range=1.0))
    return ssim, min(psnr, PSNR_CAP)


def fid_allowed(n_a: int, n_b: int, dim: int) -> bool:
    """FID is reported only when both sets have more images than the features have dimensions."""
    return min(n_a, n_b) > dim


def distances(feats: np.ndarray, target: np.ndarray, seed: int = 0, kid_subsets: int = KID_SUBSETS) -> dict[str, float]:
    """KID (mean, std over ``kid_subsets`` subsets of up to :data:`KID_SUBSET_SIZE`) and FID (NaN unless
    :func:`fid_allowed`) between two feature sets; KID is NaN with fewer than 2 images on a side."""
    m = min(len(feats), len(target))
    kid, kid_std = math.nan, math.nan
    if m >= 2:
        kid, kid_std = domain_gap.kid(feats, target, kid_subsets, min(m, KID_SUBSET_SIZE), seed)
    fid = domain_gap.fid(feats, target) if fid_allowed(len(feats), len(target), feats.shape[1]) else math.nan
    return {"kid": kid, "kid_std": kid_std, "fid": fid}


def recall_counts(coco_gt: str | Path | Mapping[str, Any], predictions: str | Path | Sequence[Mapping[str, Any]],
                  min_score: float = MIN_SCORE, iou: float = IOU) -> pd.DataFrame:  # fmt: skip
    """Per image ``key, n_gt, found``: ground-truth boxes and those found by a detection of score ≥
    ``min_score`` at IoU ≥ ``iou`` (COCO matching, class-aware). ``key`` is the COCO image's ``key``
    (else its ``file_name``)."""
    coco = json.loads(Path(coco_gt).read_text()) if isinstance(coco_gt, (str, Path)) else coco_gt
    preds = json.loads(Path(predictions).read_text()) if isinstance(predictions, (str, Path)) else predictions
    table = match(coco, [p for p in preds if p["score"] >= min_score], "ap50_standard", iou_threshold=iou)
    found = np.bincount(table.det_image[table.det_tp], minlength=table.n_images)
    names = {int(im["id"]): im.get("key") or im["file_name"] for im in coco["images"]}
    return pd.DataFrame({"key": [names[int(i)] for i in sorted(names)], "n_gt": table.n_gt.sum(axis=1),
                         "found": found})  # fmt: skip
