"""What notebook 02 shows of the trained translators (CycleGAN, CUT): their options, loss curves, original vs
translated weathers side by side, and the GIF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from photosynth.imageio import find_output, read_rgb
from photosynth.report.gallery import write_gif as write_frames
from photosynth.translate.cyclegan.config import CycleGANConfig

#: Loss columns plotted, grouped as the panels show them.
PANELS: dict[str, tuple[str, ...]] = {
    "discriminators": ("D_A", "D_B"),
    "generators (adversarial)": ("G_A", "G_B"),
    "cycle": ("cycle_A", "cycle_B"),
    "identity": ("idt_A", "idt_B"),
}


def option_table(configs: Mapping[str, CycleGANConfig], base: CycleGANConfig | None = None) -> pd.DataFrame:
    """Options (rows) of each named configuration (columns); with ``base``, only those new to or changed from it."""
    values = {name: config.to_dict() for name, config in configs.items()}
    reference = base.to_dict() if base is not None else {}
    names = list(dict.fromkeys(k for v in values.values() for k in v))
    shown = [k for k in names if any(k not in reference or v.get(k) != reference[k] for v in values.values())]
    table = pd.DataFrame({name: {k: str(v.get(k, "")) for k in shown} for name, v in values.items()}, index=shown)
    return table.rename_axis("option")


def read_losses(
    logs: Mapping[str, str | Path], panels: Mapping[str, tuple[str, ...]] = PANELS
) -> pd.DataFrame:
    """Long table ``weather, step, loss, value`` of the ``panels``' losses from each weather's ``losses.csv``."""
    frames = []
    for weather, path in logs.items():
        table = pd.read_csv(path)
        long = table.melt(id_vars=["step"], value_vars=[c for p in panels.values() for c in p], var_name="loss")
        frames.append(long.assign(weather=weather))
    if not frames:
        raise ValueError("no loss logs given")
    return pd.concat(frames, ignore_index=True)


#: Dash patterns of the losses within one panel, in the panel's order (the first solid).
DASHES: tuple[str | tuple[float, float], ...] = ("", (4, 1.5), (1, 1))


def plot_losses(
    losses: pd.DataFrame,
    caption: str = "",
    smooth: int = 1,
    panels: Mapping[str, tuple[str, ...]] = PANELS,
    method: str = "CycleGAN",
):
    """One panel per loss group, one line per weather and loss; ``smooth``: rolling mean window.

    Each weather has one colour in every panel (the legend below); a panel of several losses names their dashes.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.lines import Line2D

    from photosynth.report.figures import WIDTH_IN, book_style, heading

    weathers = list(dict.fromkeys(losses["weather"]))
    data = losses.sort_values("step", kind="stable").copy()
    if smooth > 1:
        data["value"] = data.groupby(["weather", "loss"])["value"].transform(
            lambda v: v.rolling(smooth, min_periods=1).mean()
        )
    columns = 2
    rows = -(-len(panels) // columns)
    with book_style():
        fig, axes = plt.subplots(rows, columns, figsize=(WIDTH_IN, 2.4 * rows + 1.4), squeeze=False,
                                 layout="constrained")
        colours = dict(zip(weathers, sns.color_palette(n_colors=len(weathers))))
        for ax, (title, names) in zip(axes.flat, panels.items()):
            dashes = {name: DASHES[i % len(DASHES)] for i, name in enumerate(names)}
            sns.lineplot(data=data[data["loss"].isin(names)], x="step", y="value", hue="weather", palette=colours,
                         style="loss", style_order=list(names), dashes=dashes, ax=ax, legend=False)
            if len(names) > 1:
                ax.legend(handles=[Line2D([], [], color="0.3", linestyle=(0, d) if d else "-", label=name)
                                   for name, d in dashes.items()], loc="best", frameon=False)
            ax.set_title(title)
            ax.set_ylabel("")
        for ax in axes.flat[len(panels):]:
            ax.set_axis_off()
        fig.legend(handles=[Line2D([], [], color=c, label=w) for w, c in colours.items()], title="weather",
                   loc="outside lower center", ncols=min(4, len(weathers)), frameon=False)
        fig.suptitle(heading(f"{method} training losses", caption))
    return fig


def weather_panels(
    frame: str | Path, root: str | Path, translated: Mapping[str, str | Path]
) -> list[tuple[str, np.ndarray]]:
    """``[("original", rgb), (weather, rgb), …]`` for one clone frame; missing translations raise."""
    rel = Path(frame).resolve().relative_to(Path(root).resolve())
    panels = [("original", read_rgb(frame))]
    for weather, out_root in translated.items():
        found = find_output(out_root, rel)
        if found is None:
            raise FileNotFoundError(f"{Path(out_root) / rel}: no {weather} translation of {frame}")
        panels.append((weather, read_rgb(found)))
    return panels


def plot_side_by_side(rows: Sequence[list[tuple[str, np.ndarray]]], caption: str = "", method: str = "CycleGAN"):
    """Grid: one row per frame, one column per panel (original, then each weather)."""
    import matplotlib.pyplot as plt

    from photosynth.report.figures import WIDTH_IN, book_style, heading

    if not rows:
        raise ValueError("no frames to show")
    n_cols = len(rows[0])
    h, w = rows[0][0][1].shape[:2]
    with book_style():
        fig, axes = plt.subplots(len(rows), n_cols, figsize=(WIDTH_IN, WIDTH_IN / n_cols * h / w * len(rows) + 1.0),
                                 squeeze=False, layout="constrained")
        for r, panels in enumerate(rows):
            for c, (name, rgb) in enumerate(panels):
                ax = axes[r][c]
                ax.imshow(rgb)
                ax.set_axis_off()
                if r == 0:
                    ax.set_title(name)
        fig.suptitle(heading(f"vKITTI2 clone frames translated by {method}", caption))
    return fig


def write_gif(rows: Sequence[list[tuple[str, np.ndarray]]], path: str | Path, width: int = 620, ms: int = 700) -> Path:
    """Animated GIF cycling through each frame's panels (labelled), written atomically."""
    images = []
    for panels in rows:
        for name, rgb in panels:
            image = Image.fromarray(rgb)
            image = image.resize((width, max(1, round(image.height * width / image.width))), Image.BICUBIC)
            draw = ImageDraw.Draw(image)
            draw.rectangle((0, 0, 8 + 7 * len(name), 16), fill=(0, 0, 0))
            draw.text((4, 2), name, fill=(255, 255, 255))
            images.append(np.asarray(image))
    if not images:
        raise ValueError("no frames for the GIF")
    return write_frames(images, path, duration_ms=ms)
