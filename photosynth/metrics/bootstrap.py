"""Bootstrap over images: a confidence interval for one model's mAP and a paired interval for the
difference between two models scored on the same ground truth.

Matching is per image, so each prediction set is matched once (:func:`photosynth.metrics.ap.match`) and
every resample only re-weights the per-detection TP flags by how often its image was drawn: a
detection of an image drawn ``c`` times appears ``c`` times (copies adjacent in score order), and the
class's ground-truth count is ``Σ c_i · n_gt_i``. That is exactly the metric of the resampled split.
A class without ground truth in a resample is left out of that resample's mean, like everywhere else.

Several training seeds per model (:func:`seed_bootstrap`): each resample draws the seeds, then the images;
differences (:func:`difference`) and the share of the baseline-to-oracle gap a model closed
(:func:`gap_closed`) are computed on the same resamples.

    gt = GroundTruth.from_coco("coco.json")
    a, b = (match(gt, p, "ap50_legacy") for p in ("baseline.json", "cyclegan.json"))
    paired_bootstrap(a, b, n_resamples=1000, seed=0)   # b − a: interval, mean, share > 0
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from photosynth.metrics.ap import REC_THRS, MatchTable, average_precision


@dataclass(frozen=True)
class BootstrapCI:
    """Percentile interval of one model's mAP over image resamples."""

    metric: str
    observed: float
    mean: float
    low: float
    high: float
    level: float
    n_resamples: int
    seed: int
    samples: np.ndarray

    def as_row(self) -> dict[str, float | int | str]:
        """Flat dict for a table (without the samples)."""
        return {k: v for k, v in asdict(self).items() if k != "samples"}


@dataclass(frozen=True)
class PairedBootstrap:
    """Paired percentile interval of ``candidate − baseline`` mAP over the same image resamples."""

    metric: str
    baseline: float
    candidate: float
    observed_diff: float
    mean_diff: float
    low: float
    high: float
    share_positive: float
    level: float
    n_resamples: int
    seed: int
    samples: np.ndarray

    def as_row(self) -> dict[str, float | int | str]:
        """Flat dict for a table (without the samples)."""
        return {k: v for k, v in asdict(self).items() if k != "samples"}


def resample_counts(n_images: int, n_resamples: int, seed: int) -> np.ndarray:
    """``(n_resamples, n_images)`` draw counts of images sampled with replacement (seeded)."""
    if n_images < 1 or n_resamples < 1:
        raise ValueError("need at least one image and one resample")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_images, size=(n_resamples, n_images))
    flat = draws + (np.arange(n_resamples) * n_images)[:, None]
    return np.bincount(flat.ravel(), minlength=n_resamples * n_images).reshape(n_resamples, n_images)


class _Scorer:
    """A match table split per class, scored under any image weighting."""

    def __init__(self, table: MatchTable) -> None:
        self.table = table
        self.parts = [(table.det_tp[sl], table.det_image[sl]) for sl in table.class_slices()]

    def mean_ap(self, counts: np.ndarray) -> float:
        totals = counts @ self.table.n_gt
        aps = []
        for k, (tp, image) in enumerate(self.parts):
            if totals[k] > 0:
                if self.table.interpolation == "coco101":
                    aps.append(_coco101_weighted(tp, counts[image], float(totals[k])))
                else:
                    expanded = np.repeat(tp, counts[image])
                    aps.append(average_precision(expanded, float(totals[k]), self.table.interpolation)[0])
        return float(np.mean(aps)) if aps else math.nan

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        return np.array([self.mean_ap(row) for row in counts])


def _coco101_weighted(tp: np.ndarray, weight: np.ndarray, n_gt: float) -> float:
    """COCO 101-point AP of the expanded list, computed on TP rows only (same value, far fewer operations).

    The envelope's maxima and the first point reaching each recall threshold both sit at the last copy of
    a TP detection, where ``T = Σ w·tp`` and ``N = Σ w`` so far; FP rows only lower later precisions.
    """
    seen = np.cumsum(weight)[tp]
    if not len(seen):
        return 0.0
    hits = np.cumsum(weight[tp]).astype(np.float64)
    rc, pr = hits / n_gt, hits / (seen + np.spacing(1))
    env = np.maximum.accumulate(pr[::-1])[::-1]
    idx = np.searchsorted(rc, REC_THRS, side="left")
    return float(np.mean(np.where(idx < len(rc), env[np.minimum(idx, len(rc) - 1)], 0.0)))


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    valid = samples[~np.isnan(samples)]
    if not len(valid):
        return math.nan, math.nan
    low, high = np.quantile(valid, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(low), float(high)


def bootstrap_ci(table: MatchTable, *, n_resamples: int = 1000, seed: int = 0,
                 level: float = 0.95) -> BootstrapCI:
    """Percentile interval of the mAP of one matched prediction set."""
    scorer = _Scorer(table)
    samples = scorer.resampled(resample_counts(table.n_images, n_resamples, seed))
    low, high = _interval(samples, level)
    observed = scorer.mean_ap(np.ones(table.n_images, np.int64))
    return BootstrapCI(table.metric, observed, float(np.nanmean(samples)) if (~np.isnan(samples)).any()
                       else math.nan, low, high, level, n_resamples, seed, samples)


def paired_bootstrap(baseline: MatchTable, candidate: MatchTable, *, n_resamples: int = 1000, seed: int = 0,
                     level: float = 0.95) -> PairedBootstrap:
    """Paired bootstrap of ``candidate − baseline`` mAP: both scored on the same image resamples."""
    if baseline.metric != candidate.metric or baseline.interpolation != candidate.interpolation:
        raise ValueError(f"cannot pair {baseline.metric}/{baseline.interpolation} with "
                         f"{candidate.metric}/{candidate.interpolation}")
    if baseline.n_gt.shape != candidate.n_gt.shape or not np.array_equal(baseline.n_gt, candidate.n_gt):
        raise ValueError("the two prediction sets were matched against different ground truth")
    counts = resample_counts(baseline.n_images, n_resamples, seed)
    a, b = _Scorer(baseline), _Scorer(candidate)
    diffs = b.resampled(counts) - a.resampled(counts)
    ones = np.ones(baseline.n_images, np.int64)
    obs_a, obs_b = a.mean_ap(ones), b.mean_ap(ones)
    low, high = _interval(diffs, level)
    valid = diffs[~np.isnan(diffs)]
    return PairedBootstrap(baseline.metric, obs_a, obs_b, obs_b - obs_a,
                           float(valid.mean()) if len(valid) else math.nan, low, high,
                           float((valid > 0).mean()) if len(valid) else math.nan, level, n_resamples, seed, diffs)


# ------------------------------------------------------------------------------ training seeds, then images


@dataclass(frozen=True)
class SeedSamples:
    """One model trained once per seed and scored on the same test images.

    ``per_seed``: each seed's mAP on the whole test set; ``samples``: the hierarchical bootstrap of their
    mean (each resample draws the seeds with replacement, then the test images with replacement).
    """

    per_seed: np.ndarray
    samples: np.ndarray

    @property
    def observed(self) -> float:
        """Mean over seeds of the mAP on the whole test set."""
        return float(np.nanmean(self.per_seed)) if (~np.isnan(self.per_seed)).any() else math.nan

    @property
    def spread(self) -> float:
        """Seed-to-seed standard deviation (``ddof=1``; NaN with one seed)."""
        valid = self.per_seed[~np.isnan(self.per_seed)]
        return float(np.std(valid, ddof=1)) if len(valid) > 1 else math.nan

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Percentile interval of the mean over seeds."""
        return _interval(self.samples, level)


def _seed_rng(seed: int, name: str) -> np.random.Generator:
    """The seed-draw generator of one model: fixed by the bootstrap seed and the model's name, so a model's
    draws do not depend on which other models are bootstrapped with it."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def seed_bootstrap(models: Mapping[str, Sequence[MatchTable]], *, n_resamples: int = 1000,
                   seed: int = 0) -> dict[str, SeedSamples]:
    """Hierarchical bootstrap of each model's mean mAP over its training seeds.

    ``models`` maps a name to one match table per training seed, all on the same ground truth. Every
    resample first draws each model's seeds with replacement (independently per model: seeds of different
    models are different trainings), then the test images with replacement — the same images for every
    model and seed, so differences between models stay paired over images. With one seed per model this is
    exactly :func:`bootstrap_ci` / :func:`paired_bootstrap`'s image bootstrap (same draws for the same seed).
    """
    if not models:
        raise ValueError("no models to bootstrap")
    tables = [t for seeds in models.values() for t in seeds]
    if any(not seeds for seeds in models.values()):
        raise ValueError(f"every model needs at least one seed's table, got {[len(s) for s in models.values()]}")
    first = tables[0]
    for t in tables[1:]:
        if t.metric != first.metric or t.interpolation != first.interpolation:
            raise ValueError(f"cannot pool {first.metric}/{first.interpolation} with {t.metric}/{t.interpolation}")
        if t.n_gt.shape != first.n_gt.shape or not np.array_equal(t.n_gt, first.n_gt):
            raise ValueError("the prediction sets were matched against different ground truth")
    counts = resample_counts(first.n_images, n_resamples, seed)
    ones = np.ones(first.n_images, np.int64)
    out = {}
    for name, seeds in models.items():
        scorers = [_Scorer(t) for t in seeds]
        per_seed = np.array([s.mean_ap(ones) for s in scorers])
        scores = np.stack([s.resampled(counts) for s in scorers])  # (n_seeds, n_resamples)
        draws = _seed_rng(seed, name).integers(0, len(seeds), size=(n_resamples, len(seeds)))
        samples = scores[draws, np.arange(n_resamples)[:, None]].mean(axis=1)  # NaN: no ground truth drawn
        out[name] = SeedSamples(per_seed, samples)
    return out


@dataclass(frozen=True)
class Difference:
    """``candidate − baseline`` (means over seeds) with its interval from the same resamples."""

    observed: float
    low: float
    high: float
    share_positive: float


def difference(baseline: SeedSamples, candidate: SeedSamples, level: float = 0.95) -> Difference:
    """The difference of two models' means over seeds, its percentile interval and share of resamples > 0."""
    diffs = candidate.samples - baseline.samples
    low, high = _interval(diffs, level)
    valid = diffs[~np.isnan(diffs)]
    return Difference(candidate.observed - baseline.observed, low, high,
                      float((valid > 0).mean()) if len(valid) else math.nan)


#: Verdicts of :func:`gap_closed`.
GAP_OPEN, GAP_SMALL, NO_GAP, ORACLE_BELOW = ("gap to close", "gap too small to share out", "no gap to close",
                                             "oracle below baseline")
#: The gap ``oracle − baseline`` is shared out only when its interval's lower bound is at least this fraction of the
#: interval's width. A ratio's interval is bounded only when its denominator's is clear of 0 (Fieller), and it is
#: heavy-tailed while the denominator can come near 0: a gap whose lower bound was just above 0 gave shares like
#: [−151 %, 427 %]. With the lower bound at least half the width, a roughly symmetric interval has its lower bound at
#: least half the observed gap (the gap is ≥ 2 half-widths, about 4 standard errors; Fieller's ``g ≤ 1/4``): in
#: 97.5 % of the resamples the denominator is at least half the observed gap, so it can at most double a share.
GAP_MARGIN = 0.5


@dataclass(frozen=True)
class GapClosed:
    """Share of the baseline-to-oracle gap a candidate closed: ``(candidate − baseline) / (oracle − baseline)``.

    ``gap``/``gap_low``/``gap_high``: ``oracle − baseline`` and its interval. ``verdict``: :data:`GAP_OPEN` when
    that interval's lower bound is at least ``margin`` × its width (then ``observed``/``low``/``high`` hold the
    ratio and its interval), :data:`GAP_SMALL` when it lies above 0 by less, :data:`NO_GAP` when it contains 0 and
    :data:`ORACLE_BELOW` when it lies below 0 (the ratio is NaN with every verdict but :data:`GAP_OPEN`).
    """

    observed: float
    low: float
    high: float
    gap: float
    gap_low: float
    gap_high: float
    verdict: str


def gap_verdict(low: float, high: float, margin: float = GAP_MARGIN) -> str:
    """The verdict of :func:`gap_closed` for a gap interval ``[low, high]``."""
    if high < 0:
        return ORACLE_BELOW
    if not low > 0:
        return NO_GAP
    return GAP_OPEN if low >= margin * (high - low) else GAP_SMALL


def gap_closed(baseline: SeedSamples, candidate: SeedSamples, oracle: SeedSamples,
               level: float = 0.95, margin: float = GAP_MARGIN) -> GapClosed:
    """Paired bootstrap of the gap closed: numerator and denominator come from the same resamples; the ratio only
    where the gap is clearly there (:func:`gap_verdict`)."""
    gap = difference(baseline, oracle, level)
    verdict = gap_verdict(gap.low, gap.high, margin)
    if verdict != GAP_OPEN:
        return GapClosed(math.nan, math.nan, math.nan, gap.observed, gap.low, gap.high, verdict)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (candidate.samples - baseline.samples) / (oracle.samples - baseline.samples)
    low, high = _interval(ratios[~np.isinf(ratios)], level)  # a resample with no gap at all has no ratio
    observed = (candidate.observed - baseline.observed) / gap.observed
    return GapClosed(observed, low, high, gap.observed, gap.low, gap.high, GAP_OPEN)
