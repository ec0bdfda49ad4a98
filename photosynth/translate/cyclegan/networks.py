"""ResNet generator and PatchGAN discriminator, layer for layer as in the reference implementation."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from photosynth.translate.cyclegan.config import UPSAMPLE_MODES, CycleGANConfig

#: The generator downsamples twice by 2: inputs must be a multiple of this.
SIZE_MULTIPLE = 4


def norm_layer(kind: str) -> Callable[[int], nn.Module]:
    """Instance norm (no affine, no running stats) or batch norm, as the reference builds them."""
    if kind == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if kind == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    raise ValueError(f"unknown norm {kind!r} (expected 'instance' or 'batch')")


class ResnetBlock(nn.Module):
    """Two reflection-padded 3×3 convolutions with a skip connection."""

    def __init__(self, dim: int, norm: Callable[[int], nn.Module], use_bias: bool) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
            norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
            norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def upsampling(c_in: int, c_out: int, mode: str, use_bias: bool) -> list[nn.Module]:
    """A ×2 upsampling convolution: ``transpose`` (the reference: 3×3 stride-2 transposed convolution) or
    ``resize`` (nearest-neighbour ×2, reflection pad, 3×3 convolution; Odena et al. 2016), which cannot
    produce the checkerboard pattern of uneven kernel overlap."""
    if mode == "transpose":
        return [nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=2, padding=1, output_padding=1, bias=use_bias)]
    if mode == "resize":
        return [
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.ReflectionPad2d(1),
            nn.Conv2d(c_in, c_out, kernel_size=3, padding=0, bias=use_bias),
        ]
    raise ValueError(f"unknown upsample {mode!r} (expected one of {UPSAMPLE_MODES})")


class ResnetGenerator(nn.Module):
    """c7s1-ngf, two stride-2 downsamplings, ``n_blocks`` residual blocks, two upsamplings, c7s1-3, tanh.

    Maps N×3×H×W in [-1, 1] to the same shape when H and W are multiples of :data:`SIZE_MULTIPLE`.
    ``upsample`` picks the upsampling layers (:func:`upsampling`); both have the same parameter count.
    ``residual``: the last convolution's output ``h`` is added to the input in tanh's pre-image,
    ``tanh(atanh(x) + h)`` (see :attr:`CycleGANConfig.residual`); the layers are the same.
    """

    #: Inputs are clipped to ±(1 − this) before ``atanh`` (finite at the range ends).
    RESIDUAL_EPS = 1e-3

    def __init__(
        self, ngf: int = 64, n_blocks: int = 9, norm: str = "instance", channels: int = 3, upsample: str = "transpose",
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.residual = residual
        make_norm = norm_layer(norm)
        use_bias = norm == "instance"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(channels, ngf, kernel_size=7, padding=0, bias=use_bias),
            make_norm(ngf),
            nn.ReLU(True),
        ]
        for i in range(2):
            mult = 2**i
            layers += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=use_bias),
                make_norm(ngf * mult * 2),
                nn.ReLU(True),
            ]
        layers += [ResnetBlock(ngf * 4, make_norm, use_bias) for _ in range(n_blocks)]
        for i in range(2):
            mult = 2 ** (2 - i)
            layers += [
                *upsampling(ngf * mult, ngf * mult // 2, upsample, use_bias),
                make_norm(ngf * mult // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, channels, kernel_size=7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.residual:
            return self.model(x)
        h = self.model[:-1](x)  # all but the final tanh
        bound = 1.0 - self.RESIDUAL_EPS
        return torch.tanh(torch.atanh(x.clamp(-bound, bound)) + h)


class NLayerDiscriminator(nn.Module):
    """PatchGAN: ``n_layers`` stride-2 4×4 convolutions (70×70 receptive field for 3), one logit per patch."""

    def __init__(self, ndf: int = 64, n_layers: int = 3, norm: str = "instance", channels: int = 3) -> None:
        super().__init__()
        make_norm = norm_layer(norm)
        use_bias = norm == "instance"
        layers: list[nn.Module] = [nn.Conv2d(channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=use_bias),
                make_norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        prev, mult = mult, min(2**n_layers, 8)
        layers += [
            nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=use_bias),
            make_norm(ndf * mult),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def init_weights(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """The reference's ``normal`` init: conv weights N(0, gain), biases 0; batch-norm weights N(1, gain)."""

    def init(m: nn.Module) -> None:
        name = type(m).__name__
        if hasattr(m, "weight") and ("Conv" in name or "Linear" in name):
            nn.init.normal_(m.weight, 0.0, gain)
            if getattr(m, "bias", None) is not None:
                nn.init.constant_(m.bias, 0.0)
        elif "BatchNorm2d" in name:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.constant_(m.bias, 0.0)

    return net.apply(init)


def build_generator(cfg: CycleGANConfig) -> ResnetGenerator:
    """An initialised generator for ``cfg``."""
    return init_weights(ResnetGenerator(cfg.ngf, cfg.n_blocks, cfg.norm, upsample=cfg.upsample, residual=cfg.residual), cfg.init_gain)


def build_discriminator(cfg: CycleGANConfig) -> NLayerDiscriminator:
    """An initialised discriminator for ``cfg``."""
    return init_weights(NLayerDiscriminator(cfg.ndf, cfg.n_layers_d, cfg.norm), cfg.init_gain)
