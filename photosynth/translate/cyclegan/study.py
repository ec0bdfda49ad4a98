"""Per-weather CycleGAN or CUT for the study's workspace: vKITTI2 clone frames (A) ↔ a BDD weather domain (B).

Paths (CONTRIBUTING.md): clone frames under ``<ws>/data/vkitti2``, style lists
``<ws>/splits/weather/<domain>.txt``, models in ``<ws>/models/<method>/<weather>/``, translated frames in
``<ws>/translated/<method>/<weather>/`` mirrored relative to the vKITTI2 root; ``<method>`` is ``cyclegan`` or
``cut`` (CUT and FastCUT share ``cut``: the checkpoint records the mode).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosynth import runtime
from photosynth.runtime import Workspace
from photosynth.translate.cyclegan.config import CycleGANConfig

if TYPE_CHECKING:  # torch-importing modules, loaded lazily
    from photosynth.translate.cyclegan.train import TrainResult
    from photosynth.translate.cyclegan.translate import TranslateReport

#: The weathers the study translates (vKITTI2 variation names).
WEATHERS: tuple[str, ...] = ("fog", "overcast", "rain")
METHOD = "cyclegan"
#: Translators trained here (their folder names, and mix names in ``photosynth.study.mixes``).
METHODS: tuple[str, ...] = ("cyclegan", "cut")


def vkitti_root(ws: Workspace) -> Path:
    """The toy world's (or real) vKITTI2 root in the workspace."""
    return ws.root / "data" / "vkitti2"


def clone_frames(root: str | Path, camera: str = "Camera_0") -> list[Path]:
    """All clone-variation RGB frames of one camera under a vKITTI2 root (any top folder), sorted."""
    from photosynth.datasets.vkitti2 import find_scenes

    frames = []
    for scene in find_scenes(root).values():
        frames += sorted((scene / "clone" / "frames" / "rgb" / camera).glob("rgb_*.jpg"))
    if not frames:
        pattern = f"Scene??/clone/frames/rgb/{camera}/rgb_*.jpg"
        raise FileNotFoundError(f"{root}: no vKITTI2 clone frames (looked for {pattern})")
    return frames


def translation_sources(root: str | Path, weather: str) -> list[Path]:
    """The clone frames the training mixes need for ``weather`` (``photosynth.study.mixes`` decides)."""
    from photosynth.study.mixes import translation_sources as needed

    return [Path(p) for p in needed(root, weather)]


def style_list(ws: Workspace, weather: str) -> Path:
    """The BDD image list that is ``weather``'s style domain."""
    from photosynth.design import STYLE_DOMAINS as domains

    if weather not in domains:
        raise ValueError(f"unknown weather {weather!r}; expected one of {sorted(domains)}")
    path = ws.root / "splits" / "weather" / f"{domains[weather]}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: style list missing (run notebook 01 / `photosynth split` first)")
    return path


def method_of(cfg: CycleGANConfig) -> str:
    """``cut`` for a CUT / FastCUT config, else ``cyclegan``."""
    from photosynth.translate.cyclegan.cut_config import CUTConfig

    return "cut" if isinstance(cfg, CUTConfig) else "cyclegan"


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    return method


def model_dir(ws: Workspace, weather: str, method: str = METHOD) -> Path:
    return ws.root / "models" / _check_method(method) / weather


def translated_dir(ws: Workspace, weather: str, method: str = METHOD) -> Path:
    return ws.root / "translated" / _check_method(method) / weather


def train_weather(
    ws: Workspace, weather: str, cfg: CycleGANConfig, *, device: str | None = None, progress: bool = True
) -> TrainResult:
    """Train (or resume; a finished checkpoint returns at once) the clone → ``weather`` model of ``cfg``'s kind."""
    from photosynth.translate.cyclegan.train import train

    a = clone_frames(vkitti_root(ws))
    out = model_dir(ws, weather, method_of(cfg))
    return train(cfg, a, style_list(ws, weather), out, resume=True, device=device, progress=progress)


def translate_weather(
    ws: Workspace, weather: str, *, frames: list[Path] | None = None, method: str = METHOD, **options: Any
) -> TranslateReport:
    """Translate ``frames`` (default: :func:`translation_sources`) with the trained ``weather`` model of ``method``."""
    from photosynth.translate.cyclegan.kinds import load_generator
    from photosynth.translate.cyclegan.train import CHECKPOINT
    from photosynth.translate.cyclegan.translate import translate_images

    root = vkitti_root(ws)
    checkpoint = model_dir(ws, weather, method) / CHECKPOINT
    generator, _ = load_generator(checkpoint, "AtoB", runtime.device(options.get("device")))
    frames = frames if frames is not None else translation_sources(root, weather)
    return translate_images(generator, frames, translated_dir(ws, weather, method), input_root=root, **options)
