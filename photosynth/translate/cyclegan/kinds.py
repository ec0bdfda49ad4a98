"""The model kinds by name: which class trains a config (:func:`model_class`), which config a checkpoint holds
(:func:`config_from_state`) and a trained generator of either kind (:func:`load_generator`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from photosynth.translate.cyclegan.base import TrainableModel
from photosynth.translate.cyclegan.checkpoint import CheckpointError, load_checkpoint
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.cut import CUTModel
from photosynth.translate.cyclegan.cut_config import CUTConfig
from photosynth.translate.cyclegan.model import CycleGANModel
from photosynth.translate.cyclegan.networks import build_generator


def model_class(cfg: CycleGANConfig) -> type[TrainableModel]:
    """The model kind a config trains: :class:`~.cut.CUTModel` for a :class:`~.cut_config.CUTConfig`."""
    if isinstance(cfg, CUTConfig):
        return CUTModel
    return CycleGANModel


def config_from_state(state: dict[str, Any], source: str | Path = "checkpoint") -> CycleGANConfig:
    """The config a checkpoint was trained with, of its kind (checkpoints without ``kind`` are CycleGAN's)."""
    kinds: dict[str, type[CycleGANConfig]] = {"cyclegan": CycleGANConfig, "cut": CUTConfig}
    kind = state.get("kind", "cyclegan")
    if kind not in kinds:
        raise CheckpointError(f"{source}: unknown model kind {kind!r} (expected one of {sorted(kinds)})")
    return kinds[kind].from_dict(state["config"])


def load_generator(path: str | Path, direction: str = "AtoB", device: str = "cpu") -> tuple[nn.Module, CycleGANConfig]:
    """The generator of one direction from a CycleGAN or CUT checkpoint (eval mode), with the checkpoint's config.

    CUT trains A→B only: ``BtoA`` on a CUT checkpoint raises ``ValueError``.
    """
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
    state = load_checkpoint(path)
    cfg = config_from_state(state, path)
    if isinstance(cfg, CUTConfig):
        if direction != "AtoB":
            raise ValueError(f"{path}: a CUT model has one generator (A→B); direction BtoA does not exist")
        key = "G"
    else:
        key = "G_A" if direction == "AtoB" else "G_B"
    net = build_generator(cfg)
    try:
        net.load_state_dict(state["models"][key])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: generator weights do not match its own options ({exc})") from exc
    return net.to(device).eval(), cfg
