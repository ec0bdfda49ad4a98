"""Bootstrap over images: exactness on a resample, pairing, seeding and coverage on synthetic cases."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from photosynth.metrics.ap import GroundTruth, ap50_legacy, ap50_standard, match, score
from photosynth.metrics.bootstrap import (GAP_MARGIN, GAP_OPEN, GAP_SMALL, NO_GAP, ORACLE_BELOW, _Scorer, bootstrap_ci,
                                          difference, gap_closed, gap_verdict, paired_bootstrap, resample_counts,
                                          seed_bootstrap)


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


# ----------------------------------------------------------------------- training seeds, then test images


def seed_tables(gt_seed: int, qualities: list[float], det_seed: int = 0, metric: str = "ap50_standard") -> list:
    """One match table per hand-made training seed: a detector of the given quality on the same ground truth."""
    gt, _ = synthetic(gt_seed)
    g = GroundTruth.from_coco(gt)
    return [match(g, synthetic(gt_seed, det_seed=det_seed + k, quality=q)[1], metric)
            for k, q in enumerate(qualities)]


def test_one_seed_is_exactly_the_image_bootstrap() -> None:
    (a,), (b,) = seed_tables(5, [0.4], det_seed=10), seed_tables(5, [0.7], det_seed=20)
    out = seed_bootstrap({"a": [a], "b": [b]}, n_resamples=60, seed=3)
    assert np.array_equal(out["a"].samples, bootstrap_ci(a, n_resamples=60, seed=3).samples)
    paired = paired_bootstrap(a, b, n_resamples=60, seed=3)
    d = difference(out["a"], out["b"])
    assert (d.observed, d.low, d.high, d.share_positive) == pytest.approx(
        (paired.observed_diff, paired.low, paired.high, paired.share_positive))
    assert math.isnan(out["a"].spread)


def test_seed_mean_and_spread_on_hand_made_seeds() -> None:
    tables = seed_tables(6, [0.3, 0.6, 0.9])
    out = seed_bootstrap({"mix": tables}, n_resamples=40, seed=0)["mix"]
    per_seed = [score(t).mean for t in tables]
    assert out.per_seed == pytest.approx(per_seed)
    assert out.observed == pytest.approx(np.mean(per_seed))
    assert out.spread == pytest.approx(np.std(per_seed, ddof=1))
    assert out.samples.shape == (40,)
    # the seed level widens the interval: three very different seeds vary more than any one seed's images
    low, high = out.interval()
    one = bootstrap_ci(tables[1], n_resamples=40, seed=0)
    assert high - low > one.high - one.low


def test_interval_contains_or_excludes_zero_as_constructed() -> None:
    weak, strong = seed_tables(8, [0.25, 0.3], det_seed=0), seed_tables(8, [0.85, 0.9], det_seed=10)
    out = seed_bootstrap({"weak": weak, "strong": strong}, n_resamples=200, seed=1)
    clear = difference(out["weak"], out["strong"])
    assert clear.low > 0 and clear.share_positive == 1.0 and clear.low <= clear.observed <= clear.high
    # same two training outcomes (one poor seed, one good) in both mixes: no true difference, a wide interval
    mixed_a, mixed_b = seed_tables(8, [0.3, 0.9], det_seed=20), seed_tables(8, [0.9, 0.3], det_seed=30)
    out = seed_bootstrap({"a": mixed_a, "b": mixed_b}, n_resamples=200, seed=1)
    tie = difference(out["a"], out["b"])
    assert tie.low < 0 < tie.high
    assert tie.high - tie.low > clear.high - clear.low and 0 < tie.share_positive < 1
    # a model's draws depend only on its name and the seed, not on the other models bootstrapped with it
    alone = seed_bootstrap({"b": mixed_b}, n_resamples=200, seed=1)["b"]
    assert np.array_equal(alone.samples, out["b"].samples)


def test_gap_closed_on_hand_made_seeds() -> None:
    base, half, oracle = (seed_tables(9, [q, q], det_seed=10 * i) for i, q in enumerate((0.3, 0.6, 0.95)))
    out = seed_bootstrap({"base": base, "half": half, "oracle": oracle}, n_resamples=200, seed=2)
    g = gap_closed(out["base"], out["half"], out["oracle"])
    expected = (out["half"].observed - out["base"].observed) / (out["oracle"].observed - out["base"].observed)
    assert g.verdict == GAP_OPEN and g.observed == pytest.approx(expected) and g.gap_low > 0
    assert g.low <= g.observed <= g.high and 0 < g.observed < 1
    ratios = (out["half"].samples - out["base"].samples) / (out["oracle"].samples - out["base"].samples)
    assert (g.low, g.high) == pytest.approx(tuple(np.quantile(ratios, [0.025, 0.975]))), "same resamples"
    # an oracle no better than the baseline (the very same detectors): no gap, no ratio
    same = seed_bootstrap({"base": base, "half": half, "oracle": base}, n_resamples=50, seed=2)
    none = gap_closed(same["base"], same["half"], same["oracle"])
    assert none.verdict == NO_GAP and math.isnan(none.observed) and none.gap_low <= 0 <= none.gap_high
    worse = seed_bootstrap({"base": half, "half": half, "oracle": base}, n_resamples=50, seed=2)
    assert gap_closed(worse["base"], worse["half"], worse["oracle"]).verdict == ORACLE_BELOW
    # the same clear gap held to a margin it does not reach: no share
    strict = gap_closed(out["base"], out["half"], out["oracle"], margin=100.0)
    assert strict.verdict == GAP_SMALL and math.isnan(strict.observed) and strict.gap == pytest.approx(g.gap)


@pytest.mark.parametrize(("low", "high", "verdict"), [
    (0.05, 0.09, GAP_OPEN),  # lower bound 0.05 ≥ half the width 0.04
    (0.02, 0.06, GAP_OPEN),  # exactly at the margin
    (0.01, 0.05, GAP_SMALL),  # clear of 0, by less than half its width: a share would be heavy-tailed
    (0.0, 0.05, NO_GAP), (-0.01, 0.05, NO_GAP),
    (-0.05, -0.01, ORACLE_BELOW),
])
def test_gap_verdict_shares_a_gap_only_past_the_margin(low: float, high: float, verdict: str) -> None:
    assert GAP_MARGIN == 0.5 and gap_verdict(low, high) == verdict


def test_seed_bootstrap_checks() -> None:
    tables = seed_tables(3, [0.5])
    with pytest.raises(ValueError, match="no models"):
        seed_bootstrap({}, n_resamples=5)
    with pytest.raises(ValueError, match="at least one seed"):
        seed_bootstrap({"a": tables, "b": []}, n_resamples=5)
    with pytest.raises(ValueError, match="different ground truth"):
        seed_bootstrap({"a": tables, "b": seed_tables(4, [0.5])}, n_resamples=5)
