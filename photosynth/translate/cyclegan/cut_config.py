"""CUT / FastCUT options (Park, Efros, Zhang, Zhu, ECCV 2020): :class:`CycleGANConfig` plus the contrastive loss.

:class:`CUTConfig` subclasses :class:`~photosynth.translate.cyclegan.config.CycleGANConfig`, so the networks,
data pipeline, schedule, speed options and checkpoint checks shared with CycleGAN take it unchanged. CycleGAN-only
fields (``lambda_cycle``, ``lambda_identity``) are ignored by CUT and hidden from ``photosynth cut``.

Defaults are the authors' published implementation, taesungp/contrastive-unpaired-translation:
``models/cut_model.py`` (``modify_commandline_options``: ``--lambda_GAN 1.0``, ``--nce_layers 0,4,8,12,16``,
``--nce_includes_all_negatives_from_minibatch False``, ``--netF mlp_sample``, ``--netF_nc 256``, ``--nce_T 0.07``,
``--num_patches 256``, ``set_defaults(pool_size=0)``; ``--CUT_mode CUT``: ``nce_idt=True, lambda_NCE=1.0``;
``FastCUT``: ``nce_idt=False, lambda_NCE=10.0, flip_equivariance=True, n_epochs=150, n_epochs_decay=50``),
``options/base_options.py`` (``--init_type xavier``, ``--init_gain 0.02``, instance norm, resnet_9blocks, basic
PatchGAN) and ``options/train_options.py`` (``--lr 0.0002``, ``--beta1 0.5``, ``--gan_mode lsgan``,
``--n_epochs 200 --n_epochs_decay 200``).

**Layer indices.** The authors' ``nce_layers`` index *their* ResNet generator's ``nn.Sequential``, which by default
downsamples with a stride-1 conv + blur pool (``Downsample``): 0 = reflection-padded input, 4 = first down conv,
8 = second down conv, 12 = first residual block, 16 = fifth residual block. Our generator (the CycleGAN reference,
like theirs with ``--no_antialias``) uses stride-2 convs, so the same features sit at **0, 4, 7, 10, 14**:

====  ============================================  =========
ours  module (our ``ResnetGenerator.model``)        theirs
====  ============================================  =========
0     ReflectionPad2d(3) (the padded RGB input)     0
4     Conv 3×3 stride 2, ngf → 2·ngf                4
7     Conv 3×3 stride 2, 2·ngf → 4·ngf              8
10    ResnetBlock 1                                 12
14    ResnetBlock 5                                 16
====  ============================================  =========

In general ``10 + k`` is residual block ``k + 1``; a generator with ``n_blocks`` blocks has encoder layers
``0 … 9 + n_blocks`` (the decoder, whatever its upsampling, starts after them).

**Deviations from the authors' code**, all from sharing CycleGAN's parts: the networks are CycleGAN's (strided
convolutions, no anti-aliased blur-pool down/upsampling in G and D, i.e. their ``--no_antialias
--no_antialias_up``); the schedule is counted in steps, not epochs; G and F share one Adam (same hyperparameters,
so the same updates); patch locations and flips come from a per-rank generator saved in the checkpoint (exact
resume) instead of the global RNGs; the keys' features are computed without a graph (they are detached anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from photosynth.translate.cyclegan.config import ARCHITECTURE_FIELDS, CycleGANConfig

CUT_MODES: tuple[str, ...] = ("cut", "fastcut")
#: Per-mode defaults (the authors' ``--CUT_mode`` ``set_defaults``). The schedule is in steps: CUT's
#: 200 + 200 epochs and FastCUT's 150 + 50 epochs kept in proportion over CycleGANConfig's 2,000 default steps.
MODE_DEFAULTS: dict[str, dict[str, Any]] = {
    "cut": {"lambda_NCE": 1.0, "nce_idt": True, "flip_equivariance": False, "steps": 1000, "decay_steps": 1000},
    "fastcut": {"lambda_NCE": 10.0, "nce_idt": False, "flip_equivariance": True, "steps": 1500, "decay_steps": 500},
}
#: The authors' layers 0,4,8,12,16 mapped onto our generator (module docstring).
DEFAULT_NCE_LAYERS: tuple[int, ...] = (0, 4, 7, 10, 14)
#: Modules of our generator before the residual blocks (pad, conv, norm, relu, then 2 × (conv, norm, relu)).
ENCODER_STEM = 10
INIT_TYPES: tuple[str, ...] = ("xavier", "normal")
#: CycleGANConfig fields CUT does not take over from a CycleGAN run (:meth:`CUTConfig.from_cyclegan`): its own
#: schedule and learning rate, and the image pool (CUT has none). The cycle and identity weights pass; CUT ignores them.
NOT_SHARED: tuple[str, ...] = ("steps", "decay_steps", "lr", "pool_size")


def encoder_layers(n_blocks: int) -> int:
    """Number of encoder modules (valid ``nce_layers`` are below it) of a generator with ``n_blocks`` blocks."""
    return ENCODER_STEM + n_blocks


@dataclass
class CUTConfig(CycleGANConfig):
    """CycleGAN's options plus PatchNCE's; ``None`` fields take the ``mode``'s value from :data:`MODE_DEFAULTS`."""

    mode: str = "cut"
    lambda_GAN: float = 1.0
    lambda_NCE: float | None = None
    nce_idt: bool | None = None
    nce_layers: tuple[int, ...] = DEFAULT_NCE_LAYERS
    nce_T: float = 0.07
    num_patches: int = 256
    netF_nc: int = 256
    nce_includes_all_negatives_from_minibatch: bool = False
    flip_equivariance: bool | None = None
    init_type: str = "xavier"
    pool_size: int = 0
    steps: int | None = None  # type: ignore[assignment]
    decay_steps: int | None = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.mode not in CUT_MODES:
            raise ValueError(f"invalid CUT options: mode must be one of {CUT_MODES}, got {self.mode!r}")
        for name, value in MODE_DEFAULTS[self.mode].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if isinstance(self.nce_layers, str):
            self.nce_layers = tuple(int(x) for x in self.nce_layers.split(",") if x.strip())
        self.nce_layers = tuple(int(x) for x in self.nce_layers)
        super().__post_init__()
        problems = []
        if not self.nce_layers:
            problems.append("nce_layers must name at least one layer")
        n_enc = encoder_layers(self.n_blocks)
        bad = [i for i in self.nce_layers if not 0 <= i < n_enc]
        if bad:
            problems.append(
                f"nce_layers {bad} are outside the generator's encoder (layers 0..{n_enc - 1} with {self.n_blocks} "
                f"blocks; see photosynth.translate.cyclegan.cut_config for the mapping)"
            )
        if list(self.nce_layers) != sorted(set(self.nce_layers)):
            problems.append(f"nce_layers must be increasing without repeats, got {list(self.nce_layers)}")
        if self.nce_T <= 0:
            problems.append(f"nce_T must be > 0, got {self.nce_T}")
        for name in ("num_patches", "netF_nc"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("lambda_GAN", "lambda_NCE"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.lambda_GAN == 0 and self.lambda_NCE == 0:
            problems.append("lambda_GAN and lambda_NCE are both 0: nothing would train the generator")
        if self.pool_size != 0:
            problems.append("pool_size must be 0: CUT's discriminator sees the current fakes (authors' pool_size=0)")
        if self.init_type not in INIT_TYPES:
            problems.append(f"init_type must be one of {INIT_TYPES}, got {self.init_type!r}")
        if problems:
            raise ValueError("invalid CUT options: " + "; ".join(problems))

    @classmethod
    def from_cyclegan(cls, base: CycleGANConfig, **options: Any) -> "CUTConfig":
        """CUT on ``base``'s networks, data and speed options (all but :data:`NOT_SHARED`), ``options`` over them."""
        unknown = sorted(set(options) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"invalid CUT options: unknown {unknown} (the fields of photosynth's CUTConfig)")
        shared = {k: v for k, v in base.to_dict().items() if k not in NOT_SHARED}
        return cls(**{**shared, **options})

    def architecture(self) -> dict[str, Any]:
        """Network shapes, including the PatchSampleF head's (its inputs are the ``nce_layers``)."""
        names = (*ARCHITECTURE_FIELDS, "nce_layers", "netF_nc")
        return {name: list(v) if isinstance(v := getattr(self, name), tuple) else v for name in names}


def weather_configs(
    base: CycleGANConfig,
    weathers: Sequence[str],
    options: Mapping[str, Any],
    per_weather: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, CUTConfig]:
    """One :class:`CUTConfig` per weather from ``base`` (:meth:`CUTConfig.from_cyclegan`): ``options`` for every
    weather, then ``per_weather[w]`` over them for weather ``w``."""
    per_weather = dict(per_weather or {})
    stray = sorted(set(per_weather) - set(weathers))
    if stray:
        raise ValueError(f"per-weather CUT options for {stray}, which are not trained (weathers: {list(weathers)})")
    return {w: CUTConfig.from_cyclegan(base, **{**options, **per_weather.get(w, {})}) for w in weathers}
