"""Tables as the report shows them: one presentation helper for every glued table.

:func:`present` turns a pandas table into a :class:`Table` — no integer index, human column names with units, a
fixed number of decimals per kind of value (:data:`DECIMALS`), "—" plus a footnote where a value does not exist,
constant columns moved into the caption. :func:`interval_table` pivots a long table of differences with intervals
(``diff, lo, hi``) into rows × metric cells ``diff [lo, hi]``, marking those whose interval excludes 0. A
:class:`Table` renders the same HTML in JupyterLab and in the book (glue it like any output).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Decimals shown per kind of value ("percent": a fraction shown as %, "pct": a value already in %).
DECIMALS: dict[str, int] = {
    "ap": 3, "fid": 1, "kid": 4, "seconds": 0, "count": 0, "share": 2, "ssim": 3, "psnr": 1, "ratio": 2,
    "percent": 0, "pct": 1, "number": 3,
}
#: Kind of a column, guessed from its name when not given (first match wins; integers are always counts).
KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\bkid", "kid"), (r"\bfid", "fid"), (r"psnr", "psnr"), (r"ssim", "ssim"), (r"share|fraction", "share"),
    (r"second|\btime\b|[(]s[)]", "seconds"), (r"%", "pct"), (r"\blevel\b|percent", "percent"),
    (r"ap50|\bmap\b|\bap\b|diff|\blo\b|\bhi\b|gap", "ap"),
)
#: Human names of the study's column names (anything else: underscores become spaces).
LABELS: dict[str, str] = {
    "ap50_standard": "AP@0.5 standard", "ap50_legacy": "AP@0.5 legacy", "map": "AP@0.5",
    "diff": "difference", "lo": "low", "hi": "high", "share_positive": "share of resamples > 0",
    "n_resamples": "bootstrap resamples", "level": "interval level", "fid": "FID", "kid": "KID",
    "kid_mean": "KID", "kid_std": "KID std", "bdd_domain": "BDD domain", "seconds": "time (s)",
}
MISSING = "—"
#: Marker of a difference whose interval excludes 0.
MARK = "★"


@dataclass
class Table:
    """A table ready to show: the cells as text, which cells are marked (bold), a caption and footnotes."""

    cells: pd.DataFrame
    caption: str = ""
    notes: list[str] = field(default_factory=list)
    marked: pd.DataFrame | None = None
    show_index: bool = True

    def styler(self) -> Any:
        """The pandas ``Styler`` that draws the table (numbers right-aligned, marked cells bold)."""
        style = self.cells.style
        if not self.show_index:
            style = style.hide(axis="index")
        if self.marked is not None:
            bold = self.marked.map(lambda m: "font-weight: bold" if m else "")
            style = style.apply(lambda _: bold, axis=None)
        numeric = [c for c in self.cells.columns if self.cells[c].map(_looks_numeric).all()]
        style = style.set_properties(subset=numeric, **{"text-align": "right", "font-variant-numeric": "tabular-nums",
                                                         "padding-left": "0.8em"})
        style = style.set_table_attributes('class="dataframe photosynth-table"')
        return style.set_caption(html.escape(self.caption)) if self.caption else style

    def to_html(self) -> str:
        """The table and its footnotes as one HTML fragment."""
        notes = "".join(f"<br>{html.escape(n)}" if i else html.escape(n) for i, n in enumerate(self.notes))
        foot = f'<p class="photosynth-table-notes"><small>{notes}</small></p>' if notes else ""
        return f'<div class="photosynth-table">{self.styler().to_html()}{foot}</div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        parts = [self.caption] if self.caption else []
        parts.append(self.cells.to_string(index=self.show_index))
        return "\n".join(parts + self.notes)


def _looks_numeric(text: Any) -> bool:
    return bool(re.fullmatch(r"[−+\-]?[\d,]*\.?\d+( \[.*\])?\s*★?|—", str(text)))


def label(name: Any, labels: Mapping[str, str] | None = None, value: bool = False) -> str:
    """The human name of a column: ``labels``, then :data:`LABELS`, else underscores → spaces. A row label
    (``value``) is data, e.g. a domain name: only renamed when ``labels`` or :data:`LABELS` name it."""
    name = str(name)
    merged = {**LABELS, **(labels or {})}
    return merged.get(name, name if value else name.replace("_", " "))


def kind_of(name: Any, values: pd.Series, kinds: Mapping[str, str] | None = None) -> str | None:
    """The kind of a column (a key of :data:`DECIMALS`), or ``None`` for text."""
    key = " ".join(map(str, name)) if isinstance(name, tuple) else str(name)
    for part in (name if isinstance(name, tuple) else (name,)):
        if kinds and str(part) in kinds:
            return kinds[str(part)]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return "count"
    lowered = key.lower()
    return next((kind for pattern, kind in KIND_PATTERNS if re.search(pattern, lowered)), "number")


def format_value(value: Any, kind: str | None, signed: bool = False) -> str:
    """One cell as text: ``kind``'s decimals (thousands separated), "—" for a value that does not exist."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if kind is None:
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, (list, tuple)):
            return ", ".join(map(str, value))
        return str(value)
    number = round(float(value) * (100 if kind == "percent" else 1), DECIMALS[kind]) + 0.0  # no "−0.000"
    text = f"{number:{'+' if signed else ''},.{DECIMALS[kind]}f}" + ("%" if kind == "percent" else "")
    return text.replace("-", "−")  # a real minus sign


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, (str, list, tuple)) and bool(pd.isna(value)))


#: Kinds of constant column that move into the caption (settings, counts); a measured value stays in its table.
MOVABLE = {None, "count", "percent"}


def _constants(frame: pd.DataFrame, keep: Iterable[Any], kinds: Mapping[str, str] | None = None) -> list[Any]:
    """Flat columns with one value throughout, of a :data:`MOVABLE` kind; never every column."""
    if len(frame) < 2 or isinstance(frame.columns, pd.MultiIndex):
        return []
    keep = set(keep)
    out = []
    for column in frame.columns:
        values = frame[column]
        if column in keep or values.map(_is_missing).any() or kind_of(column, values, kinds) not in MOVABLE:
            continue
        if values.map(lambda v: repr(v)).nunique() == 1:
            out.append(column)
    return out if len(out) < len(frame.columns) else []


def present(
    frame: pd.DataFrame,
    caption: str = "",
    *,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    missing_note: str = "no such value",
    keep: Sequence[Any] = (),
    notes: Sequence[str] = (),
) -> Table:
    """A table as the report shows it.

    ``labels``: human names (with units) of columns, index names and index/column values, over :data:`LABELS`.
    ``kinds``: a :data:`DECIMALS` key per column name (or per level value of a column MultiIndex); guessed from the
    name otherwise. Columns of settings or counts with one value in every row (not in ``keep``) move into the caption
    (measured values stay, and a pivoted table keeps every column). A default integer
    index is dropped; any other index becomes the row labels. Missing values show as "—" with ``missing_note``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.copy()
    show_index = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)
    constants = _constants(frame, keep, kinds)
    moved = [f"{_column_label(c, labels)}: {format_value(frame[c].iloc[0], kind_of(c, frame[c], kinds))}"
             for c in constants]
    frame = frame.drop(columns=constants)
    cells = pd.DataFrame(index=frame.index)
    missing = False
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]
        kind = kind_of(column, values, kinds)
        missing |= bool(values.map(_is_missing).any())
        cells[position] = [format_value(v, kind) for v in values]
    cells.columns = _relabel_index(frame.columns, labels)
    cells.index = _relabel_index(frame.index, labels, values=True)
    caption = "; ".join(part for part in (caption, "; ".join(moved)) if part)
    footnotes = [*notes, *([f"{MISSING} {missing_note}."] if missing else [])]
    return Table(cells, caption, footnotes, show_index=show_index)


def _column_label(column: Any, labels: Mapping[str, str] | None) -> str:
    return " ".join(label(part, labels) for part in column) if isinstance(column, tuple) else label(column, labels)


def _relabel_index(index: pd.Index, labels: Mapping[str, str] | None, values: bool = False) -> pd.Index:
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return index
    names = [label(n, labels) if n is not None else None for n in index.names]
    if isinstance(index, pd.MultiIndex):
        tuples = [tuple(label(v, labels, values) for v in t) for t in index]
        return pd.MultiIndex.from_tuples(tuples, names=names)
    return pd.Index([label(v, labels, values) for v in index], name=names[0])


def interval_table(
    diffs: pd.DataFrame,
    caption: str = "",
    *,
    rows: Sequence[str] = ("mix", "split"),
    columns: str = "metric",
    value: str = "diff",
    lo: str = "lo",
    hi: str = "hi",
    kind: str = "ap",
    labels: Mapping[str, str] | None = None,
) -> Table:
    """Differences with intervals, pivoted: one row per ``rows``, one ``diff [lo, hi]`` column per ``columns``.

    Cells whose interval excludes 0 are bold and marked :data:`MARK` (explained in a footnote); a combination with no
    value shows "—". Columns of ``diffs`` with one value throughout (seed, resamples, level…) go to the caption.
    """
    needed = {*rows, columns, value, lo, hi}
    absent = sorted(needed - set(diffs.columns))
    if absent:
        raise ValueError(f"interval table needs the column(s) {absent}; got {list(diffs.columns)}")
    if diffs.duplicated(subset=[*rows, columns]).any():
        raise ValueError(f"more than one row per {[*rows, columns]}: filter the table first")
    constants = _constants(diffs, needed)
    moved = [f"{label(c, labels)}: {format_value(diffs[c].iloc[0], kind_of(c, diffs[c]))}" for c in constants]

    def cell(row: pd.Series) -> str:
        if any(_is_missing(row[k]) for k in (value, lo, hi)):
            return MISSING
        text = (f"{format_value(row[value], kind, signed=True)} "
                f"[{format_value(row[lo], kind, signed=True)}, {format_value(row[hi], kind, signed=True)}]")
        return f"{text} {MARK}" if _excludes_zero(row[lo], row[hi]) else text

    shown = diffs.assign(_cell=diffs.apply(cell, axis=1),
                         _mark=[_excludes_zero(a, b) for a, b in zip(diffs[lo], diffs[hi])])
    order = list(dict.fromkeys(diffs[columns]))
    keys = diffs[list(rows)].drop_duplicates()  # grouped by the first row key, each level in order of appearance
    ranks = {c: {v: i for i, v in enumerate(dict.fromkeys(diffs[c]))} for c in rows}
    keys = keys.sort_values(list(rows), key=lambda col: col.map(ranks[col.name]), kind="stable")
    index = pd.MultiIndex.from_frame(keys) if len(rows) > 1 else pd.Index(keys[rows[0]], name=rows[0])
    cells = shown.pivot_table(index=list(rows), columns=columns, values="_cell", aggfunc="first",
                              sort=False).reindex(index=index, columns=order)
    marked = shown.pivot_table(index=list(rows), columns=columns, values="_mark", aggfunc="first",
                               sort=False).reindex(index=index, columns=order)
    missing = bool(cells.isna().to_numpy().any())
    cells = cells.fillna(MISSING)
    marked = marked.fillna(False).astype(bool)
    cells.columns = pd.Index([f"{label(c, labels)}: {label(value, labels)} [interval]" for c in order])
    marked.columns = cells.columns
    cells.index = marked.index = _relabel_index(cells.index, labels, values=True)
    cells.columns.name = None
    notes = [f"{MARK} bold: the interval excludes 0."]
    if missing:
        notes.append(f"{MISSING} no value for this combination.")
    caption = "; ".join(part for part in (caption, "; ".join(moved)) if part)
    return Table(cells, caption, notes, marked=marked, show_index=True)


def _excludes_zero(low: Any, high: Any) -> bool:
    return not (_is_missing(low) or _is_missing(high)) and (float(low) > 0 or float(high) < 0)
