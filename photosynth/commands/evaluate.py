"""``photosynth evaluate``: score a COCO results file against COCO ground truth into ``metrics.csv``."""

from __future__ import annotations

import argparse
from pathlib import Path

from photosynth.cli import UsageError
from photosynth.metrics.ap import CocoFormatError
from photosynth.metrics.evaluate import evaluate_predictions, write_metrics


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate", help="score COCO results against COCO ground truth (AP50 standard and legacy)",
        description="Write DIR/metrics.csv with columns split, class, ap50_standard (pycocotools AP@0.5), "
        "ap50_legacy (YOLOv5 val.py AP@0.5, the original study's number), n_gt, n_pred: one row per "
        "class plus a 'mean' row over the classes that have ground truth.")
    p.add_argument("--gt", required=True, type=Path, metavar="COCO_GT.json", help="COCO ground-truth json")
    p.add_argument("--pred", required=True, type=Path, metavar="COCO_RESULTS.json",
                   help="COCO results json: a list of {image_id, category_id, bbox [x, y, w, h], score}")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder for metrics.csv")
    p.add_argument("--split-name", default=None, metavar="NAME",
                   help="value of the 'split' column (default: the ground-truth file's parent folder name)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``photosynth evaluate``."""
    for flag, path in (("--gt", args.gt), ("--pred", args.pred)):
        if not path.is_file():
            raise UsageError(f"{flag} {path}: file not found")
    split = args.split_name or args.gt.resolve().parent.name
    try:
        frame = evaluate_predictions(args.gt, args.pred, split)
    except CocoFormatError as exc:
        raise UsageError(str(exc)) from exc
    target = write_metrics(frame, args.out)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {target}")
    return 0
