"""Loss terms against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from photosynth.translate.cyclegan.losses import cycle_loss, discriminator_loss, gan_loss, identity_loss


def test_lsgan_is_mean_squared_distance_to_the_target() -> None:
    pred = torch.tensor([[0.0, 0.5], [1.0, 2.0]])
    # real: ((0-1)^2 + (0.5-1)^2 + 0 + (2-1)^2) / 4 = (1 + 0.25 + 0 + 1) / 4
    assert gan_loss(pred, True).item() == pytest.approx(0.5625)
    # fake: (0 + 0.25 + 1 + 4) / 4
    assert gan_loss(pred, False).item() == pytest.approx(1.3125)


def test_vanilla_is_binary_cross_entropy_on_logits() -> None:
    pred = torch.tensor([0.0, 2.0])
    real = (math.log(2) + math.log(1 + math.exp(-2))) / 2
    fake = (math.log(2) + math.log(1 + math.exp(2))) / 2
    assert gan_loss(pred, True, "vanilla").item() == pytest.approx(real, rel=1e-6)
    assert gan_loss(pred, False, "vanilla").item() == pytest.approx(fake, rel=1e-6)
    with pytest.raises(ValueError, match="gan_mode"):
        gan_loss(pred, True, "hinge")


def test_cycle_and_identity_scale_l1_like_the_reference() -> None:
    real = torch.zeros(1, 3, 2, 2)
    rec = torch.full((1, 3, 2, 2), 0.2)
    rec[0, 0, 0, 0] = -1.0  # |.| sums to 11 * 0.2 + 1 = 3.2 over 12 pixels
    assert cycle_loss(rec, real, 10.0).item() == pytest.approx(10 * 3.2 / 12)
    assert identity_loss(rec, real, 10.0, 0.5).item() == pytest.approx(5 * 3.2 / 12)


def test_discriminator_loss_halves_the_sum_of_real_and_fake_terms() -> None:
    real_pred = torch.tensor([1.0, 0.0])  # (0 + 1) / 2 = 0.5
    fake_pred = torch.tensor([0.5, 0.5])  # (0.25 + 0.25) / 2 = 0.25
    assert discriminator_loss(real_pred, fake_pred).item() == pytest.approx((0.5 + 0.25) / 2)
