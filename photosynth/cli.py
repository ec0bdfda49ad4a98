"""The ``photosynth`` command. Each subcommand lives in ``photosynth/commands/<topic>.py`` and adds
itself through ``register(subparsers)``; the handler it sets as ``func`` takes the parsed namespace and
returns an exit code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from photosynth import __version__
from photosynth.atomic import DiskFullError

#: Command modules, in the order their subcommands appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "photosynth.commands.book",
    "photosynth.commands.convert",
    "photosynth.commands.cut",
    "photosynth.commands.cyclegan",
    "photosynth.commands.evaluate",
    "photosynth.commands.fetch",
    "photosynth.commands.fidelity",
    "photosynth.commands.info",
    "photosynth.commands.mix",
    "photosynth.commands.stylize",
    "photosynth.commands.train",
    "photosynth.commands.translate",
    "photosynth.commands.toyworld",
    "photosynth.commands.split",
)


class UsageError(Exception):
    """A user mistake (bad path, bad value): printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="photosynth",
        description="Synthetic-to-real weather translation for driving detectors: datasets, "
        "CycleGAN, neural style transfer, detectors, metrics and the report.",
    )
    parser.add_argument("--version", action="version", version=f"photosynth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"photosynth {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, DiskFullError) as exc:
        print(f"photosynth {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
