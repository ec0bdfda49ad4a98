"""The shared figure style: every figure fits the book column, uses no text below the limit, and its PNG records
the smallest font and dpi that the book check reads back."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from photosynth.report import figures  # noqa: E402
from photosynth.report.diagram import pipeline_diagram  # noqa: E402
from photosynth.report import gallery  # noqa: E402
from photosynth.report import translators  # noqa: E402

MIXES = ["baseline", "cyclegan", "nst", "augment"]
SPLITS = ["0-5", "0-10", "0-all"]
RNG = np.random.default_rng(0)
IMAGE = (RNG.random((40, 130, 3)) * 255).astype("uint8")


def _record(fig: plt.Figure) -> tuple[tuple[int, int], dict]:
    png = figures.figure_png(fig)
    plt.close(fig)
    with Image.open(io.BytesIO(png)) as image:
        return image.size, dict(image.text)


FIGURES = {
    "training_curves": lambda: figures.training_curves(pd.DataFrame(
        [{"mix": m, "epoch": e, "train/box_loss": 1.0 / (e + 1), "val/box_loss": 1.2, "metrics/mAP50(B)": 0.1 * e}
         for m in MIXES for e in range(3)]), "toy world, seed 0, profile smoke"),
    "metric_heatmap": lambda: figures.metric_heatmap(pd.DataFrame(
        RNG.random((4, 6)), index=MIXES, columns=[f"{a} {s}" for a in ("standard", "legacy") for s in SPLITS]),
        "AP@0.5 per bucket", "toy world, seed 0, profile smoke"),
    "metric_bars": lambda: figures.metric_bars(pd.DataFrame(
        [{"mix": m, "split": s, "ap50_standard": 0.5} for m in MIXES for s in ["daytime_clear", "daytime_overcast",
         "daytime_rainy", "daytime_foggy", "daytime_snowy", "night", "dawn_dusk"]]),
        "ap50_standard", title="per weather", caption="toy world, seed 0, profile smoke"),
    "interval_plot": lambda: figures.interval_plot(pd.DataFrame(
        [{"mix": m, "split": s, "diff": 0.01, "lo": -0.02, "hi": 0.04} for m in MIXES[1:] for s in SPLITS])),
    "pr_curves": lambda: figures.pr_curves(pd.DataFrame(
        [{"mix": m, "class": c, "recall": r, "precision": 1 - r} for m in MIXES for c in ("Car", "Truck")
         for r in np.linspace(0, 1, 5)])),
    "detection_examples": lambda: figures.detection_examples(
        [{"image": IMAGE, "gt": [[5, 5, 20, 10]], "pred": [([6, 6, 20, 10], 0.9)], "label": f"0-all · {m}"}
         for m in MIXES], "toy world", columns=4),
    "image_grid": lambda: gallery.image_grid({w: {c: IMAGE for c in ("vKITTI2 clone", "BDD style photo", "NST",
                                                                     "albumentations")} for w in ("fog", "rain")},
                                             "Clone frames translated", "profile smoke, seed 0"),
    "nst_losses": lambda: gallery.loss_curves(pd.DataFrame(
        [{"weather": w, "step": s, "total": 3.0, "content": 1.0, "style": 2.0, "tv": 0.1}
         for w in ("fog", "overcast", "rain") for s in range(4)])),
    "cyclegan_losses": lambda: translators.plot_losses(pd.DataFrame(
        [{"weather": w, "step": s, "loss": name, "value": 1.0} for w in ("fog", "rain") for s in range(3)
         for names in translators.PANELS.values() for name in names]), "profile smoke"),
    "side_by_side": lambda: translators.plot_side_by_side([[("original", IMAGE), ("fog", IMAGE), ("overcast", IMAGE),
                                                       ("rain", IMAGE)]], "profile smoke"),
    "occlusion_histogram": lambda: figures.occlusion_histogram({0: 3, 1: 5, 4: 2}, [1, 3], "toy world"),
    "class_counts": lambda: figures.class_counts_plot(pd.DataFrame(
        {"dataset": ["kitti", "kitti", "bdd100k"], "class": ["Car", "Truck", "Car"], "boxes": [10, 3, 40],
         "occluded": [1, 0, 5]}), "toy world"),
    "pipeline_diagram": pipeline_diagram,
    "fidelity": lambda: figures.fidelity_figure(pd.DataFrame({
        "translator": ["clone", "vkitti", "cyclegan", "oracle"], "weather": "fog", "bdd_domain": "daytime_foggy",
        "n_frames": 40, "n_scored": 16, "ssim": [0.6, 0.7, 0.8, np.nan], "psnr": [12.0, 20.0, 18.0, np.nan],
        "kid": [0.2, 0.01, 0.004, 0.006], "kid_std": [0.01, 0.002, 0.001, np.nan],
        "detector_kid": [0.3, 0.05, 0.02, 0.01], "detector_kid_std": [0.02, 0.01, 0.01, 0.01],
        "recall": [0.6, 0.4, 0.5, 0.45], "content_kept": [0.95, 0.7, 0.9, 1.0],
        "features": "random-init 3-layer CNN (seed 0) — toy-world only",
        "detector_features": "yolov5n layer 9 (SPPF, 256-d, global-average-pooled) of the detector best.pt"}),
        "fog", "toy world"),
}


#: Seaborn line plots take seconds each; the smoke book's Chromium check measures them in the default suite.
SLOW = {"nst_losses", "cyclegan_losses", "training_curves", "pr_curves"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(FIGURES)])
def test_every_figure_fits_the_column_with_legible_text(name: str) -> None:
    fig = FIGURES[name]()
    assert figures.figure_png(fig) == figures.figure_png(fig)  # the glued copy is the image the notebook shows
    (width, _), text = _record(fig)
    assert float(text[figures.FONT_KEY]) >= figures.MIN_FONT_PT
    dpi = float(text[figures.DPI_KEY])
    assert dpi == figures.DPI
    # shown in the column, its text is at least the small print (a narrower figure is shown at its natural size)
    shown = min(width, figures.COLUMN_PX)
    assert float(text[figures.FONT_KEY]) * dpi / 72 * shown / width >= figures.SMALL_PRINT_PX, (width, text)


def _colours_by_level(fig) -> dict[float, set]:
    """The colours of every 3-point line of ``fig``'s panels, by the constant level the line is drawn at."""
    seen: dict[float, set] = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if len(line.get_ydata()) == 3:
                seen.setdefault(float(line.get_ydata()[0]), set()).add(line.get_color())
    return seen


def test_loss_curves_give_each_weather_one_colour_in_every_panel_and_name_each_panels_dashes() -> None:
    # each weather's losses are one constant, so a line's height tells its weather; the rows are ordered so that
    # sorting by step puts the weathers in a different order in each panel (what broke the colours before)
    level = {"fog": 1.0, "overcast": 2.0, "rain": 3.0}
    rows = [{"weather": w, "step": s, "loss": name, "value": level[w]}
            for names in translators.PANELS.values() for name in names for s in range(3)
            for w in (list(level) if name.endswith("A") else list(level)[::-1])]
    fig = translators.plot_losses(pd.DataFrame(rows), "profile smoke")
    seen = _colours_by_level(fig)
    for ax, names in zip(fig.axes, translators.PANELS.values(), strict=True):
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(names)
    assert sorted(seen) == [1.0, 2.0, 3.0] and all(len(c) == 1 for c in seen.values()), seen
    colours = {next(iter(c)) for c in seen.values()}
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == list(level) and len(colours) == 3
    assert {h.get_color() for h in legend.legend_handles} == colours
    plt.close(fig)


def test_pr_curves_keep_each_mixs_colour_where_a_mix_lacks_a_class() -> None:
    rows = [{"mix": m, "class": c, "recall": r, "precision": level}
            for m, level in (("baseline", 0.2), ("cyclegan", 0.5), ("nst", 0.8))
            for c in ("Car", "Truck") if (m, c) != ("baseline", "Truck") for r in (0.0, 0.5, 1.0)]
    fig = figures.pr_curves(pd.DataFrame(rows), "toy world")
    seen = _colours_by_level(fig)
    assert sorted(seen) == [0.2, 0.5, 0.8] and all(len(c) == 1 for c in seen.values()), seen
    plt.close(fig)


def test_image_grid_row_labels_of_flat_frames_do_not_overlap() -> None:
    flat = np.zeros((94, 310, 3), np.uint8)  # the toy world's 3.3:1 frames, two-line labels (notebook 07)
    fig = gallery.image_grid({f"{w}\nScene0{i} #1{i}": {c: flat for c in ("clone", "cyclegan", "cut", "nst", "oracle")}
                              for i, w in enumerate(("fog", "overcast", "rain"))}, "One frame per weather")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.yaxis.label.get_window_extent(renderer) for ax in fig.axes if ax.get_ylabel()]
    assert len(boxes) == 3
    for a, b in zip(boxes, boxes[1:]):
        assert not a.overlaps(b), (a, b)
    plt.close(fig)


def test_record_sees_only_visible_text() -> None:
    with figures.book_style():
        fig, ax = plt.subplots()
    ax.set_title("large", fontsize=14)
    ax.text(0, 0, "tiny but hidden", fontsize=4, visible=False)
    ax.text(0, 0, "", fontsize=3)
    ax.tick_params(labelsize=12)
    assert figures.smallest_font_pt(fig) == 12
    ax.text(0.5, 0.5, "tiny", fontsize=5)
    assert figures.smallest_font_pt(fig) == 5
    ax.axis("off")
    fig.texts.clear()
    (_, _), text = _record(fig)
    assert text[figures.FONT_KEY] == "5" and text["Software"].startswith("Matplotlib")


def test_detection_examples_are_two_per_row_with_a_box_legend() -> None:
    fig = FIGURES["detection_examples"]()
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 4 and len({round(ax.get_position().x0, 3) for ax in shown}) == figures.MAX_COLUMNS
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["ground truth", "prediction (score)"]
    plt.close(fig)


def test_no_notebook_no_png_hook() -> None:
    assert figures.record_fonts_in_notebook() is False
