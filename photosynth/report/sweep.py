"""The budget sweep in the book (:mod:`photosynth.study.sweep`): its sentences, tables and figures.

Every sentence follows :mod:`photosynth.report.findings`' rule: *rises*, *falls* or *orders the points as the detector
does* only when the interval excludes 0 and every compared mix has ≥ :data:`~photosynth.report.findings.MIN_SEEDS`
training seeds; an ordering needs, on top, a permutation p-value ≤ :data:`ALPHA` (the τ interval resamples the
detectors, the permutation test the few points). Otherwise a sentence shows the numbers and says what cannot be told.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from photosynth.metrics.bootstrap import GAP_OPEN
from photosynth.report.figures import book_style, figure_size, heading, legend_below
from photosynth.report.findings import ABOVE, BELOW, FEW_SEEDS, MIN_SEEDS, Findings, cannot_tell, direction
from photosynth.report.tables import Table, format_value, interval_table, label, present
from photosynth.study.scoring import StudyBootstrap
from photosynth.study.sweep import MEASURES, MIN_POINTS, UNITS

#: A fidelity measure orders the points as the detector does only with a permutation p-value at most this.
ALPHA = 0.05
#: What the page shows when the build did not run the sweep.
NOT_RUN = ("The budget sweep was not run in this build: its profile has no sweep. <code>make book PROFILE=sweep</code> "
           "runs it on top of the demo's workspace (about two hours on two CPU cores; see the Method page).")
#: Human names of the fidelity measures.
MEASURE_LABELS: dict[str, str] = {
    "ssim": "SSIM to the oracle", "psnr": "PSNR to the oracle (dB)", "kid": "KID to the target photos",
    "fid": "FID to the target photos", "detector_kid": "KID on the reference detector's features",
    "recall": "reference detector's recall", "content_kept": "content kept",
}  # fmt: skip


def _points(table: pd.DataFrame, bucket: str) -> pd.DataFrame:
    """One row per mix of ``bucket`` (the seed rows collapsed)."""
    return table[table["bucket"] == bucket].drop_duplicates("mix").reset_index(drop=True)


def _budget(value: float, unit: str | None) -> str:
    return "" if pd.isna(unit) or pd.isna(value) else f"{int(value):,} {unit}"


# ------------------------------------------------------------------------------------------------ sentences


def budget_sentence(points: pd.DataFrame, pairs: pd.DataFrame, translator: str, level: str) -> str:
    """Whether ``translator``'s AP on the bucket (and so its share of the gap) rises from its smallest to its
    largest budget: the paired interval of their difference (``pairs``: :attr:`StudyBootstrap.pairs` of that bucket
    and metric), under :func:`~photosynth.report.findings.direction`."""
    own = points[(points["kind"] == "point") & (points["translator"] == translator)].sort_values("budget")
    if len(own) < 2:
        return f"**{translator}** has one budget in this sweep: nothing to compare."
    low, high = own.iloc[0], own.iloc[-1]
    row = pairs[(pairs["mix"] == high["mix"]) & (pairs["other"] == low["mix"])]
    span = f"from {_budget(low['budget'], low['unit'])} to {_budget(high['budget'], high['unit'])}"
    if row.empty:
        return f"**{translator}** {span}: no paired interval of the two budgets."
    r = row.iloc[0]
    n_seeds = int(r["n_seeds"])
    low_end, high_end = (format_value(r[k], "ap", signed=True) for k in ("lo", "hi"))
    moved = (f"{label(low['metric'])} on bucket {low['bucket']} moved by {format_value(r['diff'], 'ap', signed=True)} "
             f"({level} interval [{low_end}, {high_end}])")
    gap = ""
    if low["gap_verdict"] == GAP_OPEN and high["gap_verdict"] == GAP_OPEN:
        gap = (f"; its share of the oracle's gap went from {format_value(low['gap_closed'], 'percent')} to "
               f"{format_value(high['gap_closed'], 'percent')}")
    way = direction(r["lo"], r["hi"], n_seeds)
    head = f"**{translator}** {span}: {moved}{gap}"
    more = f"more {low['unit']}"
    if way == ABOVE:
        return f"{head}. The gain rises with the budget: the interval lies above 0."
    if way == BELOW:
        return f"{head}. The gain falls with the budget: the interval lies below 0."
    if way == FEW_SEEDS:
        return f"{head}; {cannot_tell(n_seeds, f'whether {more} help')}."
    return f"{head}. The runs cannot tell whether {more} help: the interval contains 0."


def measure_sentence(kendall: pd.DataFrame) -> str:
    """Which fidelity measure orders the points as the detector's gain does (:func:`~photosynth.study.sweep.kendall`
    rows), and on how many points that rests."""
    computed = kendall[kendall["tau"].notna()]
    n_points = int(kendall["n_points"].max()) if len(kendall) else 0
    bucket, level = kendall["bucket"].iloc[0], f"{float(kendall['level'].iloc[0]):.0%}"
    if computed.empty:
        return (f"With {n_points} point{'s' if n_points != 1 else ''} no Kendall τ is computed (it needs ≥ "
                f"{MIN_POINTS} points, each measure varying), so no fidelity measure can be said to predict the "
                "detector.")
    n_seeds = int(kendall["n_seeds"].iloc[0])

    def shown(r: pd.Series) -> str:
        return (f"**{MEASURE_LABELS.get(r['measure'], r['measure'])}** τ = {r['tau']:+.2f} ({level} bootstrap "
                f"interval [{r['lo']:+.2f}, {r['hi']:+.2f}], permutation p = {r['p_value']:.3f}, "
                f"{int(r['n_points'])} points)")

    where = f"the detector's AP difference to the baseline on bucket {bucket}"
    if n_seeds < MIN_SEEDS:
        best = computed.loc[computed["tau"].abs().idxmax()]
        return f"Against {where}: {shown(best)}; {cannot_tell(n_seeds, 'which measure orders the points as it does')}."
    ways = {r.measure: direction(r.lo, r.hi, n_seeds) if r.p_value <= ALPHA else "chance"
            for r in computed.itertuples()}
    agree = computed[computed["measure"].map(ways) == ABOVE]
    against = computed[computed["measure"].map(ways) == BELOW]
    rule = (f"a verdict needs a τ interval clear of 0 and a permutation p ≤ {ALPHA:g}, on ≥ {MIN_POINTS} points "
            f"and ≥ {MIN_SEEDS} seeds per mix")
    if agree.empty and against.empty:
        best = computed.loc[computed["tau"].abs().idxmax()]
        return (f"No fidelity measure orders the points as {where} clearly; the strongest is {shown(best)} ({rule}).")
    parts = []
    if not agree.empty:
        parts.append("orders the points as the detector does: " + "; ".join(shown(r) for _, r in agree.iterrows()))
    if not against.empty:
        parts.append("orders them the other way round: " + "; ".join(shown(r) for _, r in against.iterrows()))
    return f"Against {where}, " + "; and ".join(parts) + f" ({rule})."


def sentences(table: pd.DataFrame, study: StudyBootstrap, kendall: pd.DataFrame, bucket: str) -> Findings:
    """The sweep's findings on ``bucket``: per translator, whether its gain rises with the budget
    (:func:`budget_sentence`), and which fidelity measure predicts the detector (:func:`measure_sentence`)."""
    points = _points(table, bucket)
    metric = str(points["metric"].iloc[0])
    pairs = study.pairs[(study.pairs["group"] == "bucket") & (study.pairs["split"] == bucket)
                        & (study.pairs["metric"] == metric)]
    level = f"{float(study.pairs['level'].iloc[0]):.0%}" if len(study.pairs) else "paired"
    translators = dict.fromkeys(points.loc[points["kind"] == "point", "translator"])
    return Findings([*(budget_sentence(points, pairs, t, level) for t in translators), measure_sentence(kendall)])


# --------------------------------------------------------------------------------------------------- tables


def interval_tables(table: pd.DataFrame, caption: str = "") -> tuple[Table, Table]:
    """Per bucket, every mix's difference to the baseline (the oracle's too), and each point's and extra's share of the
    gap to the oracle (where the gap is clearly there), each with its interval."""
    rows = table.drop_duplicates(["mix", "bucket"]).assign(
        point=lambda t: [f"{m} ({_budget(b, u)})" if pd.notna(u) else m
                         for m, b, u in zip(t["mix"], t["budget"], t["unit"])])
    name, n_seeds = label(rows["metric"].iloc[0]), int(rows["n_seeds"].min())
    caption = f"{name} over {n_seeds} training seed{'s' if n_seeds > 1 else ''} ({caption})"
    columns = ["point", "bucket"]
    diffs = interval_table(rows.loc[rows["kind"] != "baseline", [*columns, "diff", "diff_lo", "diff_hi"]],
                           f"Difference to the baseline, {caption}", rows=("point",), columns="bucket",
                           value="diff", lo="diff_lo", hi="diff_hi")
    gaps = interval_table(rows.loc[rows["kind"].isin(["point", "extra"]), [*columns, "gap_closed", "gap_lo", "gap_hi"]],
                          f"Share of the baseline-to-oracle gap closed, {caption}", rows=("point",), columns="bucket",
                          value="gap_closed", lo="gap_lo", hi="gap_hi", kind="percent")
    return diffs, gaps


def kendall_shown(kendall: pd.DataFrame, caption: str = "") -> Table:
    """The Kendall table as the book shows it."""
    shown = kendall.assign(measure=kendall["measure"].map(lambda m: MEASURE_LABELS.get(m, m))).set_index("measure")
    return present(shown[["orientation", "tau", "lo", "hi", "p_value", "n_points", "n_seeds", "bucket"]],
                   f"Kendall τ of each fidelity measure (oriented: higher = closer) with the detector's difference to "
                   f"the baseline ({caption})",
                   labels={"tau": "Kendall τ", "lo": "τ low", "hi": "τ high", "p_value": "permutation p",
                           "n_points": "points", "n_seeds": "seeds per mix"},
                   kinds={"tau": "ratio", "lo": "ratio", "hi": "ratio", "p_value": "number"},
                   missing_note="not computed: fewer than 3 points with this measure, or it does not vary")


# -------------------------------------------------------------------------------------------------- figures


def budget_figure(table: pd.DataFrame, bucket: str, caption: str = "") -> Figure:
    """Gap closed against the budget (log axis), one line per translator with its intervals, the oracle at 100 % and
    the baseline at 0; one panel per budget unit; extra mixes as diamonds at their budget. Where the gap is not
    clearly there, the difference to the baseline instead, with the oracle's own difference as its line."""
    rows = _points(table, bucket)
    movers = rows[rows["kind"].isin(["point", "extra"])]
    share = bool(len(movers)) and (movers["gap_verdict"] == GAP_OPEN).all()
    value, lo, hi = ("gap_closed", "gap_lo", "gap_hi") if share else ("diff", "diff_lo", "diff_hi")
    scale = 100.0 if share else 1.0
    oracle = rows[rows["kind"] == "oracle"]
    units = [u for u in dict.fromkeys(UNITS.values()) if u in set(movers["unit"])]
    translators = list(dict.fromkeys(movers["translator"]))
    colours = dict(zip(translators, sns.color_palette("deep", len(translators))))
    with book_style():
        fig, axes = plt.subplots(1, max(1, len(units)), figsize=figure_size(3.8), squeeze=False, sharey=True,
                                 layout="constrained")
        for ax, unit in zip(axes[0], units):
            part = movers[movers["unit"] == unit]
            for name, line in part.groupby("translator", sort=False):
                extra = (line["kind"] == "extra").all()
                y = line[value].to_numpy(float) * scale
                err = np.vstack([y - line[lo].to_numpy(float) * scale, line[hi].to_numpy(float) * scale - y])
                ax.errorbar(line["budget"], y, yerr=np.clip(np.nan_to_num(err), 0, None), marker="D" if extra else "o",
                            ls="none" if extra else "-", color=colours[name], capsize=3, label=name)
            ax.set_xscale("log")
            budgets = sorted(set(part["budget"]))
            ax.set_xticks(budgets, [f"{int(b):,}" for b in budgets])
            ax.minorticks_off()
            ax.set_xlabel(f"budget ({unit}, log scale)")
            ax.axhline(0, color="black", lw=0.8)
            top = 100.0 if share else (float(oracle["diff"].iloc[0]) if len(oracle) else math.nan)
            if np.isfinite(top):
                ax.axhline(top, color="black", lw=0.8, ls="--")
                ax.annotate("oracle", (0.01, top), xycoords=("axes fraction", "data"), va="bottom")
            ax.margins(x=0.15)
        axes[0][0].set_ylabel("gap closed (%)" if share else f"{label(rows['metric'].iloc[0])} − baseline")
        extras = set(movers.loc[movers["kind"] == "extra", "translator"])
        axes[0][-1].legend(handles=[Line2D([], [], color=colours[n], marker="D" if n in extras else "o",
                                           ls="none" if n in extras else "-", label=n) for n in translators])
        legend_below(fig, axes[0][-1])
        what = ("Share of the oracle's gap closed" if share
                else "Difference to the baseline (the gap is not clearly there)")
        fig.suptitle(heading(f"{what} against the translation budget, bucket {bucket}, with intervals", caption))
    return fig


def measures_figure(table: pd.DataFrame, kendall: pd.DataFrame, bucket: str, caption: str = "") -> Figure:
    """Each fidelity measure (one panel, its Kendall τ above it) against the points' difference to the baseline on
    ``bucket`` with its interval; one colour per translator."""
    points = _points(table, bucket)
    points = points[points["kind"] == "point"]
    measures = [m for m in MEASURES if points[m].notna().any()]
    taus = kendall.set_index("measure")
    translators = list(dict.fromkeys(points["translator"]))
    colours = dict(zip(translators, sns.color_palette("deep", len(translators))))
    columns = 2
    rows = max(1, math.ceil(len(measures) / columns))
    with book_style():
        fig, axes = plt.subplots(rows, columns, figsize=figure_size(1.0 + 2.4 * rows), squeeze=False, sharey=True,
                                 layout="constrained")
        for ax, measure in zip(axes.flat, measures):
            for name, part in points.groupby("translator", sort=False):
                y = part["diff"].to_numpy(float)
                err = np.vstack([y - part["diff_lo"].to_numpy(float), part["diff_hi"].to_numpy(float) - y])
                ax.errorbar(part[measure], y, yerr=np.clip(np.nan_to_num(err), 0, None), marker="o", ls="none",
                            color=colours[name], capsize=2, label=name)
            ax.axhline(0, color="black", lw=0.8)
            r = taus.loc[measure] if measure in taus.index else None
            tau = ("τ not computed" if r is None or pd.isna(r["tau"]) else
                   f"τ = {r['tau']:+.2f} [{r['lo']:+.2f}, {r['hi']:+.2f}], p = {r['p_value']:.2f}")
            arrow = "↑" if MEASURES[measure] > 0 else "↓"
            ax.set_title("\n".join([textwrap.fill(f"{MEASURE_LABELS[measure]} {arrow}", 34), tau]))
            ax.margins(x=0.15)
        for ax in axes.flat[len(measures):]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(f"{label(points['metric'].iloc[0])}\n− baseline")
        axes.flat[0].legend()
        legend_below(fig, axes.flat[0])
        fig.suptitle(heading(f"Fidelity (mean over the weathers) against the detector's gain on bucket {bucket}; "
                             f"{len(points)} points, ↑/↓: higher/lower is closer", caption))
    return fig
