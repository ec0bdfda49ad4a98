"""The study's evaluation: every trained mix scored on the occlusion buckets and the weather splits.

Evaluation sets are the workspace's ``splits/buckets/<name>/`` and ``splits/weather_eval/<domain>/`` (a YOLO
dataset + ``coco.json`` each). Every mix is trained once per training seed (:func:`run_dir`:
``detectors/<mix>/seed<k>/``); predictions go to ``detectors/<mix>/seed<k>/predictions/<set>.json``; scores (both
AP50 metrics, per class and mean, see :mod:`photosynth.metrics.evaluate`) to ``results/metrics.csv``, one row
per mix, seed, set and class. Intervals resample the seeds and then the test images (:func:`bootstrap_study`).
The study's headline number is the mean over Car and Truck (:data:`STUDY_CLASSES`; classes without ground
truth excluded), computed here from the per-class rows.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from photosynth.atomic import atomic_open
from photosynth.design import STUDY_CLASSES
from photosynth.report.findings import Findings, compare
from photosynth.report.tables import label
from photosynth import detect
from photosynth.metrics.evaluate import evaluate_predictions, write_metrics
from photosynth.runtime import Workspace

#: Workspace folders of the evaluation sets, by group.
GROUPS: dict[str, str] = {"bucket": "splits/buckets", "weather": "splits/weather_eval"}
METRICS: tuple[str, ...] = ("ap50_standard", "ap50_legacy")
#: The original study's published table (YOLOv5 ``val.py`` AP@0.5 over Car and Truck, real KITTI/vKITTI2/BDD).
PUBLISHED: dict[str, dict[str, float]] = {
    "baseline": {"0-5": 0.379, "0-10": 0.358, "0-all": 0.342},
    "cyclegan": {"0-5": 0.413, "0-10": 0.387, "0-all": 0.365},
    "nst": {"0-5": 0.376, "0-10": 0.355, "0-all": 0.336},
}


def provenance(workspace: Workspace, profile: str, seed: int) -> str:
    """Caption suffix for every result: data source (toy world when the workspace rendered one), seed, profile."""
    source = "toy world" if (workspace.root / "data" / "manifest.json").is_file() else "real data"
    return f"{source}, seed {seed}, profile {profile}"


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set: a YOLO dataset with its COCO ground truth."""

    name: str
    group: str
    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "data.yaml"

    @property
    def coco(self) -> Path:
        return self.folder / "coco.json"


def bucket_key(name: str) -> tuple[float, str]:
    """Sort buckets by their upper cut (``0-5`` < ``0-10`` < ``0-all``); other names alphabetically."""
    match = re.fullmatch(r"\d+-(\d+|all)", name)
    if not match:
        return math.inf, name
    return (math.inf if match.group(1) == "all" else float(match.group(1))), name


def eval_sets(workspace: Workspace, groups: Sequence[str] = tuple(GROUPS)) -> list[EvalSet]:
    """The evaluation sets present in the workspace (buckets by cut, then weather domains by name)."""
    out: list[EvalSet] = []
    for group in groups:
        if group not in GROUPS:
            raise ValueError(f"unknown evaluation group {group!r}; choose from {list(GROUPS)}")
        base = workspace.root / GROUPS[group]
        folders = [p for p in base.iterdir() if (p / "coco.json").is_file()] if base.is_dir() else []
        out += [EvalSet(p.name, group, p) for p in sorted(folders, key=lambda p: bucket_key(p.name))]
    if not out:
        raise FileNotFoundError(
            f"no evaluation sets under {workspace.root}/{{{','.join(GROUPS[g] for g in groups)}}} "
            "(run the datasets notebook / `photosynth split` first)")
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"evaluation set names must be unique across groups, got {names}")
    return out


def run_dir(workspace: Workspace, mix: str, seed: int) -> Path:
    """Folder of a mix's detector run for one training seed (``detectors/<mix>/seed<k>``)."""
    if int(seed) != seed or seed < 0:
        raise ValueError(f"training seed must be a non-negative integer, got {seed!r}")
    return workspace.root / "detectors" / mix / f"seed{int(seed)}"


def prediction_path(workspace: Workspace, mix: str, seed: int, eval_set: EvalSet) -> Path:
    """Predictions of one mix's detector (one training seed) on one evaluation set."""
    return run_dir(workspace, mix, seed) / "predictions" / f"{eval_set.name}.json"


def train_mix(workspace: Workspace, mix: str, seed: int, settings: detect.TrainSettings,
              progress: bool = True) -> detect.TrainResult:
    """Train (or skip / resume) the detector of ``mixes/<mix>`` with training seed ``seed`` into :func:`run_dir`."""
    from dataclasses import replace

    data = workspace.root / "mixes" / mix / "data.yaml"
    if not data.is_file():
        raise FileNotFoundError(f"{data}: mix {mix!r} was not built (notebook 04_training_sets / `photosynth mix`)")
    return detect.train(data, run_dir(workspace, mix, seed), replace(settings, seed=int(seed)), workspace,
                        progress=progress)


def is_trained(workspace: Workspace, mix: str, seed: int, settings: detect.TrainSettings) -> bool:
    """Whether :func:`train_mix` would skip this mix and seed (its finished run matches data and settings)."""
    from dataclasses import replace

    data = workspace.root / "mixes" / mix / "data.yaml"
    return data.is_file() and detect.is_trained(data, run_dir(workspace, mix, seed), replace(settings, seed=int(seed)))


def runs(workspace: Workspace, mixes: Sequence[str], seeds: Sequence[int]) -> dict[tuple[str, int], Path]:
    """Run folders by ``(mix, seed)`` (for :func:`photosynth.detect.run_table` / ``training_logs``)."""
    return {(mix, seed): run_dir(workspace, mix, seed) for mix in mixes for seed in seeds}


def predict_mix(
    workspace: Workspace,
    mix: str,
    seed: int,
    sets: Sequence[EvalSet],
    settings: detect.PredictSettings,
    progress: bool = True,
) -> dict[str, Path]:
    """Predict every evaluation set with the ``best.pt`` of one mix and seed (finished predictions are kept; an
    image in several sets is predicted once)."""
    weights = run_dir(workspace, mix, seed) / "weights" / "best.pt"
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: mix {mix!r} seed {seed} has no trained detector "
                                "(notebook 05 / `photosynth train`)")
    outs = detect.predict_sets(weights, [(s.data, s.coco, prediction_path(workspace, mix, seed, s)) for s in sets],
                               settings, workspace=workspace, progress=progress)
    return {s.name: out for s, out in zip(sets, outs)}


def evaluate_mix(workspace: Workspace, mix: str, seed: int, sets: Sequence[EvalSet]) -> pd.DataFrame:
    """Both metrics per class and mean on every set: ``mix, seed, group`` + :func:`evaluate_predictions` columns."""
    frames = []
    for s in sets:
        table = evaluate_predictions(s.coco, prediction_path(workspace, mix, seed, s), s.name)
        frames.append(table.assign(mix=mix, seed=int(seed), group=s.group))
    out = pd.concat(frames, ignore_index=True)
    return out[["mix", "seed", "group", *[c for c in out.columns if c not in ("mix", "seed", "group")]]]


def evaluate_study(
    workspace: Workspace,
    mixes: Sequence[str],
    seeds: Sequence[int],
    settings: detect.PredictSettings,
    sets: Sequence[EvalSet] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Predict and score every mix and training seed on every set; writes and returns ``results/metrics.csv``."""
    sets = list(sets) if sets is not None else eval_sets(workspace)
    frames = []
    for mix in mixes:
        for seed in seeds:
            predict_mix(workspace, mix, seed, sets, settings, progress)
            frames.append(evaluate_mix(workspace, mix, seed, sets))
    metrics = pd.concat(frames, ignore_index=True)
    write_metrics(metrics, workspace.stage("results"))
    return metrics


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


def published_table() -> pd.DataFrame:
    """The original study's numbers (theirs: real data, YOLOv5 ``val.py``, mean of Car and Truck)."""
    rows = [{"mix": mix, "split": split, "ap50_legacy": value} for mix, row in PUBLISHED.items()
            for split, value in row.items()]
    return pd.DataFrame(rows).assign(source="original study (real data)")


def side_by_side(metrics: pd.DataFrame, caption: str) -> pd.DataFrame:
    """Our legacy-metric bucket means beside the published ones (rows: mix; columns: source, bucket)."""
    ours = study_means(metrics[metrics["group"] == "bucket"]).assign(source=f"ours ({caption})")
    both = pd.concat([published_table(), ours[["mix", "split", "ap50_legacy", "source"]]], ignore_index=True)
    splits = sorted(dict.fromkeys(both["split"]), key=bucket_key)
    wide = both.pivot_table(index="mix", columns=["source", "split"], values="ap50_legacy", sort=False)
    sources = list(dict.fromkeys(both["source"]))
    columns = [(src, sp) for src in sources for sp in splits if (src, sp) in wide.columns]
    mixes = list(dict.fromkeys([*ours["mix"], *PUBLISHED]))
    return wide.reindex(index=mixes, columns=pd.MultiIndex.from_tuples(columns))


def hardest_bucket(metrics: pd.DataFrame, mix: str, metric: str = "ap50_standard") -> str:
    """The occlusion bucket where ``mix`` scores lowest."""
    means = study_means(metrics[(metrics["group"] == "bucket") & (metrics["mix"] == mix)])
    if means.empty:
        raise ValueError(f"no bucket scores for mix {mix!r}")
    return str(means.sort_values(metric, kind="stable").iloc[0]["split"])


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
    from photosynth.metrics.ap import ap50_standard

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


# ------------------------------------------------------------------------------------------- intervals


def restrict_classes(table: Any, classes: Sequence[str]) -> Any:
    """A :class:`~photosynth.metrics.ap.MatchTable` keeping only ``classes`` (matching is per class, so exact)."""
    from dataclasses import replace

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
    from photosynth.metrics.ap import GroundTruth, match

    gt = GroundTruth.from_coco(eval_set.coco)
    return {mix: [restrict_classes(match(gt, prediction_path(workspace, mix, seed, eval_set), metric), classes)
                  for seed in seeds] for mix in mixes}


class StudyBootstrap(NamedTuple):
    """The study's intervals (see :func:`bootstrap_study`)."""

    intervals: pd.DataFrame
    differences: pd.DataFrame
    gap_closed: pd.DataFrame


WHERE = ["group", "split", "metric"]
INTERVAL_COLUMNS = ["mix", *WHERE, "map", "seed_sd", "lo", "hi", "n_seeds"]
DIFFERENCE_COLUMNS = ["mix", "baseline", *WHERE, "diff", "lo", "hi", "share_positive"]
GAP_COLUMNS = ["mix", *WHERE, "closed", "lo", "hi", "gap", "gap_lo", "gap_hi", "verdict"]


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
    progress: bool = True,
) -> StudyBootstrap:
    """Intervals of the study mean (``classes``) for both metrics on every set of ``groups``, over training
    ``seeds`` and test images (:func:`photosynth.metrics.bootstrap.seed_bootstrap`: each resample draws the
    seeds, then the images; ``seed`` seeds the bootstrap).

    Returns :class:`StudyBootstrap`: ``intervals`` (each mix's mean over seeds, seed-to-seed standard
    deviation and interval), ``differences`` (``mix − baseline`` on the same resamples, share of resamples
    > 0) and ``gap_closed`` (``(mix − baseline) / (oracle − baseline)`` with its paired interval, or the
    verdict that there is no gap; empty when ``oracle`` is not among ``mixes``, as on real data). Writes
    ``results/{intervals,bootstrap,gap_closed}.csv``.
    """
    from tqdm.auto import tqdm

    from photosynth.metrics.bootstrap import difference, gap_closed, seed_bootstrap

    if baseline not in mixes:
        raise ValueError(f"baseline mix {baseline!r} is not among the mixes {list(mixes)}")
    if not seeds:
        raise ValueError("no training seeds")
    sets = list(sets) if sets is not None else eval_sets(workspace, groups)
    singles, pairs, gaps = [], [], []
    jobs = [(s, m) for s in sets for m in METRICS]
    for s, metric in tqdm(jobs, desc="bootstrap", unit="set", disable=not progress):
        samples = seed_bootstrap(_tables(workspace, mixes, seeds, s, metric, classes), n_resamples=n_resamples,
                                 seed=seed)
        where = {"group": s.group, "split": s.name, "metric": metric}
        for mix in mixes:
            one = samples[mix]
            low, high = one.interval(level)
            singles.append({"mix": mix, **where, "map": one.observed, "seed_sd": one.spread, "lo": low, "hi": high,
                            "n_seeds": len(seeds)})
        for mix in mixes:
            if mix == baseline:
                continue
            d = difference(samples[baseline], samples[mix], level)
            pairs.append({"mix": mix, "baseline": baseline, **where, "diff": d.observed, "lo": d.low, "hi": d.high,
                          "share_positive": d.share_positive})
            if oracle in samples and mix != oracle:
                g = gap_closed(samples[baseline], samples[mix], samples[oracle], level)
                gaps.append({"mix": mix, **where, "closed": g.observed, "lo": g.low, "hi": g.high, "gap": g.gap,
                             "gap_lo": g.gap_low, "gap_hi": g.gap_high, "verdict": g.verdict})
    meta = {"classes": "+".join(classes), "seeds": ",".join(map(str, seeds)), "n_resamples": n_resamples,
            "seed": seed, "level": level}
    out = StudyBootstrap(pd.DataFrame(singles, columns=INTERVAL_COLUMNS).assign(**meta),
                         pd.DataFrame(pairs, columns=DIFFERENCE_COLUMNS).assign(**meta),
                         pd.DataFrame(gaps, columns=GAP_COLUMNS).assign(**meta))
    results = workspace.stage("results")
    for frame, name in zip(out, ("intervals.csv", "bootstrap.csv", "gap_closed.csv")):
        with atomic_open(results / name, newline="") as fh:
            frame.to_csv(fh, index=False)
    return out


def interval_note(intervals: pd.DataFrame) -> str:
    """How the intervals of :func:`bootstrap_study` were made, for a caption."""
    first = intervals.iloc[0]
    n_seeds, level, n = int(first["n_seeds"]), float(first["level"]), int(first["n_resamples"])
    head = f"{level:.0%} percentile intervals from {n} bootstrap resamples"
    if n_seeds == 1:
        return (f"{head} of the test images (one training seed per mix: these intervals leave out the "
                "seed-to-seed spread).")
    return (f"{head}, hierarchical: each resample draws every mix's {n_seeds} training seeds with replacement, "
            "then the test images with replacement (the same images for every mix and seed, so differences "
            "are paired over images). Mean and seed s.d. are over the seeds' scores on the whole test set.")


def seed_table(intervals: pd.DataFrame, group: str = "bucket") -> pd.DataFrame:
    """The study table with seeds: rows ``(metric, mix)``, columns ``(split, stat)`` with stats ``mean``
    (over seeds), ``seed s.d.`` (left out with one seed), ``lo`` and ``hi`` (the interval of
    :func:`bootstrap_study`)."""
    part = intervals[intervals["group"] == group]
    if part.empty:
        raise ValueError(f"no intervals for group {group!r}")
    stats = {"map": "mean", "seed_sd": "seed s.d.", "lo": "lo", "hi": "hi"}
    if (part["n_seeds"] == 1).all():
        del stats["seed_sd"]
    splits = sorted(dict.fromkeys(part["split"]), key=bucket_key)
    wide = part.pivot_table(index=["metric", "mix"], columns="split", values=list(stats), sort=False, dropna=False)
    wide = wide.swaplevel(0, 1, axis=1).rename(columns=stats, level=1)
    rows = pd.MultiIndex.from_tuples([(m, x) for m in METRICS for x in dict.fromkeys(part["mix"])
                                      if (m, x) in wide.index], names=["metric", "mix"])
    return wide.reindex(index=rows, columns=pd.MultiIndex.from_product([splits, list(stats.values())]))


def gap_absence(workspace: Workspace, mixes: Sequence[str], oracle: str = "oracle") -> str | None:
    """Why there is no gap-closed table (``None`` when ``oracle`` is among the mixes)."""
    if oracle in mixes:
        return None
    if (workspace.root / "data" / "manifest.json").is_file():
        return (f"The {oracle!r} mix was not among this run's mixes, so the share of the gap each translator "
                "closed is not measured (add it to the mixes of notebooks 04–06).")
    return ("Real datasets have no oracle: no perfect translation of a vKITTI2 frame into real weather exists, so "
            "the share of the gap a translator closed cannot be measured. Only the toy world, which can render "
            "every clone frame again in real style, has one; here the differences to the baseline are all there is.")


def gap_reading(closed: float) -> str:
    """The share of the gap closed in words: a negative share is a mix below the baseline."""
    return f"closed {closed:.0%} of the gap" if closed >= 0 else f"below the baseline by {-closed:.0%} of the gap"


def gap_table(gap: pd.DataFrame, group: str = "bucket") -> pd.DataFrame:
    """Gap closed per bucket, metric and mix: ``oracle − baseline`` with its interval, then the share closed
    with its interval where there is a gap, else the verdict (``reading``) in its place."""
    from photosynth.metrics.bootstrap import GAP_OPEN

    part = gap[gap["group"] == group].copy()
    part["reading"] = [gap_reading(c) if v == GAP_OPEN else f"{v} in the toy world"
                       for c, v in zip(part["closed"], part["verdict"])]
    columns = ["metric", "split", "mix", "gap", "gap_lo", "gap_hi", "closed", "lo", "hi", "reading"]
    return part[columns].rename(columns={"gap": "oracle − baseline", "gap_lo": "gap lo", "gap_hi": "gap hi",
                                         "closed": "gap closed"}).set_index(["metric", "split", "mix"])


# ------------------------------------------------------------------------------------------ sentences


def _interval_text(lo: float, hi: float, level: float) -> str:
    return f"{level:.0%} interval [{lo:+.3f}, {hi:+.3f}]"


def comparison_sentences(study: StudyBootstrap, split: str | None = None, metric: str = "ap50_standard") -> Findings:
    """The Discussion's sentences on bucket ``split`` (default: the widest bucket) and ``metric``: each mix against
    the baseline (:func:`photosynth.report.findings.compare`, the Results page's wording), the gap to the oracle and the
    share of it each mix closed, and the seed-to-seed spread — every direction read from the intervals."""
    from photosynth.metrics.bootstrap import GAP_OPEN, NO_GAP

    diffs = study.differences[(study.differences.group == "bucket") & (study.differences.metric == metric)]
    if diffs.empty:
        return Findings([])
    split = split or sorted(dict.fromkeys(diffs["split"]), key=bucket_key)[-1]
    diffs = diffs[diffs.split == split]
    level = float(diffs["level"].iloc[0])
    baseline = str(diffs["baseline"].iloc[0])
    where = f"in {metric.removeprefix('ap50_')} AP@0.5 on bucket {split}"
    out = [compare(diffs, mix, baseline, label(metric), f"{level:.0%}") for mix in dict.fromkeys(diffs["mix"])]
    gap = study.gap_closed[(study.gap_closed.group == "bucket") & (study.gap_closed.metric == metric)
                           & (study.gap_closed.split == split)]
    if not gap.empty:
        first = gap.iloc[0]
        head = (f"The oracle — vKITTI's clone frames rendered again by the toy world's real renderer, a perfect "
                f"translation — scored {first.gap:+.3f} against {baseline} {where} "
                f"({_interval_text(first.gap_lo, first.gap_hi, level)})")
        if first.verdict == GAP_OPEN:
            closed = "; ".join(f"{r.mix} closed {r.closed:.0%} of it ({level:.0%} interval [{r.lo:.0%}, {r.hi:.0%}])"
                               for r in gap.itertuples())
            out.append(f"{head}: the toy world leaves a gap for a translator to close. {closed}.")
        elif first.verdict == NO_GAP:
            out.append(f"{head}: the toy world has no gap to close there, so no translator's difference to the "
                       "baseline can be credited to translating better.")
        else:
            out.append(f"{head}: training on real-style weather did worse than vKITTI's own rendered weather, so "
                       "there is no ceiling above the baseline to measure the translators against.")
    spread = study.intervals[(study.intervals.group == "bucket") & (study.intervals.metric == metric)
                             & (study.intervals.split == split)]
    n_seeds = int(spread["n_seeds"].iloc[0])
    if n_seeds > 1:
        largest_sd, largest_diff = float(spread["seed_sd"].max()), float(diffs["diff"].abs().max())
        relation = "larger than" if largest_diff > largest_sd else "within"
        out.append(f"Over {n_seeds} training seeds a mix's AP varied by up to {largest_sd:.3f} (seed-to-seed "
                   f"standard deviation); the largest difference to the baseline, {largest_diff:.3f}, is "
                   f"{relation} that spread.")
    else:
        out.append("Each mix was trained once (one seed), so these intervals leave out the seed-to-seed spread.")
    return Findings(out)


def inflation_sentence(table: pd.DataFrame, resolution: float = 0.0005) -> str:
    """What the legacy metric adds over the standard one in a :func:`study_table`, and on which bucket most and
    least (differences below ``resolution`` count as none)."""
    inflation = table["ap50_legacy"] - table["ap50_standard"]
    mean, top = float(inflation.to_numpy().mean()), float(inflation.to_numpy().max())
    by_split = inflation.mean(axis=0)
    if abs(mean) < resolution and abs(top) < resolution:
        return "In this build the legacy number matched the standard one on every mix and bucket (to 0.001)."
    verb = "exceeded" if mean > 0 else "fell below"
    head = (f"In this build the legacy number {verb} the standard one by {abs(mean):.3f} on average over mixes and "
            f"buckets (by {top:+.3f} at most)")
    if by_split.max() - by_split.min() < resolution:
        return f"{head}, about the same on every bucket."
    return (f"{head}; averaged over mixes, the difference was largest on bucket {by_split.idxmax()} "
            f"({by_split.max():+.3f}) and smallest on bucket {by_split.idxmin()} ({by_split.min():+.3f}).")


# ------------------------------------------------------------------------------------------ domain gap


def feature_net(kind: str = "inception", weights: str | Path | None = None, seed: int = 0) -> Any:
    """A labelled feature network for FID/KID: ``"inception"`` (local weights, see
    :func:`photosynth.weights.inception_weights`) or ``"random_cnn"`` (a seeded random-init
    3-layer CNN for the toy world, labelled as not comparable to published FID)."""
    from photosynth.metrics import domain_gap

    if kind == "inception":
        return domain_gap.inception_network(weights)
    if kind != "random_cnn":
        raise ValueError(f"unknown feature network {kind!r}; choose 'inception' or 'random_cnn'")
    import torch

    generator = torch.Generator().manual_seed(seed)
    layers: list[Any] = []
    for c_in, c_out in ((3, 32), (32, 64), (64, 128)):
        conv = torch.nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * (2 / (9 * c_in)) ** 0.5)
            conv.bias.zero_()
        layers += [conv, torch.nn.ReLU()]
    module = torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    return domain_gap.feature_network(
        module, f"random-init 3-layer CNN (seed {seed}) — toy-world only, not comparable to published FID", (128, 128))


def _subsample(paths: Sequence[Path], count: int, seed: int) -> list[Path]:
    paths = sorted(paths)
    if len(paths) <= count:
        return paths
    rng = np.random.default_rng(seed)
    return [paths[i] for i in sorted(rng.choice(len(paths), count, replace=False))]


def domain_gap_sets(workspace: Workspace, methods: Sequence[str], domains: Mapping[str, str] | None = None,
                    vkitti_root: str | Path | None = None) -> list[dict[str, Any]]:
    """The image sets to compare: per weather, vKITTI's clone and rendered weather and each method's
    translations (``translated/<method>/<weather>``) against the BDD domain (``splits/weather/<domain>.txt``).

    ``domains`` maps vKITTI weather → BDD domain (default :data:`photosynth.design.STYLE_DOMAINS`).
    """
    from photosynth.imageio import IMAGE_SUFFIXES, list_images

    if domains is None:
        from photosynth.design import STYLE_DOMAINS as domains
    root = Path(vkitti_root) if vkitti_root else workspace.root / "data" / "vkitti2"
    out = []
    for weather, domain in domains.items():
        target = workspace.root / "splits" / "weather" / f"{domain}.txt"
        if not target.is_file():
            raise FileNotFoundError(f"{target}: no BDD image list for {domain} (run the datasets notebook first)")
        sources = {"vKITTI clone": "clone", f"vKITTI rendered {weather}": weather}
        for label, variation in sources.items():
            images = sorted(p for p in root.glob(f"**/Scene*/{variation}/frames/rgb/Camera_0/*")
                            if p.suffix.lower() in IMAGE_SUFFIXES)
            out.append({"weather": weather, "domain": domain, "source": label, "images": images, "target": target})
        for method in methods:
            folder = workspace.root / "translated" / method / weather
            images = list_images(folder) if folder.is_dir() else []
            out.append({"weather": weather, "domain": domain, "source": f"{method} translated", "images": images,
                        "target": target})
    return out


def domain_gap_table(
    workspace: Workspace,
    methods: Sequence[str],
    net: Any,
    domains: Mapping[str, str] | None = None,
    max_images: int = 200,
    seed: int = 0,
    vkitti_root: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """FID/KID of every source set vs its BDD weather domain (``max_images`` per set, seeded subsample).

    Sets with fewer than 2 images (e.g. a method that did not translate this weather) are left out. The
    ``features`` column names the network; writes ``results/domain_gap.csv``.
    """
    from tqdm.auto import tqdm

    from photosynth.imageio import list_images
    from photosynth.metrics.domain_gap import domain_gap

    rows = []
    jobs = [j for j in domain_gap_sets(workspace, methods, domains, vkitti_root) if len(j["images"]) >= 2]
    for job in tqdm(jobs, desc="domain gap", unit="set", disable=not progress):
        a = _subsample(job["images"], max_images, seed)
        b = _subsample(list_images(job["target"]), max_images, seed)
        with warnings.catch_warnings():  # few images vs many feature dims: sqrtm warns, the offset handles it
            warnings.simplefilter("ignore", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*[Ss]ingular.*")
            gap = domain_gap(a, b, net, kid_subsets=50, kid_subset_size=min(len(a), len(b), 100), seed=seed)
        rows.append({"weather": job["weather"], "bdd_domain": job["domain"], "source": job["source"],
                     **gap.as_row()})
    table = pd.DataFrame(rows)
    if not table.empty:
        with atomic_open(workspace.stage("results") / "domain_gap.csv", newline="") as fh:
            table.to_csv(fh, index=False)
    return table
