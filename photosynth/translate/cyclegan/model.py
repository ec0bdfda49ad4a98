"""CycleGAN's model kind: four networks, their image pools and the training step (the reference's naming)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from photosynth.translate.cyclegan import distributed
from photosynth.translate.cyclegan.base import TrainableModel, check_architecture, on_cpu, set_requires_grad
from photosynth.translate.cyclegan.checkpoint import CheckpointError
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.losses import cycle_loss, discriminator_loss, gan_loss, identity_loss
from photosynth.translate.cyclegan.networks import build_discriminator, build_generator
from photosynth.translate.cyclegan.pool import ImagePool

#: Loss names in the order of the CSV log (the reference's names).
LOSS_NAMES: tuple[str, ...] = ("D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B")


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
