"""Per-weather CycleGAN or CUT for the study's workspace: vKITTI2 clone frames (A) ↔ a BDD weather domain (B).

Paths (CONTRIBUTING.md): clone frames under ``<ws>/data/vkitti2``, style lists
``<ws>/splits/weather/<domain>.txt``, models in ``<ws>/models/<method>/<weather>/``, translated frames in
``<ws>/translated/<method>/<weather>/`` mirrored relative to the vKITTI2 root; ``<method>`` is ``cyclegan`` or
``cut`` (CUT and FastCUT share ``cut``: the checkpoint records the mode).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosynth.runtime import Workspace
from photosynth.translate import registry
from photosynth.translate.builtins import CUT, CycleGAN
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.cut_config import CUTConfig

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
    """Train (or resume; a finished checkpoint returns at once) the clone → ``weather`` model of ``cfg``'s kind,
    through the registered translator (:mod:`photosynth.translate.builtins`)."""
    translator = (CUT if isinstance(cfg, CUTConfig) else CycleGAN)(cfg, device=device)
    return translator.fit(registry.task(ws.root, method_of(cfg), weather, progress=progress))


def translate_weather(
    ws: Workspace, weather: str, *, frames: list[Path] | None = None, method: str = METHOD, **options: Any
) -> TranslateReport:
    """Translate ``frames`` (default: :func:`~photosynth.translate.frameset.translation_sources`) with the trained
    ``weather`` model of ``method``; ``options``: ``device``, ``batch_size``, ``num_workers``, ``fmt``, ``quality``."""
    progress = options.pop("progress", True)
    translator = {"cyclegan": CycleGAN, "cut": CUT}[_check_method(method)](**options)
    task = registry.task(ws.root, method, weather, progress=progress)
    return translator.translate(task if frames is None else dataclasses.replace(task, sources=list(frames)))
