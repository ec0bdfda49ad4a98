"""AP@0.5 for COCO-style ground truth and detections: our own vectorized numpy implementation.

Two matching rules and four interpolations:

* ``ap50_standard`` — pycocotools ``COCOeval`` semantics restricted to IoU 0.5, area range ``all``:
  per image and category the detections are sorted by descending score (stable mergesort) and cut at
  ``max_dets`` (COCO: 100 per image *and category*); each one, in that order, takes the unmatched ground
  truth of best IoU ≥ 0.5 (regular ground truth before crowd/ignored ones; a crowd box can absorb many
  detections, which then count neither as TP nor FP; ties in IoU go to the later box like pycocotools);
  detections of all images are merged by score (ties: image order, then input order), the precision
  envelope is sampled at 101 recall points by ``searchsorted`` — no ramp past the last recall reached.
* ``ap50_legacy`` — YOLOv5 ``val.py`` semantics: per image the detections are sorted by score and cut at
  ``max_dets`` (``val.py``: 300 per image, all classes); ``process_batch`` matching (each detection keeps
  its best-IoU label of its class, then each label keeps the highest-ranked detection among those; crowd
  annotations are not labels, as in a YOLO dataset converted from COCO); recall/precision curves with
  sentinels ``[0] … [1]`` / ``[1] … [0]``, precision envelope, ``np.interp`` at 101 points and a trapezoid
  integral — the straight line from the last recall to recall 1 of ``val.py``.
* ``interpolation`` on either: ``"coco101"``, ``"yolov5"``, ``"voc11"`` (VOC2007 11-point) or
  ``"voc_all"`` (VOC2010+ all-point area).

A class with no ground truth is excluded from the mean (its AP is NaN); a class with ground truth and no
detections scores 0. Matching is independent per image, so a :class:`MatchTable` is computed once and
re-scored cheaply on any resample of the images (see :mod:`photosynth.metrics.bootstrap`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: pycocotools' recall thresholds (``Params.recThrs``), built with its own expression.
REC_THRS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
INTERPOLATIONS = ("coco101", "yolov5", "voc11", "voc_all")
#: metric name -> (matching rule, interpolation, default max detections)
METRICS: dict[str, tuple[str, str, int]] = {
    "ap50_standard": ("coco", "coco101", 100),
    "ap50_legacy": ("yolov5", "yolov5", 300),
}


class CocoFormatError(ValueError):
    """Malformed COCO ground truth or results; the message names the source and the entry."""


# ---------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class GroundTruth:
    """COCO ground truth as arrays. Images are sorted by id (pycocotools' order); boxes are ``x, y, w, h``."""

    image_ids: np.ndarray
    category_ids: np.ndarray
    category_names: tuple[str, ...]
    image: np.ndarray  # index into image_ids
    category: np.ndarray  # index into category_ids
    boxes: np.ndarray
    area: np.ndarray
    iscrowd: np.ndarray
    source: str = "<ground truth>"

    @classmethod
    def from_coco(cls, coco: Mapping[str, Any] | str | Path) -> "GroundTruth":
        """Read a COCO dict or json file (``images``, ``annotations``, ``categories``)."""
        coco, source = _load_json(coco, "ground truth", dict)
        for key in ("images", "annotations", "categories"):
            if not isinstance(coco.get(key), list):
                raise CocoFormatError(f"{source}: expected a list under {key!r}")
        try:
            image_ids = np.array(sorted({int(im["id"]) for im in coco["images"]}), dtype=np.int64)
            cats = sorted((int(c["id"]), str(c.get("name", c["id"]))) for c in coco["categories"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CocoFormatError(f"{source}: every image and category needs an integer 'id' ({exc})") from exc
        category_ids = np.array([c for c, _ in cats], dtype=np.int64)
        anns = coco["annotations"]
        fast = _fast_arrays(anns, image_ids, category_ids, None)
        if fast is not None:
            img, cat, boxes = fast
            try:
                area = np.array([a.get("area", b[2] * b[3]) for a, b in zip(anns, boxes)], dtype=np.float64)
                crowd = np.array([bool(a.get("iscrowd", 0)) for a in anns], dtype=bool)
            except (TypeError, ValueError) as exc:
                raise CocoFormatError(f"{source}: 'area' must be a number in every annotation ({exc})") from exc
            return cls(image_ids, category_ids, tuple(n for _, n in cats), img, cat, boxes, area, crowd, source)
        img, cat, boxes, area, crowd = (np.empty(len(anns), np.int64), np.empty(len(anns), np.int64),
                                        np.empty((len(anns), 4)), np.empty(len(anns)), np.zeros(len(anns), bool))
        for i, ann in enumerate(anns):
            where = f"{source}: annotation #{i}"
            if not isinstance(ann, Mapping):
                raise CocoFormatError(f"{where}: expected an object, got {type(ann).__name__}")
            img[i] = _lookup(image_ids, ann, "image_id", where)
            cat[i] = _lookup(category_ids, ann, "category_id", where)
            boxes[i] = _bbox(ann, where)
            area[i] = _number({"area": ann.get("area", boxes[i, 2] * boxes[i, 3])}, "area", where)
            crowd[i] = bool(ann.get("iscrowd", 0))
        return cls(image_ids, category_ids, tuple(n for _, n in cats), img, cat, boxes, area, crowd, source)

    @property
    def n_images(self) -> int:
        return len(self.image_ids)


@dataclass(frozen=True)
class Detections:
    """COCO results as arrays, indexed against a :class:`GroundTruth` (input order kept)."""

    image: np.ndarray
    category: np.ndarray
    boxes: np.ndarray
    score: np.ndarray
    source: str = "<predictions>"

    @classmethod
    def from_coco(cls, results: Sequence[Mapping[str, Any]] | str | Path, gt: GroundTruth) -> "Detections":
        """Read a COCO results list or json file; unknown image or category ids are an error."""
        results, source = _load_json(results, "predictions", list)
        fast = _fast_arrays(results, gt.image_ids, gt.category_ids, "score")
        if fast is not None:
            return cls(*fast, source)
        n = len(results)  # slow path: find the offending entry and say what is wrong with it
        img, cat, boxes, score = np.empty(n, np.int64), np.empty(n, np.int64), np.empty((n, 4)), np.empty(n)
        for i, det in enumerate(results):
            where = f"{source}: prediction #{i}"
            if not isinstance(det, Mapping):
                raise CocoFormatError(f"{where}: expected an object, got {type(det).__name__}")
            img[i] = _lookup(gt.image_ids, det, "image_id", where, "images of the ground truth")
            cat[i] = _lookup(gt.category_ids, det, "category_id", where, "categories of the ground truth")
            boxes[i] = _bbox(det, where)
            score[i] = _number(det, "score", where)
        return cls(img, cat, boxes, score, source)


def _fast_arrays(entries: list, image_ids: np.ndarray, category_ids: np.ndarray,
                 score: str | None) -> tuple[np.ndarray, ...] | None:
    """``(image index, category index, boxes[, scores])`` of well-formed entries in one vectorized pass;
    ``None`` when anything looks wrong (the caller's slow path then names the entry)."""
    if not entries:
        return None
    try:
        img_ids = np.array([d["image_id"] for d in entries], dtype=np.int64)
        cat_ids = np.array([d["category_id"] for d in entries], dtype=np.int64)
        boxes = np.array([d["bbox"] for d in entries], dtype=np.float64).reshape(len(entries), 4)
        values = [np.array([d[score] for d in entries], dtype=np.float64)] if score else []
        exact = all(type(d["image_id"]) is int and type(d["category_id"]) is int for d in entries)
    except (TypeError, KeyError, ValueError, OverflowError):
        return None
    if not (exact and len(image_ids) and len(category_ids)) or not all(np.isfinite(v).all() for v in values):
        return None
    img = np.searchsorted(image_ids, img_ids).clip(max=len(image_ids) - 1)
    cat = np.searchsorted(category_ids, cat_ids).clip(max=len(category_ids) - 1)
    if (image_ids[img] != img_ids).any() or (category_ids[cat] != cat_ids).any():
        return None
    if not np.isfinite(boxes).all() or (boxes[:, 2:] < 0).any():
        return None
    return (img, cat, boxes, *values)


def _load_json(obj: Any, what: str, kind: type) -> tuple[Any, str]:
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: {what} file not found")
        try:
            obj = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CocoFormatError(f"{path}: not valid JSON ({exc})") from exc
        source = str(path)
    else:
        source = f"<{what}>"
    if not isinstance(obj, kind):
        raise CocoFormatError(f"{source}: expected a JSON {'object' if kind is dict else 'list'} of {what}")
    return obj, source


def _number(entry: Mapping[str, Any], key: str, where: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CocoFormatError(f"{where}: {key!r} must be a finite number, got {value!r}")
    return float(value)


def _bbox(entry: Mapping[str, Any], where: str) -> list[float]:
    box = entry.get("bbox")
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise CocoFormatError(f"{where}: 'bbox' must be [x, y, w, h], got {box!r}")
    values = [_number({"bbox": v}, "bbox", where) for v in box]
    if values[2] < 0 or values[3] < 0:
        raise CocoFormatError(f"{where}: 'bbox' width and height must be >= 0, got {box!r}")
    return values


def _lookup(ids: np.ndarray, entry: Mapping[str, Any], key: str, where: str, among: str | None = None) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) and not (
        isinstance(value, float) and value.is_integer()
    ):
        raise CocoFormatError(f"{where}: {key!r} must be an integer, got {value!r}")
    pos = int(np.searchsorted(ids, int(value)))
    if pos >= len(ids) or ids[pos] != int(value):
        raise CocoFormatError(f"{where}: unknown {key} {value!r} (not among the {len(ids)} {among or key + 's'})")
    return pos


def as_ground_truth(gt: GroundTruth | Mapping[str, Any] | str | Path) -> GroundTruth:
    """Accept a :class:`GroundTruth`, a COCO dict or a json path."""
    return gt if isinstance(gt, GroundTruth) else GroundTruth.from_coco(gt)


def as_detections(dets: Detections | Sequence[Mapping[str, Any]] | str | Path, gt: GroundTruth) -> Detections:
    """Accept :class:`Detections`, a COCO results list or a json path."""
    return dets if isinstance(dets, Detections) else Detections.from_coco(dets, gt)


# ---------------------------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MatchTable:
    """Per-detection outcome of one matching rule, ready to score (and to re-score on resampled images).

    ``det_*`` arrays hold the detections that count (TP or FP; crowd-absorbed ones are dropped — they never
    change the curve), sorted by class, then descending score, then image, then input order.
    ``n_gt[i, k]`` counts the ground truth of class ``k`` in image ``i`` that recall is measured against.
    """

    metric: str
    interpolation: str
    category_ids: np.ndarray
    category_names: tuple[str, ...]
    n_gt: np.ndarray
    det_class: np.ndarray
    det_image: np.ndarray
    det_score: np.ndarray
    det_tp: np.ndarray
    n_pred: np.ndarray

    @property
    def n_images(self) -> int:
        return self.n_gt.shape[0]

    def class_slices(self) -> list[slice]:
        """Where each class's detections lie in the ``det_*`` arrays."""
        bounds = np.searchsorted(self.det_class, np.arange(len(self.category_ids) + 1))
        return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def _pairs(group_det: np.ndarray, group_gt: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """All (detection, ground truth) index pairs that share a group; gts in a group in input order."""
    gt_order = np.argsort(group_gt, kind="stable")
    bounds = np.searchsorted(group_gt[gt_order], np.arange(n_groups + 1))
    start, count = bounds[group_det], bounds[group_det + 1] - bounds[group_det]
    pair_det = np.repeat(np.arange(len(group_det)), count)
    offset = np.arange(len(pair_det)) - np.repeat(np.cumsum(count) - count, count)
    return pair_det, gt_order[np.repeat(start, count) + offset]


def _rank_within(groups: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Position of each detection in its group sorted by descending score (stable)."""
    order = np.lexsort((np.arange(len(score)), -score, groups))
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups)
    rank = np.empty(len(score), np.int64)
    rank[order] = np.arange(len(score)) - first
    return rank


def iou_coco(d: np.ndarray, g: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """Row-wise IoU of ``x, y, w, h`` boxes, computed like pycocotools' ``bbIou`` (crowd: over the dt area)."""
    w = np.minimum(d[:, 0] + d[:, 2], g[:, 0] + g[:, 2]) - np.maximum(d[:, 0], g[:, 0])
    h = np.minimum(d[:, 1] + d[:, 3], g[:, 1] + g[:, 3]) - np.maximum(d[:, 1], g[:, 1])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    da, ga = d[:, 2] * d[:, 3], g[:, 2] * g[:, 3]
    union = np.where(crowd, da, da + ga - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inter > 0, inter / union, 0.0)


def iou_yolov5(d: np.ndarray, g: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    """Row-wise IoU as YOLOv5's ``box_iou`` (``x1y1x2y2``, ``+eps`` in the union)."""
    d2, g2 = d[:, :2] + d[:, 2:], g[:, :2] + g[:, 2:]
    inter = (np.minimum(d2, g2) - np.maximum(d[:, :2], g[:, :2])).clip(0).prod(1)
    return inter / (d[:, 2] * d[:, 3] + g[:, 2] * g[:, 3] - inter + eps)


def _match_coco(gt: GroundTruth, dets: Detections, keep: np.ndarray, thr: float,
                area_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pycocotools' greedy matching; returns (tp, ignored) per detection (``keep`` = within max dets) and, per
    ground-truth box, whether a detection took it."""
    k = len(gt.category_ids)
    d_idx = np.flatnonzero(keep)
    group_d = dets.image[d_idx] * k + dets.category[d_idx]
    group_g = gt.image * k + gt.category
    gt_ignore = gt.iscrowd | (gt.area < area_range[0]) | (gt.area > area_range[1])
    rank = _rank_within(group_d, dets.score[d_idx])
    pd, pg = _pairs(group_d, group_g, gt.n_images * k)
    iou = iou_coco(dets.boxes[d_idx[pd]], gt.boxes[pg], gt.iscrowd[pg])
    ok = iou >= min(thr, 1 - 1e-10)
    pd, pg, iou = pd[ok], pg[ok], iou[ok]
    # Step = rank in the group; within a detection, preference: regular gt, higher IoU, later gt.
    order = np.lexsort((-pg, -iou, gt_ignore[pg], pd, rank[pd]))
    pd, pg = pd[order], pg[order]
    steps = np.searchsorted(rank[pd], np.arange(int(rank.max(initial=-1)) + 2))
    taken = np.zeros(len(gt.image), bool)
    matched = np.full(len(d_idx), -1, np.int64)
    for a, b in zip(steps[:-1], steps[1:]):
        sd, sg = pd[a:b], pg[a:b]
        avail = ~taken[sg] | gt.iscrowd[sg]
        sd, sg = sd[avail], sg[avail]
        if not len(sd):
            continue
        first = np.r_[True, sd[1:] != sd[:-1]]
        matched[sd[first]] = sg[first]
        taken[sg[first]] = True
    hit = matched >= 0
    d_area = dets.boxes[d_idx, 2] * dets.boxes[d_idx, 3]
    outside = (d_area < area_range[0]) | (d_area > area_range[1])
    ignored = outside & ~hit
    ignored[hit] = gt_ignore[matched[hit]]
    tp, ign = np.zeros(len(dets.score), bool), np.ones(len(dets.score), bool)
    tp[d_idx], ign[d_idx] = hit & ~ignored, ignored
    return tp, ign, taken


def _match_yolov5(gt: GroundTruth, dets: Detections, keep: np.ndarray, thr: float) -> np.ndarray:
    """YOLOv5 ``process_batch`` matching on one IoU threshold; returns tp per detection."""
    k = len(gt.category_ids)
    d_idx = np.flatnonzero(keep)
    rank = _rank_within(dets.image[d_idx], dets.score[d_idx])  # NMS output order within the image
    labels = np.flatnonzero(~gt.iscrowd)
    pd, pl = _pairs(dets.image[d_idx] * k + dets.category[d_idx],
                    gt.image[labels] * k + gt.category[labels], gt.n_images * k)
    pg = labels[pl]
    iou = iou_yolov5(dets.boxes[d_idx[pd]], gt.boxes[pg])
    ok = iou >= thr
    pd, pg, iou = pd[ok], pg[ok], iou[ok]
    best = np.lexsort((-pg, -iou, pd))  # each detection: its best-IoU label (ties: later label)
    pd, pg = pd[best], pg[best]
    first = np.r_[True, pd[1:] != pd[:-1]] if len(pd) else np.zeros(0, bool)
    pd, pg = pd[first], pg[first]
    win = np.lexsort((rank[pd], pg))  # each label: the detection ranked first in its image
    pd, pg = pd[win], pg[win]
    first = np.r_[True, pg[1:] != pg[:-1]] if len(pg) else np.zeros(0, bool)
    tp = np.zeros(len(dets.score), bool)
    tp[d_idx[pd[first]]] = True
    return tp


def match(gt: GroundTruth | Mapping[str, Any] | str | Path,
          dets: Detections | Sequence[Mapping[str, Any]] | str | Path,
          metric: str = "ap50_standard", *, max_dets: int | None = None, iou_threshold: float = 0.5,
          interpolation: str | None = None,
          area_range: tuple[float, float] = (0.0, 1e10)) -> MatchTable:
    """Match detections to ground truth by the rule of ``metric`` (see :data:`METRICS`).

    ``max_dets`` defaults to the rule's own (100 per image and category for COCO, 300 per image for YOLOv5);
    ``area_range`` applies to the COCO rule only (pycocotools' ``all`` by default).
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRICS)}")
    rule, default_interp, default_max = METRICS[metric]
    interpolation = interpolation or default_interp
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {interpolation!r}; choose one of {INTERPOLATIONS}")
    gt = as_ground_truth(gt)
    dets = as_detections(dets, gt)
    max_dets = default_max if max_dets is None else max_dets
    k = len(gt.category_ids)
    if rule == "coco":
        keep = _rank_within(dets.image * k + dets.category, dets.score) < max_dets
        tp, ignored, _ = _match_coco(gt, dets, keep, iou_threshold, area_range)
        counted = ~ignored
        gt_counts = ~(gt.iscrowd | (gt.area < area_range[0]) | (gt.area > area_range[1]))
    else:
        keep = _rank_within(dets.image, dets.score) < max_dets
        tp = _match_yolov5(gt, dets, keep, iou_threshold)
        counted, gt_counts = keep, ~gt.iscrowd
    n_gt = np.zeros((gt.n_images, k), np.int64)
    np.add.at(n_gt, (gt.image[gt_counts], gt.category[gt_counts]), 1)
    idx = np.flatnonzero(counted)
    order = idx[np.lexsort((idx, dets.image[idx], -dets.score[idx], dets.category[idx]))]
    return MatchTable(metric, interpolation, gt.category_ids, gt.category_names, n_gt,
                      dets.category[order], dets.image[order], dets.score[order], tp[order],
                      np.bincount(dets.category, minlength=k))


def found_ground_truth(gt: GroundTruth | Mapping[str, Any] | str | Path,
                       dets: Detections | Sequence[Mapping[str, Any]] | str | Path, *, iou_threshold: float = 0.5,
                       max_dets: int = 100) -> np.ndarray:  # fmt: skip
    """Per ground-truth box, in annotation order: whether a detection found it under the COCO rule (pycocotools'
    greedy matching by score, class-aware, at ``iou_threshold``, ``max_dets`` per image and category)."""
    gt = as_ground_truth(gt)
    dets = as_detections(dets, gt)
    keep = _rank_within(dets.image * len(gt.category_ids) + dets.category, dets.score) < max_dets
    return _match_coco(gt, dets, keep, iou_threshold, (0.0, 1e10))[2] & ~gt.iscrowd


# ---------------------------------------------------------------------------------------------- scoring


def average_precision(tp: np.ndarray, n_gt: float, interpolation: str) -> tuple[float, np.ndarray, np.ndarray]:
    """AP of one class from its TP flags in score order; returns ``(ap, recall, precision)``.

    ``n_gt == 0`` gives NaN (class excluded from the mean); no detections give 0.
    """
    if n_gt <= 0:
        return math.nan, np.zeros(0), np.zeros(0)
    tpc = np.cumsum(tp, dtype=np.float64)
    fpc = np.arange(1, len(tp) + 1, dtype=np.float64) - tpc
    if interpolation == "coco101":
        rc, pr = tpc / n_gt, tpc / (fpc + tpc + np.spacing(1))
        env = np.maximum.accumulate(pr[::-1])[::-1]
        idx = np.searchsorted(rc, REC_THRS, side="left")
        q = np.where(idx < len(rc), env[np.minimum(idx, len(rc) - 1)] if len(rc) else 0.0, 0.0)
        return float(np.mean(q)), rc, pr
    if interpolation == "yolov5":
        if not len(tp):
            return 0.0, np.zeros(0), np.zeros(0)
        rc, pr = tpc / (n_gt + 1e-16), tpc / (tpc + fpc)
        mrec, mpre = np.concatenate(([0.0], rc, [1.0])), np.concatenate(([1.0], pr, [0.0]))
        mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
        x = np.linspace(0, 1, 101)
        return float(np.trapezoid(np.interp(x, mrec, mpre), x)), rc, pr
    rc, pr = tpc / n_gt, tpc / np.maximum(tpc + fpc, np.finfo(np.float64).eps)
    if interpolation == "voc11":
        env = np.maximum.accumulate(pr[::-1])[::-1]
        idx = np.searchsorted(rc, np.linspace(0, 1, 11), side="left")
        p = np.where(idx < len(rc), env[np.minimum(idx, len(rc) - 1)] if len(rc) else 0.0, 0.0)
        return float(np.mean(p)), rc, pr
    if interpolation == "voc_all":
        mrec, mpre = np.concatenate(([0.0], rc, [1.0])), np.concatenate(([0.0], pr, [0.0]))
        mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
        i = np.flatnonzero(mrec[1:] != mrec[:-1])
        return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])), rc, pr
    raise ValueError(f"unknown interpolation {interpolation!r}; choose one of {INTERPOLATIONS}")


@dataclass(frozen=True)
class ClassAP:
    """One class: AP (NaN without ground truth), counts and the raw PR curve (score order) for plots."""

    name: str
    category_id: int
    ap: float
    n_gt: int
    n_pred: int
    recall: np.ndarray
    precision: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class APResult:
    """Per-class AP and the mean over classes that have ground truth."""

    metric: str
    interpolation: str
    classes: tuple[ClassAP, ...]

    @property
    def mean(self) -> float:
        """Mean AP over classes with ground truth (NaN when none has any)."""
        aps = [c.ap for c in self.classes if c.n_gt > 0]
        return float(np.mean(aps)) if aps else math.nan

    @property
    def per_class(self) -> dict[str, float]:
        return {c.name: c.ap for c in self.classes}


def score(table: MatchTable) -> APResult:
    """Score a :class:`MatchTable` with its interpolation."""
    totals = table.n_gt.sum(0)
    classes = []
    for k, sl in enumerate(table.class_slices()):
        ap, rc, pr = average_precision(table.det_tp[sl], float(totals[k]), table.interpolation)
        classes.append(ClassAP(table.category_names[k], int(table.category_ids[k]), ap, int(totals[k]),
                               int(table.n_pred[k]), rc, pr, table.det_score[sl]))
    return APResult(table.metric, table.interpolation, tuple(classes))


def ap50_standard(gt: GroundTruth | Mapping[str, Any] | str | Path,
                  dets: Detections | Sequence[Mapping[str, Any]] | str | Path, *, max_dets: int = 100,
                  interpolation: str = "coco101",
                  area_range: tuple[float, float] = (0.0, 1e10)) -> APResult:
    """AP@0.5 with pycocotools semantics (equal to ``COCOeval`` with ``iouThrs=[0.5]``)."""
    return score(match(gt, dets, "ap50_standard", max_dets=max_dets, interpolation=interpolation,
                       area_range=area_range))


def ap50_legacy(gt: GroundTruth | Mapping[str, Any] | str | Path,
                dets: Detections | Sequence[Mapping[str, Any]] | str | Path, *, max_dets: int = 300,
                interpolation: str = "yolov5") -> APResult:
    """AP@0.5 with YOLOv5 ``val.py`` semantics (the original study's number)."""
    return score(match(gt, dets, "ap50_legacy", max_dets=max_dets, interpolation=interpolation))
