"""``photosynth split``: BDD100K weather lists, occlusion buckets and per-weather evaluation sets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from photosynth.cli import UsageError
from photosynth.datasets.classes import parse_mapping
from photosynth.study import splits


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``split`` subcommand."""
    parser = subparsers.add_parser(
        "split",
        help="BDD100K weather domains (style image lists), occlusion buckets and per-weather eval sets",
        description="Read a BDD100K root and write OUT/weather/<domain>.txt (N sampled style images per domain, "
        "absolute paths), OUT/buckets/0-<c1>, 0-<c2>, 0-all and OUT/weather_eval/<domain> (YOLO dataset + "
        "coco.json each), OUT/statistics.csv and OUT/manifest.json. Domains look like daytime_foggy or night.",
    )
    parser.add_argument("--bdd", required=True, type=Path, help="BDD100K root (images/100k, labels)")
    parser.add_argument("--out", required=True, type=Path, help="output folder, e.g. runs/demo/splits")
    parser.add_argument("--eval-split", default="val", help="split for buckets and weather eval sets (default: val)")
    parser.add_argument("--style-split", default="train", help="split the style images come from (default: train)")
    parser.add_argument("--style-images", type=int, default=500, help="images per style domain (default: 500)")
    parser.add_argument("--style-domains", help="comma-separated style domains "
                        "(default: daytime_clear,daytime_foggy,daytime_overcast,daytime_rainy)")
    parser.add_argument("--eval-domains", help="comma-separated evaluation domains (default: daytime_clear, "
                        "daytime_overcast, daytime_rainy, daytime_foggy, daytime_snowy, night, dawn_dusk)")
    parser.add_argument("--cuts", default="balanced",
                        help="bucket cut points: balanced (≈1:1:1 occluded instances), study (5,10) or C1,C2")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    parser.add_argument("--layout", default="auto", help="BDD label layout: auto, 2018, det_20, per_image")
    parser.add_argument("--copy", action="store_true", help="copy images into the eval sets (default: symlink)")
    parser.add_argument("--lenient", action="store_true", help="skip bad label records instead of stopping")
    parser.add_argument("--map", action="append", metavar="SOURCE=CLASS",
                        help="map an extra BDD category, e.g. --map bus=Truck (repeatable)")
    parser.set_defaults(func=handler)


def _cuts(spec: str) -> str | tuple[int, int]:
    if spec in ("balanced", "study"):
        return spec
    try:
        c1, c2 = (int(v) for v in spec.split(","))
    except ValueError as exc:
        raise UsageError(f"--cuts must be balanced, study or C1,C2 (integers), got {spec!r}") from exc
    if not 0 <= c1 < c2:
        raise UsageError(f"--cuts needs 0 <= C1 < C2, got {spec!r}")
    return c1, c2


def _names(spec: str | None) -> list[str] | None:
    return [s.strip() for s in spec.split(",") if s.strip()] if spec else None


def handler(args: argparse.Namespace) -> int:
    """Build the splits; print the cut points and counts as JSON."""
    if not args.bdd.is_dir():
        raise UsageError(f"--bdd {args.bdd}: no such folder")
    if args.style_images < 1:
        raise UsageError("--style-images must be >= 1")
    options = {}
    for key, value in (("style_domains", _names(args.style_domains)), ("eval_domains", _names(args.eval_domains))):
        if value:
            for name in value:
                try:
                    splits.Domain.parse(name)
                except ValueError as exc:
                    raise UsageError(str(exc)) from exc
            options[key] = value
    summary = splits.build_splits(
        args.bdd, args.out, eval_split=args.eval_split, style_split=args.style_split, style_images=args.style_images,
        cuts=_cuts(args.cuts), seed=args.seed, layout=args.layout, mode="copy" if args.copy else "link",
        lenient=args.lenient, bdd_map=parse_mapping(args.map), **options,
    )  # fmt: skip
    brief = {
        "cuts": summary["cuts"], "instance_shares": [round(s, 3) for s in summary["instance_shares"]],
        "buckets": {k: v["images"] for k, v in summary["buckets"].items()},
        "weather": {k: v["images"] for k, v in summary["weather"].items()},
        "weather_eval": {k: v["images"] for k, v in summary["weather_eval"].items()},
        "empty_eval_domains": summary["empty_eval_domains"], "skipped": summary["skipped"],
    }  # fmt: skip
    print(json.dumps(brief, indent=2))
    return 0
