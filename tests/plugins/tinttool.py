"""A third-party translator for the tests: registered through its own ``entry_points.txt`` (this folder on the
path stands for an installed package), it blends each clone frame with the mean colour of the weather's photos."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image


class Tint:
    """``fit`` stores the target photos' mean colour in ``task.work``; ``translate`` blends frames towards it."""

    def __init__(self, strength: float = 0.5) -> None:
        if not 0 <= strength <= 1:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        self.strength = strength

    def fit(self, task) -> None:  # noqa: ANN001 - any object with the registry's Task fields
        means = [np.asarray(Image.open(p).convert("RGB"), np.float64).mean(axis=(0, 1)) for p in task.targets]
        task.work.mkdir(parents=True, exist_ok=True)
        (task.work / "colour.json").write_text(json.dumps(np.mean(means, axis=0).tolist()))

    def translate(self, task) -> None:  # noqa: ANN001
        colour = np.array(json.loads((task.work / "colour.json").read_text()))
        for source in task.pending():
            rgb = np.asarray(Image.open(source).convert("RGB"), np.float64)
            out = task.output(source, ".png")
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.uint8(np.round((1 - self.strength) * rgb + self.strength * colour))).save(out)


class NoMethods:
    """Registered by mistake: no fit/translate."""
