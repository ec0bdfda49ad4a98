"""``photosynth toyworld``: write the toy world's KITTI, vKITTI2 and BDD100K roots (DESIGN §7)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from photosynth.cli import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``toyworld`` subcommand."""
    parser = subparsers.add_parser(
        "toyworld",
        help="generate the toy world (KITTI tracking/object, vKITTI2, BDD100K in their real layouts)",
        description="Render procedural street scenes and write them as OUT/kitti_tracking, OUT/kitti_object, "
        "OUT/vkitti2 (all 10 variations, both cameras) and OUT/bdd100k (2018 and det_20 labels), plus "
        "OUT/manifest.json. Deterministic by --seed; a folder whose manifest has the same parameters is kept.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--frames", type=int, default=40, help="frames per scene (default: 40)")
    parser.add_argument("--scenes", type=int, default=5, help="how many of Scene01/02/06/18/20 (default: 5)")
    parser.add_argument("--scale", type=float, default=0.25,
                        help="fraction of the real image sizes, 1242x375 and 1280x720 (default: 0.25)")
    parser.add_argument("--kitti-object", type=int, help="KITTI object images (default: --frames)")
    parser.add_argument("--bdd-train", type=int, default=80, help="BDD100K train images (default: 80)")
    parser.add_argument("--bdd-val", type=int, default=80, help="BDD100K val images (default: 80)")
    parser.add_argument("--style-min", type=int, default=2,
                        help="daytime BDD images guaranteed per study weather and split (default: 2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Generate the toy world and print its paths and counts as JSON."""
    from photosynth.toyworld.world import make_toyworld

    if not 1 <= args.scenes <= 5:
        raise UsageError(f"--scenes must be 1..5, got {args.scenes}")
    if args.frames < 1 or args.scale <= 0 or min(args.bdd_train, args.bdd_val, args.style_min) < 0:
        raise UsageError("--frames must be >= 1, --scale > 0, BDD counts and --style-min >= 0")
    result = make_toyworld(
        args.out, scenes=args.scenes, frames=args.frames, scale=args.scale, kitti_object=args.kitti_object,
        bdd_train=args.bdd_train, bdd_val=args.bdd_val, bdd_style_min=args.style_min, seed=args.seed,
    )  # fmt: skip
    print(json.dumps(result, indent=2))
    return 0
