"""The study's data flow as a figure, drawn at build time with matplotlib (no web services)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

#: Stages: (key, label, column, row, notebook). Columns run left to right, rows top to bottom.
STAGES: tuple[tuple[str, str, float, float, str], ...] = (
    ("roots", "dataset roots\n(KITTI, vKITTI2, BDD100K\nor the toy world)", 0, 1, "01"),
    ("frames", "Frame records\n→ YOLO + COCO", 1, 1, "01"),
    ("domains", "BDD weather domains\n(style sources)", 2, 0, "01"),
    ("buckets", "BDD occlusion buckets\n0–c1 / 0–c2 / 0–all", 4.5, 2, "01"),
    ("translate", "translate clone frames\nCycleGAN · NST · augment", 3, 0, "02 · 03"),
    ("mixes", "training mixes\n(frame % 7 sources)", 4, 1, "04"),
    ("detectors", "YOLOv5 per mix\n(ultralytics)", 5, 1, "05"),
    ("metrics", "AP50 standard + legacy,\nbootstrap CIs, FID/KID", 6, 1, "06"),
)
EDGES: tuple[tuple[str, str], ...] = (
    ("roots", "frames"), ("frames", "domains"), ("frames", "buckets"), ("domains", "translate"),
    ("frames", "mixes"), ("translate", "mixes"), ("mixes", "detectors"), ("detectors", "metrics"),
    ("buckets", "metrics"),
)


def pipeline_diagram() -> Figure:
    """A box-and-arrow figure of the data flow, each box labelled with the notebook that runs it."""
    fig, ax = plt.subplots(figsize=(13, 3.6))
    width, height = 0.86, 0.62
    centre = {key: (col, -row) for key, _, col, row, _ in STAGES}
    for key, label, col, row, notebook in STAGES:
        x, y = centre[key]
        ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                    boxstyle="round,pad=0.02", facecolor="#e8f0fb", edgecolor="#2b5d9c"))
        ax.text(x, y + 0.05, label, ha="center", va="center", fontsize=8)
        ax.text(x, y - height / 2 + 0.07, f"notebook {notebook}", ha="center", va="center",
                fontsize=7, color="#2b5d9c", style="italic")
    for start, end in EDGES:
        (x0, y0), (x1, y1) = centre[start], centre[end]
        ax.annotate("", xy=(x1 - width / 2 if x1 > x0 else x1, y1 if x1 > x0 else y1 + height / 2),
                    xytext=(x0 + width / 2 if x1 > x0 else x0, y0 if x1 > x0 else y0 - height / 2),
                    arrowprops={"arrowstyle": "->", "color": "#444444", "lw": 1.2})
    ax.set_xlim(-0.6, max(c for *_, c, _, _ in STAGES) + 0.6)
    ax.set_ylim(-2.5, 0.5)
    ax.axis("off")
    fig.tight_layout()
    return fig
