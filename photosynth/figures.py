"""The plots the book shows (seaborn/matplotlib). Each function takes tidy data and returns a ``Figure``.

Every figure takes a ``caption`` suffix (e.g. ``"toy world, seed 0, profile demo"``) shown in its title so
a glued figure always carries its provenance. Notebooks may add their own plot functions here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

#: Training-log columns shown by :func:`training_curves` (ultralytics ``results.csv`` names) and their labels.
CURVES: dict[str, str] = {
    "train/box_loss": "train box loss",
    "val/box_loss": "val box loss",
    "metrics/mAP50(B)": "val mAP@0.5 (ultralytics)",
}
#: Colours of ground truth and predictions in detection examples.
GT_COLOUR, PRED_COLOUR = "#00d000", "#ff2020"


def _title(fig: Figure, title: str, caption: str) -> None:
    fig.suptitle(f"{title}\n({caption})" if caption else title, fontsize=10)


def training_curves(logs: pd.DataFrame, caption: str = "") -> Figure:
    """Loss and validation mAP per epoch, one line per mix (``logs``: results.csv rows plus a ``mix`` column)."""
    columns = [c for c in CURVES if c in logs.columns]
    if not columns:
        raise ValueError(f"training log has none of the columns {list(CURVES)}")
    fig, axes = plt.subplots(1, len(columns), figsize=(4 * len(columns), 3.2), squeeze=False)
    for ax, column in zip(axes[0], columns):
        sns.lineplot(data=logs, x="epoch", y=column, hue="mix", marker="o", ax=ax, legend=ax is axes[0][-1])
        ax.set_title(CURVES[column], fontsize=9)
        ax.set_ylabel("")
    if axes[0][-1].get_legend():
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1, 1), fontsize=8)
    _title(fig, "Detector training", caption)
    fig.tight_layout()
    return fig


def metric_heatmap(table: pd.DataFrame, title: str, caption: str = "", fmt: str = ".3f") -> Figure:
    """Annotated heatmap of a wide table (rows: mixes, columns: splits) of one metric."""
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * table.shape[1], 0.9 + 0.5 * table.shape[0]))
    sns.heatmap(table.astype(float), annot=True, fmt=fmt, cmap="viridis", cbar=False, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    _title(fig, title, caption)
    fig.tight_layout()
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
    fig, ax = plt.subplots(figsize=(1.2 + 1.2 * len(xs) * max(1, len(hues)) / 2, 3.4))
    palette = sns.color_palette(n_colors=len(hues))
    for i, name in enumerate(hues):
        part = data[data[hue] == name].set_index(x).reindex(xs)
        pos = np.arange(len(xs)) + (i - (len(hues) - 1) / 2) * width
        ax.bar(pos, part[value], width, label=str(name), color=palette[i])
        if lo and hi:
            err = np.vstack([part[value] - part[lo], part[hi] - part[value]])
            ax.errorbar(pos, part[value], yerr=np.clip(err, 0, None), fmt="none", ecolor="black", capsize=2, lw=1)
    ax.set_xticks(np.arange(len(xs)), [str(v) for v in xs])
    if len(xs) > 4:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
    ax.set_ylabel(value)
    ax.legend(fontsize=8, bbox_to_anchor=(1, 1), loc="upper left")
    _title(fig, title, caption)
    fig.tight_layout()
    return fig


def interval_plot(data: pd.DataFrame, caption: str = "", title: str = "Difference to the baseline") -> Figure:
    """Point estimate and interval of each difference (columns ``mix, split, diff, lo, hi``), zero marked."""
    rows = data.reset_index(drop=True)
    labels = [f"{r.mix} · {r.split}" for r in rows.itertuples()]
    fig, ax = plt.subplots(figsize=(6, 0.8 + 0.35 * len(rows)))
    y = np.arange(len(rows))[::-1]
    colours = ["tab:green" if lo > 0 else "tab:red" if hi < 0 else "tab:gray" for lo, hi in zip(rows.lo, rows.hi)]
    ax.hlines(y, rows.lo, rows.hi, colors=colours, lw=2)
    ax.scatter(rows["diff"], y, color=colours, zorder=3)
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_yticks(y, labels)
    ax.set_xlabel("mAP difference (mix − baseline)")
    _title(fig, title, caption)
    fig.tight_layout()
    return fig


def pr_curves(curves: pd.DataFrame, caption: str = "", title: str = "Precision–recall") -> Figure:
    """Precision over recall (columns ``mix, class, recall, precision``), one panel per class."""
    classes = list(dict.fromkeys(curves["class"]))
    fig, axes = plt.subplots(1, len(classes), figsize=(3.6 * len(classes), 3.3), squeeze=False)
    for ax, cls in zip(axes[0], classes):
        part = curves[curves["class"] == cls]
        sns.lineplot(data=part, x="recall", y="precision", hue="mix", ax=ax, legend=ax is axes[0][-1],
                     estimator=None, sort=False)
        ax.set(xlim=(0, 1), ylim=(0, 1.02), title=cls)
    if axes[0][-1].get_legend():
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1, 1), fontsize=8)
    _title(fig, title, caption)
    fig.tight_layout()
    return fig


def detection_examples(
    examples: Sequence[dict],
    caption: str = "",
    title: str = "Detections",
    columns: int = 2,
) -> Figure:
    """A grid of images with ground truth (green) and predictions (red, score shown).

    Each example: ``{"image": path or array, "gt": [[x, y, w, h], ...], "pred": [([x, y, w, h], score), ...],
    "label": str}`` (COCO boxes).
    """
    if not examples:
        raise ValueError("no detection examples to show")
    from PIL import Image

    rows = int(np.ceil(len(examples) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, example in zip(axes.flat, examples):
        image = example["image"]
        pixels = np.asarray(Image.open(image).convert("RGB")) if isinstance(image, (str, Path)) else image
        ax.imshow(pixels)
        for x, y, w, h in example.get("gt", []):
            ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, ec=GT_COLOUR, lw=1.2))
        for (x, y, w, h), score in example.get("pred", []):
            ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, ec=PRED_COLOUR, lw=1, ls="--"))
            ax.text(x, y, f"{score:.2f}", color="white", fontsize=6, va="bottom",
                    bbox={"facecolor": PRED_COLOUR, "pad": 0.5, "lw": 0})
        ax.set_title(example.get("label", ""), fontsize=8)
    _title(fig, f"{title} — green: ground truth, red dashed: predictions", caption)
    fig.tight_layout()
    return fig
