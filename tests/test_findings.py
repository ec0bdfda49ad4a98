"""'What this run found': every sentence follows from the hand-made numbers it is given."""

from __future__ import annotations

import pandas as pd
import pytest

from photosynth.report.findings import findings, tidy_means

SPLITS = ["0-5", "0-10", "0-all"]


def _study(values: dict[str, list[float]], legacy_offset: float = 0.02) -> pd.DataFrame:
    """The study table's shape: index mix, columns (metric, split)."""
    columns = pd.MultiIndex.from_product([["ap50_standard", "ap50_legacy"], SPLITS])
    rows = {mix: [*v, *(x + legacy_offset for x in v)] for mix, v in values.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("mix")


def _diffs(rows: dict[str, list[tuple[float, float, float]]]) -> pd.DataFrame:
    out = [{"mix": mix, "split": split, "metric": "ap50_standard", "diff": d, "lo": lo, "hi": hi, "level": 0.95}
           for mix, triples in rows.items() for split, (d, lo, hi) in zip(SPLITS, triples)]
    return pd.DataFrame(out, columns=["mix", "split", "metric", "diff", "lo", "hi", "level"])


def test_better_worse_indistinguishable_and_mixed() -> None:
    study = _study({"baseline": [0.40, 0.35, 0.30], "cyclegan": [0.45, 0.40, 0.33], "nst": [0.30, 0.25, 0.20],
                    "augment": [0.40, 0.36, 0.30], "cut": [0.45, 0.35, 0.25]})
    diffs = _diffs({
        "cyclegan": [(0.05, 0.02, 0.08), (0.05, 0.01, 0.09), (0.03, -0.01, 0.07)],
        "nst": [(-0.10, -0.15, -0.05), (-0.10, -0.14, -0.06), (-0.10, -0.13, -0.07)],
        "augment": [(0.0, -0.02, 0.02), (0.01, -0.02, 0.03), (0.0, -0.03, 0.03)],
        "cut": [(0.05, 0.01, 0.09), (0.0, -0.03, 0.03), (-0.05, -0.09, -0.01)],
    })
    found = findings(study, diffs)
    text = found.sentences
    assert text[0] == ("**cyclegan** is above **baseline** on 2 of 3 buckets (0-5 and 0-10) by +0.050 in AP@0.5 "
                       "standard, 95% interval excluding 0; on the other 1 the interval contains 0.")
    assert text[1].startswith("**nst** is below **baseline** on 3 of 3 buckets (0-5, 0-10 and 0-all) by −0.100")
    assert text[2] == ("**augment** cannot be told apart from **baseline** in AP@0.5 standard: the 95% interval of "
                       "the difference contains 0 on all 3 buckets (differences +0.000 to +0.010).")
    assert "above **baseline** on 1 of 3 buckets (0-5)" in text[3]
    assert "below **baseline** on 1 of 3 buckets (0-all)" in text[3]
    # the baseline's hardest bucket is 0-all (0.30); cyclegan's 0.33 is the best there
    assert text[4] == ("On the hardest bucket for the baseline (0-all) the highest AP@0.5 standard is **cyclegan**'s "
                       "0.330 (baseline 0.300).")
    assert text[5].startswith("AP@0.5 legacy reads higher than AP@0.5 standard by 0.020 on average")
    html = found._repr_html_()
    assert html.startswith('<ul class="photosynth-findings">') and "<strong>cyclegan</strong>" in html
    assert found.to_markdown().count("\n- ") == len(text) - 1


def test_missing_mixes_baseline_best_and_lower_legacy() -> None:
    study = _study({"baseline": [0.50, 0.45, 0.40], "nst": [0.49, 0.44, 0.39]}, legacy_offset=-0.01)
    diffs = _diffs({"nst": [(-0.01, -0.03, 0.01)] * 3})
    text = findings(study, diffs, expected=["baseline", "cyclegan", "nst"]).sentences
    assert text[0] == "No results for **cyclegan**: it was not evaluated in this run."
    assert text[1].startswith("**nst** cannot be told apart")
    assert text[2] == ("On the hardest bucket for the baseline (0-all) the highest AP@0.5 standard is the baseline's "
                       "own, 0.400.")
    assert text[3].startswith("AP@0.5 legacy reads lower than AP@0.5 standard by 0.010")


def test_no_baseline_and_no_interval() -> None:
    study = _study({"cyclegan": [0.5, 0.4, 0.3]})
    text = findings(study, _diffs({})).sentences
    assert text == ["No results for the baseline **baseline**, so no mix can be compared with it."]
    study = _study({"baseline": [0.5, 0.4, 0.3], "cyclegan": [0.5, 0.4, 0.3]}, legacy_offset=0.0)
    text = findings(study, _diffs({}).drop(columns=["level"])).sentences
    assert text[0] == "**cyclegan** has no paired interval against **baseline** in AP@0.5 standard."
    assert text[-1].startswith("AP@0.5 legacy agrees with AP@0.5 standard")


def test_a_tie_is_said_as_one() -> None:
    study = _study({"baseline": [0.3, 0.2, 0.1], "cyclegan": [0.3, 0.2, 0.1], "nst": [0.3, 0.2, 0.05]})
    text = findings(study, _diffs({"cyclegan": [(0.0, 0.0, 0.0)] * 3, "nst": [(0.0, -0.1, 0.1)] * 3})).sentences
    assert text[2] == ("On the hardest bucket for the baseline (0-all) the highest AP@0.5 standard, 0.100, is shared "
                       "by **baseline** and **cyclegan**.")


def test_tidy_input_and_bad_input() -> None:
    tidy = tidy_means(_study({"baseline": [0.5, 0.4, 0.3]}))
    assert set(tidy.columns) == {"mix", "split", "metric", "value"} and len(tidy) == 6
    assert findings(tidy, _diffs({})).sentences[0].startswith("On the hardest bucket")
    with pytest.raises(ValueError, match="lacks"):
        findings(tidy, pd.DataFrame({"mix": []}))
    with pytest.raises(ValueError, match="expected columns"):
        tidy_means(pd.DataFrame({"a": [1]}))
