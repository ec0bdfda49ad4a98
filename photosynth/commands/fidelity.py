"""``photosynth fidelity``: translation fidelity of translated frames (SSIM/PSNR vs the oracle, KID/FID to the
target weather's photos, content kept by a reference detector) as a CSV; see :mod:`photosynth.study.fidelity`."""

from __future__ import annotations

import argparse
from pathlib import Path

from photosynth import detect
from photosynth.cli import UsageError
from photosynth.design import WEATHER_SLOTS
from photosynth.metrics.domain_gap import detector_network, feature_net
from photosynth.study import fidelity


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fidelity`` subcommand."""
    p = sub.add_parser(
        "fidelity", help="translation fidelity: SSIM/PSNR vs the oracle, KID/FID to the target photos, content kept",
        description="Score translated vKITTI2 clone frames of one weather (folders that mirror the clone frames' "
        "paths relative to the vKITTI2 root, as the translators write them) beside the untranslated clone frames "
        "('clone', the do-nothing translator), vKITTI2's own rendered weather ('vkitti') and, in the toy world, "
        "the oracle render ('oracle'). Writes one CSV row per set: n_frames, ssim and psnr against the oracle "
        "(empty without one), kid/kid_std/fid to the target photos (FID only when both sets have more images than "
        "the features have dimensions), and with the reference detector (--detector, --split) the KID on its pooled "
        "backbone features, its recall at IoU 0.5 and score >= --min-score on the frames of its held-out scenes, its "
        "recall on the oracle render of those frames (else the clone: heldout_recall) and content_kept = the share of "
        "the vehicles found on that reference render that are also found on the set's frame.")
    p.add_argument("--translated", required=True, action="append", type=Path, metavar="DIR",
                   help="folder of one translator's frames of one weather, e.g. runs/demo/translated/cyclegan/fog "
                   "(repeat for several translators of the same weather)")
    p.add_argument("--oracle", required=True, metavar="DIR|none",
                   help="the oracle renders of that weather (toy world: <workspace>/translated/oracle/<weather>), "
                   "or 'none' on real data (no paired SSIM/PSNR; content kept relative to the clone frames)")
    p.add_argument("--targets", required=True, type=Path, metavar="LIST",
                   help="the target weather's real photos: a list file (one path a line, e.g. "
                   "<workspace>/splits/weather/daytime_foggy.txt) or a folder")
    p.add_argument("--vkitti2", required=True, type=Path, metavar="ROOT", help="vKITTI2 root (the clone frames)")
    p.add_argument("--out", required=True, type=Path, metavar="CSV", help="output CSV")
    p.add_argument("--weather", default=None, help="fog, overcast or rain (default: the translated folder's name)")
    p.add_argument("--name", action="append", default=None, metavar="NAME",
                   help="translator name per --translated (default: the folder's parent name, e.g. cyclegan)")
    p.add_argument("--detector", type=Path, default=None, metavar="WEIGHTS",
                   help="reference detector weights (best.pt, e.g. <workspace>/fidelity/reference/weights/best.pt "
                   "written by notebook 07); without it the recall and detector-KID columns stay empty")
    p.add_argument("--split", type=Path, default=None, metavar="JSON",
                   help="the reference detector's split, required with --detector: its training frames and the "
                   "held-out scenes content kept is scored on (notebook 07 writes <workspace>/fidelity/"
                   "reference_split.json)")
    p.add_argument("--detector-layer", type=int, default=9, metavar="N",
                   help="the detector layer whose global-average-pooled output is the detector-KID feature "
                   "(default 9: the YOLOv5 backbone's last, SPPF)")
    p.add_argument("--work", type=Path, default=None, metavar="DIR",
                   help="folder for the detector's evaluation set and predictions (default: next to --out)")
    p.add_argument("--features", choices=("inception", "random_cnn"), default="inception",
                   help="feature network for KID/FID (default inception: local weights needed; random_cnn: toy world "
                   "only, not comparable to published numbers)")
    p.add_argument("--feature-weights", type=Path, default=None, metavar="PATH", help="local Inception-v3 weights")
    p.add_argument("--max-images", type=int, default=None, metavar="N",
                   help="seeded subsample of N frames and N target photos (default: all)")
    p.add_argument("--min-score", type=float, default=0.25, help="detections from this score up count (default 0.25)")
    p.add_argument("--seed", type=int, default=0, help="subsampling and KID subset seed (default 0)")
    p.add_argument("--device", default=None, help="torch device (default: cuda when available)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``photosynth fidelity``."""
    folders = [Path(f) for f in args.translated]
    for flag, path in [*(("--translated", f) for f in folders), ("--vkitti2", args.vkitti2)]:
        if not path.is_dir():
            raise UsageError(f"{flag} {path}: no such folder")
    if not args.targets.exists():
        raise UsageError(f"--targets {args.targets}: no such list file or folder")
    weather = args.weather or folders[0].name
    if weather not in WEATHER_SLOTS:
        raise UsageError(f"weather {weather!r} (from {'--weather' if args.weather else folders[0]}) is not one of "
                         f"{', '.join(WEATHER_SLOTS)}; pass --weather")  # fmt: skip
    names = args.name or [f.parent.name for f in folders]
    if len(names) != len(folders) or len(set(names)) != len(names):
        raise UsageError(f"need one distinct --name per --translated folder, got {names}")
    clash = sorted(set(names) & {fidelity.CLONE, fidelity.VKITTI, fidelity.ORACLE})
    if clash:
        raise UsageError(f"translator name(s) {clash} are reference rows; pass --name")
    oracle = None if args.oracle.lower() == "none" else Path(args.oracle)
    if oracle is not None and not oracle.is_dir():
        raise UsageError(f"--oracle {oracle}: no such folder (pass 'none' on real data)")
    if args.detector is not None and not args.detector.is_file():
        raise UsageError(f"--detector {args.detector}: no such weights file")
    if (args.detector is None) != (args.split is None):
        raise UsageError("--detector and --split go together: the detector is scored only on frames it never saw")
    if args.split is not None and not args.split.is_file():
        raise UsageError(f"--split {args.split}: no such file")
    if args.max_images is not None and args.max_images < 2:
        raise UsageError("--max-images must be at least 2 (KID needs two images a side)")
    job = fidelity.Job(weather, args.vkitti2, args.targets, dict(zip(names, folders)), oracle)
    work = args.work or args.out.with_name(f"{args.out.stem}_work")
    split = fidelity.ReferenceSplit.read(args.split) if args.split is not None else None
    detector_net = (detector_network(args.detector, args.detector_layer, detect.training_imgsz(args.detector))
                    if args.detector is not None else None)  # fmt: skip
    table = fidelity.fidelity_table([job], feature_net(args.features, args.feature_weights, args.seed),
                                    detector=args.detector, split=split, detector_net=detector_net, work=work,
                                    max_images=args.max_images, seed=args.seed, min_score=args.min_score,
                                    device=args.device)  # fmt: skip
    fidelity.write_table(table, args.out)
    shown = table.drop(columns=["features", "detector_features"])
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"features: {table.features.iloc[0]}")
    if detector_net is not None:
        print(f"detector features: {detector_net.name}")
    print(f"wrote {args.out}")
    return 0
