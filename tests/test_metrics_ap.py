"""AP@0.5: ours against pycocotools (randomized, to 1e-6) and against hand-computed legacy cases."""

from __future__ import annotations

import contextlib
import copy
import io
import math

import numpy as np
import pytest

from photosynth.metrics.ap import (
    CocoFormatError,
    GroundTruth,
    ap50_legacy,
    ap50_standard,
    average_precision,
    match,
)


def make_case(seed: int, n_images: int = 12, n_cats: int = 3, crowd: float = 0.0, tie_scores: bool = False,
              duplicates: bool = False) -> tuple[dict, list]:
    """Random ground truth and jittered detections (plus false positives) on a few images."""
    rng = np.random.default_rng(seed)
    images = [{"id": int(i), "width": 200, "height": 100} for i in rng.choice(max(1000, 3 * n_images), n_images, replace=False)]
    cats = [{"id": c + 1, "name": f"c{c}"} for c in range(n_cats)]
    anns, results = [], []
    for im in images:
        for _ in range(rng.integers(0, 8)):
            x, y = rng.uniform(0, 150), rng.uniform(0, 70)
            w, h = rng.uniform(5, 50), rng.uniform(5, 30)
            cat = int(rng.integers(1, n_cats + 1))
            anns.append({"id": len(anns) + 1, "image_id": im["id"], "category_id": cat, "bbox": [x, y, w, h],
                         "area": w * h, "iscrowd": int(rng.random() < crowd)})
            for _ in range(rng.integers(0, 3)):
                jitter = rng.normal(0, 4, 4)
                box = [x + jitter[0], y + jitter[1], max(1.0, w + jitter[2]), max(1.0, h + jitter[3])]
                results.append({"image_id": im["id"], "category_id": cat, "bbox": box, "score": 0.0})
        for _ in range(rng.integers(0, 5)):
            box = [rng.uniform(0, 150), rng.uniform(0, 70), rng.uniform(5, 50), rng.uniform(5, 30)]
            results.append({"image_id": im["id"], "category_id": int(rng.integers(1, n_cats + 1)),
                            "bbox": box, "score": 0.0})
    scores = rng.choice([0.2, 0.5, 0.9], len(results)) if tie_scores else rng.random(len(results))
    for r, s in zip(results, scores):
        r["score"] = float(s)
    if duplicates:
        results += copy.deepcopy(results[: len(results) // 2])
    rng.shuffle(results)
    return {"images": images, "annotations": anns, "categories": cats}, results


def pycoco_ap50(gt: dict, results: list, max_dets: int = 100) -> dict[int, float]:
    """Per-category AP@0.5 from pycocotools (precision[0, :, k, 0, -1]); -1 where no ground truth."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        dt = coco.loadRes(copy.deepcopy(results)) if results else COCO()
        ev = COCOeval(coco, dt, "bbox")
        ev.params.iouThrs = np.array([0.5])
        ev.params.maxDets = [max_dets]
        ev.evaluate()
        ev.accumulate()
    prec = ev.eval["precision"][0, :, :, 0, -1]
    return {cid: (float(prec[:, k].mean()) if (prec[:, k] > -1).all() else -1.0)
            for k, cid in enumerate(ev.params.catIds)}


def assert_equal_to_pycoco(gt: dict, results: list, max_dets: int = 100) -> None:
    ours = ap50_standard(gt, results, max_dets=max_dets)
    ref = pycoco_ap50(gt, results, max_dets)
    for cls in ours.classes:
        if ref[cls.category_id] == -1:
            assert math.isnan(cls.ap) and cls.n_gt == 0
        else:
            assert cls.ap == pytest.approx(ref[cls.category_id], abs=1e-6)
    valid = [v for v in ref.values() if v > -1]
    if valid:
        assert ours.mean == pytest.approx(np.mean(valid), abs=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_standard_matches_pycocotools_random(seed: int) -> None:
    gt, results = make_case(seed)
    assert_equal_to_pycoco(gt, results)


@pytest.mark.parametrize("seed", range(4))
def test_standard_matches_pycocotools_ties_duplicates_crowd(seed: int) -> None:
    gt, results = make_case(100 + seed, crowd=0.25, tie_scores=True, duplicates=True)
    assert_equal_to_pycoco(gt, results)


def test_standard_crowded_image_and_max_dets() -> None:
    """One image with many overlapping objects and more detections than max_dets."""
    rng = np.random.default_rng(7)
    anns, results = [], []
    for i in range(60):
        x, y = rng.uniform(0, 100, 2)
        anns.append({"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [x, y, 30, 30], "area": 900.0,
                     "iscrowd": int(i % 13 == 0)})
        for _ in range(3):
            results.append({"image_id": 1, "category_id": 1, "score": float(rng.random()),
                            "bbox": [x + rng.normal(0, 3), y + rng.normal(0, 3), 30, 30]})
    gt = {"images": [{"id": 1}, {"id": 2}], "annotations": anns, "categories": [{"id": 1, "name": "Car"}]}
    for max_dets in (10, 100, 500):
        assert_equal_to_pycoco(gt, results, max_dets)


def test_no_detections_no_gt_and_excluded_class() -> None:
    gt, results = make_case(3, n_cats=3)
    gt["categories"].append({"id": 9, "name": "Van"})  # no ground truth at all
    only_cat1 = [r for r in results if r["category_id"] == 1]
    for res in (ours := ap50_standard(gt, only_cat1), ap50_legacy(gt, only_cat1)):
        assert math.isnan(res.per_class["Van"])
        assert res.per_class["c1"] == 0.0 and res.per_class["c2"] == 0.0  # gt, no detections
        assert res.mean == pytest.approx(np.mean([res.per_class[c] for c in ("c0", "c1", "c2")]))
    assert_equal_to_pycoco(gt, only_cat1)
    assert ap50_standard(gt, []).mean == 0.0
    assert ours.classes[0].n_pred == len(only_cat1)
    empty = {"images": [{"id": 1}], "annotations": [], "categories": [{"id": 1, "name": "Car"}]}
    res = ap50_standard(empty, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])
    assert math.isnan(res.mean)


def single_class_gt(n_gt: int) -> dict:
    anns = [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [100.0 * i, 0, 50, 50], "area": 2500.0,
             "iscrowd": 0} for i in range(n_gt)]
    return {"images": [{"id": 1}], "annotations": anns, "categories": [{"id": 1, "name": "Car"}]}


def det(i: int, s: float, shift: float = 0.0) -> dict:
    return {"image_id": 1, "category_id": 1, "bbox": [100.0 * i + shift, 0, 50, 50], "score": s}


def test_legacy_hand_computed_ramp() -> None:
    """2 gt, one TP at the top: curve (0,1)→(0.5,1), then the straight line to (1,0)."""
    gt = single_class_gt(2)
    res = ap50_legacy(gt, [det(0, 0.9)])
    x = np.linspace(0, 1, 101)
    y = np.where(x <= 0.5, 1.0, 2 * (1 - x))
    assert res.mean == pytest.approx(np.trapezoid(y, x), abs=1e-9)  # = 0.75 (standard: 0.5 + 1/101)
    assert ap50_standard(gt, [det(0, 0.9)]).mean == pytest.approx(51 / 101)


def test_legacy_hand_computed_fp_first() -> None:
    """FP, TP, TP on 2 gt: precision envelope 2/3 up to recall 1 → trapezoid of a constant minus start."""
    gt = single_class_gt(2)
    dets = [det(5, 0.95), det(0, 0.9), det(1, 0.8)]
    x = np.linspace(0, 1, 101)
    # mrec [0, 0, .5, 1, 1], mpre envelope [1, 2/3, 2/3, 2/3, 0]: np.interp takes the last of duplicated
    # x, so the curve is 2/3 on [0, 1) and drops to the sentinel 0 exactly at recall 1 (a val.py quirk).
    y = np.where(x < 1, 2 / 3, 0.0)
    assert ap50_legacy(gt, dets).mean == pytest.approx(np.trapezoid(y, x), abs=1e-9)  # 0.66333…
    assert ap50_legacy(gt, dets, interpolation="voc_all").mean == pytest.approx(2 / 3)
    assert ap50_legacy(gt, dets, interpolation="voc11").mean == pytest.approx(2 / 3)


def test_legacy_duplicates_and_matching_rule() -> None:
    """Duplicate detections: one TP per label; the label keeps the higher-scored detection."""
    gt = single_class_gt(1)
    dets = [det(0, 0.6, shift=1.0), det(0, 0.9, shift=8.0)]  # the better-IoU one scores lower
    table = match(gt, dets, "ap50_legacy")
    assert table.det_tp.tolist() == [True, False]  # score order: 0.9 wins the label, 0.6 is FP
    assert ap50_legacy(gt, dets).mean == pytest.approx(0.995)  # val.py's ceiling (sentinel 0 at recall 1)
    assert ap50_standard(gt, dets).mean == pytest.approx(1.0)
    # Each detection picks its best-IoU label first; a detection whose best label is taken is FP.
    gt2 = single_class_gt(2)
    gt2["annotations"][1]["bbox"] = [30.0, 0, 50, 50]
    dets2 = [det(0, 0.9, shift=20.0), det(0, 0.8, shift=2.0)]
    # det 0.9 is closest to label 2 (x=30) -> TP; det 0.8 best label is 1 (x=0) -> TP
    assert match(gt2, dets2, "ap50_legacy").det_tp.tolist() == [True, True]


def test_legacy_ties_in_score_are_stable() -> None:
    gt = single_class_gt(2)
    dets = [det(7, 0.5), det(0, 0.5), det(1, 0.5)]
    table = match(gt, dets, "ap50_legacy")
    assert table.det_tp.tolist() == [False, True, True]  # tie: input order kept
    x = np.linspace(0, 1, 101)
    assert ap50_legacy(gt, dets).mean == pytest.approx(np.trapezoid(np.where(x < 1, 2 / 3, 0.0), x))


def test_average_precision_edge_cases() -> None:
    assert math.isnan(average_precision(np.array([True]), 0, "coco101")[0])
    for interp in ("coco101", "yolov5", "voc11", "voc_all"):
        assert average_precision(np.zeros(0, bool), 3, interp)[0] == 0.0
        perfect = 0.995 if interp == "yolov5" else 1.0  # YOLOv5 drops to 0 exactly at recall 1
        assert average_precision(np.ones(4, bool), 4, interp)[0] == pytest.approx(perfect)
    with pytest.raises(ValueError, match="interpolation"):
        average_precision(np.ones(1, bool), 1, "bogus")


def test_bad_inputs_name_the_entry(tmp_path) -> None:
    gt = single_class_gt(1)
    with pytest.raises(CocoFormatError, match=r"prediction #0: unknown image_id 5"):
        ap50_standard(gt, [{"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}])
    with pytest.raises(CocoFormatError, match=r"prediction #0: unknown category_id 3"):
        ap50_standard(gt, [{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1.0}])
    with pytest.raises(CocoFormatError, match=r"'score' must be a finite number"):
        ap50_standard(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": "x"}])
    with pytest.raises(CocoFormatError, match=r"'bbox' must be"):
        ap50_standard(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1.0}])
    bad = tmp_path / "gt.json"
    bad.write_text("{not json")
    with pytest.raises(CocoFormatError, match="not valid JSON"):
        GroundTruth.from_coco(bad)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        GroundTruth.from_coco(tmp_path / "missing.json")


def yolov5_reference(gt: dict, results: list) -> dict[int, float]:
    """Loop transcription of YOLOv5 val.py (process_batch at IoU 0.5 + ap_per_class/compute_ap)."""
    by_img: dict[int, list] = {}
    for r in results:
        by_img.setdefault(r["image_id"], []).append(r)
    stats_tp, stats_conf, stats_cls, tcls = [], [], [], []
    for im in sorted(i["id"] for i in gt["images"]):
        labels = [(a["category_id"], *a["bbox"]) for a in gt["annotations"] if a["image_id"] == im]
        preds = sorted(by_img.get(im, []), key=lambda r: -r["score"])[:300]
        tcls += [lab[0] for lab in labels]
        correct = np.zeros(len(preds), bool)
        if labels and preds:
            lb = np.array([[x, y, x + w, y + h] for _, x, y, w, h in labels])
            pb = np.array([[x, y, x + w, y + h] for x, y, w, h in (p["bbox"] for p in preds)])
            inter = (np.minimum(lb[:, None, 2:], pb[None, :, 2:]) - np.maximum(lb[:, None, :2], pb[None, :, :2]))
            inter = inter.clip(0).prod(2)
            area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
            iou = inter / (area(lb)[:, None] + area(pb)[None] - inter + 1e-7)
            same = np.array([lab[0] for lab in labels])[:, None] == np.array([p["category_id"] for p in preds])
            x = np.nonzero((iou >= 0.5) & same)
            if len(x[0]):
                m = np.stack([x[0], x[1], iou[x]], 1)
                if len(x[0]) > 1:
                    m = m[np.argsort(m[:, 2], kind="stable")[::-1]]
                    m = m[np.unique(m[:, 1], return_index=True)[1]]
                    m = m[np.unique(m[:, 0], return_index=True)[1]]
                correct[m[:, 1].astype(int)] = True
        stats_tp.append(correct)
        stats_conf += [p["score"] for p in preds]
        stats_cls += [p["category_id"] for p in preds]
    tp, conf, cls = np.concatenate(stats_tp), np.array(stats_conf), np.array(stats_cls)
    i = np.argsort(-conf, kind="stable")
    tp, cls = tp[i], cls[i]
    out = {}
    for c in np.unique(tcls):
        sel = cls == c
        if not sel.any():
            out[int(c)] = 0.0
            continue
        tpc = tp[sel].cumsum()
        fpc = (1 - tp[sel]).cumsum()
        mrec = np.concatenate(([0.0], tpc / (tcls.count(c) + 1e-16), [1.0]))
        mpre = np.concatenate(([1.0], tpc / (tpc + fpc), [0.0]))
        mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
        xs = np.linspace(0, 1, 101)
        out[int(c)] = float(np.trapezoid(np.interp(xs, mrec, mpre), xs))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_legacy_matches_yolov5_transcription(seed: int) -> None:
    gt, results = make_case(200 + seed, duplicates=seed % 2 == 0)
    ours = ap50_legacy(gt, results)
    ref = yolov5_reference(gt, results)
    for cls in ours.classes:
        assert cls.ap == pytest.approx(ref[cls.category_id], abs=1e-9) if cls.n_gt else math.isnan(cls.ap)
    assert ours.mean == pytest.approx(np.mean(list(ref.values())), abs=1e-9)
