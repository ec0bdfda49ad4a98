"""One place that makes a process offline-safe and reproducible.

Importing photosynth changes nothing in other libraries; call :func:`configure` (the CLI and every
notebook do) to set the offline environment, and :func:`ultralytics_module` to import ultralytics with
its network features off and the global state it touches (numpy print options) restored.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from PIL import Image

from photosynth.design import ADD_SUFFIX
from photosynth.weights import torch_home

#: Environment variable that moves the default workspace root (``runs/``).
RUNS_ENV = "PHOTOSYNTH_RUNS"


@dataclass(frozen=True)
class Workspace:
    """The folders every stage writes into: ``<runs>/<profile>/<stage>/…``.

    The workspace is disposable (everything in it is rebuilt from code); dataset roots are read-only.
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @classmethod
    def for_profile(cls, profile: str, runs: str | Path | None = None) -> "Workspace":
        """The workspace of ``profile`` under ``runs`` (default :func:`default_runs`)."""
        base = Path(runs) if runs is not None else default_runs()
        return cls(base.expanduser().resolve() / profile)

    @classmethod
    def from_parameters(cls, profile: str, workspace: str | Path = "") -> "Workspace":
        """The workspace a notebook's ``parameters`` cell names: ``workspace`` if given, else the profile's."""
        return cls(Path(workspace).expanduser().resolve()) if str(workspace) else cls.for_profile(profile)

    def stage(self, name: str) -> Path:
        """Folder of one stage (created on demand)."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def data(self) -> Path:
        """Dataset roots the toy world writes (``data/{kitti_tracking,kitti_object,vkitti2,bdd100k}``)."""
        return self.stage("data")

    @property
    def config(self) -> Path:
        """Per-workspace configuration of third-party tools (ultralytics settings, fonts)."""
        return self.stage("config")


def find_project(start: str | Path) -> Path | None:
    """The photosynth project (a folder with ``_config.yml`` and ``profiles/``) at or above ``start``."""
    here = Path(start).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "_config.yml").is_file() and (candidate / "profiles").is_dir():
            return candidate
    return None


def default_runs() -> Path:
    """Where workspaces live by default: ``$PHOTOSYNTH_RUNS``, else the project's ``runs/``.

    The project is the one holding the working directory, else the one holding this package, so a notebook
    whose kernel runs in ``notebooks/`` (JupyterLab) uses the same workspace as ``photosynth book``; ``./runs``
    only when neither is a project (an installed package used elsewhere).
    """
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV])
    project = find_project(Path.cwd()) or find_project(Path(__file__).parent)
    return (project or Path.cwd()) / "runs"


#: What each notebook leaves in the workspace when it has run: globs under the workspace root, all must match.
NOTEBOOK_OUTPUTS: dict[str, tuple[str, ...]] = {
    "01_datasets": ("splits/manifest.json",),
    "02_cyclegan": ("models/cyclegan/*/checkpoint.pt", "translated/cyclegan/*"),
    "03_style_transfer": ("translated/nst/*/manifest.json", "translated/augment/*/manifest.json"),
    "04_training_sets": ("mixes/*/manifest.json",),
    "05_detectors": ("detectors/**/manifest.json",),
    "07_fidelity": ("fidelity/reference/weights/best.pt", "fidelity/reference_split.json"),
}
#: The notebook that writes the translated frames of each training mix.
MIX_NOTEBOOKS = {"cyclegan": "02_cyclegan", "cut": "02_cyclegan", "nst": "03_style_transfer", "augment": "03_style_transfer"}


class StageMissing(RuntimeError):
    """A notebook was run before the one that writes what it reads."""


def require(workspace: Workspace, *notebooks: str, mixes: Sequence[str] = ()) -> None:
    """Stop with a clear message unless ``notebooks`` (and those translating ``mixes``) have run in ``workspace``.

    Called in the first cell of notebooks 02–08, so a notebook run out of order (in JupyterLab, say) names the
    notebook to run first instead of failing later or training from an empty workspace.
    """
    translators = [m.removesuffix(ADD_SUFFIX) for m in mixes]
    wanted = list(dict.fromkeys([*notebooks, *(MIX_NOTEBOOKS[t] for t in translators if t in MIX_NOTEBOOKS)]))
    unknown = [n for n in wanted if n not in NOTEBOOK_OUTPUTS]
    if unknown:
        raise ValueError(f"unknown notebook(s) {unknown}; expected some of {', '.join(NOTEBOOK_OUTPUTS)}")
    root = Path(workspace.root)
    missing = [n for n in wanted if not all(next(root.glob(g), None) for g in NOTEBOOK_OUTPUTS[n])]
    if missing:
        first = sorted(missing)[0]
        raise StageMissing(
            f"workspace {root} has no output of {', '.join(sorted(missing))} (looked for "
            f"{', '.join(g for n in sorted(missing) for g in NOTEBOOK_OUTPUTS[n])}): run notebooks/{first}.ipynb "
            f"first with the same profile and workspace (or `photosynth book --profile {root.name} --only "
            f"{','.join(sorted(missing))} --no-build`)"
        )


def configure(workspace: Workspace | None = None) -> dict[str, str]:
    """Set the offline environment for this process and the kernels/subprocesses it starts.

    Ultralytics: ``YOLO_OFFLINE=1``, ``YOLO_AUTOINSTALL=false``, ``YOLO_CONFIG_DIR`` in the workspace
    (or an existing value), with a local TTF placed as ``Arial.ttf`` so its font download never runs.
    ``KERAS_HOME`` / ``TORCH_HOME`` keep their values and otherwise default to the libraries' own
    locations, so local weights are found where users already keep them. Returns what was set.
    """
    config_dir = Path(
        os.environ.get("YOLO_CONFIG_DIR")
        or (workspace.config if workspace else Path.home() / ".config" / "photosynth")
    )
    values = {
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "false",
        "YOLO_VERBOSE": os.environ.get("YOLO_VERBOSE", "false"),
        "YOLO_CONFIG_DIR": str(config_dir),
        "KERAS_HOME": os.environ.get("KERAS_HOME", str(Path.home() / ".keras")),
        "TORCH_HOME": os.environ.get("TORCH_HOME", str(torch_home())),  # torch.hub's default, $XDG_CACHE_HOME too
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
        "NO_ALBUMENTATIONS_UPDATE": "1",  # albumentations checks PyPI for a newer release on import
    }
    os.environ.update(values)
    place_font(config_dir / "Ultralytics" / "Arial.ttf")
    return values


def place_font(target: Path) -> Path:
    """Copy a local TTF (matplotlib's DejaVuSans) to ``target`` unless a font is already there."""
    if target.is_file() and target.stat().st_size > 0:
        return target
    import matplotlib

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target


def ultralytics_module(workspace: Workspace | None = None) -> ModuleType:
    """Import ultralytics offline-safe: env from :func:`configure`, ``sync=False``, and the global state it changes on
    import (numpy print options, ``PIL.Image.open``, OpenCV's thread count) restored."""
    if "ultralytics" not in sys.modules:
        configure(workspace)
    import cv2
    import numpy as np
    # ultralytics changes these on import (ENVIRONMENT.md P9; it also swaps PIL's Image.open for a wrapper that
    # tries to install pi-heif on any unidentifiable file): put them back.
    options, image_open, cv2_threads = np.get_printoptions(), Image.open, cv2.getNumThreads()
    import ultralytics

    np.set_printoptions(**options)
    Image.open = image_open
    cv2.setNumThreads(cv2_threads)
    update = {"sync": False}
    if workspace is not None:
        update |= {"runs_dir": str(workspace.stage("detectors")), "datasets_dir": str(workspace.root)}
    ultralytics.settings.update(update)
    return ultralytics


def ultralytics_weights() -> Path:
    """ultralytics' ``weights_dir`` setting (its settings live in ``$YOLO_CONFIG_DIR``): where its AMP check looks for
    :data:`photosynth.weights.AMP_CHECK_WEIGHTS`. Imports ultralytics (:func:`ultralytics_module`)."""
    return Path(ultralytics_module().settings["weights_dir"])


def seed_everything(seed: int) -> None:
    """Seed python, numpy and (when imported) torch and tensorflow."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        tf.random.set_seed(seed)


def device(preferred: str | None = None) -> str:
    """``preferred`` when given, else ``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    if preferred:
        return preferred
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"
