"""What shapes a stylization (:class:`NSTConfig`) and the named presets: the study's (the Keras example) and
the TensorFlow tutorial's."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

#: Starting images of the optimisation (:attr:`NSTConfig.init`).
INITS = ("content", "color")


@dataclass(frozen=True)
class NSTConfig:
    """Everything that shapes a stylization. ``size`` is the working ``(width, height)``; ``None`` keeps the frame's."""

    content_layers: tuple[str, ...] = ("block2_conv2",)
    style_layers: tuple[str, ...] = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
    content_weight: float = 0.01
    style_weight: float = 4.0
    tv_weight: float = 0.995
    tv_power: float = 1.25
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    #: L-BFGS: outer iterations (each up to ``lbfgs_maxfun`` evaluations); Adam: steps.
    iterations: int = 5
    lbfgs_maxfun: int = 20
    learning_rate: float = 0.02
    adam_beta1: float = 0.99
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    size: tuple[int, int] | None = (828, 250)
    #: Keep the content's colours: transfer on luminance, then put the content's chroma back.
    preserve_color: bool = False
    #: Starting image: ``content`` (the study, the Keras example) or ``color`` — the content with each RGB
    #: channel's mean and standard deviation set to its style photo's (Reinhard et al. 2001, "Color Transfer
    #: between Images"), so a short optimisation starts at the style's colours and spends its steps on texture.
    init: Literal["content", "color"] = "content"
    #: Adam: record losses (and call the callback) every this many steps (each record syncs the device).
    log_every: int = 10

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.init == "color" and self.preserve_color:
            raise ValueError("init='color' takes the style's colours, preserve_color keeps the content's: choose one")
        if self.optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        if not self.content_layers or not self.style_layers:
            raise ValueError("NST needs at least one content layer and one style layer")
        for name in ("iterations", "lbfgs_maxfun", "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("content_weight", "style_weight", "tv_weight", "learning_rate"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.tv_power <= 0:
            raise ValueError(f"tv_power must be > 0, got {self.tv_power}")
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 2):
            raise ValueError(f"size must be (width, height) with both >= 2, got {self.size}")


#: ``study``: the original study (Keras example, L-BFGS, 828×250). ``tutorial``: the TensorFlow tutorial's
#: layers and optimiser (Adam lr 0.02 on the [0, 1] image, β1 0.99, 1,000 steps) with the study's loss weights.
PRESETS: dict[str, NSTConfig] = {
    "study": NSTConfig(),
    "tutorial": NSTConfig(
        content_layers=("block5_conv2",),
        style_layers=("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"),
        optimizer="adam",
        iterations=1000,
        learning_rate=0.02,
    ),
}


def preset(name: str, **overrides: Any) -> NSTConfig:
    """A named preset with some fields replaced (``None`` values are ignored)."""
    if name not in PRESETS:
        raise ValueError(f"unknown NST preset {name!r}; choose one of {', '.join(PRESETS)}")
    fields = NSTConfig.__dataclass_fields__
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"unknown NST setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    given = {k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items() if v is not None}
    return replace(PRESETS[name], **given)


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"828x250"`` → ``(828, 250)`` (width × height); ``None``/``""``/``"original"`` → ``None``."""
    if text is None or str(text).strip().lower() in ("", "none", "original"):
        return None
    try:
        width, height = (int(part) for part in str(text).lower().split("x"))
    except ValueError as exc:
        raise ValueError(f"size must look like WIDTHxHEIGHT (e.g. 828x250), got {text!r}") from exc
    return width, height
