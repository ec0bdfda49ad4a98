"""Every sentence the book computes from the study, from one rule.

Results' "What this run found" (:func:`findings`), the Discussion's paragraph on one bucket
(:func:`comparison_sentences`), the gap-closed table's readings (:func:`gap_reading`, :func:`gap_state`), the
seed spread (:func:`spread_sentence`) and the most occluded bucket's leader (:func:`highest`) all read their
direction through :func:`direction`: a sentence says *above*, *below*, *closed* or *highest* only when the paired
interval excludes 0 **and** every compared mix was trained with at least :data:`MIN_SEEDS` seeds (one training
run is one sample: a seed moves a mix by more than its test-image interval). Otherwise it shows the numbers and says
what cannot be told. Glue a :class:`Findings` like any output (it renders as HTML).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from photosynth.metrics.bootstrap import GAP_MARGIN, GAP_OPEN, GAP_SMALL, NO_GAP
from photosynth.report.tables import format_value, label
from photosynth.study.detectors import bucket_key
from photosynth.study.scoring import StudyBootstrap, most_occluded_bucket

#: Training seeds every compared mix needs before a sentence states a direction.
MIN_SEEDS = 3
#: Below this absolute size a mean difference between the two AP definitions is reported as agreement.
AGREEMENT = 0.0005
#: What :func:`direction` returns.
ABOVE, BELOW, UNDECIDED, FEW_SEEDS = "above", "below", "undecided", "few seeds"
#: The oracle, as the sentences describe it.
ORACLE_TEXT = ("The oracle — vKITTI's clone frames rendered again by the toy world's real renderer, a perfect "
               "translation —")


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


# ------------------------------------------------------------------------------------------------- the rule


def direction(lo: float, hi: float, n_seeds: int) -> str:
    """The one rule: :data:`ABOVE` / :data:`BELOW` when the interval ``[lo, hi]`` excludes 0 and each compared mix
    has ≥ :data:`MIN_SEEDS` training seeds, :data:`UNDECIDED` when it contains 0 (or is missing),
    :data:`FEW_SEEDS` with fewer seeds whatever the interval."""
    if n_seeds < MIN_SEEDS:
        return FEW_SEEDS
    if lo > 0:
        return ABOVE
    if hi < 0:
        return BELOW
    return UNDECIDED


def cannot_tell(n_seeds: int, what: str) -> str:
    """'two training runs per mix cannot tell ``what``', with the rule's minimum."""
    runs = {1: "one training run", 2: "two training runs"}.get(n_seeds, f"{n_seeds} training runs")
    return f"{runs} per mix cannot tell {what} (a verdict needs ≥ {MIN_SEEDS} seeds)"


def _seeds(rows: pd.DataFrame) -> int:
    return int(rows["n_seeds"].min())


def _interval(lo: float, hi: float, kind: str = "ap") -> str:
    signed = kind != "percent"
    return f"[{format_value(lo, kind, signed=signed)}, {format_value(hi, kind, signed=signed)}]"


def _range(values: pd.Series) -> str:
    low, high = (format_value(v, "ap", signed=True) for v in (values.min(), values.max()))
    return low if low == high else f"{low} to {high}"


def _splits(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _level(table: pd.DataFrame) -> str:
    return f"{float(table['level'].iloc[0]):.0%}" if "level" in table.columns and len(table) else "paired"


def _require(table: pd.DataFrame, columns: set[str], what: str) -> None:
    missing = columns - set(table.columns)
    if missing:
        raise ValueError(f"{what} lacks the column(s) {sorted(missing)}")


# ------------------------------------------------------------------------------------------- sentence kinds


def compare(diffs: pd.DataFrame, mix: str, baseline: str, metric_name: str, level: str) -> str:
    """One sentence: how ``mix`` compares with ``baseline`` over the buckets of ``diffs`` (one metric; rows ``mix,
    split, diff, lo, hi, n_seeds``)."""
    rows = diffs[diffs["mix"] == mix]
    n = len(rows)
    who = f"**{mix}**"
    n_seeds = _seeds(rows)
    if n_seeds < MIN_SEEDS:
        shown = [f"{format_value(r.diff, 'ap', signed=True)} {_interval(r.lo, r.hi)} on "
                 f"{'bucket ' if n == 1 else ''}{r.split}" for r in rows.itertuples()]
        where = _splits(shown)
        return (f"{who} − **{baseline}** in {metric_name}: {where} ({level} interval{'s' if n > 1 else ''}); "
                f"{cannot_tell(n_seeds, 'which is higher')}.")
    ways = [direction(lo, hi, n_seeds) for lo, hi in zip(rows["lo"], rows["hi"])]
    above = [s for s, w in zip(rows["split"], ways) if w == ABOVE]
    below = [s for s, w in zip(rows["split"], ways) if w == BELOW]
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


def highest(means: pd.Series, pairs: pd.DataFrame, split: str, metric_name: str, level: str,
            baseline: str = "baseline") -> str | None:
    """Which mix has the highest mean on bucket ``split``: named only when its paired difference to *every* other
    mix excludes 0 (``pairs``: rows ``mix, other, diff, lo, hi, n_seeds`` of that bucket and metric), else no mix is
    told apart. ``means``: mean per mix. ``None`` with fewer than two mixes."""
    if len(means) < 2:
        return None
    order = means.sort_values(ascending=False, kind="stable")
    leader = str(order.index[0])
    value = {m: format_value(v, "ap") for m, v in order.items()}
    rows = pairs[pairs["mix"] == leader].set_index("other").reindex([m for m in order.index if m != leader])
    where = f"On the most occluded bucket ({split})"
    if rows["n_seeds"].isna().any():
        return f"{where} {metric_name} has no paired interval between **{leader}** and every other mix."
    n_seeds = int(rows["n_seeds"].min())
    if n_seeds < MIN_SEEDS:
        listed = _splits([f"**{m}** {value[m]}" for m in order.index])
        return f"{where} the mean {metric_name} is {listed}; {cannot_tell(n_seeds, 'which is highest')}."
    unclear = [o for o, r in rows.iterrows() if direction(r["lo"], r["hi"], n_seeds) != ABOVE]
    if unclear:
        versus = _splits([f"**{leader}** − **{o}** ({value[leader]} − {value[o]})" for o in unclear])
        verb = "does" if len(unclear) == 1 else "do"
        return (f"{where} no mix can be told apart as the highest in {metric_name}: the {level} interval of "
                f"{versus} {verb} not lie above 0.")
    rest = ", ".join(f"**{o}** {value[o]}" for o in rows.index)
    who = "the baseline's own" if leader == baseline else f"**{leader}**'s"
    return (f"{where} the highest {metric_name} is {who}, {value[leader]}: the {level} interval of its difference "
            f"to every other mix excludes 0 ({rest}).")


def _share(closed: float, lo: float, hi: float, level: str, note: str = "") -> str:
    return f"{format_value(closed, 'percent')} of the gap{note} ({level} interval {_interval(lo, hi, 'percent')})"


def gap_state(verdict: str, n_seeds: int) -> str:
    """Why a gap is or is not shared out among the mixes (the verdict of
    :func:`photosynth.metrics.bootstrap.gap_verdict`); says the oracle is below the baseline only under the rule of
    :func:`direction`."""
    margin = {0.5: "half its width", 1.0: "its width"}.get(GAP_MARGIN, f"{GAP_MARGIN:g}× its width")
    if verdict == GAP_OPEN:
        return f"a clear gap to share out (the oracle − baseline interval's lower bound is at least {margin})"
    if verdict == GAP_SMALL:
        return f"gap too small to share out (the oracle − baseline interval's lower bound is under {margin})"
    if verdict == NO_GAP:
        return "no gap to share out (the oracle − baseline interval contains 0)"
    if n_seeds < MIN_SEEDS:  # ORACLE_BELOW is a direction: the seed rule applies
        return "no gap to share out (the oracle − baseline interval does not lie above 0)"
    return "no gap to share out: the oracle scored below the baseline (its interval lies below 0)"


def gap_reading(closed: float, lo: float, hi: float, verdict: str, n_seeds: int, level: float = 0.95) -> str:
    """The share of the gap a mix closed, in words: 'closed' / 'below the baseline' only under the rule of
    :func:`direction` on the share's interval; where the gap is not clearly there, :func:`gap_state`."""
    if verdict != GAP_OPEN:
        return gap_state(verdict, n_seeds)
    pct = f"{level:.0%}"
    way = direction(lo, hi, n_seeds)
    if way == ABOVE:
        return f"closed {_share(closed, lo, hi, pct)}"
    if way == BELOW:
        return f"below the baseline by {_share(-closed, -hi, -lo, pct)}"
    if way == UNDECIDED:
        return _share(closed, lo, hi, pct, ", not told apart from none")
    return f"{_share(closed, lo, hi, pct)}; {cannot_tell(n_seeds, 'whether it closed any')}"


def gap_sentence(gap: pd.DataFrame, baseline: str, where: str) -> str:
    """The oracle's gap over the baseline on one bucket and metric and each mix's share of it (``gap``: the rows of
    :attr:`StudyBootstrap.gap_closed` for that bucket and metric)."""
    first = gap.iloc[0]
    level, n_seeds = float(first["level"]), _seeds(gap)
    head = (f"{ORACLE_TEXT} minus {baseline} {where} is {format_value(first['gap'], 'ap', signed=True)} "
            f"({level:.0%} interval {_interval(first['gap_lo'], first['gap_hi'])})")
    if first["verdict"] != GAP_OPEN:
        return f"{head}: {gap_state(first['verdict'], n_seeds)}, so no translator's share of it is measured."
    if n_seeds < MIN_SEEDS:
        shares = "; ".join(f"**{r.mix}** {_share(r.closed, r.lo, r.hi, f'{level:.0%}')}" for r in gap.itertuples())
        return f"{head}: {cannot_tell(n_seeds, 'whether there is a gap')}. The shares, as numbers only: {shares}."
    shares = "; ".join(f"**{r.mix}** {gap_reading(r.closed, r.lo, r.hi, r.verdict, n_seeds, level)}"
                       for r in gap.itertuples())
    return f"{head}: the toy world leaves a clear gap for a translator to close. {shares}."


def spread_sentence(intervals: pd.DataFrame, where: str) -> str:
    """How much a mix's score moved between training seeds (``intervals``: one bucket and metric), as a
    description: the intervals already resample the seeds, so the spread is not compared with any difference."""
    n_seeds = _seeds(intervals)
    if n_seeds == 1:
        return (f"Each mix was trained once (one seed), so the intervals leave out the seed-to-seed spread and "
                f"{cannot_tell(1, 'which mix is better')}.")
    top = intervals.loc[intervals["seed_sd"].idxmax()]
    text = (f"Over {n_seeds} training seeds a mix's score {where} had a seed-to-seed standard deviation of up to "
            f"{format_value(top['seed_sd'], 'ap')} (**{top['mix']}**); every interval above resamples the seeds, "
            "so this spread is already inside it")
    if n_seeds < MIN_SEEDS:
        return f"{text}. {n_seeds} seeds give a rough spread, and {cannot_tell(n_seeds, 'which mix is better')}."
    return f"{text}."


def metric_sentence(intervals: pd.DataFrame, metric: str = "ap50_standard", other: str = "ap50_legacy",
                    group: str = "bucket") -> str | None:
    """How ``other`` reads against ``metric`` on average over mixes and buckets, and on which bucket most and least
    (``intervals``: rows ``mix, group, split, metric, map``). Both score the same predictions, so the difference is
    the metrics', not a training run's sample: it describes this build and needs no interval. ``None`` without both."""
    part = intervals[intervals["group"] == group]
    pair = part.pivot_table(index=["mix", "split"], columns="metric", values="map").dropna()
    if metric not in pair.columns or other not in pair.columns or pair.empty:
        return None
    gap = pair[other] - pair[metric]
    mean, name, other_name = float(gap.mean()), label(metric), label(other)
    if abs(mean) < AGREEMENT and gap.abs().max() < AGREEMENT:
        return f"In this build {other_name} agreed with {name} on every mix and bucket (to {AGREEMENT * 2:.3f})."
    word = "higher" if mean > 0 else "lower"
    extreme = float(gap.max() if mean > 0 else gap.min())
    head = (f"In this build {other_name} read {word} than {name} by {format_value(abs(mean), 'ap')} on average over "
            f"every mix and bucket (by {format_value(extreme, 'ap', signed=True)} at most)")
    by_split = gap.groupby(level="split").mean()
    if by_split.max() - by_split.min() < AGREEMENT:
        return f"{head}, about the same on every bucket."
    most, least = by_split.idxmax(), by_split.idxmin()
    return (f"{head}; averaged over mixes, the difference was largest on bucket {most} "
            f"({format_value(by_split[most], 'ap', signed=True)}) and smallest on bucket {least} "
            f"({format_value(by_split[least], 'ap', signed=True)}).")


# ------------------------------------------------------------------------------------------- the two pages


def findings(
    study: StudyBootstrap,
    baseline: str = "baseline",
    metric: str = "ap50_standard",
    expected: Sequence[str] = (),
    other_metric: str | None = "ap50_legacy",
    group: str = "bucket",
) -> Findings:
    """Results' "What this run found": each mix against ``baseline`` over the buckets (:func:`compare`), which mix
    is highest on the most occluded bucket (:func:`highest`) and how ``other_metric`` reads against ``metric``
    (:func:`metric_sentence`). ``expected``: mixes the study asked for; one not evaluated gets its own sentence."""
    _require(study.intervals, {"mix", "group", "split", "metric", "map"}, "intervals table")
    for table, what in ((study.differences, "differences table"), (study.pairs, "pairs table")):
        _require(table, {"mix", "group", "split", "metric", "diff", "lo", "hi", "n_seeds"}, what)
    means = study.intervals[(study.intervals["group"] == group) & (study.intervals["metric"] == metric)]
    name = label(metric)
    present = list(dict.fromkeys(study.intervals.loc[study.intervals["group"] == group, "mix"]))
    out = [f"No results for **{m}**: it was not evaluated in this run." for m in expected if m not in present]
    if baseline not in present:
        out.append(f"No results for the baseline **{baseline}**, so no mix can be compared with it.")
        return Findings(out)
    diffs = study.differences[(study.differences["group"] == group) & (study.differences["metric"] == metric)]
    level = _level(diffs)
    for mix in present:
        if mix == baseline:
            continue
        if (diffs["mix"] == mix).any():
            out.append(compare(diffs, mix, baseline, name, level))
        else:
            out.append(f"**{mix}** has no paired interval against **{baseline}** in {name}.")
    if not means.empty:
        split = most_occluded_bucket(means)
        pairs = study.pairs[(study.pairs["group"] == group) & (study.pairs["metric"] == metric)
                            & (study.pairs["split"] == split)]
        top = highest(means[means["split"] == split].set_index("mix")["map"], pairs, split, name, _level(pairs),
                      baseline)
        out += [top] if top else []
    legacy = metric_sentence(study.intervals, metric, other_metric, group) if other_metric else None
    return Findings(out + ([legacy] if legacy else []))


def comparison_sentences(study: StudyBootstrap, split: str | None = None, metric: str = "ap50_standard") -> Findings:
    """The Discussion's sentences on bucket ``split`` (default: the most occluded) and ``metric``: each mix against
    the baseline (:func:`compare`), the gap to the oracle and each mix's share of it (:func:`gap_sentence`) and the
    seed-to-seed spread (:func:`spread_sentence`)."""
    diffs = study.differences[(study.differences.group == "bucket") & (study.differences.metric == metric)]
    if diffs.empty:
        return Findings([])
    split = split or max(dict.fromkeys(diffs["split"]), key=bucket_key)
    diffs = diffs[diffs.split == split]
    level, baseline = _level(diffs), str(diffs["baseline"].iloc[0])
    where = f"in {label(metric)} on bucket {split}"
    out = [compare(diffs, mix, baseline, label(metric), level) for mix in dict.fromkeys(diffs["mix"])]
    gap = study.gap_closed[(study.gap_closed.group == "bucket") & (study.gap_closed.metric == metric)
                           & (study.gap_closed.split == split)]
    if not gap.empty:
        out.append(gap_sentence(gap, baseline, where))
    spread = study.intervals[(study.intervals.group == "bucket") & (study.intervals.metric == metric)
                             & (study.intervals.split == split)]
    if not spread.empty:
        out.append(spread_sentence(spread, where))
    return Findings(out)
