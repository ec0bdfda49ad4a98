"""``photosynth stylize nst|augment``: translate vKITTI2 clone frames by neural style transfer or by
classical weather augmentation into ``<workspace>/translated/<method>/<weather>/``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from photosynth import imageio
from photosynth.cli import UsageError
from photosynth.design import STYLE_DOMAINS
from photosynth.runtime import Workspace, configure
from photosynth.translate import frameset, nst, weather


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``stylize`` with its ``nst`` and ``augment`` subcommands."""
    parser = subparsers.add_parser(
        "stylize", help="translate clone frames by neural style transfer or weather augmentation",
        description=__doc__,
    )
    methods = parser.add_subparsers(dest="method", metavar="METHOD", required=True)

    nst = methods.add_parser("nst", help="Gatys style transfer (Keras VGG16) with BDD weather photos as styles")
    _common(nst, tuple(STYLE_DOMAINS))
    nst.add_argument("--styles", help="style images: a list file or folder (default: "
                     "<workspace>/splits/weather/<domain>.txt for the weather)")
    nst.add_argument("--preset", default="study", help="NST preset: study (L-BFGS, 828x250) or tutorial (Adam)")
    nst.add_argument("--size", help="working size WIDTHxHEIGHT (default from the preset; 'original' keeps it)")
    nst.add_argument("--iterations", type=int, help="L-BFGS iterations / Adam steps (default from the preset)")
    nst.add_argument("--lbfgs-maxfun", type=int, help="loss evaluations per L-BFGS iteration (default 20)")
    nst.add_argument("--content-weight", type=float)
    nst.add_argument("--style-weight", type=float)
    nst.add_argument("--tv-weight", type=float)
    nst.add_argument("--preserve-color", action="store_true", default=None,
                     help="keep the content's colours (luminance-only transfer)")
    nst.add_argument("--init", choices=("content", "color"), default=None,
                     help="starting image: content (the study) or color (the content in the style photo's channel "
                     "means and deviations; short runs start at the style's colours)")
    nst.add_argument("--weights", default="imagenet",
                     help="VGG16 weights: imagenet (local Keras cache), auto (imagenet if cached, else "
                     "random_calibrated), random_calibrated (random init scaled per channel, balanced losses), "
                     "none (plain random init), or an .h5 path")
    nst.add_argument("--batch-size", type=int, default=4, help="frames optimised together")
    nst.add_argument("--backend", choices=("tensorflow", "torch"),
                     help="Keras backend (default $KERAS_BACKEND or tensorflow; torch uses a torch GPU)")
    nst.set_defaults(func=run_nst)

    aug = methods.add_parser("augment", help="classical albumentations weather presets (seeded per frame)")
    _common(aug, tuple(weather.PRESETS))
    aug.set_defaults(func=run_augment)


def _common(parser: argparse.ArgumentParser, weathers: tuple[str, ...]) -> None:
    parser.add_argument("weather", choices=weathers, help="target weather")
    parser.add_argument("--workspace", help="workspace folder (default: runs/<profile>)")
    parser.add_argument("--profile", default="demo", help="profile whose workspace to use (default demo)")
    parser.add_argument("--vkitti-root", help="vKITTI2 root (default <workspace>/data/vkitti2)")
    parser.add_argument("--sources", help="frames to translate: a folder or list file under the vKITTI2 root "
                        "(default: the clone frames the training mixes need)")
    parser.add_argument("--out", help="output folder (default <workspace>/translated/<method>/<weather>)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shard", help="process shard i of n ('i/n')")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo every frame (default: keep finished outputs made with the same settings)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _inputs(args: argparse.Namespace, method: str) -> tuple[Workspace, Path, list[Path], Path]:
    """Workspace, vKITTI2 root, the frames and the output folder from the common options."""
    workspace = Workspace(Path(args.workspace).resolve()) if args.workspace else Workspace.for_profile(args.profile)
    configure(workspace)
    root = Path(args.vkitti_root) if args.vkitti_root else workspace.root / "data" / "vkitti2"
    if not root.is_dir():
        raise UsageError(f"{root}: no vKITTI2 root (run notebook 01, or pass --vkitti-root)")
    try:
        imageio.parse_shard(args.shard)
        sources = imageio.list_images(args.sources) if args.sources else frameset.frames_to_translate(root, args.weather)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    out = Path(args.out) if args.out else workspace.root / "translated" / method / args.weather
    return workspace, root, sources, out


def run_nst(args: argparse.Namespace) -> int:
    """Handler of ``photosynth stylize nst``."""
    workspace, root, sources, out = _inputs(args, "nst")
    try:
        config = nst.preset(
            args.preset, iterations=args.iterations,
            lbfgs_maxfun=args.lbfgs_maxfun, content_weight=args.content_weight, style_weight=args.style_weight,
            tv_weight=args.tv_weight, preserve_color=args.preserve_color, init=args.init,
        )
        if args.size:
            config = dataclasses.replace(config, size=nst.parse_size(args.size))
        weights = nst.resolve_weights(args.weights)
        nst.use_backend(args.backend)
        styles = imageio.list_images(args.styles or frameset.style_list(workspace.root, args.weather))
    except (nst.MissingWeightsError, ValueError, RuntimeError) as exc:  # bad settings, absent weights
        raise UsageError(str(exc)) from exc
    summary = nst.stylize_dataset(
        sources, root, out, styles, config, weights=weights, seed=args.seed,
        batch_size=args.batch_size, shard=args.shard, progress=not args.no_progress, overwrite=args.overwrite,
    )
    _report(summary, out)
    return 0


def run_augment(args: argparse.Namespace) -> int:
    """Handler of ``photosynth stylize augment``."""
    _, root, sources, out = _inputs(args, "augment")
    summary = weather.augment_dataset(
        sources, root, out, args.weather, seed=args.seed, shard=args.shard, progress=not args.no_progress,
        overwrite=args.overwrite,
    )
    _report(summary, out)
    return 0


def _report(summary: dict, out: Path) -> None:
    brief = {k: summary[k] for k in ("frames", "written", "skipped_existing") if k in summary}
    if summary.get("random_init"):
        brief["weights"] = summary["settings"]["weights"]
    print(f"{out}: {json.dumps(brief)}")
    if summary.get("notice"):
        print(f"note: {summary['notice']}")
