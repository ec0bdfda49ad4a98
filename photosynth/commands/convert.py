"""``photosynth convert {kitti,kitti-tracking,vkitti2,bdd100k}``: a dataset root → YOLO + COCO + report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from photosynth.cli import UsageError
from photosynth.datasets import convert
from photosynth.datasets.classes import bdd_class_map, parse_mapping

DATASETS = ("kitti", "kitti-tracking", "vkitti2", "bdd100k")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``convert`` subcommand."""
    parser = subparsers.add_parser(
        "convert",
        help="convert a dataset root into a YOLO dataset + coco.json + report.json",
        description="Read KITTI object, KITTI tracking, Virtual KITTI 2 or BDD100K in their real layouts and "
        "write OUT/data.yaml, OUT/images, OUT/labels, OUT/coco.json and OUT/report.json (boxes read = written "
        "+ rejected + unmapped). Strict by default: bad input stops with an error naming file and line/entry.",
    )
    parser.add_argument("dataset", choices=DATASETS, help="which dataset layout ROOT holds")
    parser.add_argument("--root", required=True, type=Path, help="dataset root folder")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--split", help="split name to write (default: train; bdd100k: val, also the split read)")
    parser.add_argument("--lenient", action="store_true", help="skip bad records and list them in report.json")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--link", dest="mode", action="store_const", const="link", help="symlink images (default)")
    mode.add_argument("--copy", dest="mode", action="store_const", const="copy", help="copy images")
    parser.set_defaults(mode="link", func=handler)
    kitti = parser.add_argument_group("kitti-tracking")
    kitti.add_argument("--sequences", help="comma-separated sequences to read, e.g. 0001,0002 (default: all)")
    vkitti = parser.add_argument_group("vkitti2")
    vkitti.add_argument("--rgb-root", type=Path, help="folder holding the rgb images if not under ROOT")
    vkitti.add_argument("--scenes", help="comma-separated scenes, e.g. Scene01,Scene02 (default: all)")
    vkitti.add_argument("--variations", help="comma-separated variations, e.g. clone,fog (default: all 10)")
    vkitti.add_argument("--cameras", default="0,1", help="comma-separated camera ids (default: 0,1)")
    vkitti.add_argument("--occupancy-threshold", type=float, help="occluded when occupancy ratio is below this")
    bdd = parser.add_argument_group("bdd100k")
    bdd.add_argument("--layout", default="auto", help="auto, 2018, det_20 or per_image (default: auto)")
    bdd.add_argument("--labels", type=Path, help="explicit label file/folder (default: found under ROOT)")
    bdd.add_argument("--map", action="append", metavar="SOURCE=CLASS",
                     help="map an extra BDD category, e.g. --map bus=Truck (repeatable)")  # fmt: skip


def handler(args: argparse.Namespace) -> int:
    """Run the conversion; print the report's counts; 0 on success (strict errors exit 1)."""
    if not args.root.is_dir():
        raise UsageError(f"--root {args.root}: no such folder")
    if args.out.resolve() == args.root.resolve():
        raise UsageError("--out must not be the dataset root (roots are read-only)")
    common = {"lenient": args.lenient, "mode": args.mode}
    if args.split:
        common["split"] = args.split
    if args.map and args.dataset != "bdd100k":
        raise UsageError("--map applies to bdd100k only")
    if args.dataset == "kitti":
        report = convert.convert_kitti(args.root, args.out, **common)
    elif args.dataset == "kitti-tracking":
        report = convert.convert_kitti_tracking(args.root, args.out, sequences=_list(args.sequences), **common)
    elif args.dataset == "vkitti2":
        extra = {"occupancy_threshold": args.occupancy_threshold} if args.occupancy_threshold is not None else {}
        try:
            cameras = [int(c) for c in _list(args.cameras) or []]
        except ValueError as exc:
            raise UsageError(f"--cameras must be comma-separated integers, got {args.cameras!r}") from exc
        report = convert.convert_vkitti2(
            args.root, args.out, rgb_root=args.rgb_root, scenes=_list(args.scenes),
            variations=_list(args.variations), cameras=cameras, **extra, **common,
        )  # fmt: skip
    else:
        try:
            class_map = bdd_class_map(parse_mapping(args.map))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        report = convert.convert_bdd100k(
            args.root, args.out, layout=args.layout, labels=args.labels, class_map=class_map, **common
        )
    summary = {k: v for k, v in report.to_dict().items() if k not in ("rejections", "strict")}
    print(json.dumps(summary, indent=1))
    print(f"wrote {args.out / 'data.yaml'}, {args.out / 'coco.json'}, {args.out / 'report.json'}")
    return 0


def _list(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None
