"""The one presentation helper for glued tables, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from photosynth.report import tables


def _diffs() -> pd.DataFrame:
    rows = [("nst", "0-5", "ap50_standard", 0.0, -0.01, 0.01),             # bucket-major, as the bootstrap writes
            ("cyclegan", "0-5", "ap50_standard", 0.0312, 0.0104, 0.0521),   # above 0
            ("cyclegan", "0-5", "ap50_legacy", 0.0101, -0.0203, 0.0400),    # contains 0
            ("cyclegan", "0-all", "ap50_standard", -0.0405, -0.0702, -0.0103)]  # below 0; nst: 0-5 only
    frame = pd.DataFrame(rows, columns=["mix", "split", "metric", "diff", "lo", "hi"])
    return frame.assign(baseline="baseline", classes="Car+Truck", n_resamples=1000, seed=0, level=0.95)


def test_present_drops_integer_index_formats_by_kind_and_footnotes_missing() -> None:
    frame = pd.DataFrame({"source": ["ours", "original study"], "images": [12345, 7],
                          "ap50_standard": [0.41234, np.nan], "fid": [12.345, 3.0], "kid_mean": [0.012345, 0.5],
                          "seconds": [61.7, 2.2], "classes": ["Car+Truck", "Car+Truck"]})
    table = tables.present(frame, "Toy", missing_note="the original study has no such row")
    assert not table.show_index
    rows = table.cells.to_dict("records")
    assert rows[0] == {"source": "ours", "images": "12,345", "AP@0.5 standard": "0.412", "FID": "12.3",
                       "KID": "0.0123", "time (s)": "62"}
    assert rows[1]["AP@0.5 standard"] == tables.MISSING
    assert table.caption == "Toy; classes: Car+Truck"  # the constant column went into the caption
    assert table.notes == ["— the original study has no such row."]
    html = table.to_html()
    assert "NaN" not in html and ">nan<" not in html
    assert '<th id="T_' not in html.split("<tbody>")[1].split("</tr>")[0]  # no index cell in the body rows
    assert "<caption>Toy; classes: Car+Truck</caption>" in html
    assert "the original study has no such row" in html


def test_present_keeps_a_meaningful_index_and_labels_columns() -> None:
    frame = pd.DataFrame({"ap50_standard": [0.5, 0.25], "ap50_legacy": [0.52, 0.3]},
                         index=pd.Index(["baseline", "cyclegan"], name="mix"))
    frame.index = ["base_line", "cyclegan"]
    frame.index.name = "training_mix"
    table = tables.present(frame, labels={"ap50_legacy": "AP@0.5 (YOLOv5 val.py)"})
    assert table.show_index and list(table.cells.index) == ["base_line", "cyclegan"]  # data, not renamed
    assert table.cells.index.name == "training mix"
    assert list(table.cells.columns) == ["AP@0.5 standard", "AP@0.5 (YOLOv5 val.py)"]
    assert table.cells.iloc[1].tolist() == ["0.250", "0.300"]
    assert "base_line" in table.to_html() and "training mix" in table.to_html()


def test_measured_values_stay_in_the_table_even_when_constant() -> None:
    frame = pd.DataFrame({"mix": ["a", "b"], "ap50_standard": [0.0, 0.0], "seed": [0, 0]})
    table = tables.present(frame)
    assert list(table.cells.columns) == ["mix", "AP@0.5 standard"] and table.caption == "seed: 0"
    wide = pd.DataFrame([[0.0, 0.0]] * 2, columns=pd.MultiIndex.from_product([["ap50_standard"], ["x", "y"]]))
    assert tables.present(wide).cells.shape == (2, 2)
    assert tables.present(pd.DataFrame({"steps": [8, 8], "runs": [1, 1]})).cells.shape == (2, 2)  # never all


def test_present_formats_multiindex_columns_and_nullable_integers() -> None:
    columns = pd.MultiIndex.from_product([["ap50_standard"], ["0-5", "0-all"]], names=[None, "split"])
    frame = pd.DataFrame([[0.1, 0.2], [0.3, np.nan]], index=pd.Index(["a", "b"], name="mix"), columns=columns)
    table = tables.present(frame)
    assert list(table.cells.columns) == [("AP@0.5 standard", "0-5"), ("AP@0.5 standard", "0-all")]
    assert table.cells.loc["b"].tolist() == ["0.300", "—"]
    counts = pd.DataFrame({"images": pd.array([3, pd.NA], dtype="Int64")}, index=pd.Index(["x", "y"], name="domain"))
    assert tables.present(counts, missing_note="not sampled").cells["images"].tolist() == ["3", "—"]


def test_format_value_per_kind() -> None:
    assert tables.format_value(0.95, "percent") == "95%"
    assert tables.format_value(-0.0123, "ap", signed=True) == "−0.012"
    assert tables.format_value(0.0123, "ap", signed=True) == "+0.012"
    assert tables.format_value(-0.0004, "ap", signed=True) == "+0.000"  # rounds to zero: no "−0.000"
    assert tables.format_value(-0.0004, "ap") == "0.000" and tables.format_value(-0.004, "percent") == "0%"
    assert tables.format_value(48.56, "pct") == "48.6"
    assert tables.format_value(1234.5, "fid") == "1,234.5"
    assert tables.format_value(None, "ap") == tables.MISSING
    assert tables.format_value(True, None) == "yes"


def test_interval_table_pivots_marks_and_moves_constants() -> None:
    table = tables.interval_table(_diffs(), "Paired bootstrap", labels={"split": "bucket"})
    assert table.cells.index.names == ["mix", "bucket"]
    assert list(table.cells.index) == [("nst", "0-5"), ("cyclegan", "0-5"), ("cyclegan", "0-all")]  # mix-major
    assert list(table.cells.columns) == ["AP@0.5 standard: difference [interval]",
                                         "AP@0.5 legacy: difference [interval]"]
    std, leg = table.cells.columns
    assert table.cells.loc[("cyclegan", "0-5"), std] == "+0.031 [+0.010, +0.052] ★"
    assert table.cells.loc[("cyclegan", "0-5"), leg] == "+0.010 [−0.020, +0.040]"
    assert table.cells.loc[("cyclegan", "0-all"), std] == "−0.041 [−0.070, −0.010] ★"
    assert table.cells.loc[("cyclegan", "0-all"), leg] == tables.MISSING
    assert table.marked.sum().sum() == 2 and table.marked.loc[("cyclegan", "0-5"), std]
    assert "baseline: baseline" in table.caption and "bootstrap resamples: 1,000" in table.caption
    assert "interval level: 95%" in table.caption and "seed: 0" in table.caption
    assert any("excludes 0" in n for n in table.notes) and any("no value" in n for n in table.notes)
    assert table.to_html().count("font-weight: bold") == 1  # one CSS rule for both marked cells


def test_interval_table_rejects_ambiguous_or_incomplete_input() -> None:
    with pytest.raises(ValueError, match="more than one row"):
        tables.interval_table(pd.concat([_diffs(), _diffs()]))
    with pytest.raises(ValueError, match="needs the column"):
        tables.interval_table(_diffs().drop(columns=["lo"]))
    with pytest.raises(TypeError):
        tables.present([1, 2])  # type: ignore[arg-type]
