"""The model kinds the training loop drives: the shared base (optimisers, schedule, speed options, state helpers),
CycleGAN's four networks with their image pools and training step, and loading a trained generator of any kind."""

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
from photosynth.translate.cyclegan.cut_config import CUTConfig
from photosynth.translate.cyclegan.losses import cycle_loss, discriminator_loss, gan_loss, identity_loss
from photosynth.translate.cyclegan.networks import build_discriminator, build_generator
from photosynth.translate.cyclegan.pool import ImagePool

#: Loss names in the order of the CSV log (the reference's names).
LOSS_NAMES: tuple[str, ...] = ("D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B")


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


class CycleGANModel(TrainableModel):
    """G_A: A→B, G_B: B→A, D_A judges domain B, D_B judges domain A (the reference's naming).

    ``channels_last`` was measured slower for this generator.
    """

    KIND = "cyclegan"
    LOSS_NAMES = LOSS_NAMES
    PROGRESS = {"G": ("G_A", "G_B"), "D": ("D_A", "D_B")}

    def __init__(self, cfg: CycleGANConfig, device: str = "cpu", place: distributed.Dist | None = None) -> None:
        super().__init__(cfg, device, place)
        self.G_A, self.G_B = build_generator(cfg), build_generator(cfg)
        self.D_A, self.D_B = build_discriminator(cfg), build_discriminator(cfg)
        self._place_nets()
        self._optimisers(
            [*self.G_A.parameters(), *self.G_B.parameters()], [*self.D_A.parameters(), *self.D_B.parameters()]
        )
        seed = cfg.seed * 7919 + self.place.rank
        self.pool_A, self.pool_B = ImagePool(cfg.pool_size, seed), ImagePool(cfg.pool_size, seed + 1)
        self.fwd = {name: self._compiled(getattr(self, name)) for name in ("G_A", "G_B", "D_A", "D_B")}
        self.visual_rows = (("real_A", "fake_B", "rec_A"), ("real_B", "fake_A", "rec_B"))

    @property
    def nets(self) -> tuple[nn.Module, ...]:
        return self.G_A, self.G_B, self.D_A, self.D_B

    def train_step(
        self, real_A: torch.Tensor, real_B: torch.Tensor, keep_visuals: bool = False
    ) -> dict[str, torch.Tensor]:
        """One optimisation step of both generators, then both discriminators; returns detached losses."""
        cfg, f = self.cfg, self.fwd
        real_A, real_B = self.memory_format(real_A, real_B)
        set_requires_grad((self.D_A, self.D_B), False)
        self.opt_G.zero_grad(set_to_none=True)
        with self.autocast():
            fake_B = f["G_A"](real_A)
            rec_A = f["G_B"](fake_B)
            fake_A = f["G_B"](real_B)
            rec_B = f["G_A"](fake_A)
            zero = real_A.new_zeros(())
            if cfg.lambda_identity > 0:
                idt_A = identity_loss(f["G_A"](real_B), real_B, cfg.lambda_cycle, cfg.lambda_identity)
                idt_B = identity_loss(f["G_B"](real_A), real_A, cfg.lambda_cycle, cfg.lambda_identity)
            else:
                idt_A = idt_B = zero
            g_A = gan_loss(f["D_A"](fake_B), True, cfg.gan_mode)
            g_B = gan_loss(f["D_B"](fake_A), True, cfg.gan_mode)
            cyc_A = cycle_loss(rec_A, real_A, cfg.lambda_cycle)
            cyc_B = cycle_loss(rec_B, real_B, cfg.lambda_cycle)
            loss_G = g_A + g_B + cyc_A + cyc_B + idt_A + idt_B
        loss_G.backward()
        distributed.average_gradients([*self.G_A.parameters(), *self.G_B.parameters()], self.place)
        self.opt_G.step()

        set_requires_grad((self.D_A, self.D_B), True)
        self.opt_D.zero_grad(set_to_none=True)
        with self.autocast():
            d_A = discriminator_loss(f["D_A"](real_B), f["D_A"](self.pool_B.query(fake_B)), cfg.gan_mode)
            d_B = discriminator_loss(f["D_B"](real_A), f["D_B"](self.pool_A.query(fake_A)), cfg.gan_mode)
        (d_A + d_B).backward()
        distributed.average_gradients([*self.D_A.parameters(), *self.D_B.parameters()], self.place)
        self.opt_D.step()
        self._advance()
        if keep_visuals:
            self.visuals = {
                "real_A": real_A[:1].detach(), "fake_B": fake_B[:1].detach(), "rec_A": rec_A[:1].detach(),
                "real_B": real_B[:1].detach(), "fake_A": fake_A[:1].detach(), "rec_B": rec_B[:1].detach(),
            }
        values = (d_A, g_A, cyc_A, idt_A, d_B, g_B, cyc_B, idt_B)
        return {name: v.detach() for name, v in zip(LOSS_NAMES, values)}

    # ---- state -------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Models, optimisers, schedulers, pools (this rank's) and the step; tensors on the CPU."""

        return {
            "config": self.cfg.to_dict(),
            "kind": self.KIND,
            "step": self.step,
            "models": {name: on_cpu(getattr(self, name).state_dict()) for name in ("G_A", "G_B", "D_A", "D_B")},
            **self._schedule_state(),
            "pools": {"A": self.pool_A.state_dict(), "B": self.pool_B.state_dict()},
        }

    def load_state_dict(self, state: dict[str, Any], source: str | Path = "checkpoint") -> None:
        """Restore :meth:`state_dict`; a checkpoint of another architecture raises :class:`CheckpointError`."""
        self._check_kind(state, source)
        check_architecture(state, self.cfg, source)
        try:
            for name in ("G_A", "G_B", "D_A", "D_B"):
                getattr(self, name).load_state_dict(state["models"][name])
            self._load_schedule_state(state)
            self.pool_A.load_state_dict(state["pools"]["A"], self.device)
            self.pool_B.load_state_dict(state["pools"]["B"], self.device)
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"{source}: does not match these options ({exc})") from exc


def check_architecture(state: dict[str, Any], cfg: CycleGANConfig, source: str | Path) -> None:
    """Raise :class:`CheckpointError` naming the options where ``state`` and ``cfg`` disagree."""
    saved = type(cfg).from_dict(state.get("config", {})).architecture()
    wanted = cfg.architecture()
    diff = {k: (saved[k], wanted[k]) for k in wanted if saved[k] != wanted[k]}
    if diff:
        text = ", ".join(f"{k}: checkpoint {a} vs options {b}" for k, (a, b) in diff.items())
        raise CheckpointError(f"{source}: checkpoint was trained with other network options ({text})")


def model_class(cfg: CycleGANConfig) -> type[TrainableModel]:
    """The model kind a config trains: :class:`~.cut.CUTModel` for a :class:`~.cut_config.CUTConfig`."""
    if isinstance(cfg, CUTConfig):
        from photosynth.translate.cyclegan.cut import CUTModel

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
    from photosynth.translate.cyclegan.checkpoint import load_checkpoint

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
