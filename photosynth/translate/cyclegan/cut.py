"""CUT and FastCUT (Park, Efros, Zhang, Zhu, ECCV 2020): one generator, one discriminator, PatchNCE.

The generator and PatchGAN are CycleGAN's (:mod:`.networks`); the data pipeline, checkpoints, exact resume,
``torchrun`` data parallelism and full-size translation are the package's shared ones (:mod:`.train`,
:mod:`photosynth.translate.cyclegan.translate`). What is CUT's own lives here, following the authors' ``models/cut_model.py``,
``models/patchnce.py`` and ``PatchSampleF`` (``models/networks.py``) in taesungp/contrastive-unpaired-translation:

- :class:`PatchSampleF`: from each chosen encoder layer, ``num_patches`` random locations (the same for every
  image of the batch and for query and key), a two-layer MLP (``netF_nc`` wide) per layer, L2 normalisation.
- :func:`patch_nce_loss`: InfoNCE per patch: the positive is the same location of the input, the negatives the
  other sampled locations of the same image, logits scaled by ``1 / nce_T``.
- :class:`CUTModel`: per step, the discriminator first (LSGAN on the current fakes, no pool), then generator +
  head: ``λ_GAN·GAN(G(x)) + PatchNCE`` where PatchNCE is the mean over layers of ``λ_NCE·NCE`` between
  ``G(x)`` and ``x``; with the identity loss (CUT) it is the mean of that and the same between ``G(y)`` and ``y``.
  With flip equivariance (FastCUT) the inputs are flipped at random and the fake's features flipped back.

Options and their sources: :mod:`.cut_config` (including how the authors' layer indices map onto ours).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from photosynth.translate.cyclegan import distributed
from photosynth.translate.cyclegan.base import TrainableModel, check_architecture, on_cpu, set_requires_grad
from photosynth.translate.cyclegan.checkpoint import CheckpointError
from photosynth.translate.cyclegan.cut_config import CUTConfig
from photosynth.translate.cyclegan.losses import gan_loss
from photosynth.translate.cyclegan.networks import ResnetGenerator, build_discriminator, build_generator, init_weights

#: Loss panels of notebook 02's CUT figure (:func:`photosynth.report.translators.plot_losses`).
LOSS_PANELS: dict[str, tuple[str, ...]] = {
    "discriminator": ("D_real", "D_fake"),
    "generator (adversarial)": ("G_GAN",),
    "PatchNCE": ("NCE", "NCE_Y"),
}


def encoder_features(generator: ResnetGenerator, x: torch.Tensor, layers: Sequence[int]) -> list[torch.Tensor]:
    """Outputs of the generator's modules ``layers`` (indices into ``generator.model``), stopping after the last."""
    feats, last, wanted = [], layers[-1], set(layers)
    for index, module in enumerate(generator.model):
        x = module(x)
        if index in wanted:
            feats.append(x)
        if index == last:
            break
    return feats


def layer_channels(generator: ResnetGenerator, layers: Sequence[int]) -> list[int]:
    """Channel count of each of ``layers``' outputs (convolutions change it, every other module keeps it)."""
    channels, out, wanted = 3, [], set(layers)
    for index, module in enumerate(generator.model[: layers[-1] + 1]):
        channels = getattr(module, "out_channels", channels)
        if index in wanted:
            out.append(channels)
    return out


class PatchSampleF(nn.Module):
    """The authors' ``mlp_sample`` head: sample patch locations, embed them with a per-layer MLP, L2-normalise."""

    def __init__(self, channels: Sequence[int], nc: int = 256) -> None:
        super().__init__()
        self.mlps = nn.ModuleList(nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc)) for c in channels)

    def forward(
        self,
        feats: Sequence[torch.Tensor],
        num_patches: int,
        patch_ids: Sequence[torch.Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """``(B·P)×nc`` embeddings per layer and the sampled locations (drawn when ``patch_ids`` is None).

        Locations are drawn on the CPU from ``generator`` (default: torch's), ``P = min(num_patches, H·W)``.
        """
        if len(feats) != len(self.mlps):
            raise ValueError(f"PatchSampleF has {len(self.mlps)} layers, got {len(feats)} feature maps")
        out, ids = [], []
        for index, (feat, mlp) in enumerate(zip(feats, self.mlps)):
            flat = feat.permute(0, 2, 3, 1).flatten(1, 2)  # B × HW × C
            if patch_ids is None:
                chosen = torch.randperm(flat.shape[1], generator=generator)[:num_patches].to(feat.device)
            else:
                chosen = patch_ids[index]
            x = mlp(flat[:, chosen, :].flatten(0, 1))
            out.append(x / (x.norm(p=2, dim=1, keepdim=True) + 1e-7))
            ids.append(chosen)
        return out, ids


def patch_nce_loss(
    feat_q: torch.Tensor, feat_k: torch.Tensor, temperature: float, batch: int
) -> torch.Tensor:
    """Per-patch InfoNCE loss (``models/patchnce.py``): query ``i`` against its key ``i`` (positive) and the other
    keys of its group (negatives; the self-pair is masked with logit −10 before the temperature).

    ``feat_q``, ``feat_k``: ``(batch·P)×D`` embeddings, grouped by image; ``batch`` 1 pools the negatives over
    the whole minibatch (``nce_includes_all_negatives_from_minibatch``). Keys get no gradient.
    """
    if feat_q.shape != feat_k.shape or feat_q.dim() != 2:
        shapes = f"{tuple(feat_q.shape)}, {tuple(feat_k.shape)}"
        raise ValueError(f"query and key must be two equal (N, D) matrices, got {shapes}")
    if batch < 1 or feat_q.shape[0] % batch:
        raise ValueError(f"{feat_q.shape[0]} patches do not split into {batch} equal groups")
    feat_q, feat_k = feat_q.float(), feat_k.detach().float()
    n, dim = feat_q.shape
    l_pos = (feat_q * feat_k).sum(dim=1, keepdim=True)
    q, k = feat_q.view(batch, -1, dim), feat_k.view(batch, -1, dim)
    patches = q.shape[1]
    l_neg = torch.bmm(q, k.transpose(2, 1))
    diagonal = torch.eye(patches, device=q.device, dtype=torch.bool)[None]
    l_neg = l_neg.masked_fill(diagonal, -10.0).view(-1, patches)
    logits = torch.cat((l_pos, l_neg), dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(n, dtype=torch.long, device=q.device), reduction="none")


def xavier_init(net: nn.Module, gain: float) -> nn.Module:
    """The authors' default ``--init_type xavier``: conv/linear weights Xavier-normal(gain), biases 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_normal_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
    return net


class CUTModel(TrainableModel):
    """G: A→B, D judges domain B, F embeds G's encoder patches (the authors' ``netG``, ``netD``, ``netF``)."""

    KIND = "cut"
    LOSS_NAMES = ("G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y")
    PROGRESS = {"G": ("G_GAN",), "NCE": ("NCE",), "D": ("D_real", "D_fake")}

    def __init__(self, cfg: CUTConfig, device: str = "cpu", place: distributed.Dist | None = None) -> None:
        if not isinstance(cfg, CUTConfig):
            raise TypeError(f"CUTModel needs a CUTConfig, got {type(cfg).__name__}")
        super().__init__(cfg, device, place)
        self.cfg: CUTConfig = cfg
        self.G = build_generator(cfg)
        self.F = PatchSampleF(layer_channels(self.G, cfg.nce_layers), cfg.netF_nc)
        self.D = build_discriminator(cfg)
        initialise = xavier_init if cfg.init_type == "xavier" else init_weights
        for net in self.nets:
            initialise(net, cfg.init_gain)
        self._place_nets()
        # One Adam over G and F equals the authors' two (same hyperparameters; Adam is per parameter).
        self._optimisers([*self.G.parameters(), *self.F.parameters()], self.D.parameters())
        self.fwd = {"G": self._compiled(self.G), "D": self._compiled(self.D)}
        # Patch locations and flips draw from this rank's own generator, saved with the checkpoint: the global
        # torch RNG is also drawn by the data loader when a run (re)starts, so it cannot carry an exact resume.
        self.rng = torch.Generator().manual_seed(cfg.seed * 7919 + 2 * self.place.rank + 17)
        self.visual_rows = (("real_A", "fake_B", "real_B", "idt_B") if cfg.nce_idt else ("real_A", "fake_B", "real_B"),)

    @property
    def nets(self) -> tuple[nn.Module, ...]:
        return self.G, self.F, self.D

    def nce_loss(self, source: torch.Tensor, target: torch.Tensor, flipped: bool) -> torch.Tensor:
        """PatchNCE between the input ``source`` and its translation ``target`` (``calculate_NCE_loss``)."""
        cfg = self.cfg
        feat_q = encoder_features(self.G, target, cfg.nce_layers)
        if flipped:
            feat_q = [torch.flip(f, [3]) for f in feat_q]
        with torch.no_grad():  # keys are detached in the loss: no graph needed (same values)
            feat_k = encoder_features(self.G, source, cfg.nce_layers)
            k_pool, ids = self.F(feat_k, cfg.num_patches, generator=self.rng)
        q_pool, _ = self.F(feat_q, cfg.num_patches, ids)
        batch = 1 if cfg.nce_includes_all_negatives_from_minibatch else source.shape[0]
        total = source.new_zeros((), dtype=torch.float32)
        for q, k in zip(q_pool, k_pool):
            total = total + patch_nce_loss(q, k, cfg.nce_T, batch).mean() * cfg.lambda_NCE
        return total / len(cfg.nce_layers)

    def train_step(
        self, real_A: torch.Tensor, real_B: torch.Tensor, keep_visuals: bool = False
    ) -> dict[str, torch.Tensor]:
        """Discriminator step, then generator + head step (``optimize_parameters``); returns detached losses."""
        cfg, f = self.cfg, self.fwd
        real_A, real_B = self.memory_format(real_A, real_B)
        n = real_A.shape[0]
        real = torch.cat((real_A, real_B)) if cfg.nce_idt else real_A
        flipped = bool(cfg.flip_equivariance and torch.rand((), generator=self.rng) < 0.5)
        if flipped:
            real = torch.flip(real, [3])
        with self.autocast():
            fake = f["G"](real)
        fake_B = fake[:n]
        idt_B = fake[n:] if cfg.nce_idt else None

        set_requires_grad((self.D,), True)
        self.opt_D.zero_grad(set_to_none=True)
        with self.autocast():
            d_fake = gan_loss(f["D"](fake_B.detach()), False, cfg.gan_mode)
            d_real = gan_loss(f["D"](real_B), True, cfg.gan_mode)
            loss_D = (d_fake + d_real) * 0.5
        loss_D.backward()
        distributed.average_gradients(self.D.parameters(), self.place)
        self.opt_D.step()

        set_requires_grad((self.D,), False)
        self.opt_G.zero_grad(set_to_none=True)
        zero = real_A.new_zeros((), dtype=torch.float32)
        with self.autocast():
            g_gan = gan_loss(f["D"](fake_B), True, cfg.gan_mode) * cfg.lambda_GAN if cfg.lambda_GAN > 0 else zero
            nce = self.nce_loss(real_A, fake_B, flipped) if cfg.lambda_NCE > 0 else zero
            use_idt = cfg.nce_idt and cfg.lambda_NCE > 0
            nce_y = self.nce_loss(real_B, idt_B, flipped) if use_idt else zero
            loss_G = g_gan + ((nce + nce_y) * 0.5 if use_idt else nce)
        loss_G.backward()
        distributed.average_gradients([*self.G.parameters(), *self.F.parameters()], self.place)
        self.opt_G.step()
        self._advance()
        if keep_visuals:
            self.visuals = {"real_A": real[:1].detach(), "fake_B": fake_B[:1].detach(), "real_B": real_B[:1].detach()}
            if idt_B is not None:
                self.visuals["idt_B"] = idt_B[:1].detach()
        values = (g_gan, d_real, d_fake, loss_G, nce, nce_y)
        return {name: v.detach() for name, v in zip(self.LOSS_NAMES, values)}

    # ---- state -------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, schedulers and the step; tensors on the CPU. No image pool: the per-rank entry
        (``pools``, gathered per rank by the trainer) holds this rank's patch/flip generator state."""

        return {
            "config": self.cfg.to_dict(),
            "kind": self.KIND,
            "step": self.step,
            "models": {name: on_cpu(getattr(self, name).state_dict()) for name in ("G", "F", "D")},
            **self._schedule_state(),
            "pools": {"rng": self.rng.get_state()},
        }

    def load_state_dict(self, state: dict[str, Any], source: str | Path = "checkpoint") -> None:
        """Restore :meth:`state_dict`; another kind or architecture raises :class:`CheckpointError`."""
        self._check_kind(state, source)
        check_architecture(state, self.cfg, source)
        try:
            for name in ("G", "F", "D"):
                getattr(self, name).load_state_dict(state["models"][name])
            self._load_schedule_state(state)
            self.rng.set_state(state["pools"]["rng"])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"{source}: does not match these options ({exc})") from exc
