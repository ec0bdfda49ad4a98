"""Bootstrap over images: exactness on a resample, pairing, seeding and coverage on synthetic cases."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from photosynth.metrics.ap import GroundTruth, ap50_legacy, ap50_standard, match, score
from photosynth.metrics.bootstrap import _Scorer, bootstrap_ci, paired_bootstrap, resample_counts


def synthetic(seed: int, det_seed: int = 0, n_images: int = 150, quality: float = 0.6) -> tuple[dict, list]:
    """Ground truth (from ``seed``) and detections (from ``det_seed``) that find each object with probability
    ``quality``, scored higher than the false positives on average."""
    rng, drng = np.random.default_rng(seed), np.random.default_rng([seed, det_seed])
    images = [{"id": i + 1} for i in range(n_images)]
    cats = [{"id": 1, "name": "Car"}, {"id": 2, "name": "Truck"}]
    anns, res = [], []
    for im in images:
        for j in range(rng.integers(1, 5)):
            box = [60.0 * j, 10.0, 40.0, 30.0]
            cat = int(rng.integers(1, 3))
            anns.append({"id": len(anns) + 1, "image_id": im["id"], "category_id": cat, "bbox": box,
                         "area": 1200.0, "iscrowd": 0})
            if drng.random() < quality:
                res.append({"image_id": im["id"], "category_id": cat, "bbox": [box[0] + 2, 11.0, 40.0, 30.0],
                            "score": float(drng.uniform(0.3, 1.0))})
        for _ in range(drng.integers(0, 3)):
            res.append({"image_id": im["id"], "category_id": int(drng.integers(1, 3)),
                        "bbox": [float(drng.uniform(0, 200)), 60.0, 30.0, 30.0], "score": float(drng.uniform(0, 0.7))})
    return {"images": images, "annotations": anns, "categories": cats}, res


def duplicated(gt: dict, res: list, counts: np.ndarray) -> tuple[dict, list]:
    """The resampled split written out explicitly: image i copied counts[i] times with fresh ids."""
    ids = sorted(im["id"] for im in gt["images"])
    new_gt = {"images": [], "annotations": [], "categories": gt["categories"]}
    new_res = []
    for i, image_id in enumerate(ids):
        for c in range(counts[i]):
            nid = image_id * 1000 + c
            new_gt["images"].append({"id": nid})
            for a in gt["annotations"]:
                if a["image_id"] == image_id:
                    new_gt["annotations"].append({**copy.deepcopy(a), "id": len(new_gt["annotations"]) + 1,
                                                  "image_id": nid})
            new_res += [{**copy.deepcopy(r), "image_id": nid} for r in res if r["image_id"] == image_id]
    return new_gt, new_res


@pytest.mark.parametrize("metric,fn", [("ap50_standard", ap50_standard), ("ap50_legacy", ap50_legacy)])
def test_resample_score_equals_metric_on_duplicated_split(metric, fn) -> None:
    gt, res = synthetic(1, n_images=40)
    table = match(gt, res, metric)
    counts = resample_counts(table.n_images, 3, seed=5)
    scorer = _Scorer(table)
    for row in counts:
        assert scorer.mean_ap(row) == pytest.approx(fn(*duplicated(gt, res, row)).mean, abs=1e-12)
    assert scorer.mean_ap(np.ones(table.n_images, np.int64)) == pytest.approx(score(table).mean)


def test_resample_counts_seeded_and_sum() -> None:
    a, b = resample_counts(50, 20, seed=3), resample_counts(50, 20, seed=3)
    assert np.array_equal(a, b) and (a.sum(1) == 50).all()
    assert not np.array_equal(a, resample_counts(50, 20, seed=4))
    with pytest.raises(ValueError):
        resample_counts(0, 10, 0)


def test_identical_predictions_give_zero_difference() -> None:
    gt, res = synthetic(2)
    g = GroundTruth.from_coco(gt)
    t = match(g, res)
    out = paired_bootstrap(t, t, n_resamples=50, seed=0)
    assert (out.samples == 0).all() and out.low == out.high == 0.0 and out.share_positive == 0.0


def test_null_difference_interval_covers_zero_most_of_the_time() -> None:
    """Two prediction sets from the same process (true difference 0): the 95 % interval covers 0 mostly."""
    covered = 0
    for seed in range(16):
        gt, res_a = synthetic(seed, det_seed=1)
        _, res_b = synthetic(seed, det_seed=2)
        g = GroundTruth.from_coco(gt)
        out = paired_bootstrap(match(g, res_a), match(g, res_b), n_resamples=200, seed=seed)
        covered += out.low <= 0 <= out.high
    assert covered >= 12


def test_large_difference_excludes_zero_and_ci_brackets_observed() -> None:
    gt, weak = synthetic(7, det_seed=1, quality=0.3)
    _, strong = synthetic(7, det_seed=2, quality=0.95)  # same ground truth, better detector
    g = GroundTruth.from_coco(gt)
    for metric in ("ap50_standard", "ap50_legacy"):
        a, b = match(g, weak, metric), match(g, strong, metric)
        out = paired_bootstrap(a, b, n_resamples=200, seed=1)
        assert out.low > 0 and out.share_positive == 1.0
        assert out.low <= out.observed_diff <= out.high
        ci = bootstrap_ci(b, n_resamples=200, seed=1)
        assert ci.low <= ci.observed <= ci.high and ci.samples.shape == (200,)
        assert ci.as_row()["metric"] == metric and "samples" not in ci.as_row()


def test_pairing_checks() -> None:
    gt, res = synthetic(3)
    gt2, res2 = synthetic(4, n_images=120)
    with pytest.raises(ValueError, match="cannot pair"):
        paired_bootstrap(match(gt, res, "ap50_standard"), match(gt, res, "ap50_legacy"), n_resamples=5)
    with pytest.raises(ValueError, match="different ground truth"):
        paired_bootstrap(match(gt, res), match(gt2, res2), n_resamples=5)
