"""Figures of the translators for the book (notebook 03): image grids, NST loss curves, an animated GIF."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PIL import Image

from photosynth import imageio
from photosynth.atomic import atomic_open

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TERMS = ("total", "content", "style", "tv")


def image_grid(rows: Mapping[str, Mapping[str, np.ndarray | str | Path]], title: str, caption: str = "") -> "Figure":
    """One row per key of ``rows``; each row maps a column label to an image (array or file)."""
    import matplotlib.pyplot as plt

    from photosynth.report.figures import WIDTH_IN, book_style, heading

    if not rows:
        raise ValueError("no images to show")
    columns = list(dict.fromkeys(label for row in rows.values() for label in row))
    images = {(r, label): imageio.read_rgb(image) if isinstance(image, (str, Path)) else np.asarray(image)
              for r, row in rows.items() for label, image in row.items()}
    aspect = max(im.shape[0] / im.shape[1] for im in images.values())
    with book_style():
        fig, axes = plt.subplots(len(rows), len(columns), squeeze=False, layout="constrained",
                                 figsize=(WIDTH_IN, (WIDTH_IN - 0.4) / len(columns) * aspect * len(rows) + 1.1))
        for r, row_label in enumerate(rows):
            for c, label in enumerate(columns):
                ax = axes[r][c]
                ax.set_xticks([]), ax.set_yticks([])
                if (row_label, label) in images:
                    ax.imshow(images[row_label, label])
                else:
                    ax.axis("off")
                if r == 0:
                    ax.set_title(label)
                if c == 0:  # horizontal: rotated labels of flat (3.3:1) frames run into each other
                    ax.set_ylabel(row_label, rotation=0, ha="right", va="center")
        fig.suptitle(heading(title, caption))
    return fig


def loss_curves(losses: pd.DataFrame, caption: str = "") -> "Figure":
    """NST loss terms per loss evaluation, one panel per weather (mean over batches, band = spread).

    ``losses``: rows of ``losses.csv`` (:func:`photosynth.translate.nst.read_losses`) plus a ``weather`` column.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    from photosynth.report.figures import WIDTH_IN, book_style, heading, legend_below

    missing = {"weather", "step", *TERMS} - set(losses.columns)
    if missing:
        raise ValueError(f"loss table lacks the column(s) {sorted(missing)}")
    tidy = losses.melt(id_vars=["weather", "step"], value_vars=list(TERMS), var_name="term", value_name="loss")
    tidy = tidy[tidy["loss"] > 0]
    weathers = list(dict.fromkeys(losses["weather"]))
    with book_style():
        fig, axes = plt.subplots(1, len(weathers), figsize=(WIDTH_IN, 3.6), squeeze=False, layout="constrained")
        for ax, name in zip(axes[0], weathers):
            sns.lineplot(data=tidy[tidy["weather"] == name], x="step", y="loss", hue="term", hue_order=list(TERMS),
                         errorbar=("pi", 100), ax=ax, legend=ax is axes[0][-1])
            ax.set_yscale("log")
            ax.set_title(name)
            ax.set_xlabel("loss evaluation")
        legend_below(fig, axes[0][-1])
        fig.suptitle(heading("NST loss (weighted terms)", caption))
    return fig


def write_gif(frames: Sequence[np.ndarray], path: str | Path, duration_ms: int = 400, scale: int = 1) -> Path:
    """Write an animated GIF (looping) atomically; ``scale`` enlarges small frames (nearest neighbour)."""
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    path = Path(path)
    images = [Image.fromarray(np.asarray(f)) for f in frames]
    if scale != 1:
        images = [im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST) for im in images]
    with atomic_open(path, "wb") as fh:
        images[0].save(fh, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
    return path


def gif_html(path: str | Path, width: int | None = None, alt: str = "") -> str:
    """An ``<img>`` tag with the GIF inlined (base64), so the book shows it without extra files."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/gif;base64,{data}" alt="{alt}"{size}>'


def gif_frames(path: str | Path) -> list[np.ndarray]:
    """The frames of a GIF as RGB arrays (for checks)."""
    out = []
    with Image.open(path) as im:
        for index in range(getattr(im, "n_frames", 1)):
            im.seek(index)
            out.append(np.asarray(im.convert("RGB")))
    return out
