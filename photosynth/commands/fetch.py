"""``photosynth fetch``: download the pretrained weights the ``full`` profile uses, on purpose (DESIGN §5)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from photosynth import fetch
from photosynth.weights import AMP_CHECK_WEIGHTS
from photosynth.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fetch`` subcommand."""
    p = sub.add_parser(
        "fetch", help="download the pretrained weights the full profile uses (runs never download)",
        description="Download each weight file the full profile uses from its owning library's URL into the folder "
        "runs look in, verified by the library's own hash. A download that breaks off is kept as NAME.part beside "
        "the final file and resumed by the next run of this command; a file gets its final name only once its hash "
        "is right, and a file already present with the right hash is skipped. Runs themselves never download: on an "
        "offline machine, fetch here on a networked one (--dest DIR) and copy DIR over.",
        epilog=fetch.files_help(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("--list", action="store_true",
                   help="show what is present and what would be fetched (hashes the present files); download nothing")
    p.add_argument("--yolo", action="store_true",
                   help=f"also fetch ultralytics' AMP-check checkpoint {AMP_CHECK_WEIGHTS} (ultralytics "
                   "publishes no hash for it: only its size is checked)")
    p.add_argument("--dest", type=Path, metavar="DIR",
                   help="fetch into DIR/keras/models, DIR/torch/hub/checkpoints (and DIR/ultralytics/weights) instead "
                   "of this machine's caches; on the run machine set KERAS_HOME=DIR/keras and TORCH_HOME=DIR/torch")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``photosynth fetch``: 0 when every file is present and verified, 1 when one could not be fetched."""
    if args.dest is not None and args.dest.exists() and not args.dest.is_dir():
        raise UsageError(f"--dest {args.dest} is not a folder")
    files = fetch.selected(args.yolo)
    if args.list:
        for spec in files:
            print(fetch.describe(spec, args.dest))
        return 0
    failed = 0
    for spec in files:
        try:
            fetch.fetch(spec, args.dest, progress=not args.no_progress)
        except fetch.FetchError as exc:
            print(f"photosynth fetch: error: {exc}", file=sys.stderr)
            failed += 1
    if args.dest is not None and not failed:
        dest = args.dest.expanduser().resolve()
        print(f"copy {dest} to the run machine and set " + "; ".join(s.hint.format(dest=dest) for s in files))
    return 1 if failed else 0
