"""What every model kind the training loop drives shares (:class:`TrainableModel`: optimisers, schedule,
speed options, state helpers) and the checks a checkpoint must pass before it is loaded."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from photosynth.translate.cyclegan import distributed
from photosynth.translate.cyclegan.checkpoint import CheckpointError
from photosynth.translate.cyclegan.config import CycleGANConfig


def set_requires_grad(nets: Iterable[nn.Module], flag: bool) -> None:
    """Switch gradients of all parameters of ``nets`` on or off."""
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


def on_cpu(state: dict[str, Any]) -> dict[str, Any]:
    """A module's ``state_dict`` with its tensors detached and on the CPU (what a checkpoint stores)."""
    return {k: v.detach().cpu() if torch.is_tensor(v) else v for k, v in state.items()}


class TrainableModel:
    """What the shared training loop (:mod:`.train`) needs from a model kind (CycleGAN, CUT).

    A subclass builds its networks, then calls :meth:`_optimisers` with the generator-side and discriminator-side
    parameters; it implements ``train_step`` (returns :attr:`LOSS_NAMES` → detached loss), ``nets`` (for the
    distributed broadcast), ``state_dict`` (with a ``pools`` entry, gathered per rank) and ``load_state_dict``.
    Speed options apply only where the device supports them: bf16 autocast and fused Adam on CUDA,
    ``torch.compile`` anywhere, ``channels_last`` anywhere.
    """

    #: Stored in every checkpoint as ``kind``.
    KIND = ""
    #: Loss names in the order of the CSV log.
    LOSS_NAMES: tuple[str, ...] = ()
    #: Progress-bar figures: name → the losses summed into it.
    PROGRESS: dict[str, tuple[str, ...]] = {}

    def __init__(self, cfg: CycleGANConfig, device: str = "cpu", place: distributed.Dist | None = None) -> None:
        self.cfg, self.device, self.place = cfg, torch.device(device), place or distributed.Dist()
        cuda = self.device.type == "cuda"
        self.fused = bool(cfg.fused_adam and cuda)
        self.bf16 = bool(cfg.bf16 and cuda)
        self.step = 0
        self.visuals: dict[str, torch.Tensor] = {}
        self.visual_rows: tuple[tuple[str, ...], ...] = ()

    @property
    def nets(self) -> tuple[nn.Module, ...]:
        raise NotImplementedError

    def _place_nets(self) -> None:
        """Move the networks to the device (memory format from the config), train mode, same weights on all ranks."""
        memory = torch.channels_last if self.cfg.channels_last else torch.contiguous_format
        for net in self.nets:
            net.to(self.device, memory_format=memory).train()
        distributed.broadcast_parameters(self.nets, self.place)

    def _optimisers(self, g_params: Iterable[nn.Parameter], d_params: Iterable[nn.Parameter]) -> None:
        """Adam for each side and the constant-then-linear learning-rate schedule."""
        cfg = self.cfg
        adam = {"lr": cfg.lr, "betas": (cfg.beta1, 0.999), **({"fused": True} if self.fused else {})}
        self.opt_G = torch.optim.Adam(list(g_params), **adam)
        self.opt_D = torch.optim.Adam(list(d_params), **adam)

        def factor(step: int) -> float:
            return cfg.lr_factor(step)

        self.sched_G = torch.optim.lr_scheduler.LambdaLR(self.opt_G, factor)
        self.sched_D = torch.optim.lr_scheduler.LambdaLR(self.opt_D, factor)

    def _compiled(self, net: nn.Module) -> nn.Module:
        if not self.cfg.compile:
            return net
        return torch.compile(net, mode=self.cfg.compile)  # type: ignore[return-value]

    def memory_format(self, *images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The training batches in the layout the networks run in (``channels_last`` when asked)."""
        if not self.cfg.channels_last:
            return images
        return tuple(x.contiguous(memory_format=torch.channels_last) for x in images)

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast on CUDA when asked, otherwise a no-op."""
        if self.bf16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _advance(self) -> None:
        """One optimisation step done: both learning-rate schedules and the step count move on."""
        self.sched_G.step()
        self.sched_D.step()
        self.step += 1

    def lr(self) -> float:
        return float(self.opt_G.param_groups[0]["lr"])

    def _schedule_state(self) -> dict[str, Any]:
        return {
            "optimizers": {"G": self.opt_G.state_dict(), "D": self.opt_D.state_dict()},
            "schedulers": {"G": self.sched_G.state_dict(), "D": self.sched_D.state_dict()},
        }

    def _load_schedule_state(self, state: dict[str, Any]) -> None:
        """Optimisers and schedulers from ``state``, re-targeted to this device and this config's learning rate."""
        self.opt_G.load_state_dict(state["optimizers"]["G"])
        self.opt_D.load_state_dict(state["optimizers"]["D"])
        self.sched_G.load_state_dict(state["schedulers"]["G"])
        self.sched_D.load_state_dict(state["schedulers"]["D"])
        for opt in (self.opt_G, self.opt_D):  # the checkpoint may come from another device
            for group in opt.param_groups:
                group["fused"] = self.fused or None
                group["foreach"] = None
                group["lr"] = self.cfg.lr * self.cfg.lr_factor(state["step"])
                group["initial_lr"] = self.cfg.lr
        for sched in (self.sched_G, self.sched_D):
            sched.base_lrs = [self.cfg.lr] * len(sched.base_lrs)
            sched._last_lr = [self.cfg.lr * self.cfg.lr_factor(state["step"])] * len(sched.base_lrs)
        self.step = int(state["step"])

    def _check_kind(self, state: dict[str, Any], source: str | Path) -> None:
        saved = state.get("kind", "cyclegan")
        if saved != self.KIND:
            raise CheckpointError(f"{source}: checkpoint holds a {saved} model, these options are for {self.KIND}")


def check_architecture(state: dict[str, Any], cfg: CycleGANConfig, source: str | Path) -> None:
    """Raise :class:`CheckpointError` naming the options where ``state`` and ``cfg`` disagree."""
    saved = type(cfg).from_dict(state.get("config", {})).architecture()
    wanted = cfg.architecture()
    diff = {k: (saved[k], wanted[k]) for k in wanted if saved[k] != wanted[k]}
    if diff:
        text = ", ".join(f"{k}: checkpoint {a} vs options {b}" for k, (a, b) in diff.items())
        raise CheckpointError(f"{source}: checkpoint was trained with other network options ({text})")
