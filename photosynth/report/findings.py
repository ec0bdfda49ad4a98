""""What this run found": short sentences computed from the study's tables, never written in advance.

Every sentence states a direction, a size and whether the paired interval excludes 0, read from the numbers it is
given, so it holds for any profile, seed or dataset. Glue a :class:`Findings` like any output (it renders as HTML).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from photosynth.metrics.bootstrap import GAP_OPEN, NO_GAP
from photosynth.report.tables import format_value, label
from photosynth.study.detectors import bucket_key
from photosynth.study.scoring import StudyBootstrap

#: Below this absolute size a mean difference between the two AP definitions is reported as agreement.
AGREEMENT = 0.0005


@dataclass
class Findings:
    """The sentences, in reading order (each a plain string; mix names wrapped in ``**``)."""

    sentences: list[str]

    def to_markdown(self) -> str:
        """A markdown bullet list."""
        return "\n".join(f"- {s}" for s in self.sentences)

    def _repr_html_(self) -> str:
        items = []
        for sentence in self.sentences:
            parts = html.escape(sentence).split("**")
            items.append("".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts)))
        return '<ul class="photosynth-findings">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"

    def __repr__(self) -> str:
        return self.to_markdown()


def tidy_means(table: pd.DataFrame) -> pd.DataFrame:
    """``mix, split, metric, value`` from the study table (index: mix; columns: (metric, split)) or a tidy one."""
    if isinstance(table.columns, pd.MultiIndex):
        long = table.stack(level=list(range(table.columns.nlevels)), future_stack=True).rename("value")
        long = long.reset_index()
        long.columns = ["mix", "metric", "split", "value"]
        return long.dropna(subset=["value"])
    missing = {"mix", "split", "metric", "value"} - set(table.columns)
    if missing:
        raise ValueError(f"study table: expected columns (metric, split) or mix/split/metric/value; "
                         f"lacks {sorted(missing)}")
    return table[["mix", "split", "metric", "value"]].dropna(subset=["value"])


def _range(values: pd.Series) -> str:
    low, high = (format_value(v, "ap", signed=True) for v in (values.min(), values.max()))
    return low if low == high else f"{low} to {high}"


def _splits(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def compare(diffs: pd.DataFrame, mix: str, baseline: str, metric_name: str, level: str) -> str:
    """One sentence: how ``mix`` compares with ``baseline`` over the buckets of ``diffs`` (one metric)."""
    rows = diffs[diffs["mix"] == mix]
    above = list(rows.loc[rows["lo"] > 0, "split"])
    below = list(rows.loc[rows["hi"] < 0, "split"])
    n = len(rows)
    who = f"**{mix}**"
    if not above and not below:
        where = f"bucket {rows['split'].iloc[0]}" if n == 1 else f"all {n} buckets"
        return (f"{who} cannot be told apart from **{baseline}** in {metric_name}: the {level} interval of the "
                f"difference contains 0 on {where} (difference{'s' if n > 1 else ''} {_range(rows['diff'])}).")
    parts = []
    for names, word in ((above, "above"), (below, "below")):
        if names:
            part = rows[rows["split"].isin(names)]["diff"]
            where = f"bucket {names[0]}" if n == 1 else f"{len(names)} of {n} buckets ({_splits(names)})"
            parts.append(f"{word} **{baseline}** on {where} by {_range(part)}")
    rest = n - len(above) - len(below)
    tail = f"; on the other {rest} the interval contains 0" if rest else ""
    return f"{who} is {' and '.join(parts)} in {metric_name}, {level} interval excluding 0{tail}."


def findings(
    table: pd.DataFrame,
    diffs: pd.DataFrame,
    baseline: str = "baseline",
    metric: str = "ap50_standard",
    expected: Sequence[str] = (),
    other_metric: str | None = "ap50_legacy",
) -> Findings:
    """What this run found, from the study table and the paired bootstrap differences.

    ``table``: the study table (mix × (metric, bucket) means) or its tidy form; ``diffs``: rows ``mix, split,
    metric, diff, lo, hi`` (and ``level``) for the buckets. ``expected``: mixes the study asked for; one missing
    from ``table`` gets its own sentence. ``other_metric``: compared with ``metric`` on average, when present.
    """
    means = tidy_means(table)
    needed = {"mix", "split", "metric", "diff", "lo", "hi"} - set(diffs.columns)
    if needed:
        raise ValueError(f"differences table lacks the column(s) {sorted(needed)}")
    name = label(metric)
    level = f"{float(diffs['level'].iloc[0]):.0%}" if "level" in diffs.columns and len(diffs) else "paired"
    present = list(dict.fromkeys(means["mix"]))
    out = [f"No results for **{m}**: it was not evaluated in this run." for m in expected if m not in present]
    if baseline not in present:
        out.append(f"No results for the baseline **{baseline}**, so no mix can be compared with it.")
        return Findings(out)
    this = diffs[diffs["metric"] == metric]
    for mix in present:
        if mix == baseline:
            continue
        if (this["mix"] == mix).any():
            out.append(compare(this, mix, baseline, name, level))
        else:
            out.append(f"**{mix}** has no paired interval against **{baseline}** in {name}.")
    scores = means[means["metric"] == metric]
    if not scores.empty:
        base = scores[scores["mix"] == baseline].set_index("split")["value"]
        hardest = str(base.idxmin()) if not base.empty else str(scores["split"].iloc[-1])
        last = scores[scores["split"] == hardest].set_index("mix")["value"]
        best = last.idxmax()
        value = format_value(last[best], "ap")
        tied = [m for m in last.index if format_value(last[m], "ap") == value]
        if len(tied) > 1:
            out.append(f"On the hardest bucket for the baseline ({hardest}) the highest {name}, {value}, is shared by "
                       + _splits([f"**{m}**" for m in tied]) + ".")
        elif best == baseline:
            out.append(f"On the hardest bucket for the baseline ({hardest}) the highest {name} is the baseline's "
                       f"own, {value}.")
        else:
            out.append(f"On the hardest bucket for the baseline ({hardest}) the highest {name} is **{best}**'s {value} "
                       f"(baseline {format_value(last.get(baseline), 'ap')}).")
    if other_metric and (means["metric"] == other_metric).any() and not scores.empty:
        pair = means.pivot_table(index=["mix", "split"], columns="metric", values="value").dropna()
        gap = pair[other_metric] - pair[metric]
        mean = float(gap.mean())
        if abs(mean) < AGREEMENT:
            out.append(f"{label(other_metric)} agrees with {name} to within {AGREEMENT * 2:.3f} on average.")
        else:
            word = "higher" if mean > 0 else "lower"
            extreme = float(gap.max() if mean > 0 else gap.min())
            out.append(f"{label(other_metric)} reads {word} than {name} by {format_value(abs(mean), 'ap')} on "
                       f"average over every mix and bucket (at most {format_value(abs(extreme), 'ap')}).")
    return Findings(out)


def gap_reading(closed: float) -> str:
    """The share of the gap closed in words: a negative share is a mix below the baseline."""
    return f"closed {closed:.0%} of the gap" if closed >= 0 else f"below the baseline by {-closed:.0%} of the gap"


def _interval_text(lo: float, hi: float, level: float) -> str:
    return f"{level:.0%} interval [{lo:+.3f}, {hi:+.3f}]"


def comparison_sentences(study: StudyBootstrap, split: str | None = None, metric: str = "ap50_standard") -> Findings:
    """The Discussion's sentences on bucket ``split`` (default: the widest bucket) and ``metric``: each mix against
    the baseline (:func:`photosynth.report.findings.compare`, the Results page's wording), the gap to the oracle and the
    share of it each mix closed, and the seed-to-seed spread — every direction read from the intervals."""
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
