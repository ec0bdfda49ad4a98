"""The study's detectors: one per training mix and seed, trained, then predicting every evaluation set.

Evaluation sets are the workspace's ``splits/buckets/<name>/`` and ``splits/weather_eval/<domain>/`` (a YOLO
dataset + ``coco.json`` each). Every mix is trained once per training seed (:func:`run_dir`:
``detectors/<mix>/seed<k>/``); predictions go to ``detectors/<mix>/seed<k>/predictions/<set>.json``; scores (both
AP50 metrics, per class and mean, see :mod:`photosynth.metrics.evaluate`) to ``results/metrics.csv``, one row
per mix, seed, set and class. Intervals over seeds and images: :mod:`photosynth.study.scoring`.
"""

from __future__ import annotations

import math
import re
from functools import partial
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path
from typing import Any

import pandas as pd

from photosynth import detect, jobs
from photosynth.metrics.evaluate import evaluate_predictions, write_metrics
from photosynth.runtime import Workspace

#: Workspace folders of the evaluation sets, by group.
GROUPS: dict[str, str] = {"bucket": "splits/buckets", "weather": "splits/weather_eval"}


@dataclass(frozen=True)
class EvalSet:
    """One evaluation set: a YOLO dataset with its COCO ground truth."""

    name: str
    group: str
    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "data.yaml"

    @property
    def coco(self) -> Path:
        return self.folder / "coco.json"


def bucket_key(name: str) -> tuple[float, str]:
    """Sort buckets by their upper cut (``0-5`` < ``0-10`` < ``0-all``); other names alphabetically."""
    match = re.fullmatch(r"\d+-(\d+|all)", name)
    if not match:
        return math.inf, name
    return (math.inf if match.group(1) == "all" else float(match.group(1))), name


def eval_sets(workspace: Workspace, groups: Sequence[str] = tuple(GROUPS)) -> list[EvalSet]:
    """The evaluation sets present in the workspace (buckets by cut, then weather domains by name)."""
    out: list[EvalSet] = []
    for group in groups:
        if group not in GROUPS:
            raise ValueError(f"unknown evaluation group {group!r}; choose from {list(GROUPS)}")
        base = workspace.root / GROUPS[group]
        folders = [p for p in base.iterdir() if (p / "coco.json").is_file()] if base.is_dir() else []
        out += [EvalSet(p.name, group, p) for p in sorted(folders, key=lambda p: bucket_key(p.name))]
    if not out:
        raise FileNotFoundError(
            f"no evaluation sets under {workspace.root}/{{{','.join(GROUPS[g] for g in groups)}}} "
            "(run the datasets notebook / `photosynth split` first)")
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"evaluation set names must be unique across groups, got {names}")
    return out


def run_dir(workspace: Workspace, mix: str, seed: int) -> Path:
    """Folder of a mix's detector run for one training seed (``detectors/<mix>/seed<k>``)."""
    if int(seed) != seed or seed < 0:
        raise ValueError(f"training seed must be a non-negative integer, got {seed!r}")
    return workspace.root / "detectors" / mix / f"seed{int(seed)}"


def prediction_path(workspace: Workspace, mix: str, seed: int, eval_set: EvalSet) -> Path:
    """Predictions of one mix's detector (one training seed) on one evaluation set."""
    return run_dir(workspace, mix, seed) / "predictions" / f"{eval_set.name}.json"


def train_mix(workspace: Workspace, mix: str, seed: int, settings: detect.TrainSettings,
              progress: bool = True) -> detect.TrainResult:
    """Train (or skip / resume) the detector of ``mixes/<mix>`` with training seed ``seed`` into :func:`run_dir`."""
    data = workspace.root / "mixes" / mix / "data.yaml"
    if not data.is_file():
        raise FileNotFoundError(f"{data}: mix {mix!r} was not built (notebook 04_training_sets / `photosynth mix`)")
    return detect.train(data, run_dir(workspace, mix, seed), replace(settings, seed=int(seed)), workspace,
                        progress=progress)


def is_trained(workspace: Workspace, mix: str, seed: int, settings: detect.TrainSettings) -> bool:
    """Whether :func:`train_mix` would skip this mix and seed (its finished run matches data and settings)."""
    data = workspace.root / "mixes" / mix / "data.yaml"
    return data.is_file() and detect.is_trained(data, run_dir(workspace, mix, seed), replace(settings, seed=int(seed)))


def train_study(
    workspace: Workspace,
    mixes: Sequence[str],
    seeds: Sequence[int],
    settings: detect.TrainSettings,
    executor: str = "local",
    slurm: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, detect.TrainResult]:
    """Train every mix once per training seed with ``executor`` (:func:`photosynth.jobs.run`); returns
    ``{"<mix> seed <k>": result}``. Finished runs are kept.

    ``processes`` trains the runs side by side, each with one torch thread unless ``settings.threads`` says
    otherwise (one thread keeps a run exact and the cores not oversubscribed). Under ``slurm`` without a
    ``device``, ultralytics gets every GPU of its job.
    """
    job_settings = settings
    if executor == "processes" and settings.threads is None:
        job_settings = replace(settings, threads=1)
    if executor == "slurm" and not settings.device:
        gpus = jobs.gpu_devices(jobs.SlurmSettings.from_mapping(slurm).gpus_per_job)
        job_settings = replace(settings, device=gpus or None)
    calls = [jobs.Call(f"{mix} seed {seed}", train_mix, (workspace, mix, seed, job_settings),
                       kwargs={"progress": progress and executor == "local"},
                       done=partial(is_trained, workspace, mix, seed, job_settings))
             for mix, seed in product(mixes, seeds)]
    return jobs.run(calls, executor, slurm, folder=workspace.root / "jobs", name="05_detectors", progress=progress)


def runs(workspace: Workspace, mixes: Sequence[str], seeds: Sequence[int]) -> dict[tuple[str, int], Path]:
    """Run folders by ``(mix, seed)`` (for :func:`photosynth.detect.run_table` / ``training_logs``)."""
    return {(mix, seed): run_dir(workspace, mix, seed) for mix in mixes for seed in seeds}


def predict_mix(
    workspace: Workspace,
    mix: str,
    seed: int,
    sets: Sequence[EvalSet],
    settings: detect.PredictSettings,
    progress: bool = True,
) -> dict[str, Path]:
    """Predict every evaluation set with the ``best.pt`` of one mix and seed (finished predictions are kept; an
    image in several sets is predicted once)."""
    weights = run_dir(workspace, mix, seed) / "weights" / "best.pt"
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: mix {mix!r} seed {seed} has no trained detector "
                                "(notebook 05 / `photosynth train`)")
    outs = detect.predict_sets(weights, [(s.data, s.coco, prediction_path(workspace, mix, seed, s)) for s in sets],
                               settings, workspace=workspace, progress=progress)
    return {s.name: out for s, out in zip(sets, outs)}


def evaluate_mix(workspace: Workspace, mix: str, seed: int, sets: Sequence[EvalSet]) -> pd.DataFrame:
    """Both metrics per class and mean on every set: ``mix, seed, group`` + :func:`evaluate_predictions` columns."""
    frames = []
    for s in sets:
        table = evaluate_predictions(s.coco, prediction_path(workspace, mix, seed, s), s.name)
        frames.append(table.assign(mix=mix, seed=int(seed), group=s.group))
    out = pd.concat(frames, ignore_index=True)
    return out[["mix", "seed", "group", *[c for c in out.columns if c not in ("mix", "seed", "group")]]]


def evaluate_study(
    workspace: Workspace,
    mixes: Sequence[str],
    seeds: Sequence[int],
    settings: detect.PredictSettings,
    sets: Sequence[EvalSet] | None = None,
    progress: bool = True,
    executor: str = "local",
    slurm: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Predict and score every mix and training seed on every set; writes ``metrics.csv`` to ``out`` (default the
    workspace's ``results/``) and returns it. ``executor`` runs the predictions (:func:`photosynth.jobs.run`: side by
    side with ``processes``, one torch thread each unless ``settings.threads`` says otherwise); finished ones are kept
    either way."""
    sets = list(sets) if sets is not None else eval_sets(workspace)
    if executor == "processes" and settings.threads is None:
        settings = replace(settings, threads=1)
    pairs = list(product(mixes, seeds))
    calls = [jobs.Call(f"{mix} seed {seed}", predict_mix,
                       (workspace, mix, seed, sets, settings, progress and executor == "local"),
                       done=partial(_predicted, workspace, mix, seed, sets)) for mix, seed in pairs]
    jobs.run(calls, executor, slurm, folder=workspace.root / "jobs", name="predict", progress=progress)
    metrics = pd.concat([evaluate_mix(workspace, mix, seed, sets) for mix, seed in pairs], ignore_index=True)
    folder = Path(out) if out is not None else workspace.stage("results")
    folder.mkdir(parents=True, exist_ok=True)
    write_metrics(metrics, folder)
    return metrics


def _predicted(workspace: Workspace, mix: str, seed: int, sets: Sequence[EvalSet]) -> bool:
    """Whether every set of ``sets`` has a prediction file of this mix and seed (such a job runs in this process,
    where :func:`photosynth.detect.predict_sets` still redoes a stale one)."""
    return all(prediction_path(workspace, mix, seed, s).is_file() for s in sets)
