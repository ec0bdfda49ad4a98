"""The smoke chain's headline numbers, pinned: ``tests/pinned/smoke/<file>.csv`` against a fresh run's results.

A change to any number — from the code or from the lock — fails ``tests/test_book.py`` until it is pinned again
on purpose (``make pin``, which runs the smoke chain and calls this module's ``__main__``), so it shows up as a
reviewed diff of these CSVs. Detectors, CycleGAN, CUT, the NST (on the torch backend: TensorFlow's CPU NST gave a
different batch in each process, so the profiles use torch) and the bootstrap are exact on the CPU for a seed, so
every value must match (to a relative 1e-6), the NST's rows included.

    python tests/pinned.py RESULTS_DIR      # copy RESULTS_DIR's pinned files into tests/pinned/smoke/
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

PINNED = Path(__file__).resolve().parent / "pinned" / "smoke"
#: The result files whose every value is pinned.
FILES = ("metrics.csv", "bootstrap.csv", "fidelity.csv")
RTOL, ATOL = 1e-6, 1e-9
def _show(value: object) -> str:
    """A cell as its CSV reads: numbers plain, text quoted."""
    return repr(value) if isinstance(value, str) else str(value.item() if hasattr(value, "item") else value)


def differences(actual: pd.DataFrame, pinned: pd.DataFrame, name: str = "table", limit: int = 10) -> list[str]:
    """What differs between two tables: columns, row count, then cells (numbers to ``RTOL``/``ATOL``, NaN
    equal to NaN, text exactly); at most ``limit`` cells are named."""
    if list(actual.columns) != list(pinned.columns):
        return [f"{name}: columns {list(actual.columns)} != pinned {list(pinned.columns)}"]
    if len(actual) != len(pinned):
        return [f"{name}: {len(actual)} rows != pinned {len(pinned)}"]
    found: list[str] = []
    for column in actual.columns:
        a, p = actual[column], pinned[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(p):
            x, y = a.to_numpy(float), p.to_numpy(float)
            same = np.isclose(x, y, rtol=RTOL, atol=ATOL) | (np.isnan(x) & np.isnan(y))
        else:
            same = (a.astype(str) == p.astype(str)).to_numpy()
        for row in np.flatnonzero(~same):
            found.append(f"{name} row {row} {column}: {_show(a.iloc[row])} != pinned {_show(p.iloc[row])}")
    shown = found[:limit]
    if len(found) > limit:
        shown.append(f"{name}: … and {len(found) - limit} more differing cells")
    return shown


def compare(results: Path, pinned: Path = PINNED) -> list[str]:
    """Differences between a run's ``results/`` folder and the pinned files (a missing file is one)."""
    out: list[str] = []
    for name in FILES:
        if not (pinned / name).is_file():
            out.append(f"{pinned / name}: not pinned (run `make pin`)")
        elif not (results / name).is_file():
            out.append(f"{results / name}: the run wrote no {name}")
        else:
            out += differences(pd.read_csv(results / name), pd.read_csv(pinned / name), name)
    return out


def pin(results: Path, pinned: Path = PINNED) -> list[Path]:
    """Copy a run's pinned files from ``results`` into ``pinned`` (every one must exist)."""
    missing = [name for name in FILES if not (results / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{results}: no {', '.join(missing)} (run the smoke chain first)")
    pinned.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(results / name, pinned / name)) for name in FILES]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for path in pin(Path(sys.argv[1])):
        print(f"pinned {path}")
