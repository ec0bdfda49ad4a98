"""What this machine has: library versions, the compute device, and which optional weights are local."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING

from photosynth import __version__
from photosynth.runtime import device
from photosynth.weights import local_weights

if TYPE_CHECKING:
    import pandas as pd

#: Distributions whose versions the report lists.
DISTRIBUTIONS = ("numpy", "pandas", "torch", "torchvision", "tensorflow", "keras", "ultralytics",
                 "opencv-python", "albumentations", "pycocotools", "papermill", "jupyter-book")


def versions(names: Sequence[str] = DISTRIBUTIONS) -> dict[str, str]:
    """Python, photosynth and the installed versions of the distributions ``names`` (read from package
    metadata, nothing imported; ``missing`` when absent). Manifests record this beside their outputs."""
    found = {"python": platform.python_version(), "photosynth": __version__}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def report() -> "pd.DataFrame":
    """One table: versions, device, and each optional weights file (path or ``not present``)."""
    import pandas as pd

    rows = [("version", k, v) for k, v in versions().items()]
    rows.append(("device", "compute", device()))
    rows += [("weights", k, str(v) if v else "not present (offline: place the file to enable)")
             for k, v in local_weights().items()]
    return pd.DataFrame(rows, columns=["kind", "name", "value"])
