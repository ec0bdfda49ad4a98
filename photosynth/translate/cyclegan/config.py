"""All CycleGAN hyperparameters in one dataclass; the defaults are the reference implementation's."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

#: Fields that change the model's tensors: a checkpoint must agree on them to be loaded.
ARCHITECTURE_FIELDS: tuple[str, ...] = ("ngf", "ndf", "n_blocks", "n_layers_d", "norm", "upsample", "residual")
#: Generator upsampling: the reference's transposed convolutions, or nearest-neighbour resize then a 3×3
#: convolution (Odena, Dumoulin, Olah 2016, "Deconvolution and Checkerboard Artifacts"), free of checkerboards.
UPSAMPLE_MODES: tuple[str, ...] = ("transpose", "resize")
PREPROCESS_MODES: tuple[str, ...] = ("resize_and_crop", "scale_width_and_crop", "crop")
GAN_MODES: tuple[str, ...] = ("lsgan", "vanilla")
COMPILE_MODES: tuple[str, ...] = ("", "default", "reduce-overhead", "max-autotune")


@dataclass
class CycleGANConfig:
    """Model, loss, optimisation, data and speed options.

    The schedule is counted in optimisation steps (one batch each): ``steps`` at the initial learning rate,
    then ``decay_steps`` with a linear decay to zero (the reference's 100 + 100 epochs, in steps).
    """

    # model
    ngf: int = 64
    ndf: int = 64
    n_blocks: int = 9
    n_layers_d: int = 3
    norm: str = "instance"
    upsample: str = "transpose"
    #: Generator output ``tanh(atanh(x) + h)`` instead of the reference's ``tanh(h)``: with the small initial
    #: weights it starts as the identity and learns the weather as a change of the input, so a short training
    #: run cannot erase the content (close in spirit to SimGAN's refiner, held near its synthetic input:
    #: Shrivastava et al. 2017, "Learning from Simulated and Unsupervised Images through Adversarial Training").
    #: Off in the reference. The identity loss would hold it at the identity: use ``lambda_identity=0`` with it.
    residual: bool = False
    init_gain: float = 0.02
    # losses
    gan_mode: str = "lsgan"
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    # optimisation
    lr: float = 2e-4
    beta1: float = 0.5
    batch_size: int = 1
    steps: int = 1000
    decay_steps: int = 1000
    # data
    preprocess: str = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256
    flip: bool = True
    num_workers: int = 0
    # bookkeeping
    seed: int = 0
    checkpoint_every: int = 500
    sample_every: int = 500
    log_every: int = 1
    # speed (guarded: only used where the device supports them)
    bf16: bool = False
    compile: str = ""  # "" (off), "default", "reduce-overhead" (CUDA graphs), "max-autotune"
    fused_adam: bool = True
    channels_last: bool = False

    def __post_init__(self) -> None:
        problems = []
        if self.gan_mode not in GAN_MODES:
            problems.append(f"gan_mode must be one of {GAN_MODES}, got {self.gan_mode!r}")
        if self.compile not in COMPILE_MODES:
            problems.append(f"compile must be one of {COMPILE_MODES}, got {self.compile!r}")
        if self.preprocess not in PREPROCESS_MODES:
            problems.append(f"preprocess must be one of {PREPROCESS_MODES}, got {self.preprocess!r}")
        if self.upsample not in UPSAMPLE_MODES:
            problems.append(f"upsample must be one of {UPSAMPLE_MODES}, got {self.upsample!r}")
        if self.norm not in ("instance", "batch"):
            problems.append(f"norm must be 'instance' or 'batch', got {self.norm!r}")
        positive = ("ngf", "ndf", "n_layers_d", "batch_size", "crop_size", "load_size")
        for name in (*positive, "checkpoint_every", "sample_every", "log_every"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("n_blocks", "steps", "decay_steps", "pool_size", "num_workers"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.preprocess != "crop" and self.load_size < self.crop_size:
            problems.append(f"load_size ({self.load_size}) must be >= crop_size ({self.crop_size})")
        if self.crop_size % 4:
            problems.append(f"crop_size must be a multiple of 4 (the generator downsamples by 4), got {self.crop_size}")
        if problems:
            raise ValueError("invalid CycleGAN options: " + "; ".join(problems))

    @property
    def total_steps(self) -> int:
        """Length of the whole schedule."""
        return self.steps + self.decay_steps

    def lr_factor(self, step: int) -> float:
        """Learning-rate multiplier after ``step`` steps: 1, then linear to 0 over ``decay_steps``."""
        if step < self.steps or self.decay_steps == 0:
            return 1.0
        return max(0.0, 1.0 - (step - self.steps) / self.decay_steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON / ``weights_only``-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "CycleGANConfig":
        """Build from a dict, ignoring unknown keys (older or newer checkpoints)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def architecture(self) -> dict[str, Any]:
        """The fields that decide the tensors' shapes."""
        return {name: getattr(self, name) for name in ARCHITECTURE_FIELDS}
