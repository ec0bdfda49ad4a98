"""``photosynth info``: versions, device and locally present weights."""

from __future__ import annotations

import argparse

from photosynth.environment import report


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    p = sub.add_parser("info", help="show library versions, the compute device and local weights",
                       description="Print what this machine has: versions, device (cuda/cpu) and which optional "
                       "pretrained weights are present locally (nothing is downloaded).")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``photosynth info``."""
    print(report().to_string(index=False))
    return 0
