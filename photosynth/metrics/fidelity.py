"""Translation fidelity measures (DESIGN §2), pure functions on images, features and boxes: SSIM and PSNR of a
frame against its oracle render, KID/FID between feature sets (FID only where the sample allows it), which
ground-truth boxes a detector finds, and the content kept. :mod:`photosynth.study.fidelity` applies them to the
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
from photosynth.metrics.ap import GroundTruth, found_ground_truth

#: Each frame's PSNR is capped here (dB): identical frames would give +inf.
PSNR_CAP = 100.0
#: Detections from this score up count for recall (ultralytics' default prediction threshold).
MIN_SCORE = 0.25
#: IoU a detection needs with a ground-truth box to find it.
IOU = 0.5
#: SSIM's Gaussian window (σ 1.5, truncated at 3.5 σ): frames must be at least this many pixels on each side.
SSIM_WINDOW = 11
#: KID subsets and their largest size (torchmetrics' defaults).
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000


def _tensor(rgb: np.ndarray) -> Any:
    import torch

    return torch.tensor(rgb).permute(2, 0, 1)[None].float() / 255.0


def frame_scores(image: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """SSIM and PSNR (dB, capped at :data:`PSNR_CAP`) of one RGB uint8 frame against its target, both on [0, 1].

    SSIM is Wang et al.'s (2004): Gaussian window σ 1.5 (11 px), K1 0.01, K2 0.03, population statistics, averaged
    over the positions whose window lies inside the frame (a 5-px border is left out, as scikit-image's
    ``structural_similarity`` and the reference MATLAB code do) and over the channels. torchmetrics computes the
    map; its own mean would also average the border windows over reflect-padded pixels. ``image`` is resized
    (bilinear) to the target's size when they differ.
    """
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    if min(target.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"frames of {target.shape[1]}×{target.shape[0]} px are smaller than SSIM's "
                         f"{SSIM_WINDOW}-px window")  # fmt: skip
    if image.shape != target.shape:
        image = np.asarray(Image.fromarray(image).resize((target.shape[1], target.shape[0]), Image.BILINEAR))
    a, b = _tensor(image), _tensor(target)
    _, full = structural_similarity_index_measure(a, b, sigma=1.5, data_range=1.0, return_full_image=True)
    border = SSIM_WINDOW // 2
    ssim = float(full[..., border:-border, border:-border].mean())
    psnr = float(peak_signal_noise_ratio(a, b, data_range=1.0))
    return ssim, min(psnr, PSNR_CAP)


def distances(feats: np.ndarray, target: np.ndarray, seed: int = 0, kid_subsets: int = KID_SUBSETS) -> dict[str, float]:
    """KID (mean and std over ``kid_subsets`` subsets of
    :func:`~photosynth.metrics.domain_gap.kid_subset_size`, at most :data:`KID_SUBSET_SIZE`) and FID (NaN unless
    :func:`~photosynth.metrics.domain_gap.fid_allowed`) between two feature sets; KID is NaN with fewer than 2
    images on a side."""
    kid, kid_std = math.nan, math.nan
    if min(len(feats), len(target)) >= 2:
        size = domain_gap.kid_subset_size(len(feats), len(target), KID_SUBSET_SIZE)
        kid, kid_std = domain_gap.kid(feats, target, kid_subsets, size, seed)
    fid = domain_gap.fid(feats, target) if domain_gap.fid_allowed(len(feats), len(target), feats.shape[1]) else math.nan
    return {"kid": kid, "kid_std": kid_std, "fid": fid}


def found_boxes(coco_gt: str | Path | Mapping[str, Any], predictions: str | Path | Sequence[Mapping[str, Any]],
                min_score: float = MIN_SCORE, iou: float = IOU) -> pd.DataFrame:  # fmt: skip
    """Per ground-truth box ``key, box, found``: ``key`` is its COCO image's ``key`` (else ``file_name``), ``box``
    its position among that image's annotations (in file order), ``found`` whether a detection of score ≥
    ``min_score`` matches it at IoU ≥ ``iou`` (COCO matching, class-aware:
    :func:`photosynth.metrics.ap.found_ground_truth`)."""
    coco = json.loads(Path(coco_gt).read_text()) if isinstance(coco_gt, (str, Path)) else coco_gt
    preds = json.loads(Path(predictions).read_text()) if isinstance(predictions, (str, Path)) else predictions
    gt = GroundTruth.from_coco(coco)
    found = found_ground_truth(gt, [p for p in preds if p["score"] >= min_score], iou_threshold=iou)
    names = {int(im["id"]): im.get("key") or im["file_name"] for im in coco["images"]}
    keys = pd.Series([names[int(i)] for i in gt.image_ids[gt.image]], dtype=object)
    return pd.DataFrame({"key": keys, "box": keys.groupby(keys).cumcount(), "found": found})


def content_kept(found: np.ndarray | Sequence[bool], reference_found: np.ndarray | Sequence[bool]) -> float:
    """The share of the vehicles found on the reference render that are also found on the translation:
    ``|found ∩ reference_found| / |reference_found|`` over the same ground-truth boxes (two aligned boolean arrays);
    NaN when nothing was found on the reference. It lies in [0, 1]: a vehicle the translation shows more clearly than
    the reference does earns nothing, one it erases or hides costs."""
    found, reference_found = np.asarray(found, bool), np.asarray(reference_found, bool)
    if found.shape != reference_found.shape:
        raise ValueError(f"content kept compares the same boxes: {found.shape} vs {reference_found.shape} flags")
    seen = int(reference_found.sum())
    return float((found & reference_found).sum() / seen) if seen else math.nan
