"""``photosynth translate``: run any registered translator (entry-point group ``photosynth.translators``) over a
workspace's clone frames, into ``<workspace>/translated/<name>/<weather>/``."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from photosynth.cli import UsageError
from photosynth.design import WEATHER_SLOTS
from photosynth.translate import registry


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``translate`` subcommand."""
    parser = subparsers.add_parser(
        "translate",
        help="run a registered translator (built-in or another package's) over a workspace's clone frames",
        description="Fit the translator on the workspace's vKITTI2 clone frames and each weather's BDD style photos "
        "(into WORKSPACE/models/NAME/<weather>), translate the clone frames of each weather's frame%%7 slot into "
        "WORKSPACE/translated/NAME/<weather>/, then check that every frame the mixes need is there and readable. "
        "Finished frames are kept (resume). Packages add translators under the entry-point group "
        f"{registry.GROUP!r}; --list shows them. Afterwards: photosynth mix --mix NAME --translated "
        "WORKSPACE/translated/NAME, or list NAME in a profile's `plugins`.",
    )
    parser.add_argument("--workspace", type=Path, help="workspace folder (data/vkitti2 and splits/weather from notebook 01)")
    parser.add_argument("--translator", metavar="NAME", help="registered translator name (see --list)")
    parser.add_argument("--weathers", default=",".join(WEATHER_SLOTS),
                        help=f"comma-separated weathers (default: {','.join(WEATHER_SLOTS)})")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a translator option (value parsed as YAML), repeatable, e.g. --option steps=100")
    parser.add_argument("--seed", type=int, default=0, help="seed given to the translator (default: 0)")
    parser.add_argument("--list", action="store_true", help="list the registered translators and exit")
    parser.set_defaults(func=handler)


def parse_options(items: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` items as a mapping, values parsed as YAML (``steps=100`` is the integer 100)."""
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option must be KEY=VALUE, got {item!r}")
        options[key.strip()] = yaml.safe_load(value)
    return options


def handler(args: argparse.Namespace) -> int:
    """List the translators, or run one over the workspace."""
    if args.list:
        for name, entry in registry.available().items():
            print(f"{name:12s} {entry.value}" + (f"  ({entry.dist.name})" if entry.dist else ""))
        return 0
    if args.translator is None or args.workspace is None:
        raise UsageError("--translator and --workspace are required (or --list)")
    if not (args.workspace / "data" / "vkitti2").is_dir():
        raise UsageError(f"--workspace {args.workspace}: no data/vkitti2 (run notebook 01 or `photosynth toyworld`)")
    weathers = [w.strip() for w in args.weathers.split(",") if w.strip()]
    unknown = [w for w in weathers if w not in WEATHER_SLOTS]
    if unknown or not weathers:
        raise UsageError(f"--weathers: unknown {unknown or 'none given'}; expected some of {', '.join(WEATHER_SLOTS)}")
    counts = registry.run(args.workspace, args.translator, weathers, parse_options(args.option), seed=args.seed)
    for weather, frames in counts.items():
        print(f"{args.translator} {weather}: {frames} frames -> {args.workspace / 'translated' / args.translator / weather}")
    return 0
