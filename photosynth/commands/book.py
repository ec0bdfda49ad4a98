"""``photosynth book``: execute a profile's notebooks with papermill, then build the Jupyter Book."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from photosynth.report import preflight
from photosynth.report.bookcheck import check_site
from photosynth.report.pdf import write_pdf
from photosynth.report.pipeline import PipelineError, build_book, load_profile, project_root, run_notebooks
from photosynth.runtime import RUNS_ENV, Workspace


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``book`` subcommand."""
    p = sub.add_parser("book", help="execute every notebook of a profile and build the report",
                       description="Execute the profile's notebooks in order with papermill into book/executed/, "
                       "stop at the first failing cell, then run `jupyter-book build -W`.")
    p.add_argument("--profile", default="demo", help="profile name (profiles/NAME.yaml) or a YAML path (default: demo)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NOTEBOOK.PARAM=VALUE",
                   help="override one parameter (value parsed as YAML; 'common.PARAM' for all notebooks); repeatable")
    p.add_argument("--only", default="", help="comma-separated notebook names to execute (implies --no-build "
                   "unless the others were executed with the same profile)")
    p.add_argument("--no-build", action="store_true", help="execute notebooks only, do not build the book")
    p.add_argument("--no-execute", action="store_true", help="build the book from the executed notebooks as they are")
    p.add_argument("--check", action="store_true", help="after the build, open every page in headless Chromium: "
                   "pages and images load, no raw TeX, no broken internal links, legible figures, clean tables")
    p.add_argument("--pdf", action="store_true", help="after the build, print the whole book in reading order "
                   "with headless Chromium into _build/pdf/photosynth.pdf")
    p.add_argument("--root", default=None, help="project folder (default: the one holding the cwd)")
    p.add_argument("--runs", default=None, help="workspace base folder (default: $PHOTOSYNTH_RUNS or ./runs)")
    p.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the notebook's own, python3)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``photosynth book``."""
    try:
        root = project_root(args.root)
        profile = load_profile(args.profile, root, args.overrides)
        workspace = Workspace.for_profile(profile.workspace_name, args.runs or os.environ.get(RUNS_ENV) or root / "runs")
        only = [n.strip() for n in args.only.split(",") if n.strip()]
        if not args.no_execute:
            selected = {n: profile.parameters(n, workspace) for n in profile.notebooks if not only or n in only}
            missing = preflight.check(selected, workspace)
            if missing:
                raise PipelineError(preflight.report(profile.name, missing))
            run_notebooks(profile, root, workspace, only=only or None, kernel=args.kernel)
        if args.no_build:
            return 0
        html = build_book(root, profile.name)
    except PipelineError as exc:
        print(f"photosynth book: error: {exc}", file=sys.stderr)
        return 1
    print(f"[photosynth] book ready: {html / 'index.html'}", file=sys.stderr)
    if args.pdf:
        print(f"[photosynth] PDF ready: {write_pdf(root, html)}", file=sys.stderr)
    return check(html) if args.check else 0


def check(html: Path) -> int:
    """Open the built book in headless Chromium; print each problem; 1 when there is any."""
    reports = check_site(html)
    problems = [f"{r.page}: {p}" for r in reports for p in r.problems]
    for line in problems:
        print(f"photosynth book --check: {line}", file=sys.stderr)
    images = sum(r.images for r in reports)
    sizes = [px for r in reports for _, px in r.figures]
    legible = f" ({len(sizes)} figures measured, smallest text {min(sizes):.1f} px)" if sizes else ""
    print(f"[photosynth] checked {len(reports)} pages, {images} images{legible}: {len(problems)} problems",
          file=sys.stderr)
    return 1 if problems else 0
