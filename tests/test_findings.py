"""Every computed sentence follows from the hand-made numbers it is given: a direction only when the interval
excludes 0 and every compared mix has ≥ 3 training seeds; otherwise the numbers and what cannot be told."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest

from photosynth.metrics.bootstrap import GAP_OPEN, GAP_SMALL, NO_GAP, ORACLE_BELOW
from photosynth.report import results
from photosynth.report.findings import (ABOVE, BELOW, FEW_SEEDS, MIN_SEEDS, UNDECIDED, comparison_sentences,
                                        direction, findings, gap_reading, gap_state, metric_sentence)
from photosynth.study.scoring import StudyBootstrap

SPLITS = ["0-5", "0-10", "0-all"]
Triple = tuple[float, float, float]


def _study(means: dict[str, list[float]], diffs: dict[str, list[Triple]],
           pairs: dict[tuple[str, str], Triple] | None = None, n_seeds: int = 3, legacy_offset: float = 0.02,
           gap: Sequence[dict] = ()) -> StudyBootstrap:
    """A hand-made :class:`StudyBootstrap`: means per mix and bucket, ``mix − baseline`` per bucket, extra
    ``a − b`` pairs on bucket 0-all (each pair also added flipped), gap-closed rows on 0-all."""
    where = {"group": "bucket", "n_seeds": n_seeds, "level": 0.95}
    intervals = pd.DataFrame([{"mix": mix, "split": split, "metric": metric, "map": v + offset, "seed_sd": 0.01 * i,
                               **where}
                              for i, (mix, values) in enumerate(means.items()) for split, v in zip(SPLITS, values)
                              for metric, offset in (("ap50_standard", 0.0), ("ap50_legacy", legacy_offset))])
    rows = [{"mix": mix, "other": "baseline", "split": split, "diff": d, "lo": lo, "hi": hi}
            for mix, triples in diffs.items() for split, (d, lo, hi) in zip(SPLITS, triples)]
    rows += [{"mix": a, "other": b, "split": "0-all", "diff": d, "lo": lo, "hi": hi} for (a, b), (d, lo, hi)
             in (pairs or {}).items()]
    rows += [{**r, "mix": r["other"], "other": r["mix"], "diff": -r["diff"], "lo": -r["hi"], "hi": -r["lo"]}
             for r in list(rows)]
    pair_table = pd.DataFrame(rows, columns=["mix", "other", "split", "diff", "lo", "hi"]).assign(
        metric="ap50_standard", **where)
    differences = pair_table[pair_table.other == "baseline"].rename(columns={"other": "baseline"})
    gaps = pd.DataFrame([{"mix": g["mix"], "split": "0-all", "metric": "ap50_standard", **where, **g} for g in gap],
                        columns=["mix", "split", "metric", *where, "closed", "lo", "hi", "gap", "gap_lo", "gap_hi",
                                 "verdict"])
    return StudyBootstrap(intervals, differences, gaps, pair_table)


MEANS = {"baseline": [0.40, 0.35, 0.30], "cyclegan": [0.45, 0.40, 0.33], "nst": [0.30, 0.25, 0.20],
         "augment": [0.40, 0.36, 0.30], "cut": [0.45, 0.35, 0.25]}
DIFFS = {"cyclegan": [(0.05, 0.02, 0.08), (0.05, 0.01, 0.09), (0.03, 0.01, 0.07)],
         "nst": [(-0.10, -0.15, -0.05), (-0.10, -0.14, -0.06), (-0.10, -0.13, -0.07)],
         "augment": [(0.0, -0.02, 0.02), (0.01, -0.02, 0.03), (0.0, -0.03, 0.03)],
         "cut": [(0.05, 0.01, 0.09), (0.0, -0.03, 0.03), (-0.05, -0.09, -0.01)]}
#: cyclegan's lead on 0-all over every other mix, clear (the baseline's is in DIFFS).
CLEAR_LEAD = {("cyclegan", "nst"): (0.13, 0.10, 0.16), ("cyclegan", "augment"): (0.03, 0.01, 0.05),
              ("cyclegan", "cut"): (0.08, 0.04, 0.12), ("augment", "nst"): (0.1, 0.07, 0.13),
              ("augment", "cut"): (0.05, 0.01, 0.09), ("cut", "nst"): (0.05, 0.01, 0.09)}


@pytest.mark.parametrize(("lo", "hi", "n_seeds", "expected"), [
    (0.01, 0.05, 3, ABOVE), (-0.05, -0.01, 5, BELOW), (-0.01, 0.05, 3, UNDECIDED), (0.0, 0.0, 3, UNDECIDED),
    (0.01, 0.05, 2, FEW_SEEDS), (-0.05, -0.01, 1, FEW_SEEDS), (float("nan"), float("nan"), 3, UNDECIDED)])
def test_the_one_rule(lo: float, hi: float, n_seeds: int, expected: str) -> None:
    assert MIN_SEEDS == 3 and direction(lo, hi, n_seeds) == expected


def test_a_clear_run_states_every_direction_its_interval_shows() -> None:
    found = findings(_study(MEANS, DIFFS, CLEAR_LEAD))
    text = found.sentences
    assert text[0] == ("**cyclegan** is above **baseline** on 3 of 3 buckets (0-5, 0-10 and 0-all) by +0.030 to "
                       "+0.050 in AP@0.5 standard, 95% interval excluding 0.")
    assert text[1].startswith("**nst** is below **baseline** on 3 of 3 buckets (0-5, 0-10 and 0-all) by −0.100")
    assert text[2] == ("**augment** cannot be told apart from **baseline** in AP@0.5 standard: the 95% interval of "
                       "the difference contains 0 on all 3 buckets (differences +0.000 to +0.010).")
    assert text[3] == ("**cut** is above **baseline** on 1 of 3 buckets (0-5) by +0.050 and below **baseline** on 1 "
                       "of 3 buckets (0-all) by −0.050 in AP@0.5 standard, 95% interval excluding 0; on the other 1 "
                       "the interval contains 0.")
    # the most occluded bucket is 0-all by design; cyclegan's lead over every mix excludes 0
    assert text[4] == ("On the most occluded bucket (0-all) the highest AP@0.5 standard is **cyclegan**'s, 0.330: the "
                       "95% interval of its difference to every other mix excludes 0 (**baseline** 0.300, **augment** "
                       "0.300, **cut** 0.250, **nst** 0.200).")
    assert text[5].startswith("In this build AP@0.5 legacy read higher than AP@0.5 standard by 0.020 on average")
    html = found._repr_html_()
    assert html.startswith('<ul class="photosynth-findings">') and "<strong>cyclegan</strong>" in html
    assert found.to_markdown().count("\n- ") == len(text) - 1


def test_a_lead_whose_interval_contains_zero_names_no_highest() -> None:
    unclear = {**CLEAR_LEAD, ("cyclegan", "augment"): (0.03, -0.01, 0.07)}
    text = findings(_study(MEANS, DIFFS, unclear)).sentences[4]
    assert text == ("On the most occluded bucket (0-all) no mix can be told apart as the highest in AP@0.5 standard: "
                    "the 95% interval of **cyclegan** − **augment** (0.330 − 0.300) does not lie above 0.")
    assert "highest AP@0.5 standard is" not in text
    # the baseline on top, clear of every mix
    means = {"baseline": [0.5, 0.45, 0.40], "nst": [0.49, 0.44, 0.30]}
    top = findings(_study(means, {"nst": [(-0.01, -0.03, 0.01)] * 2 + [(-0.1, -0.12, -0.08)]})).sentences[1]
    assert top.startswith("On the most occluded bucket (0-all) the highest AP@0.5 standard is the baseline's own, "
                          "0.400")


@pytest.mark.parametrize(("n_seeds", "runs"), [(1, "one training run"), (2, "two training runs")])
def test_too_few_seeds_show_the_numbers_and_state_no_direction(n_seeds: int, runs: str) -> None:
    """The same clear intervals as above: with one or two seeds per mix no sentence names a direction."""
    text = findings(_study(MEANS, DIFFS, CLEAR_LEAD, n_seeds=n_seeds)).sentences
    cannot = f"{runs} per mix cannot tell which is higher (a verdict needs ≥ 3 seeds)."
    assert text[0] == ("**cyclegan** − **baseline** in AP@0.5 standard: +0.050 [+0.020, +0.080] on 0-5, +0.050 "
                       f"[+0.010, +0.090] on 0-10 and +0.030 [+0.010, +0.070] on 0-all (95% intervals); {cannot}")
    assert text[4] == ("On the most occluded bucket (0-all) the mean AP@0.5 standard is **cyclegan** 0.330, "
                       "**baseline** 0.300, **augment** 0.300, **cut** 0.250 and **nst** 0.200; "
                       f"{runs} per mix cannot tell which is highest (a verdict needs ≥ 3 seeds).")
    for sentence in text[:5]:
        assert not any(word in sentence for word in (" is above", " is below", "told apart", "the highest"))


def test_missing_mixes_missing_baseline_and_missing_pairs() -> None:
    means = {"baseline": [0.50, 0.45, 0.40], "nst": [0.49, 0.44, 0.39]}
    study = _study(means, {"nst": [(-0.01, -0.03, 0.01)] * 3}, legacy_offset=-0.01)
    text = findings(study, expected=["baseline", "cyclegan", "nst"]).sentences
    assert text[0] == "No results for **cyclegan**: it was not evaluated in this run."
    assert text[1].startswith("**nst** cannot be told apart")
    assert text[2].startswith("On the most occluded bucket (0-all) no mix can be told apart as the highest")
    assert text[3].startswith("In this build AP@0.5 legacy read lower than AP@0.5 standard by 0.010")
    alone = _study({"cyclegan": [0.5, 0.4, 0.3]}, {})
    assert findings(alone).sentences == ["No results for the baseline **baseline**, so no mix can be compared with it."]
    unpaired = _study({"baseline": [0.5, 0.4, 0.3], "cyclegan": [0.5, 0.4, 0.3]}, {}, legacy_offset=0.0)
    text = findings(unpaired).sentences
    assert text[0] == "**cyclegan** has no paired interval against **baseline** in AP@0.5 standard."
    assert "no paired interval between **baseline** and every other mix" in text[1]
    assert text[-1].startswith("In this build AP@0.5 legacy agreed with AP@0.5 standard")
    with pytest.raises(ValueError, match="lacks"):
        findings(study._replace(differences=study.differences.drop(columns=["n_seeds"])))


def test_metric_sentence_names_the_buckets_that_differ_most_and_least() -> None:
    study = _study(MEANS, DIFFS)
    uneven = study.intervals.copy()
    legacy = uneven.metric == "ap50_legacy"
    uneven.loc[legacy & (uneven.split == "0-all"), "map"] += 0.03
    uneven.loc[legacy & (uneven.split == "0-5"), "map"] += 0.01
    sentence = metric_sentence(uneven)
    assert sentence.endswith("largest on bucket 0-all (+0.050) and smallest on bucket 0-10 (+0.020).")
    assert metric_sentence(study.intervals).endswith("about the same on every bucket.")
    assert metric_sentence(study.intervals[~legacy]) is None


@pytest.mark.parametrize(("closed", "lo", "hi", "verdict", "n_seeds", "expected"), [
    (0.68, 0.40, 0.90, GAP_OPEN, 3, "closed 68% of the gap (95% interval [40%, 90%])"),
    (0.68, -0.06, 1.47, GAP_OPEN, 3, "68% of the gap, not told apart from none (95% interval [−6%, 147%])"),
    (-0.30, -0.50, -0.10, GAP_OPEN, 4, "below the baseline by 30% of the gap (95% interval [10%, 50%])"),
    (0.68, 0.40, 0.90, GAP_OPEN, 1, "68% of the gap (95% interval [40%, 90%]); one training run per mix cannot "
                                    "tell whether it closed any (a verdict needs ≥ 3 seeds)"),
    (float("nan"), float("nan"), float("nan"), GAP_SMALL, 3, "gap too small to share out (the oracle − baseline "
                                                             "interval's lower bound is under half its width)"),
    (float("nan"), float("nan"), float("nan"), NO_GAP, 3, "no gap to share out (the oracle − baseline interval "
                                                          "contains 0)"),
])
def test_gap_reading(closed: float, lo: float, hi: float, verdict: str, n_seeds: int, expected: str) -> None:
    assert gap_reading(closed, lo, hi, verdict, n_seeds) == expected


def test_an_oracle_below_the_baseline_is_said_only_with_enough_seeds() -> None:
    assert "the oracle scored below the baseline" in gap_state(ORACLE_BELOW, 3)
    assert gap_state(ORACLE_BELOW, 2) == "no gap to share out (the oracle − baseline interval does not lie above 0)"


def _gap(verdict: str, gap: Triple, shares: dict[str, Triple]) -> list[dict]:
    d, lo, hi = gap
    return [{"mix": mix, "closed": c, "lo": a, "hi": b, "gap": d, "gap_lo": lo, "gap_hi": hi, "verdict": verdict}
            for mix, (c, a, b) in shares.items()]


CLEAR_GAP = _gap(GAP_OPEN, (0.10, 0.07, 0.13), {"cyclegan": (0.30, 0.10, 0.50), "nst": (-1.0, -1.4, -0.6),
                                                 "augment": (0.0, -0.3, 0.3)})


def test_discussion_sentences_on_a_clear_gap() -> None:
    means = {"baseline": [0.40, 0.35, 0.30], "cyclegan": [0.45, 0.40, 0.33], "nst": [0.30, 0.25, 0.20],
             "augment": [0.40, 0.36, 0.30]}
    diffs = {m: DIFFS[m] for m in ("cyclegan", "nst", "augment")}
    text = comparison_sentences(_study(means, diffs, gap=CLEAR_GAP)).sentences
    assert text[0].startswith("**cyclegan** is above **baseline** on bucket 0-all by +0.030")
    assert text[2].startswith("**augment** cannot be told apart from **baseline**")
    assert text[3] == (
        "The oracle — vKITTI's clone frames rendered again by the toy world's real renderer, a perfect translation "
        "— minus baseline in AP@0.5 standard on bucket 0-all is +0.100 (95% interval [+0.070, +0.130]): the toy "
        "world leaves a clear gap for a translator to close. **cyclegan** closed 30% of the gap (95% interval [10%, 50%]); "
        "**nst** below the baseline by 100% of the gap (95% interval [60%, 140%]); **augment** 0% of the gap, not told "
        "apart from none (95% interval [−30%, 30%]).")
    assert text[4] == ("Over 3 training seeds a mix's score in AP@0.5 standard on bucket 0-all had a seed-to-seed "
                       "standard deviation of up to 0.030 (**augment**); every interval above resamples the seeds, so "
                       "this spread is already inside it.")


@pytest.mark.parametrize(("verdict", "gap", "words"), [
    (GAP_SMALL, (0.03, 0.005, 0.06), "gap too small to share out"),
    (NO_GAP, (0.01, -0.02, 0.04), "no gap to share out (the oracle − baseline interval contains 0)"),
])
def test_discussion_shares_no_gap_that_is_not_clearly_there(verdict: str, gap: Triple, words: str) -> None:
    study = _study(MEANS, DIFFS, gap=_gap(verdict, gap, {"cyclegan": (float("nan"),) * 3}))
    sentence = comparison_sentences(study).sentences[4]
    assert words in sentence and "of the gap" not in sentence
    assert sentence.endswith(", so no translator's share of it is measured.")


@pytest.mark.parametrize(("n_seeds", "spread"), [
    (1, "Each mix was trained once (one seed), so the intervals leave out the seed-to-seed spread and one training "
        "run per mix cannot tell which mix is better (a verdict needs ≥ 3 seeds)."),
    (2, "2 seeds give a rough spread, and two training runs per mix cannot tell which mix is better"),
])
def test_discussion_with_too_few_seeds_states_no_direction(n_seeds: int, spread: str) -> None:
    text = comparison_sentences(_study(MEANS, DIFFS, n_seeds=n_seeds, gap=CLEAR_GAP)).sentences
    assert text[0].startswith("**cyclegan** − **baseline** in AP@0.5 standard: +0.030 [+0.010, +0.070] on bucket "
                              "0-all")
    assert "cannot tell whether there is a gap" in text[4]
    shares = "The shares, as numbers only: **cyclegan** 30% of the gap (95% interval [10%, 50%]); **nst** −100%"
    assert shares in text[4]
    assert "leaves a clear gap" not in text[4] and "closed 30%" not in text[4]
    assert spread in text[5]
    assert "larger than" not in text[5] and "within" not in text[5]


def test_gap_table_collapses_the_buckets_without_a_clear_gap() -> None:
    rows = []
    for metric in ("ap50_standard", "ap50_legacy"):
        for split in SPLITS:
            clear = (metric, split) == ("ap50_standard", "0-all")
            verdict, gap = (GAP_OPEN, (0.1, 0.07, 0.13)) if clear else (NO_GAP, (0.01, -0.02, 0.04))
            shares = {"cyclegan": (0.3, 0.1, 0.5), "nst": (0.1, -0.2, 0.4)} if clear else {
                "cyclegan": (float("nan"),) * 3, "nst": (float("nan"),) * 3}
            rows += [{**r, "metric": metric, "split": split} for r in _gap(verdict, gap, shares)]
    gap = pd.DataFrame(rows).assign(group="bucket", n_seeds=3, level=0.95)
    small = gap[(gap.metric == "ap50_legacy") & (gap.split == "0-all")].index
    gap.loc[small, "verdict"] = GAP_SMALL
    table = results.gap_table(gap)
    assert list(table.index) == [
        ("ap50_standard", "0-all", "cyclegan"), ("ap50_standard", "0-all", "nst"),
        ("AP@0.5 standard, AP@0.5 legacy", "0-5, 0-10", "every mix"), ("AP@0.5 legacy", "0-all", "every mix")]
    assert table.reading.iloc[0].startswith("closed 30%") and "not told apart from none" in table.reading.iloc[1]
    assert table.reading.iloc[2].startswith("no gap to share out")
    assert table.reading.iloc[3].startswith("gap too small")
    assert table.iloc[2:]["gap closed"].isna().all()
    # the same "no gap" on every bucket of both metrics: one line
    gap.loc[:, "verdict"] = NO_GAP
    assert list(results.gap_table(gap).index) == [("AP@0.5 standard, AP@0.5 legacy", "0-5, 0-10, 0-all", "every mix")]
