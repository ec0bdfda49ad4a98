"""``photosynth mix``: build one of the study's training mixes (frame % 7 sources) as a symlinked YOLO dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from photosynth.cli import UsageError
from photosynth.study import mixes
from photosynth.translate.external import check_translations


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``mix`` subcommand."""
    parser = subparsers.add_parser(
        "mix",
        help="build a training mix (baseline, or any translator's frames) as a YOLO dataset of symlinks",
        description="For every vKITTI2 Camera_0 frame index, take the source frame % 7 picks (KITTI tracking, "
        "clone, morning, sunset, fog, overcast, rain), split 80/10/10 by frame with a seed, and write OUT/data.yaml, "
        "OUT/images (symlinks), OUT/labels, OUT/composition.csv and OUT/manifest.json. A translated mix takes "
        "fog/overcast/rain from translated clone frames under TRANSLATED/<weather>/<path relative to the vKITTI2 root> "
        "(any tool's: every needed frame is read first, and the missing or unreadable ones are listed); NAME+vkitti "
        "keeps vKITTI's rendered weather in every other cycle of seven frames and takes the translations in the others. "
        "An up-to-date OUT is skipped.",
    )
    parser.add_argument("--vkitti2", required=True, type=Path, help="Virtual KITTI 2 root (text ground truth)")
    parser.add_argument("--vkitti2-rgb", type=Path, help="folder holding the vKITTI2 rgb images if not under --vkitti2")
    parser.add_argument("--kitti-tracking", required=True, type=Path, help="KITTI tracking root")
    parser.add_argument("--out", required=True, type=Path, help="output folder of the mix, e.g. runs/demo/mixes/baseline")
    parser.add_argument("--mix", required=True, metavar="NAME",
                        help="baseline; a translator's name (the study's: cyclegan, cut, nst, augment, oracle; or any "
                        "other for frames made elsewhere); or NAME+vkitti to add the translations beside vKITTI's "
                        "rendered weather at the same size")
    parser.add_argument("--translated", type=Path,
                        help="translated frames of the mix, e.g. runs/demo/translated/cyclegan (not for baseline)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the random 80/10/10 frame split (default: 0)")
    parser.add_argument("--fractions", default="0.8,0.1,0.1", help="train,val,test fractions (default: 0.8,0.1,0.1)")
    parser.add_argument("--force", action="store_true", help="rewrite even when the manifest is up to date")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Build the mix and print its composition table (source × split)."""
    for flag, folder in (("--vkitti2", args.vkitti2), ("--kitti-tracking", args.kitti_tracking),
                         ("--vkitti2-rgb", args.vkitti2_rgb)):  # fmt: skip
        if folder is not None and not folder.is_dir():
            raise UsageError(f"{flag} {folder}: no such folder")
    try:
        mixes.check_name(args.mix)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.mix == "baseline" and args.translated is not None:
        raise UsageError("--translated is not used by mix baseline (it keeps vKITTI's own fog/overcast/rain)")
    if args.mix != "baseline":
        name = mixes.translator_of(args.mix)
        if args.translated is None:
            raise UsageError(f"mix {args.mix} needs --translated (e.g. <workspace>/translated/{name})")
        if not args.translated.is_dir():
            raise UsageError(f"--translated {args.translated}: no such folder (translate the clone frames first)")
        check = check_translations(name, args.translated, args.vkitti2_rgb or args.vkitti2)
        if check.problems():
            raise UsageError(f"--translated {args.translated} cannot be used:\n  " + "\n  ".join(check.problems()))
        print(check.summary())
    try:
        fractions = tuple(float(f) for f in args.fractions.split(","))
    except ValueError as exc:
        raise UsageError(f"--fractions must be three comma-separated numbers, got {args.fractions!r}") from exc
    result = mixes.build_mix(
        args.mix, args.vkitti2, args.kitti_tracking, args.out, translated=args.translated, seed=args.seed,
        fractions=fractions, rgb_root=args.vkitti2_rgb, force=args.force,
    )  # fmt: skip
    state = "up to date, skipped" if result.skipped else "written"
    print(f"mix {result.mix}: {len(result.items)} frames {state} → {result.data_yaml}")
    print(result.composition.to_string())
    return 0
