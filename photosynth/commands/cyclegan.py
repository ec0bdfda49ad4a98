"""``photosynth cyclegan {train,translate}``: train a CycleGAN between two image sets, translate a dataset."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from photosynth import runtime
from photosynth.cli import UsageError
from photosynth.datasets.vkitti2 import clone_frames
from photosynth.runtime import Workspace
from photosynth.translate import frameset
from photosynth.translate.cyclegan import study
from photosynth.translate.cyclegan.config import (
    COMPILE_MODES,
    GAN_MODES,
    PREPROCESS_MODES,
    UPSAMPLE_MODES,
    CycleGANConfig,
)

#: Help for each option of :class:`photosynth.translate.cyclegan.config.CycleGANConfig` (flags are generated).
OPTION_HELP: dict[str, str] = {
    "ngf": "generator filters in the first layer",
    "ndf": "discriminator filters in the first layer",
    "n_blocks": "residual blocks in the generator",
    "n_layers_d": "stride-2 layers of the PatchGAN discriminator",
    "norm": "instance or batch",
    "upsample": "generator upsampling: transpose (reference) or resize (nearest x2 + conv, no checkerboard)",
    "residual": "generator output tanh(atanh(input) + h): starts as the identity, learns the weather as a change",
    "init_gain": "std of the normal weight init",
    "gan_mode": "lsgan or vanilla",
    "lambda_cycle": "weight of the cycle losses",
    "lambda_identity": "identity loss weight, as a fraction of lambda-cycle (0 disables)",
    "pool_size": "history pool of generated images (0 disables)",
    "lr": "Adam learning rate",
    "beta1": "Adam beta1",
    "batch_size": "images per step (per process)",
    "steps": "steps at the initial learning rate",
    "decay_steps": "steps of linear decay to zero after that",
    "preprocess": "resize_and_crop, scale_width_and_crop or crop",
    "load_size": "size (or width, for scale_width) before the crop",
    "crop_size": "random crop size (multiple of 4)",
    "flip": "random horizontal flips",
    "num_workers": "data-loading worker processes",
    "seed": "seed of every random choice",
    "checkpoint_every": "write the checkpoint every N steps",
    "sample_every": "write a sample grid every N steps",
    "log_every": "append a losses.csv row every N steps",
    "bf16": "bf16 autocast (CUDA only)",
    "compile": "torch.compile mode: '' off, default, reduce-overhead (CUDA graphs), max-autotune",
    "fused_adam": "fused Adam kernels (CUDA only)",
    "channels_last": "channels_last memory format",
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_options(
    parser: argparse.ArgumentParser,
    config_cls: type | None = None,
    option_help: dict[str, str] = OPTION_HELP,
    *,
    hidden: tuple[str, ...] = (),
    choices: dict[str, tuple[str, ...]] | None = None,
    mode_defaults: dict[str, dict] | None = None,
) -> None:
    """One flag per field of ``config_cls`` (default :class:`CycleGANConfig`) except ``hidden``.

    A field whose default is ``None`` takes its value from ``mode_defaults`` (per mode; shown in the help).
    """
    config_cls = config_cls or CycleGANConfig
    choices = {
        "norm": ("instance", "batch"), "gan_mode": GAN_MODES, "preprocess": PREPROCESS_MODES, "compile": COMPILE_MODES,
        "upsample": UPSAMPLE_MODES,
        **(choices or {}),
    }  # fmt: skip
    group = parser.add_argument_group("model and training options (defaults: the reference implementation)")
    for field in dataclasses.fields(config_cls):
        if field.name in hidden:
            continue
        default = field.default
        shown = repr(default)
        example = default
        if default is None and mode_defaults:
            example = next(iter(mode_defaults.values()))[field.name]
            shown = "by mode: " + ", ".join(f"{m} {values[field.name]!r}" for m, values in mode_defaults.items())
        if isinstance(example, bool):
            group.add_argument(
                _flag(field.name), action=argparse.BooleanOptionalAction, default=default,
                help=f"{option_help[field.name]} (default: {shown})",
            )  # fmt: skip
        else:
            kind = str if isinstance(example, tuple) else type(example)
            group.add_argument(
                _flag(field.name), type=kind, default=default, choices=choices.get(field.name),
                metavar=None if field.name in choices else field.name.upper(),
                help=f"{option_help[field.name]} (default: {shown})",
            )  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cyclegan train`` and ``cyclegan translate``."""
    parser = subparsers.add_parser(
        "cyclegan",
        help="train CycleGAN models and translate datasets with them",
        description="CycleGAN with the reference implementation's defaults: resumable training between two "
        "image sets, and whole-dataset translation at the original image size.",
    )
    sub = parser.add_subparsers(dest="cyclegan_command", metavar="ACTION", required=True)

    train = sub.add_parser(
        "train",
        help="train a CycleGAN (A ↔ B); resumable",
        description="Train G_A: A→B and G_B: B→A. Writes OUT/checkpoint.pt (atomic, every --checkpoint-every "
        "steps), OUT/losses.csv, OUT/samples/*.png. With --workspace and --weather, A is the workspace's vKITTI2 "
        "clone Camera_0 frames, B the weather's BDD style list, OUT models/cyclegan/<weather>.",
    )
    add_train_arguments(train)
    add_config_options(train)
    train.set_defaults(func=handle_train, method="cyclegan", config_cls=None)

    tr = sub.add_parser(
        "translate",
        help="translate a folder or list of images at their original size",
        description="Translate every image with one generator of a checkpoint. Outputs mirror the inputs' paths "
        "relative to --input-root under OUT, are written atomically and skipped when they exist (resume). "
        "With --workspace and --weather the inputs are the clone frames the mixes need.",
    )
    add_translate_arguments(tr)
    tr.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB", help="which generator (default AtoB)")
    tr.set_defaults(func=handle_translate, method="cyclegan")


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    """Paths, resume and device flags of ``<method> train`` (config flags: :func:`add_config_options`)."""
    train.add_argument("--a", help="domain A: folder, list file (one path a line)")
    train.add_argument("--b", help="domain B: folder or list file")
    train.add_argument("--out", type=Path, help="output folder")
    train.add_argument("--workspace", type=Path, help="study workspace (with --weather: fills --a, --b, --out)")
    train.add_argument("--weather", choices=("fog", "overcast", "rain"), help="weather to train in the workspace")
    train.add_argument("--resume", action="store_true", help="continue the checkpoint in OUT exactly")
    train.add_argument("--overwrite", action="store_true", help="start again even if OUT holds a checkpoint")
    train.add_argument("--until-step", type=int, help="stop after this many steps (checkpoint written)")
    train.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda when available)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")


def add_translate_arguments(tr: argparse.ArgumentParser) -> None:
    """Paths, batching, format and device flags of ``<method> translate``."""
    tr.add_argument("--checkpoint", type=Path, help="checkpoint.pt of a training run")
    tr.add_argument("--input", help="folder or list file of images")
    tr.add_argument("--input-root", type=Path, help="root the output paths mirror (default: --input folder)")
    tr.add_argument("--out", type=Path, help="output root")
    tr.add_argument("--workspace", type=Path, help="study workspace (with --weather: fills the other paths)")
    tr.add_argument("--weather", choices=("fog", "overcast", "rain"), help="weather to translate in the workspace")
    tr.add_argument("--format", dest="fmt", choices=("jpg", "png", "same"), default="jpg", help="output format")
    tr.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95)")
    tr.add_argument("--batch-size", type=int, default=4, help="frames per forward pass (same-size frames)")
    tr.add_argument("--workers", type=int, default=2, help="decoding worker processes (default 2)")
    tr.add_argument("--writers", type=int, default=4, help="encoding/writing threads (default 4)")
    tr.add_argument("--shard", help="translate only shard i of n, e.g. 0/4")
    tr.add_argument("--device", help="cpu, cuda … (default: cuda when available)")
    tr.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA only)")
    tr.add_argument("--overwrite", action="store_true", help="translate again even where outputs exist")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")


def _workspace(args: argparse.Namespace):
    if (args.workspace is None) != (args.weather is None):
        raise UsageError("--workspace and --weather go together")
    return Workspace(args.workspace.resolve()) if args.workspace else None


def handle_train(args: argparse.Namespace) -> int:
    """Build the config (``args.config_cls``, default CycleGAN's) from the flags and train."""
    from photosynth.translate.cyclegan.train import train

    config_cls = args.config_cls or CycleGANConfig
    try:
        names = [f.name for f in dataclasses.fields(config_cls) if hasattr(args, f.name)]  # hidden ones: defaults
        cfg = config_cls(**{name: getattr(args, name) for name in names})
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    ws = _workspace(args)
    if ws is not None:
        a = args.a or clone_frames(study.vkitti_root(ws))
        b = args.b or frameset.style_list(ws.root, args.weather)
        out = args.out or study.model_dir(ws, args.weather, args.method)
    else:
        a, b, out = args.a, args.b, args.out
    if a is None or b is None or out is None:
        raise UsageError("give --a, --b and --out (or --workspace and --weather)")
    if args.until_step is not None and args.until_step < 1:
        raise UsageError("--until-step must be >= 1")
    result = train(
        cfg, a, b, out, resume=args.resume, overwrite=args.overwrite, until_step=args.until_step,
        device=args.device, progress=not args.quiet,
    )  # fmt: skip
    state = "finished" if result.finished else "stopped"
    print(f"{state} at step {result.step}/{result.total_steps}: {result.checkpoint}")
    return 0


def handle_translate(args: argparse.Namespace) -> int:
    """Load the generator and translate."""
    from photosynth.translate.cyclegan.kinds import load_generator
    from photosynth.translate.cyclegan.train import CHECKPOINT
    from photosynth.translate.cyclegan.translate import translate_images

    ws = _workspace(args)
    if ws is not None:
        root = args.input_root or study.vkitti_root(ws)
        source = args.input or frameset.translation_sources(root, args.weather)
        checkpoint = args.checkpoint or study.model_dir(ws, args.weather, args.method) / CHECKPOINT
        out = args.out or study.translated_dir(ws, args.weather, args.method)
    else:
        root, source, checkpoint, out = args.input_root, args.input, args.checkpoint, args.out
    if source is None or checkpoint is None or out is None:
        raise UsageError("give --checkpoint, --input and --out (or --workspace and --weather)")
    if not 1 <= args.quality <= 100:
        raise UsageError("--quality must be within 1..100")
    if args.batch_size < 1 or args.workers < 0:
        raise UsageError("--batch-size must be >= 1 and --workers >= 0")

    device = runtime.device(args.device)
    generator, _ = load_generator(checkpoint, getattr(args, "direction", "AtoB"), device)
    report = translate_images(
        generator, source, out, input_root=root, fmt=args.fmt, quality=args.quality, batch_size=args.batch_size,
        num_workers=args.workers, writers=args.writers, shard_spec=args.shard, device=device, bf16=args.bf16,
        overwrite=args.overwrite, progress=not args.quiet,
    )  # fmt: skip
    print(f"{report.translated} translated, {report.skipped} already done, {report.inputs} in this shard → {out}")
    return 0
