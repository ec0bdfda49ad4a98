"""The pinned-numbers check itself: it names every kind of change and accepts only the pinned values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pinned

TABLE = pd.DataFrame({"mix": ["baseline", "oracle"], "split": ["0-all", "0-all"], "ap50_standard": [0.25, np.nan],
                      "n_pred": [17, 20]})


def test_equal_tables_and_float_noise_pass() -> None:
    assert pinned.differences(TABLE, TABLE.copy()) == []
    noisy = TABLE.assign(ap50_standard=TABLE.ap50_standard * (1 + 1e-9))
    assert pinned.differences(noisy, TABLE) == []


@pytest.mark.parametrize("change, expected", [
    (lambda t: t.assign(ap50_standard=[0.2501, np.nan]), "row 0 ap50_standard: 0.2501 != pinned 0.25"),
    (lambda t: t.assign(ap50_standard=[0.25, 0.1]), "row 1 ap50_standard: 0.1 != pinned nan"),
    (lambda t: t.assign(n_pred=[17, 21]), "row 1 n_pred: 21 != pinned 20"),
    (lambda t: t.assign(mix=["baseline", "nst"]), "row 1 mix: 'nst' != pinned 'oracle'"),
    (lambda t: t.drop(columns="n_pred"), "columns"),
    (lambda t: t.iloc[:1], "1 rows != pinned 2"),
])
def test_every_kind_of_change_is_named(change, expected: str) -> None:  # noqa: ANN001 - a table edit
    found = pinned.differences(change(TABLE), TABLE, "metrics.csv")
    assert len(found) == 1 and expected in found[0] and found[0].startswith("metrics.csv")


def test_many_changes_are_counted_not_listed() -> None:
    many = pd.DataFrame({"x": np.arange(30.0)})
    found = pinned.differences(many + 1, many, limit=5)
    assert len(found) == 6 and "25 more" in found[-1]


def test_compare_and_pin_round_trip(tmp_path: Path) -> None:
    results, store = tmp_path / "results", tmp_path / "pinned"
    results.mkdir()
    assert all("not pinned" in line for line in pinned.compare(results, store))
    with pytest.raises(FileNotFoundError, match="run the smoke chain first"):
        pinned.pin(results, store)
    for name in pinned.FILES:
        TABLE.to_csv(results / name, index=False)
    assert [p.name for p in pinned.pin(results, store)] == list(pinned.FILES)
    assert pinned.compare(results, store) == []
    TABLE.assign(n_pred=[0, 0]).to_csv(results / "metrics.csv", index=False)
    (results / "fidelity.csv").unlink()
    found = pinned.compare(results, store)
    assert any("the run wrote no fidelity.csv" in line for line in found)
    assert sum("metrics.csv row" in line for line in found) == 2

