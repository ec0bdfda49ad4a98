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
from photosynth.datasets.vkitti2 import clone_frames
from photosynth.runtime import Workspace
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.cut_config import CUTConfig
from photosynth.translate.frameset import style_list, translation_sources

if TYPE_CHECKING:  # torch-importing modules, loaded lazily
    from photosynth.translate.cyclegan.train import TranslatorRun
    from photosynth.translate.cyclegan.translate import TranslateReport

METHOD = "cyclegan"
#: Translators trained here (their folder names, and mix names in ``photosynth.study.mixes``).
METHODS: tuple[str, ...] = ("cyclegan", "cut")


def vkitti_root(ws: Workspace) -> Path:
    """The toy world's (or real) vKITTI2 root in the workspace."""
    return ws.root / "data" / "vkitti2"


def method_of(cfg: CycleGANConfig) -> str:
    """``cut`` for a CUT / FastCUT config, else ``cyclegan``."""
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
) -> TranslatorRun:
    """Train (or resume; a finished checkpoint returns at once) the clone → ``weather`` model of ``cfg``'s kind."""
    from photosynth.translate.cyclegan.train import train

    a = clone_frames(vkitti_root(ws))
    out = model_dir(ws, weather, method_of(cfg))
    return train(cfg, a, style_list(ws.root, weather), out, resume=True, device=device, progress=progress)


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
