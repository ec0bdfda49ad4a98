"""The Results page's tables: the study table with seeds and intervals, the gap-closed table, the original
study's numbers beside ours, and the captions' provenance and interval notes.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from photosynth.metrics.bootstrap import GAP_OPEN
from photosynth.report.findings import MIN_SEEDS, gap_reading, gap_state
from photosynth.report.tables import label
from photosynth.runtime import Workspace
from photosynth.study.detectors import bucket_key
from photosynth.study.scoring import METRICS, study_means

#: The original study's published table (YOLOv5 ``val.py`` AP@0.5 over Car and Truck, real KITTI/vKITTI2/BDD).
PUBLISHED: dict[str, dict[str, float]] = {
    "baseline": {"0-5": 0.379, "0-10": 0.358, "0-all": 0.342},
    "cyclegan": {"0-5": 0.413, "0-10": 0.387, "0-all": 0.365},
    "nst": {"0-5": 0.376, "0-10": 0.355, "0-all": 0.336},
}


def provenance(workspace: Workspace, profile: str, seed: int, training_seeds: Sequence[int] = ()) -> str:
    """Caption suffix for every result: data source (toy world when the workspace rendered one), profile, the
    profile's seed (splits, subsamples, bootstrap) and, for detector results, the detectors' training seeds."""
    source = "toy world" if (workspace.root / "data" / "manifest.json").is_file() else "real data"
    trained = f", detectors trained with seed{'s' if len(training_seeds) > 1 else ''} " \
        f"{', '.join(map(str, training_seeds))}" if training_seeds else ""
    return f"{source}, profile {profile}, seed {seed}{trained}"


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


def interval_note(intervals: pd.DataFrame) -> str:
    """How the intervals of :func:`bootstrap_study` were made, for a caption."""
    first = intervals.iloc[0]
    n_seeds, level, n = int(first["n_seeds"]), float(first["level"]), int(first["n_resamples"])
    head = f"{level:.0%} percentile intervals from {n} bootstrap resamples"
    seeds = "one training seed" if n_seeds == 1 else f"{n_seeds} training seeds"
    rule = (f" With {seeds} per mix no sentence on these pages states a direction (better, worse, closed, "
            f"highest): a verdict needs ≥ {MIN_SEEDS}." if n_seeds < MIN_SEEDS else "")
    if n_seeds == 1:
        return (f"{head} of the test images (one training seed per mix: these intervals leave out the "
                f"seed-to-seed spread).{rule}")
    return (f"{head}, hierarchical: each resample draws every mix's {n_seeds} training seeds with replacement, "
            "then the test images with replacement (the same images for every mix and seed, so differences "
            f"are paired over images). Mean and seed s.d. are over the seeds' scores on the whole test set.{rule}")


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


def gap_table(gap: pd.DataFrame, group: str = "bucket") -> pd.DataFrame:
    """Gap closed per bucket, metric and mix where the gap is clearly there (:data:`GAP_OPEN`): ``oracle −
    baseline`` with its interval, the share closed with its interval and the reading
    (:func:`photosynth.report.findings.gap_reading`). The other buckets collapse into one line per verdict and
    bucket list (mix: "every mix"; no numbers; the reading says why there is no share)."""
    part = gap[gap["group"] == group]
    rank = {**{m: i for i, m in enumerate(METRICS)}, **{s: i for i, s in enumerate(sorted(set(part["split"]),
                                                                                         key=bucket_key))}}
    part = part.sort_values(["metric", "split"], key=lambda column: column.map(rank), kind="stable")
    clear = part[part["verdict"] == GAP_OPEN]
    rows = [{"metric": r.metric, "split": r.split, "mix": r.mix, "gap": r.gap, "gap_lo": r.gap_lo,
             "gap_hi": r.gap_hi, "closed": r.closed, "lo": r.lo, "hi": r.hi,
             "reading": gap_reading(r.closed, r.lo, r.hi, r.verdict, r.n_seeds, r.level)} for r in clear.itertuples()]
    rest = part[part["verdict"] != GAP_OPEN].drop_duplicates(["verdict", "metric", "split"])
    for verdict, same in rest.groupby("verdict", sort=False):
        splits = same.groupby("metric", sort=False)["split"].agg(tuple)
        for buckets, metrics in splits.groupby(splits, sort=False):
            rows.append({"metric": ", ".join(label(m) for m in metrics.index), "split": ", ".join(buckets),
                         "mix": "every mix", "reading": gap_state(verdict, int(same["n_seeds"].min()))})
    columns = ["metric", "split", "mix", "gap", "gap_lo", "gap_hi", "closed", "lo", "hi", "reading"]
    table = pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[3:-1]})
    return table.rename(columns={"gap": "oracle − baseline", "gap_lo": "gap lo", "gap_hi": "gap hi",
                                 "closed": "gap closed"}).set_index(["metric", "split", "mix"])
