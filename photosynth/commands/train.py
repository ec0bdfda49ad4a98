"""``photosynth train`` (one training mix) and ``photosynth study`` (train, predict and score every mix).

Both read the profile's ``05_detectors`` parameters (model, imgsz, epochs, batch, optimizer, lr0,
warmup_epochs, …) and ``study`` also ``06_results`` (baseline, n_boot, level); ``--set`` overrides them with
the same ``NOTEBOOK.PARAM=VALUE`` syntax as ``photosynth book``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from photosynth import detect
from photosynth.cli import UsageError
from photosynth.report.pipeline import PipelineError, load_profile, project_root
from photosynth.runtime import Workspace
from photosynth.study import detectors, scoring

TRAIN_NOTEBOOK, RESULTS_NOTEBOOK = "05_detectors", "06_results"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``study`` subcommands."""
    p = sub.add_parser("train", help="train a YOLOv5 detector on one training mix",
                       description="Train a YOLOv5-family detector (built from its YAML, no download) on "
                       "<workspace>/mixes/MIX/data.yaml into <workspace>/detectors/MIX/seedK/ (or --data/--out). "
                       "A finished run with the same inputs is skipped; an interrupted one resumes.")
    _common(p)
    p.add_argument("--mix", default="baseline", help="training mix name (default: baseline)")
    p.add_argument("--data", default=None, help="a YOLO data.yaml to train on instead of the mix's")
    p.add_argument("--out", default=None, help="run folder instead of <workspace>/detectors/MIX/seedK")
    p.add_argument("--seed", type=int, default=None, help="training seed K (default: the profile's first seed)")
    p.set_defaults(func=run_train)

    s = sub.add_parser("study", help="train, predict and score every mix of a profile",
                       description="For every mix of the profile (05_detectors.mixes or --mixes) and training seed "
                       "(05_detectors.seeds): train, predict "
                       "the occlusion buckets and weather splits, score AP50 standard and legacy "
                       "(results/metrics.csv) and bootstrap each mix against the baseline (results/bootstrap.csv).")
    _common(s)
    s.add_argument("--mixes", default="", help="comma-separated mixes (default: the profile's)")
    s.set_defaults(func=run_study)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="demo", help="profile name or YAML path (default: demo)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NOTEBOOK.PARAM=VALUE",
                   help=f"override a profile parameter, e.g. {TRAIN_NOTEBOOK}.epochs=3; repeatable")
    p.add_argument("--workspace", default="", help="workspace folder (default: runs/<profile>)")
    p.add_argument("--root", default=None, help="project folder (default: the one holding the cwd)")


def _context(args: argparse.Namespace) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Workspace, training parameters and results parameters of the profile (with overrides)."""
    try:
        root = project_root(args.root)
        profile = load_profile(args.profile, root, args.overrides)
    except PipelineError as exc:
        raise UsageError(str(exc)) from None
    workspace = (Workspace(Path(args.workspace).expanduser().resolve()) if args.workspace
                 else Workspace.for_profile(profile.workspace_name, root / "runs"))
    if TRAIN_NOTEBOOK not in profile.notebooks:
        raise UsageError(f"profile {profile.name!r} has no {TRAIN_NOTEBOOK!r} section")
    train = profile.parameters(TRAIN_NOTEBOOK, workspace)
    results = profile.parameters(RESULTS_NOTEBOOK, workspace) if RESULTS_NOTEBOOK in profile.notebooks else {}
    return workspace, train, results


def _seeds(params: dict[str, Any]) -> list[int]:
    """Training seeds of the profile: ``seeds`` (a list), else ``[seed]``."""
    seeds = params.get("seeds") or [params.get("seed", 0)]
    return [int(s) for s in seeds]


def _settings(params: dict[str, Any]) -> detect.TrainSettings:
    """The profile's training settings, or a usage error naming the bad parameter."""
    try:
        return detect.TrainSettings.from_parameters(params)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{TRAIN_NOTEBOOK} parameters: {exc}") from None


def _data(workspace: Any, mix: str, data: str | None = None) -> Path:
    """The mix's ``data.yaml`` (or ``data``), or a usage error when it was not built."""
    data_path = Path(data) if data else workspace.root / "mixes" / mix / "data.yaml"
    if not data_path.is_file():
        raise UsageError(f"{data_path}: no such data.yaml (build the mix with notebook 04 / `photosynth mix`)")
    return data_path


def _train_one(workspace: Any, params: dict[str, Any], mix: str, seed: int, data: str | None = None,
               out: str | None = None) -> Any:
    settings = replace(_settings(params), seed=seed)
    data_path = _data(workspace, mix, data)
    run_dir = Path(out) if out else detectors.run_dir(workspace, mix, seed)
    result = detect.train(data_path, run_dir, settings, workspace)
    print(f"[photosynth] {mix} seed {seed}: {result.status} ({result.seconds:.0f} s) -> {result.best}", file=sys.stderr)
    return result


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``photosynth train``."""
    workspace, params, _ = _context(args)
    seed = args.seed if args.seed is not None else _seeds(params)[0]
    _train_one(workspace, params, args.mix, seed, args.data, args.out)
    return 0


def run_study(args: argparse.Namespace) -> int:
    """Handler of ``photosynth study``."""
    workspace, params, results = _context(args)
    mixes = [m.strip() for m in args.mixes.split(",") if m.strip()] or list(params.get("mixes") or [])
    if not mixes:
        raise UsageError(f"no mixes: set {TRAIN_NOTEBOOK}.mixes in the profile or pass --mixes")
    seeds = _seeds(params)
    settings = _settings(params)
    for mix in mixes:
        _data(workspace, mix)
    trained = detectors.train_study(workspace, mixes, seeds, settings, params.get("executor") or "local",
                                    params.get("slurm") or {})
    for name, result in trained.items():
        print(f"[photosynth] {name}: {result.status} ({result.seconds:.0f} s) -> {result.best}", file=sys.stderr)
    predict = detect.PredictSettings(device=params.get("device") or None)
    metrics = detectors.evaluate_study(workspace, mixes, seeds, predict)
    print(scoring.study_table(metrics).round(3).to_string())
    baseline = results.get("baseline", "baseline")
    if baseline in mixes and len(mixes) > 1:
        diffs = scoring.bootstrap_study(workspace, mixes, seeds, baseline, n_resamples=int(results.get("n_boot", 1000)),
                                           seed=int(params.get("seed", 0)),
                                           level=float(results.get("level", 0.95))).differences
        print(diffs.round(3).to_string(index=False))
    print(f"[photosynth] results in {workspace.root / 'results'}", file=sys.stderr)
    return 0
