"""Generator / discriminator shapes, value ranges, reference sizes and exact size preservation."""

from __future__ import annotations

import pytest
import torch
from cyclegan_toy import single_thread  # noqa: F401 (autouse fixture)

from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.networks import (
    NLayerDiscriminator,
    ResnetGenerator,
    build_discriminator,
    build_generator,
)
from photosynth.translate.cyclegan.translate import translate_batch


def n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_reference_defaults_match_the_reference_parameter_counts() -> None:
    cfg = CycleGANConfig()
    assert (cfg.ngf, cfg.n_blocks, cfg.n_layers_d, cfg.norm, cfg.gan_mode) == (64, 9, 3, "instance", "lsgan")
    assert (cfg.lambda_cycle, cfg.lambda_identity, cfg.pool_size, cfg.lr, cfg.beta1) == (10.0, 0.5, 50, 2e-4, 0.5)
    # junyanz/pytorch-CycleGAN-and-pix2pix prints these for resnet_9blocks and the basic 70x70 PatchGAN
    assert n_params(ResnetGenerator(64, 9)) == 11_378_179
    assert n_params(NLayerDiscriminator(64, 3)) == 2_764_737


def test_generator_keeps_shape_and_tanh_range() -> None:
    torch.manual_seed(0)
    g = build_generator(CycleGANConfig(ngf=4, n_blocks=2))
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    y = g(x)
    assert y.shape == x.shape
    assert y.min() >= -1 and y.max() <= 1 and y.std() > 0


def test_patchgan_output_grid() -> None:
    d = build_discriminator(CycleGANConfig(ndf=4, n_layers_d=3))
    out = d(torch.zeros(1, 3, 256, 256))
    assert out.shape == (1, 1, 30, 30)  # the 70x70 PatchGAN on 256 crops
    d2 = build_discriminator(CycleGANConfig(ndf=4, n_layers_d=2))
    assert d2(torch.zeros(1, 3, 64, 64)).shape == (1, 1, 14, 14)


def test_normal_init_is_0_02() -> None:
    g = build_generator(CycleGANConfig(ngf=16, n_blocks=2))
    convs = [m for m in g.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    weights = torch.cat([m.weight.flatten() for m in convs])
    assert abs(weights.std().item() - 0.02) < 0.002
    assert all(m.bias is None or torch.count_nonzero(m.bias) == 0 for m in convs)
    assert any(isinstance(m, torch.nn.ReflectionPad2d) for m in g.modules())
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in g.modules())


@pytest.mark.parametrize("width,height", [(1242, 375), (1224, 370), (61, 37)])
def test_translate_batch_preserves_odd_sizes_exactly(width: int, height: int) -> None:
    torch.manual_seed(0)
    g = build_generator(CycleGANConfig(ngf=2, n_blocks=1)).eval()
    images = torch.randint(0, 256, (1, 3, height, width), dtype=torch.uint8)
    with torch.inference_mode():
        out = translate_batch(g, images)
    assert out.shape == images.shape and out.dtype == torch.uint8


def test_translate_batch_on_a_multiple_of_four_is_the_plain_forward() -> None:
    torch.manual_seed(0)
    g = build_generator(CycleGANConfig(ngf=2, n_blocks=1)).eval()
    images = torch.randint(0, 256, (2, 3, 36, 44), dtype=torch.uint8)
    with torch.inference_mode():
        expected = ((g(images.float() / 127.5 - 1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        assert torch.equal(translate_batch(g, images), expected)


def test_bad_options_are_rejected_with_the_reason() -> None:
    with pytest.raises(ValueError, match="crop_size must be a multiple of 4"):
        CycleGANConfig(crop_size=30, load_size=40)
    with pytest.raises(ValueError, match="gan_mode"):
        CycleGANConfig(gan_mode="wgan")
    with pytest.raises(ValueError, match="load_size"):
        CycleGANConfig(load_size=100, crop_size=128)


def test_learning_rate_schedule_is_constant_then_linear_to_zero() -> None:
    cfg = CycleGANConfig(steps=4, decay_steps=4)
    assert [cfg.lr_factor(s) for s in range(9)] == [1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0]
