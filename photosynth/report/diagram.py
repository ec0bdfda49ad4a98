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
    """A box-and-arrow figure of the data flow, each box labelled with the notebook that runs it.

    Drawn top to bottom (a stage's column in :data:`STAGES` is its row on the page) to fit the book's text column.
    """
    from photosynth.report.figures import WIDTH_IN, book_style

    with book_style():
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 7.2))
        width, height = 0.94, 0.74
        centre = {key: (row, -col) for key, _, col, row, _ in STAGES}
        for key, label, col, row, notebook in STAGES:
            x, y = centre[key]
            ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                        boxstyle="round,pad=0.02", facecolor="#e8f0fb", edgecolor="#2b5d9c"))
            ax.text(x, y + 0.08, label, ha="center", va="center")
            ax.text(x, y - height / 2 + 0.1, f"notebook {notebook}", ha="center", va="center",
                    color="#2b5d9c", style="italic")
        for start, end in EDGES:
            (x0, y0), (x1, y1) = centre[start], centre[end]
            ax.annotate("", xy=(x1, y1 + height / 2), xytext=(x0, y0 - height / 2),
                        arrowprops={"arrowstyle": "->", "color": "#444444", "lw": 1.2})
        ax.set_xlim(-0.55, max(r for *_, r, _ in STAGES) + 0.55)
        ax.set_ylim(-max(c for *_, c, _, _ in STAGES) - 0.5, 0.5)
        ax.axis("off")
        fig.tight_layout()
    return fig
