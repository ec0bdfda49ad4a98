"""The study's scores: the headline mean over Car and Truck (:data:`photosynth.design.STUDY_CLASSES`; classes
without ground truth excluded) per mix and bucket, and its intervals over training seeds and test images
(:func:`bootstrap_study`: each resample draws the seeds, then the images), with the paired differences between
mixes and the share of the baseline-to-oracle gap each mix closed. Also what the Results page draws from the
predictions: precision-recall curves and example detections.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from photosynth import detect
from photosynth.atomic import atomic_open
from photosynth.design import STUDY_CLASSES
from photosynth.metrics.ap import GroundTruth, ap50_standard, match
from photosynth.metrics.bootstrap import SeedSamples, difference, gap_closed, seed_bootstrap
from photosynth.runtime import Workspace
from photosynth.study.detectors import EvalSet, bucket_key, eval_sets, prediction_path

METRICS: tuple[str, ...] = ("ap50_standard", "ap50_legacy")


def study_means(metrics: pd.DataFrame, classes: Sequence[str] = STUDY_CLASSES, per_seed: bool = False) -> pd.DataFrame:
    """Mean of each metric over ``classes`` that have ground truth, per mix and split (the study's number),
    averaged over training seeds (``per_seed=True`` keeps one row per seed)."""
    rows = metrics[metrics["class"].isin(classes) & (metrics["n_gt"] > 0)]
    keys = [c for c in ("mix", "seed", "group", "split") if c in rows.columns]
    order = {name: i for i, name in enumerate(dict.fromkeys(metrics["split"]))}
    means = rows.groupby(keys, sort=False)[list(METRICS)].mean().reset_index()
    if not per_seed and "seed" in keys:
        keys.remove("seed")
        means = means.groupby(keys, sort=False)[list(METRICS)].mean().reset_index()
    means["classes"] = "+".join(classes)
    return means.sort_values(by=["split"], key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def study_table(metrics: pd.DataFrame, group: str = "bucket", classes: Sequence[str] = STUDY_CLASSES) -> pd.DataFrame:
    """Wide table: one row per mix, columns ``(metric, split)`` — standard and legacy side by side."""
    means = study_means(metrics[metrics["group"] == group], classes)
    splits = list(dict.fromkeys(means["split"]))
    mixes = list(dict.fromkeys(means["mix"]))
    wide = means.pivot(index="mix", columns="split", values=list(METRICS))
    return wide.reindex(index=mixes, columns=pd.MultiIndex.from_product([list(METRICS), splits]))


def most_occluded_bucket(table: pd.DataFrame) -> str:
    """The occlusion bucket with the most occlusion (the widest cumulative one, ``0-all``) among the ``bucket``
    rows of ``table`` (any table with ``group`` and ``split`` columns): the study's hardest bucket by design, chosen
    without looking at a score, so naming it states nothing about any mix."""
    buckets = table.loc[table["group"] == "bucket", "split"]
    if buckets.empty:
        raise ValueError("no bucket rows in the table")
    return max(dict.fromkeys(buckets), key=bucket_key)


def pr_curves(
    workspace: Workspace,
    mixes: Sequence[str],
    seed: int,
    eval_set: EvalSet,
    classes: Sequence[str] = STUDY_CLASSES,
    points: int = 200,
) -> pd.DataFrame:
    """Precision/recall curves (standard matching) per mix and class of one training seed's detectors:
    ``mix, class, recall, precision``."""
    rows = []
    for mix in mixes:
        result = ap50_standard(eval_set.coco, prediction_path(workspace, mix, seed, eval_set))
        for cls in result.classes:
            if cls.name not in classes or cls.n_gt == 0 or not len(cls.recall):
                continue
            envelope = np.maximum.accumulate(cls.precision[::-1])[::-1]
            keep = np.unique(np.linspace(0, len(cls.recall) - 1, min(points, len(cls.recall))).astype(int))
            rows.append(pd.DataFrame({"mix": mix, "class": cls.name, "recall": cls.recall[keep],
                                      "precision": envelope[keep]}))
    if not rows:
        raise ValueError(f"{eval_set.coco}: no class of {list(classes)} has both ground truth and detections")
    return pd.concat(rows, ignore_index=True)


def detection_examples(
    workspace: Workspace,
    mix: str,
    seed: int,
    eval_set: EvalSet,
    count: int = 4,
    min_score: float = 0.25,
) -> list[dict[str, Any]]:
    """The ``count`` images with the most ground truth boxes, with the detections of the mix's detector (one
    training seed) above ``min_score``.

    Returns dicts for :func:`photosynth.report.figures.detection_examples`.
    """
    gt = json.loads(eval_set.coco.read_text())
    ids = detect.match_image_ids(eval_set.coco, detect.dataset_images(eval_set.data))
    paths = {image_id: path for path, image_id in ids.items()}
    boxes: dict[int, list] = {}
    for ann in gt["annotations"]:
        boxes.setdefault(ann["image_id"], []).append(ann["bbox"])
    chosen = sorted(paths, key=lambda i: (-len(boxes.get(i, [])), i))[:count]
    preds: dict[int, list] = {}
    for det in json.loads(prediction_path(workspace, mix, seed, eval_set).read_text()):
        if det["score"] >= min_score:
            preds.setdefault(det["image_id"], []).append((det["bbox"], det["score"]))
    return [{"image": paths[i], "gt": boxes.get(i, []), "pred": preds.get(i, []),
             "label": f"{eval_set.name} · {paths[i].name} · {mix}"} for i in chosen]


def restrict_classes(table: Any, classes: Sequence[str]) -> Any:
    """A :class:`~photosynth.metrics.ap.MatchTable` keeping only ``classes`` (matching is per class, so exact)."""
    keep = [i for i, name in enumerate(table.category_names) if name in classes]
    if not keep:
        raise ValueError(f"none of {list(classes)} among the ground-truth categories {table.category_names}")
    remap = np.full(len(table.category_names), -1, np.int64)
    remap[keep] = np.arange(len(keep))
    rows = remap[table.det_class] >= 0
    return replace(
        table,
        category_ids=table.category_ids[keep],
        category_names=tuple(table.category_names[i] for i in keep),
        n_gt=table.n_gt[:, keep],
        det_class=remap[table.det_class[rows]],
        det_image=table.det_image[rows],
        det_score=table.det_score[rows],
        det_tp=table.det_tp[rows],
        n_pred=table.n_pred[keep],
    )


def _tables(workspace: Workspace, mixes: Sequence[str], seeds: Sequence[int], eval_set: EvalSet, metric: str,
            classes: Sequence[str]) -> dict[str, list[Any]]:
    """Match tables by mix, one per training seed."""
    gt = GroundTruth.from_coco(eval_set.coco)
    return {mix: [restrict_classes(match(gt, prediction_path(workspace, mix, seed, eval_set), metric), classes)
                  for seed in seeds] for mix in mixes}


class StudyBootstrap(NamedTuple):
    """The study's intervals (see :func:`bootstrap_study`); ``samples``: the resampled means behind them,
    ``(group, split, metric)`` → mix → :class:`~photosynth.metrics.bootstrap.SeedSamples` (not written)."""

    intervals: pd.DataFrame
    differences: pd.DataFrame
    gap_closed: pd.DataFrame
    pairs: pd.DataFrame
    samples: Mapping[tuple[str, str, str], Mapping[str, SeedSamples]] = {}


WHERE = ["group", "split", "metric"]
INTERVAL_COLUMNS = ["mix", *WHERE, "map", "seed_sd", "lo", "hi", "n_seeds"]
PAIR_COLUMNS = ["mix", "other", *WHERE, "diff", "lo", "hi", "share_positive", "n_seeds"]
DIFFERENCE_COLUMNS = ["mix", "baseline", *WHERE, "diff", "lo", "hi", "share_positive", "n_seeds"]
GAP_COLUMNS = ["mix", *WHERE, "closed", "lo", "hi", "gap", "gap_lo", "gap_hi", "verdict", "n_seeds"]
#: Where :func:`bootstrap_study` writes each table of a :class:`StudyBootstrap` (under ``results/``).
RESULT_FILES = ("intervals.csv", "bootstrap.csv", "gap_closed.csv", "pairs.csv")


def bootstrap_study(
    workspace: Workspace,
    mixes: Sequence[str],
    seeds: Sequence[int],
    baseline: str = "baseline",
    oracle: str | None = "oracle",
    sets: Sequence[EvalSet] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    classes: Sequence[str] = STUDY_CLASSES,
    groups: Sequence[str] = ("bucket",),
    metrics: Sequence[str] = METRICS,
    out: str | Path | None = None,
    progress: bool = True,
) -> StudyBootstrap:
    """Intervals of the study mean (``classes``) for both metrics on every set of ``groups``, over training
    ``seeds`` and test images (:func:`photosynth.metrics.bootstrap.seed_bootstrap`: each resample draws the
    seeds, then the images; ``seed`` seeds the bootstrap).

    Returns :class:`StudyBootstrap`: ``intervals`` (each mix's mean over seeds, seed-to-seed standard
    deviation and interval), ``pairs`` (``mix − other`` for every ordered pair of mixes on the same resamples, share
    of resamples > 0), ``differences`` (the pairs whose ``other`` is the baseline, it named ``baseline``) and
    ``gap_closed`` (``(mix − baseline) / (oracle − baseline)`` with its paired interval where the gap is clearly
    there, else the verdict of :func:`photosynth.metrics.bootstrap.gap_verdict`; empty when ``oracle`` is not among
    ``mixes``, as on real data). Every row carries ``n_seeds``, the training seeds per mix. ``metrics``: which of
    :data:`METRICS`. Writes :data:`RESULT_FILES` to ``out`` (default the workspace's ``results/``).
    """

    if baseline not in mixes:
        raise ValueError(f"baseline mix {baseline!r} is not among the mixes {list(mixes)}")
    if not seeds:
        raise ValueError("no training seeds")
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown or not metrics:
        raise ValueError(f"metrics {list(metrics)}: choose from {', '.join(METRICS)}")
    sets = list(sets) if sets is not None else eval_sets(workspace, groups)
    singles, pairs, gaps, resampled = [], [], [], {}
    jobs = [(s, m) for s in sets for m in metrics]
    for s, metric in tqdm(jobs, desc="bootstrap", unit="set", disable=not progress):
        samples = seed_bootstrap(_tables(workspace, mixes, seeds, s, metric, classes), n_resamples=n_resamples,
                                 seed=seed)
        resampled[(s.group, s.name, metric)] = samples
        where = {"group": s.group, "split": s.name, "metric": metric, "n_seeds": len(seeds)}
        for mix in mixes:
            one = samples[mix]
            low, high = one.interval(level)
            singles.append({"mix": mix, **where, "map": one.observed, "seed_sd": one.spread, "lo": low, "hi": high})
        for mix in mixes:
            for other in mixes:
                if other != mix:
                    d = difference(samples[other], samples[mix], level)
                    pairs.append({"mix": mix, "other": other, **where, "diff": d.observed, "lo": d.low,
                                  "hi": d.high, "share_positive": d.share_positive})
            if oracle in samples and mix not in (baseline, oracle):
                g = gap_closed(samples[baseline], samples[mix], samples[oracle], level)
                gaps.append({"mix": mix, **where, "closed": g.observed, "lo": g.low, "hi": g.high, "gap": g.gap,
                             "gap_lo": g.gap_low, "gap_hi": g.gap_high, "verdict": g.verdict})
    meta = {"classes": "+".join(classes), "seeds": ",".join(map(str, seeds)), "n_resamples": n_resamples,
            "seed": seed, "level": level}
    pair_table = pd.DataFrame(pairs, columns=PAIR_COLUMNS).assign(**meta)
    differences = pair_table[pair_table["other"] == baseline].rename(columns={"other": "baseline"})
    study = StudyBootstrap(pd.DataFrame(singles, columns=INTERVAL_COLUMNS).assign(**meta),
                           differences.reset_index(drop=True)[[*DIFFERENCE_COLUMNS, *meta]],
                           pd.DataFrame(gaps, columns=GAP_COLUMNS).assign(**meta), pair_table, resampled)
    results = Path(out) if out is not None else workspace.stage("results")
    results.mkdir(parents=True, exist_ok=True)
    for frame, name in zip(study[:len(RESULT_FILES)], RESULT_FILES):
        with atomic_open(results / name, newline="") as fh:
            frame.to_csv(fh, index=False)
    return study
