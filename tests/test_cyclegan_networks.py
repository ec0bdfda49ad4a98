"""Generator / discriminator shapes, value ranges, reference sizes, exact size preservation, upsampling modes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from cyclegan_toy import make_images, single_thread, tiny_config  # noqa: F401 (autouse fixture)

from photosynth.translate.cyclegan.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.kinds import load_generator
from photosynth.translate.cyclegan.networks import (
    NLayerDiscriminator,
    ResnetGenerator,
    build_discriminator,
    build_generator,
    upsampling,
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


# --- upsampling: transposed convolutions (reference) or resize-then-convolution (Odena et al. 2016) ---------


def test_upsample_defaults_to_the_reference_transposed_convolutions() -> None:
    cfg = CycleGANConfig()
    assert cfg.upsample == "transpose" and "upsample" in cfg.architecture()
    g = ResnetGenerator(64, 9)
    assert sum(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules()) == 2
    assert not any(isinstance(m, torch.nn.Upsample) for m in g.modules())
    with pytest.raises(ValueError, match="upsample must be one of"):
        CycleGANConfig(upsample="bilinear")


def test_resize_upsampling_keeps_shapes_and_parameter_count() -> None:
    torch.manual_seed(0)
    g = build_generator(CycleGANConfig(ngf=4, n_blocks=2, upsample="resize"))
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())
    ups = [m for m in g.modules() if isinstance(m, torch.nn.Upsample)]
    assert len(ups) == 2 and all(u.mode == "nearest" and u.scale_factor == 2 for u in ups)
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    y = g(x)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1 and y.std() > 0
    # a 3x3 kernel either way: same number of weights, so the two are compared at equal capacity
    assert n_params(ResnetGenerator(64, 9, upsample="resize")) == n_params(ResnetGenerator(64, 9)) == 11_378_179


def test_resize_upsampling_maps_a_constant_to_a_constant_unlike_the_transposed_convolution() -> None:
    """Odena et al.'s point: a stride-2 transposed convolution overlaps unevenly, so even a constant input comes
    out as a period-2 (checkerboard) pattern; nearest resize then a convolution cannot do that."""
    torch.manual_seed(0)
    x = torch.ones(1, 4, 6, 6)
    with torch.no_grad():
        transpose = torch.nn.Sequential(*upsampling(4, 3, "transpose", False))(x)[0]
        resize = torch.nn.Sequential(*upsampling(4, 3, "resize", False))(x)[0]
    assert transpose.shape == resize.shape == (3, 12, 12)
    assert torch.allclose(resize, resize[:, :1, :1].expand_as(resize), atol=1e-6)
    inner = transpose[:, 1:-1, 1:-1]  # away from the border
    assert (inner[:, ::2, ::2] - inner[:, 1::2, 1::2]).abs().max() > 1e-2


def test_upsample_option_round_trips_through_the_checkpoint(tmp_path: Path) -> None:
    from photosynth.translate.cyclegan.train import CHECKPOINT, train

    a = make_images(tmp_path / "A", [(24, 20)] * 2, seed=1)
    b = make_images(tmp_path / "B", [(24, 20)] * 2, seed=2)
    result = train(tiny_config(upsample="resize", steps=1, decay_steps=0), a, b, tmp_path / "run", progress=False)
    assert load_checkpoint(result.checkpoint)["config"]["upsample"] == "resize"
    generator, cfg = load_generator(result.checkpoint, "AtoB")
    assert cfg.upsample == "resize" and any(isinstance(m, torch.nn.Upsample) for m in generator.modules())
    with pytest.raises(CheckpointError, match="upsample: checkpoint resize vs options transpose"):
        train(tiny_config(steps=2, decay_steps=0), a, b, tmp_path / "run", resume=True, progress=False)
    # checkpoints written before the option existed have transposed convolutions, and still load as such
    state = load_checkpoint(result.checkpoint)
    del state["config"]["upsample"]
    state["models"]["G_A"] = build_generator(tiny_config()).state_dict()
    save_checkpoint(tmp_path / "old" / CHECKPOINT, {k: v for k, v in state.items() if k != "format"})
    old, old_cfg = load_generator(tmp_path / "old" / CHECKPOINT, "AtoB")
    assert old_cfg.upsample == "transpose" and any(isinstance(m, torch.nn.ConvTranspose2d) for m in old.modules())


def test_cli_has_the_upsample_flag() -> None:
    from photosynth.cli import build_parser

    args = build_parser().parse_args(["cyclegan", "train", "--a", "x", "--b", "y", "--out", "z", "--upsample", "resize"])
    assert args.upsample == "resize"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["cyclegan", "train", "--upsample", "bilinear"])


def test_residual_generator_starts_as_the_identity_and_learns_a_change() -> None:
    torch.manual_seed(0)
    cfg = CycleGANConfig(ngf=4, n_blocks=2, upsample="resize", residual=True)
    assert "residual" in cfg.architecture() and not CycleGANConfig().residual  # off in the reference
    g = build_generator(cfg)
    plain = build_generator(CycleGANConfig(ngf=4, n_blocks=2, upsample="resize"))
    assert n_params(g) == n_params(plain)  # the same layers, only the output differs
    x = torch.rand(2, 3, 16, 24) * 1.8 - 0.9
    last = g.model[-2]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        assert torch.allclose(g(x), x, atol=1e-5)  # h = 0: the input itself
        last.bias.copy_(torch.tensor([0.5, 0.0, -0.5]))  # h = const: tanh(atanh(x) + h), channel by channel
        y = g(x)
    assert torch.allclose(y, torch.tanh(torch.atanh(x) + torch.tensor([0.5, 0.0, -0.5]).view(1, 3, 1, 1)), atol=1e-5)
    assert y.min() > -1 and y.max() < 1
    edge = torch.ones(1, 3, 16, 16)
    edge[..., ::2] = -1.0
    assert torch.isfinite(g(edge)).all()  # the range ends are clipped before atanh
    fresh = build_generator(cfg)
    fresh(x).square().sum().backward()  # every layer learns through the residual path
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in fresh.parameters())


def test_residual_option_must_agree_with_the_checkpoint(tmp_path: Path) -> None:
    from photosynth.translate.cyclegan.train import train

    a = make_images(tmp_path / "A", [(24, 20)] * 2, seed=1)
    b = make_images(tmp_path / "B", [(24, 20)] * 2, seed=2)
    result = train(tiny_config(residual=True, steps=1, decay_steps=0), a, b, tmp_path / "run", progress=False)
    generator, cfg = load_generator(result.checkpoint, "AtoB")
    assert cfg.residual and generator.residual
    with pytest.raises(CheckpointError, match="residual: checkpoint True vs options False"):
        train(tiny_config(steps=2, decay_steps=0), a, b, tmp_path / "run", resume=True, progress=False)
