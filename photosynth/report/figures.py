"""The plots the book shows (seaborn/matplotlib). Each function takes tidy data and returns a ``Figure``.

Every figure takes a ``caption`` suffix (e.g. ``"toy world, seed 0, profile demo"``) shown in its title so
a glued figure always carries its provenance. Notebooks may add their own plot functions here.

All figures share one style (:func:`book_style`), sized for the book's text column: drawn :data:`WIDTH_IN` wide
(or narrower), no text below :data:`MIN_FONT_PT`, so at the column's width no label is smaller than the page's
footnotes. A figure shown or glued in a notebook is saved as a PNG that records its smallest font size and its dpi
(:data:`FONT_KEY`, :data:`DPI_KEY`); the book check reads them back to prove every figure is legible as displayed.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from PIL import Image

from photosynth.frames import CLASSES
from photosynth.report.tables import label
from photosynth.study.fidelity import CLONE, ORACLE, VKITTI
from photosynth.study.mixes import MixResult, sample_examples

#: Training-log columns shown by :func:`training_curves` (ultralytics ``results.csv`` names) and their labels.
CURVES: dict[str, str] = {
    "train/box_loss": "train box loss",
    "val/box_loss": "val box loss",
    "metrics/mAP50(B)": "val mAP@0.5\n(ultralytics)",
}
#: Colours of ground truth and predictions in detection examples.
GT_COLOUR, PRED_COLOUR = "#00d000", "#ff2020"
#: The book's text column, measured in Chromium at a 1280 × 900 window (sphinx-book-theme): 688 CSS px, body text
#: 16 px, small print (``<small>``, the tables' footnotes; the theme sets footnotes at body size) 14.4 px.
COLUMN_PX, SMALL_PRINT_PX = 688, 14.4
#: Width of a full-column figure in inches. Saved with 0.1 in margins each side and shrunk into the column, a point
#: of text becomes COLUMN_PX / (72 × (WIDTH_IN + 0.2)) ≈ 1.49 CSS px.
WIDTH_IN = 6.2
#: Smallest text a figure may use, in points: 10 pt at WIDTH_IN shows at about 14.9 CSS px, above the small print.
MIN_FONT_PT = 10.0
#: Resolution figures are saved at (sharp on high-density screens; the size on the page does not depend on it).
DPI = 150
#: PNG text keys of the record the book check reads.
FONT_KEY, DPI_KEY = "photosynth:min-font-pt", "photosynth:dpi"
#: The shared matplotlib settings (on top of seaborn's "ticks" style).
STYLE: dict[str, object] = {
    "figure.dpi": DPI, "savefig.dpi": DPI, "font.size": MIN_FONT_PT, "axes.titlesize": 11, "axes.labelsize": 10.5,
    "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT, "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT, "figure.titlesize": 11.5, "axes.spines.top": False,
    "axes.spines.right": False,
}


@contextmanager
def book_style() -> Iterator[None]:
    """The report's figure style for the figures made inside the ``with`` block.

    On leaving it, each new figure is laid out once and its layout frozen, so every rendering of it (the glued
    copy, the one a notebook shows) is the same image; and notebooks record each figure's smallest font in the PNG
    they show (:func:`record_fonts_in_notebook`).
    """
    before = set(plt.get_fignums())
    with sns.axes_style("ticks"), plt.rc_context(STYLE):
        yield
        for number in sorted(set(plt.get_fignums()) - before):
            fig = plt.figure(number)
            fig.canvas.draw()
            fig.set_layout_engine("none")
    record_fonts_in_notebook()


def heading(title: str, caption: str = "", width: int = 72) -> str:
    """A figure title with its ``(caption)`` below, wrapped to lines that fit the column at the title size."""
    lines = textwrap.wrap(title, width) + (textwrap.wrap(f"({caption})", width) if caption else [])
    return "\n".join(lines)


def figure_size(height_in: float, width_in: float = WIDTH_IN) -> tuple[float, float]:
    """``(width, height)`` in inches, never wider than the column."""
    return min(width_in, WIDTH_IN), height_in


def _visible_texts(artist: Artist) -> Iterator[Text]:
    if not artist.get_visible():
        return
    if isinstance(artist, Text) and artist.get_text().strip():
        yield artist
    for child in artist.get_children():
        yield from _visible_texts(child)


def smallest_font_pt(fig: Figure) -> float | None:
    """The smallest font size (points) of any visible, non-empty text in ``fig``; ``None`` when it has no text."""
    fig.canvas.draw_idle()
    sizes = [t.get_fontsize() for t in _visible_texts(fig)]
    return min(sizes) if sizes else None


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """``fig`` as PNG bytes (tight box) with its smallest font size and dpi written in the PNG's text chunks."""
    dpi = float(dpi or fig.dpi)
    smallest = smallest_font_pt(fig)
    metadata = {DPI_KEY: f"{dpi:g}", FONT_KEY: "none" if smallest is None else f"{smallest:g}"}
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor=fig.get_facecolor(), metadata=metadata)
    return buffer.getvalue()


def record_fonts_in_notebook() -> bool:
    """Make IPython show (and ``myst_nb.glue`` store) every matplotlib figure as a :func:`figure_png`; False
    outside IPython. Idempotent; called by :func:`book_style`."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    png = shell.display_formatter.formatters["image/png"]
    png.for_type(Figure, lambda fig: base64.b64encode(figure_png(fig)).decode("ascii"))
    return True


def _title(fig: Figure, title: str, caption: str) -> None:
    fig.suptitle(heading(title, caption))


def legend_below(fig: Figure, ax: plt.Axes, columns: int = 4) -> None:
    """Move ``ax``'s legend under the figure, spread over ``columns`` (keeps the panels at full width)."""
    legend = ax.get_legend()
    if legend is None:
        return
    handles, labels = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    title = legend.get_title().get_text()
    legend.remove()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(columns, len(labels)), title=title or None,
               frameon=False)


def training_curves(logs: pd.DataFrame, caption: str = "") -> Figure:
    """Loss and validation mAP per epoch, one line per mix (``logs``: results.csv rows plus a ``mix`` column)."""
    columns = [c for c in CURVES if c in logs.columns]
    if not columns:
        raise ValueError(f"training log has none of the columns {list(CURVES)}")
    mixes = list(dict.fromkeys(logs["mix"]))
    with book_style():
        fig, axes = plt.subplots(1, len(columns), figsize=figure_size(3.4), squeeze=False, layout="constrained")
        for ax, column in zip(axes[0], columns):
            sns.lineplot(data=logs, x="epoch", y=column, hue="mix", hue_order=mixes, marker="o", ax=ax,
                         legend=ax is axes[0][-1])
            ax.set_title(CURVES[column])
            ax.set_ylabel("")
        legend_below(fig, axes[0][-1])
        _title(fig, "Detector training", caption)
    return fig


def metric_heatmap(table: pd.DataFrame, title: str, caption: str = "", fmt: str = ".3f") -> Figure:
    """Annotated heatmap of a wide table (rows: mixes, columns: splits) of one metric."""
    with book_style():
        fig, ax = plt.subplots(figsize=figure_size(1.3 + 0.4 * table.shape[0], 1.6 + 1.0 * table.shape[1]),
                               layout="constrained")
        sns.heatmap(table.astype(float), annot=True, fmt=fmt, cmap="viridis", cbar=False, ax=ax,
                    annot_kws={"fontsize": MIN_FONT_PT})
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="y", rotation=0)
        if table.shape[1] > 4:
            plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
        _title(fig, title, caption)
    return fig


def metric_bars(
    data: pd.DataFrame,
    value: str,
    x: str = "split",
    hue: str = "mix",
    lo: str | None = None,
    hi: str | None = None,
    title: str = "",
    caption: str = "",
) -> Figure:
    """Grouped bars of ``value`` per ``x`` and ``hue``; ``lo``/``hi`` columns draw interval whiskers."""
    xs = list(dict.fromkeys(data[x]))
    hues = list(dict.fromkeys(data[hue]))
    width = 0.8 / max(1, len(hues))
    with book_style():
        fig, ax = plt.subplots(figsize=figure_size(3.6, 1.6 + 0.5 * len(xs) * max(1, len(hues))),
                               layout="constrained")
        palette = sns.color_palette(n_colors=len(hues))
        for i, name in enumerate(hues):
            part = data[data[hue] == name].set_index(x).reindex(xs)
            pos = np.arange(len(xs)) + (i - (len(hues) - 1) / 2) * width
            ax.bar(pos, part[value], width, label=str(name), color=palette[i])
            if lo and hi:
                err = np.vstack([part[value] - part[lo], part[hi] - part[value]])
                ax.errorbar(pos, part[value], yerr=np.clip(err, 0, None), fmt="none", ecolor="black", capsize=2,
                            lw=1)
        ax.set_xticks(np.arange(len(xs)), [str(v) for v in xs])
        if len(xs) > 4:
            plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
        ax.set_ylabel(label(value))
        ax.legend(title=hue)
        legend_below(fig, ax)  # 4 names a row: six did not fit the column (cyclegan+vkitti)
        _title(fig, title, caption)
    return fig


def interval_plot(data: pd.DataFrame, caption: str = "", title: str = "Difference to the baseline") -> Figure:
    """Point estimate and interval of each difference (columns ``mix, split, diff, lo, hi``), zero marked."""
    rows = data.reset_index(drop=True)
    labels = [f"{r.mix} · {r.split}" for r in rows.itertuples()]
    with book_style():
        fig, ax = plt.subplots(figsize=figure_size(1.2 + 0.3 * len(rows)), layout="constrained")
        y = np.arange(len(rows))[::-1]
        colours = ["tab:green" if lo > 0 else "tab:red" if hi < 0 else "tab:gray" for lo, hi in zip(rows.lo, rows.hi)]
        ax.hlines(y, rows.lo, rows.hi, colors=colours, lw=2)
        ax.scatter(rows["diff"], y, color=colours, zorder=3)
        ax.axvline(0, color="black", lw=0.8, ls="--")
        ax.set_yticks(y, labels)
        ax.set_xlabel("mAP difference, mix − baseline\n(green: interval above 0, red: below 0, grey: contains 0)")
        _title(fig, title, caption)
    return fig


def pr_curves(curves: pd.DataFrame, caption: str = "", title: str = "Precision–recall") -> Figure:
    """Precision over recall (columns ``mix, class, recall, precision``), one panel per class."""
    classes = list(dict.fromkeys(curves["class"]))
    mixes = list(dict.fromkeys(curves["mix"]))  # one colour per mix in every panel, also where a mix lacks a class
    with book_style():
        fig, axes = plt.subplots(1, len(classes), figsize=figure_size(3.6), squeeze=False, layout="constrained")
        for ax, cls in zip(axes[0], classes):
            part = curves[curves["class"] == cls]
            sns.lineplot(data=part, x="recall", y="precision", hue="mix", hue_order=mixes, ax=ax,
                         legend=ax is axes[0][-1], estimator=None, sort=False)
            ax.set(xlim=(0, 1), ylim=(0, 1.02), title=cls)
        legend_below(fig, axes[0][-1])
        _title(fig, title, caption)
    return fig


#: Most images side by side in :func:`detection_examples` (more would shrink them below legibility).
MAX_COLUMNS = 2


def detection_examples(
    examples: Sequence[dict],
    caption: str = "",
    title: str = "Detections",
    columns: int = 2,
) -> Figure:
    """A grid of images (at most :data:`MAX_COLUMNS` per row) with ground truth (green) and predictions (red,
    dashed, score shown), and a legend of the box colours.

    Each example: ``{"image": path or array, "gt": [[x, y, w, h], ...], "pred": [([x, y, w, h], score), ...],
    "label": str}`` (COCO boxes).
    """
    if not examples:
        raise ValueError("no detection examples to show")

    columns = max(1, min(columns, MAX_COLUMNS, len(examples)))
    images = [np.asarray(Image.open(e["image"]).convert("RGB")) if isinstance(e["image"], (str, Path)) else e["image"]
              for e in examples]
    rows = int(np.ceil(len(examples) / columns))
    width = WIDTH_IN / columns
    heights = [width * max(im.shape[0] / im.shape[1] for im in images[r * columns:(r + 1) * columns]) + 0.5
               for r in range(rows)]  # each row as tall as its tallest image, plus its titles
    with book_style():
        fig, axes = plt.subplots(rows, columns, figsize=(WIDTH_IN, sum(heights) + 0.9), squeeze=False,
                                 layout="constrained", gridspec_kw={"height_ratios": heights})
        for ax in axes.flat:
            ax.axis("off")
        for ax, example, pixels in zip(axes.flat, examples, images):
            ax.imshow(pixels)
            for x, y, w, h in example.get("gt", []):
                ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, ec=GT_COLOUR, lw=1.5))
            for (x, y, w, h), score in example.get("pred", []):
                ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, ec=PRED_COLOUR, lw=1.2, ls="--"))
                ax.text(x, y, f"{score:.2f}", color="white", fontsize=MIN_FONT_PT, va="bottom", clip_on=True,
                        bbox={"facecolor": PRED_COLOUR, "pad": 0.5, "lw": 0})
            ax.set_title(heading(example.get("label", ""), width=int(34 * MAX_COLUMNS / columns)), fontsize=MIN_FONT_PT)
        handles = [Line2D([], [], color=GT_COLOUR, lw=2, label="ground truth")]
        if any(example.get("pred") for example in examples):
            handles.append(Line2D([], [], color=PRED_COLOUR, lw=2, ls="--", label="prediction (score)"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
        _title(fig, title, caption)
    return fig


def occlusion_histogram(per_image: Mapping[int | str, int], cuts: Sequence[int], caption: str = "") -> Figure:
    """Bar chart: images by number of occluded vehicles, with the bucket cut points as dashed lines."""
    counts = {int(k): int(v) for k, v in per_image.items()}
    xs = np.arange(max(counts, default=0) + 1)
    with book_style():
        fig, ax = plt.subplots(figsize=figure_size(3.4), layout="constrained")
        ax.bar(xs, [counts.get(int(x), 0) for x in xs], color="#4c72b0")
        for cut in cuts:
            ax.axvline(cut + 0.5, color="#c44e52", ls="--", lw=1.2)
            ax.text(cut + 0.6, ax.get_ylim()[1] * 0.92, f"cut {cut}", color="#c44e52")
        ax.set_xlabel("occluded vehicles (Car/Van/Truck) in the image")
        ax.set_ylabel("images")
        ax.set_title(heading("BDD100K evaluation images by occluded vehicles", caption))
    return fig


def class_counts_plot(stats: pd.DataFrame, caption: str = "") -> Figure:
    """Grouped bars: boxes per class and dataset (symlog scale: the datasets differ by orders of magnitude)."""
    table = stats.groupby(["dataset", "class"], as_index=False)[["boxes", "occluded"]].sum()
    with book_style():
        fig, ax = plt.subplots(figsize=figure_size(3.4), layout="constrained")
        sns.barplot(data=table, x="dataset", y="boxes", hue="class", hue_order=list(CLASSES), ax=ax)
        ax.set_yscale("symlog")
        ax.set_ylabel("boxes (symlog)")
        ax.set_title(heading("Boxes per class", caption))
    return fig


def mix_samples_figure(result: MixResult, per_source: int = 1, seed: int = 0, caption: str = "",
                       columns: int = 4) -> Figure:
    """Sample frames of every source of a mix (:func:`photosynth.study.mixes.sample_examples`) with their
    ground-truth boxes."""
    title = f"Mix {result.mix}: sample frames per source"
    return detection_examples(sample_examples(result.items, per_source, seed), caption, title, columns)


def fidelity_figure(table: pd.DataFrame, weather: str, caption: str = "") -> Figure:
    """One weather's fidelity (:mod:`photosynth.study.fidelity`): SSIM and PSNR against the oracle, KID to the target
    photos on the labelled network and on the reference detector's features (± std over subsets), the reference
    detector's recall on the held-out frames and the content kept — one bar per set, references in grey."""
    part = table[table.weather == weather].reset_index(drop=True)
    if part.empty:
        raise ValueError(f"no fidelity rows for weather {weather!r}")
    names = list(part.translator)
    translators = [n for n in names if n not in (CLONE, VKITTI, ORACLE)]
    colours = dict(zip(translators, sns.color_palette("deep", len(translators))))
    colours |= {CLONE: "#9a9a9a", VKITTI: "#c8c8c8", ORACLE: "#4a4a4a"}
    target = f"BDD {part.bdd_domain[0]}"
    net = str(part.features[0]).split(" — ")[0].split(" (")[0]
    detector = str(part.detector_features[0]).split(" (")[0] if part.detector_features.notna().any() else "detector"
    panels = (("ssim", "SSIM to the oracle ↑", None), ("psnr", "PSNR to the oracle (dB) ↑", None),
              ("kid", f"KID to {target} ↓\n{net}", "kid_std"),
              ("detector_kid", f"KID to {target} ↓\n{detector}", "detector_kid_std"),
              ("recall", "recall, held-out frames", None), ("content_kept", "content kept ↑", None))  # fmt: skip
    y = np.arange(len(names))
    with book_style():
        fig, axes = plt.subplots(3, 2, figsize=(WIDTH_IN, 2.0 + 0.8 * len(names)), sharey=True, squeeze=False,
                                 layout="constrained")
        for ax, (column, title, spread) in zip(axes.flat, panels):
            values = part[column].astype(float)
            ax.barh(y, values.fillna(0), color=[colours[n] for n in names])
            ends = values
            if spread is not None:
                errors = part[spread].astype(float)
                ax.errorbar(values, y, xerr=errors, fmt="none", ecolor="black", capsize=2, lw=1)
                ends = values + errors.fillna(0)
            for yi, name, v, end in zip(y, names, values, ends):
                paired_ref = name == ORACLE and column in ("ssim", "psnr")
                text = f" {v:.3g}" if np.isfinite(v) else " = reference" if paired_ref else " n/a"
                ax.text(max(end, 0) if np.isfinite(end) else 0, yi, text, va="center")
            if column == "content_kept":
                ax.axvline(1.0, color="black", lw=0.8)
                ax.axvline(0.8, color="black", lw=0.8, ls="--")
            if column in ("ssim", "psnr") and values.isna().all():
                ax.text(0.5, 0.5, "no oracle\n(real data)", transform=ax.transAxes, ha="center", va="center")
            ax.set_title("\n".join(textwrap.fill(line, 34) for line in title.split("\n")))
            ax.margins(x=0.35)
        for ax in axes[:, 0]:
            ax.set_yticks(y, names)
        axes[0, 0].invert_yaxis()
        scored = (f"; recall and content kept on {int(part.n_scored.max())} held-out"
                  if part.n_scored.notna().any() else "")
        fig.suptitle(heading(f"Translation fidelity: {weather} (n = {int(part.n_frames.max())} frames{scored})",
                             caption))  # fmt: skip
    return fig
