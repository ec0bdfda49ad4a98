"""CycleGAN's loss terms: adversarial (LSGAN or vanilla), cycle consistency, identity."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gan_loss(prediction: torch.Tensor, target_is_real: bool, mode: str = "lsgan") -> torch.Tensor:
    """Adversarial loss of discriminator logits against an all-real / all-fake target.

    ``lsgan``: mean squared error to 1 / 0; ``vanilla``: binary cross-entropy on logits.
    """
    prediction = prediction.float()
    target = torch.full_like(prediction, 1.0 if target_is_real else 0.0)
    if mode == "lsgan":
        return F.mse_loss(prediction, target)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(prediction, target)
    raise ValueError(f"unknown gan_mode {mode!r} (expected 'lsgan' or 'vanilla')")


def cycle_loss(reconstructed: torch.Tensor, real: torch.Tensor, lambda_cycle: float) -> torch.Tensor:
    """``λ · |G_B(G_A(real)) − real|₁`` (mean over pixels)."""
    return F.l1_loss(reconstructed.float(), real.float()) * lambda_cycle


def identity_loss(
    same: torch.Tensor, real: torch.Tensor, lambda_cycle: float, lambda_identity: float
) -> torch.Tensor:
    """``λ · λ_identity · |G_A(real_B) − real_B|₁``: the reference scales identity by the cycle weight."""
    return F.l1_loss(same.float(), real.float()) * lambda_cycle * lambda_identity


def discriminator_loss(pred_real: torch.Tensor, pred_fake: torch.Tensor, mode: str = "lsgan") -> torch.Tensor:
    """Half the sum of the real and fake adversarial terms (the reference slows D down by 2)."""
    return (gan_loss(pred_real, True, mode) + gan_loss(pred_fake, False, mode)) * 0.5
