"""How much translation it takes (issue 22): translators at several budgets, each a mix with detectors, scored against
the baseline and the oracle beside its fidelity, and which cheap fidelity measure orders the budgets as the detector
does.

**Points.** A point is one translator run at one budget — CycleGAN/CUT training steps (``steps + decay_steps`` in its
base run's ratio) or NST L-BFGS loss evaluations (``iterations × lbfgs_maxfun``) — under its own name
(:func:`point_name`: ``cyclegan_s1400``, ``nst_e24``). Its frames land in ``translated/<name>/``, so it is a mix,
detectors, a fidelity row and a row of the sweep table like any translator (:mod:`photosynth.translate.registry`).
Each swept translator has a **base run**, the one notebooks 02/03 made under its own name (``cyclegan``, ``cut``,
``nst``), and every option of a point but its budget is read from it: from its checkpoint per weather (CycleGAN/CUT,
per-weather options included) or its manifest (NST: configuration, seed, weights, backend; the batch size, which the
manifest does not record, comes from the spec's ``options``). The point at the base run's own budget *is* the base
run, reused (no training, no translation, its mix and detectors kept).

**Resumption.** A larger CycleGAN/CUT budget cannot honestly continue a smaller one's finished model: that model's
learning rate has decayed to 0, where the larger schedule is still at the full rate. The budgets of one translator and
weather share their constant phase instead: the largest is the trunk, and each smaller new one branches off the trunk's
checkpoint at its own ``steps`` and decays on its own
(:func:`photosynth.translate.cyclegan.train.train_schedules`: the same model as training it from scratch, bit for bit).
The base run is not a branch: it was trained and finished before the sweep. NST starts over per budget (L-BFGS keeps
no state between runs; scipy's evaluations limit is per run). Everything else resumes as the study's stages do: a
finished model, frame, mix, detector or prediction is kept; a killed run continues from its last checkpoint.

**Scores.** Detectors take the training settings of the baseline's detectors (their manifest key, every training
seed) and mixes the baseline mix's split, so every point trains as the mixes it is compared with; predictions, the
paired bootstrap (training seeds, then test images) and the gap closed are :mod:`photosynth.study.scoring`'s, written to
the workspace's ``sweep/`` stage (the study's own ``results/`` files stay as notebooks 06 and 07 wrote them). The
fidelity rows are :func:`photosynth.study.fidelity.fidelity_table`'s with notebook 07's reference detector, per weather
(``sweep/fidelity.csv``), averaged over the weathers per point (:func:`point_fidelity`).

**Which measure predicts the detector** (:func:`kendall_table`). Kendall's τ between each fidelity measure, oriented so
that higher means a closer translation (:data:`MEASURES`: KID and FID negated), and the points' AP difference to the
baseline on one bucket, over the points that have the measure. Two uncertainties, both reported: a **bootstrap**
interval (the differences recomputed on every resample of the paired bootstrap, which draws the training seeds, then the
test images; the fidelity measures are held fixed, their own noise is not in it) and a **permutation test** (how often
a random pairing of measures and points reaches the same absolute τ: with few points even a perfect ordering can be
chance — with four points the smallest two-sided p-value is 1/12).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from photosynth import detect, jobs
from photosynth.atomic import atomic_open
from photosynth.design import STUDY_CLASSES, WEATHER_SLOTS
from photosynth.metrics.bootstrap import SeedSamples
from photosynth.metrics.domain_gap import detector_network
from photosynth.runtime import Workspace
from photosynth.study import fidelity
from photosynth.study.detectors import eval_sets, evaluate_study, run_dir
from photosynth.study.mixes import build_workspace_mixes, check_name, read_manifest, translator_of
from photosynth.study.scoring import StudyBootstrap, bootstrap_study, study_means
from photosynth.translate import registry
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.external import check_translations
from photosynth.translate.nst.backend import use_backend
from photosynth.translate.nst.weights import resolve_weights

#: What a budget counts, per translator the sweep can sweep.
UNITS: dict[str, str] = {"cyclegan": "steps", "cut": "steps", "nst": "evaluations"}
#: Translators whose budget is a training schedule (trained here; the others only translate).
SCHEDULED: tuple[str, ...] = ("cyclegan", "cut")
#: Options a spec may give per translator (what the base run does not record): translation settings for
#: CycleGAN/CUT, the VGG16 weights (checked against the base run's) and the batch for NST.
OPTIONS: dict[str, tuple[str, ...]] = {
    "cyclegan": ("batch_size", "num_workers", "fmt", "quality"),
    "cut": ("batch_size", "num_workers", "fmt", "quality"),
    "nst": ("weights", "batch_size"),
}
#: Fidelity measures of the sweep table, oriented: +1 when higher is a closer translation, −1 when lower is.
MEASURES: dict[str, int] = {
    "ssim": 1, "psnr": 1, "kid": -1, "fid": -1, "detector_kid": -1, "recall": 1, "content_kept": 1,
}  # fmt: skip
#: Fewest points a Kendall τ is computed on.
MIN_POINTS = 3
#: The workspace stage of the sweep's own scores, and the files it leaves in ``results/``.
STAGE = "sweep"
TABLE, KENDALL = "sweep.csv", "sweep_kendall.csv"


@dataclass(frozen=True)
class Point:
    """One translator at one budget: its name as translation, mix and detector, and whether it is the base run."""

    translator: str
    budget: int
    name: str
    reused: bool

    @property
    def unit(self) -> str:
        return UNITS[self.translator]


@dataclass(frozen=True)
class Spec:
    """A checked sweep: its points (each translator's budgets, increasing), per-translator options and extra mixes
    (``<point>+vkitti`` or another point's mix name, trained and scored beside the points)."""

    points: tuple[Point, ...]
    options: Mapping[str, Mapping[str, Any]]
    extras: tuple[str, ...] = ()

    @property
    def mixes(self) -> list[str]:
        """Every mix of the sweep: the points, then the extras."""
        return [p.name for p in self.points] + list(self.extras)

    @property
    def new(self) -> list[Point]:
        """The points the sweep makes (all but the base runs)."""
        return [p for p in self.points if not p.reused]

    def point_of(self, mix: str) -> Point:
        """The point whose translation ``mix`` uses."""
        return next(p for p in self.points if p.name == translator_of(mix))


def point_name(translator: str, budget: int, base_budget: int) -> str:
    """The base run's name at its own budget, else ``<translator>_s<steps>`` / ``<translator>_e<evaluations>``."""
    return translator if budget == base_budget else f"{translator}_{UNITS[translator][0]}{budget}"


def parse_spec(sweep: Mapping[str, Any], base_budgets: Mapping[str, int], extras: Sequence[str] = ()) -> Spec:
    """Check a profile's sweep (translator → ``{budgets: [...], options: {...}}``) against the base runs' budgets;
    a clear ``ValueError`` for an unknown translator, budgets that do not increase, an unknown option or an extra mix
    whose translator is not a point."""
    if not isinstance(sweep, Mapping):
        raise ValueError(f"the sweep must map translators to {{budgets: [...]}}, got {sweep!r}")
    points: list[Point] = []
    options: dict[str, dict[str, Any]] = {}
    for translator, entry in sweep.items():
        if translator not in UNITS:
            raise ValueError(f"unknown translator {translator!r} in the sweep: it sweeps "
                             + ", ".join(f"{t} ({u})" for t, u in UNITS.items()))
        if not isinstance(entry, Mapping) or "budgets" not in entry or set(entry) - {"budgets", "options"}:
            raise ValueError(f"sweep {translator}: expected {{budgets: [...], options: {{...}}}}, got {entry!r}")
        budgets = entry["budgets"]
        if (not isinstance(budgets, Sequence) or not budgets
                or not all(isinstance(b, int) and not isinstance(b, bool) and b > 0 for b in budgets)):
            raise ValueError(f"sweep {translator}: budgets must be a list of positive whole {UNITS[translator]}, "
                             f"got {budgets!r}")
        if any(b <= a for a, b in zip(budgets, budgets[1:])):
            raise ValueError(f"sweep {translator}: budgets must increase, got {list(budgets)}")
        unknown = sorted(set(entry.get("options") or {}) - set(OPTIONS[translator]))
        if unknown:
            raise ValueError(f"sweep {translator}: unknown option(s) {', '.join(unknown)}; its options: "
                             f"{', '.join(OPTIONS[translator])} (the rest is the base run's)")
        if translator not in base_budgets:
            raise ValueError(f"sweep {translator}: no base run's budget (the run notebook 02/03 made as "
                             f"{translator!r})")
        base = base_budgets[translator]
        points += [Point(translator, b, point_name(translator, b, base), b == base) for b in budgets]
        options[translator] = dict(entry.get("options") or {})
    names = [p.name for p in points]
    for extra in extras:
        check_name(extra)
        if extra in names:
            raise ValueError(f"extra mix {extra!r} is already a point of the sweep")
        if translator_of(extra) not in names:
            raise ValueError(f"extra mix {extra!r}: its translator {translator_of(extra)!r} is not a point of the "
                             f"sweep ({', '.join(names) or 'none'})")
    if len(set(extras)) != len(extras):
        raise ValueError(f"extra mixes repeat: {list(extras)}")
    return Spec(tuple(points), options, tuple(extras))


# ------------------------------------------------------------------------------------------- the base runs


def gan_base(workspace_root: str | Path, translator: str, weather: str) -> CycleGANConfig:
    """The options of the finished base run of CycleGAN or CUT for ``weather`` (its checkpoint's)."""
    from photosynth.translate.cyclegan.checkpoint import load_checkpoint
    from photosynth.translate.cyclegan.kinds import config_from_state

    path = Path(workspace_root) / "models" / translator / weather / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {translator} model for {weather}, the sweep's base run (notebook 02)")
    state = load_checkpoint(path)
    config = config_from_state(state, path)
    if int(state["step"]) < config.total_steps:
        raise ValueError(f"{path}: the base run stopped at step {state['step']} of {config.total_steps}; finish it "
                         "(notebook 02) before sweeping")
    return config


def nst_base(workspace_root: str | Path, weather: str) -> dict[str, Any]:
    """The manifest of the finished base NST run for ``weather`` (``translated/nst/<weather>/``)."""
    folder = Path(workspace_root) / "translated" / "nst" / weather
    found = sorted(folder.glob("manifest*.json"))
    if not found:
        raise FileNotFoundError(f"{folder}: no NST manifest, the sweep's base run (notebook 03)")
    manifest = json.loads(found[0].read_text())
    if manifest.get("status") != "complete":
        raise ValueError(f"{found[0]}: the base NST run is not complete; finish it (notebook 03) before sweeping")
    return manifest


def base_budget(workspace_root: str | Path, translator: str, weathers: Sequence[str]) -> int:
    """The budget of ``translator``'s base run, the same for every weather (or a ``ValueError``)."""
    if translator not in UNITS:
        raise ValueError(f"unknown translator {translator!r} in the sweep: it sweeps {', '.join(UNITS)}")
    budgets = {}
    for weather in weathers:
        if translator in SCHEDULED:
            budgets[weather] = gan_base(workspace_root, translator, weather).total_steps
        else:
            config = nst_base(workspace_root, weather)["settings"]["config"]
            budgets[weather] = int(config["iterations"]) * int(config["lbfgs_maxfun"])
    if len(set(budgets.values())) != 1:
        raise ValueError(f"{translator}'s base runs have different budgets per weather: {budgets}")
    return next(iter(budgets.values()))


def workspace_spec(workspace_root: str | Path, sweep: Mapping[str, Any], extras: Sequence[str] = (),
                   weathers: Sequence[str] = tuple(WEATHER_SLOTS)) -> Spec:  # fmt: skip
    """:func:`parse_spec` with the budgets of the workspace's base runs."""
    unknown = sorted(set(sweep) - set(UNITS)) if isinstance(sweep, Mapping) else []
    if unknown:
        raise ValueError(f"unknown translator(s) {', '.join(map(repr, unknown))} in the sweep: it sweeps "
                         + ", ".join(f"{t} ({u})" for t, u in UNITS.items()))
    budgets = {t: base_budget(workspace_root, t, weathers) for t in (sweep if isinstance(sweep, Mapping) else {})}
    return parse_spec(sweep, budgets, extras)


def gan_config(base: CycleGANConfig, budget: int) -> CycleGANConfig:
    """``base`` with a schedule of ``budget`` steps split as the base run's (constant, then linear decay)."""
    if budget < 1:
        raise ValueError(f"a budget of {budget} steps: need at least 1")
    steps = round(budget * base.steps / base.total_steps)
    return replace(base, steps=steps, decay_steps=budget - steps)


def nst_options(base: Mapping[str, Any], budget: int, options: Mapping[str, Any]) -> dict[str, Any]:
    """Options of the registered ``nst`` translator for ``budget`` L-BFGS evaluations: the base run's configuration
    (``base``: its manifest) with ``lbfgs_maxfun = budget / iterations``, and ``options`` (weights, batch size); the
    weights must resolve to the base run's (its manifest records their label)."""
    config = dict(base["settings"]["config"])
    if config.get("optimizer") != "lbfgs":
        raise ValueError(f"the base NST run optimises with {config.get('optimizer')!r}: the sweep counts L-BFGS "
                         "evaluations")
    iterations = int(config["iterations"])
    if budget % iterations:
        raise ValueError(f"NST budget {budget}: not a multiple of the base run's {iterations} L-BFGS iteration(s)")
    weights = options.get("weights", "auto")
    label = resolve_weights(weights).label
    if label != base["settings"]["weights"]:
        raise ValueError(f"NST weights {weights!r} resolve to {label!r}, the base run used "
                         f"{base['settings']['weights']!r}: a point may differ from it in its budget only")
    size = config.pop("size")
    return {**options, "weights": weights, **config, "lbfgs_maxfun": budget // iterations,
            "size": f"{size[0]}x{size[1]}" if size else ""}


# ----------------------------------------------------------------------------------------- making the points


def fit_schedules(workspace_root: str | Path, translator: str, weather: str, names: Sequence[str],
                  budgets: Sequence[int], device: str | None = None, threads: int | None = None,
                  progress: bool = True) -> list[int]:  # fmt: skip
    """Train the CycleGAN/CUT points ``names`` (budgets ``budgets``) of one weather into ``models/<name>/<weather>``,
    sharing their constant phase, with ``threads`` torch CPU threads (``None``: as they are); returns each one's
    step."""
    import torch

    from photosynth.translate.cyclegan.train import train_schedules

    base = gan_base(workspace_root, translator, weather)
    tasks = [registry.task(workspace_root, name, weather, progress=progress) for name in names]
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        runs = train_schedules([gan_config(base, b) for b in budgets], tasks[0].clones, tasks[0].targets,
                               [t.work for t in tasks], device=device, progress=progress)
    finally:
        torch.set_num_threads(before)
    return [r.step for r in runs]


def _schedules_done(workspace_root: str | Path, names: Sequence[str], weather: str) -> bool:
    from photosynth.translate.cyclegan.train import is_finished

    return all(is_finished(Path(workspace_root) / "models" / name / weather) for name in names)


def translate_point(workspace_root: str | Path, name: str, translator: str, weather: str, options: Mapping[str, Any],
                    seed: int = 0, backend: str = "", progress: bool = True) -> int:
    """Translate one point's frames of ``weather`` with the registered ``translator`` built from ``options`` (the
    frames already there are kept; with none left, nothing is loaded); returns the number of frames."""
    task = registry.task(workspace_root, name, weather, seed=seed, progress=progress)
    if task.pending():
        if backend:
            use_backend(backend)
        registry.load(translator, options).translate(task)
    return len(task.sources)


def _translated(workspace_root: str | Path, name: str, weather: str) -> bool:
    return not registry.task(workspace_root, name, weather).pending()


def translate_sweep(workspace: Workspace, spec: Spec, weathers: Sequence[str] = tuple(WEATHER_SLOTS), *,
                    executor: str = "local", slurm: Mapping[str, Any] | None = None, device: str | None = None,
                    threads: int | None = None, progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """Make every new point: train the CycleGAN/CUT schedules (one job per translator and weather, ``threads`` torch
    threads each under ``local``), then translate (one job per point and weather), each through
    :func:`photosynth.jobs.run` with ``executor``; check that each point's folder holds every frame the mixes need.
    Returns one row per point: ``translator, unit, budget, point, reused, frames``."""
    root = str(workspace.root)
    here = progress and executor == "local"
    fits = []
    for translator in SCHEDULED:
        points = [p for p in spec.new if p.translator == translator]
        if not points:
            continue
        names, budgets = [p.name for p in points], [p.budget for p in points]
        fits += [jobs.Call(f"{translator} {w}", fit_schedules, (root, translator, w, names, budgets),
                           {"device": device, "threads": threads, "progress": here},
                           done=partial(_schedules_done, root, names, w))
                 for w in weathers]
    jobs.run(fits, executor, slurm, folder=workspace.root / "jobs", name="08_sweep_fit", progress=progress)
    calls = []
    for point in spec.new:
        for weather in weathers:
            if point.translator in SCHEDULED:
                options, seed, backend = {**spec.options[point.translator], "device": device}, 0, ""
            else:
                base = nst_base(root, weather)
                options = nst_options(base, point.budget, spec.options[point.translator])
                seed, backend = int(base["settings"]["seed"]), str(base.get("backend") or "")
            calls.append(jobs.Call(f"{point.name} {weather}", translate_point,
                                   (root, point.name, point.translator, weather, options, seed, backend, here),
                                   done=partial(_translated, root, point.name, weather)))
    frames = jobs.run(calls, executor, slurm, folder=workspace.root / "jobs", name="08_sweep_translate",
                      progress=progress)
    for point in spec.new:
        check_translations(point.name, workspace.root / "translated" / point.name, workspace.root / "data" / "vkitti2",
                           weathers).raise_if_bad()  # fmt: skip
    return pd.DataFrame([{"translator": p.translator, "unit": p.unit, "budget": p.budget, "point": p.name,
                          "reused": p.reused,
                          "frames": sum(frames[f"{p.name} {w}"] for w in weathers) if not p.reused else pd.NA}
                         for p in spec.points])  # fmt: skip


def build_mixes(workspace: Workspace, spec: Spec, baseline: str = "baseline") -> dict[str, Any]:
    """The sweep's mixes (points and extras), split as the ``baseline`` mix (its manifest's seed and fractions)."""
    manifest = read_manifest(workspace.root / "mixes" / baseline)
    if manifest is None:
        raise FileNotFoundError(f"{workspace.root / 'mixes' / baseline}: no baseline mix (notebook 04)")
    parameters = manifest["parameters"]
    return build_workspace_mixes(workspace.root, spec.mixes, seed=int(parameters["seed"]),
                                 fractions=parameters["fractions"])


def detector_settings(workspace: Workspace, baseline: str, seeds: Sequence[int],
                      **execution: Any) -> detect.TrainSettings:
    """The training settings of the ``baseline`` mix's detectors (their manifest key, the same for every seed of
    ``seeds`` but the seed), with ``execution`` (device, workers, threads: what does not change the weights)."""
    keys = {}
    for seed in seeds:
        manifest = detect.read_manifest(run_dir(workspace, baseline, seed))
        if manifest is None or not manifest.get("finished"):
            raise FileNotFoundError(f"{run_dir(workspace, baseline, seed)}: no finished {baseline} detector for "
                                    f"training seed {seed} (notebook 05 with seeds {list(seeds)})")
        keys[seed] = {k: v for k, v in manifest["key"]["settings"].items() if k != "seed"}
    first = keys[seeds[0]]
    differ = [s for s, k in keys.items() if k != first]
    if differ:
        raise ValueError(f"the {baseline} detectors of seeds {differ} were trained with other settings than seed "
                         f"{seeds[0]}'s: retrain them (notebook 05) before sweeping")
    return detect.TrainSettings(**first, seed=int(seeds[0]), **execution)


def score(workspace: Workspace, spec: Spec, seeds: Sequence[int], baseline: str = "baseline",
          oracle: str | None = "oracle", *, predict: detect.PredictSettings = detect.PredictSettings(),
          executor: str = "local", slurm: Mapping[str, Any] | None = None, n_resamples: int = 1000, seed: int = 0,
          level: float = 0.95, classes: Sequence[str] = STUDY_CLASSES, metric: str = "ap50_standard",
          progress: bool = True) -> tuple[pd.DataFrame, StudyBootstrap]:  # fmt: skip
    """Predict the occlusion buckets with every detector of the sweep's mixes, the ``baseline`` and the ``oracle``
    (``None`` on real data) and bootstrap them (``metric`` only); writes ``metrics.csv`` and the bootstrap tables to
    the ``sweep/`` stage. Returns the per-seed metrics and the bootstrap."""
    mixes = [baseline, *([oracle] if oracle else []), *spec.mixes]
    sets = eval_sets(workspace, ("bucket",))
    out = workspace.stage(STAGE)
    metrics = evaluate_study(workspace, mixes, seeds, predict, sets, progress=progress, executor=executor, slurm=slurm,
                             out=out)
    study = bootstrap_study(workspace, mixes, seeds, baseline, oracle, sets=sets, n_resamples=n_resamples, seed=seed,
                            level=level, classes=classes, metrics=(metric,), out=out, progress=progress)
    return metrics, study


def fidelity_rows(workspace: Workspace, spec: Spec, net: Any, *, layer: int = 9,
                  weathers: Sequence[str] = tuple(WEATHER_SLOTS), max_images: int | None = None, seed: int = 0,
                  min_score: float = fidelity.MIN_SCORE, device: str | None = None,
                  progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """The fidelity table (:func:`photosynth.study.fidelity.fidelity_table`) of every point and the reference rows,
    with notebook 07's reference detector (its layer ``layer`` pooled for the detector-feature KID); written to
    ``sweep/fidelity.csv``."""
    root = workspace.root
    weights, split = root / "fidelity" / "reference" / "weights" / "best.pt", root / "fidelity" / "reference_split.json"
    if not weights.is_file() or not split.is_file():
        raise FileNotFoundError(f"{weights} / {split}: no reference detector (notebook 07)")
    detector_net = detector_network(weights, layer, detect.training_imgsz(weights))
    table = fidelity.fidelity_table(
        fidelity.workspace_jobs(root, [p.name for p in spec.points], weathers), net, detector=weights,
        split=fidelity.ReferenceSplit.read(split), detector_net=detector_net, work=workspace.stage(STAGE) / "fidelity",
        max_images=max_images, seed=seed, min_score=min_score, device=device, progress=progress,
    )  # fmt: skip
    fidelity.write_table(table, workspace.stage(STAGE) / "fidelity.csv")
    return table


# -------------------------------------------------------------------------------------------------- the table


def point_fidelity(table: pd.DataFrame) -> pd.DataFrame:
    """Each row of the fidelity table's sets, averaged over its weathers: :data:`MEASURES`, ``n_frames`` (summed) and
    ``weathers`` (how many), indexed by set name."""
    grouped = table.groupby("translator", sort=False)
    out = grouped[list(MEASURES)].mean()
    out["n_frames"] = grouped["n_frames"].sum()
    out["weathers"] = grouped["weather"].nunique()
    return out


#: Columns of the sweep table, in order.
COLUMNS: tuple[str, ...] = (
    "translator", "unit", "budget", "mix", "kind", "seed", "bucket", "metric", "ap", "ap_mean", "ap_lo", "ap_hi",
    "diff", "diff_lo", "diff_hi", "gap_closed", "gap_lo", "gap_hi", "gap_verdict", "n_seeds", *MEASURES, "n_frames",
)  # fmt: skip


def sweep_table(spec: Spec, metrics: pd.DataFrame, study: StudyBootstrap, fidelity_table: pd.DataFrame,
                baseline: str = "baseline", oracle: str | None = "oracle",
                classes: Sequence[str] = STUDY_CLASSES) -> pd.DataFrame:  # fmt: skip
    """The sweep as one long table (:data:`COLUMNS`): one row per mix, training seed and bucket of ``study``'s metric.
    ``kind``: ``point`` (a translator at a budget), ``extra`` (another mix of a point's frames), ``baseline`` or
    ``oracle``. ``ap``: that seed's mean AP over ``classes``; ``ap_mean``/``ap_lo``/``ap_hi``, ``diff*`` (to
    the baseline) and ``gap_*`` (:func:`~photosynth.study.scoring.bootstrap_study`) are the mix's, over seeds and test
    images, so they repeat on its seed rows; the fidelity measures are the mix's frames' averaged over the weathers
    (an extra shares its point's; the ``baseline``: vKITTI's renders, the ``oracle``: its renders)."""
    intervals = study.intervals
    (metric,) = intervals["metric"].unique()
    per_seed = study_means(metrics[metrics["group"] == "bucket"], classes, per_seed=True)
    where = ["mix", "split"]
    table = per_seed.rename(columns={metric: "ap"})[["mix", "seed", "split", "ap"]]
    table = table.merge(intervals[intervals.group == "bucket"][[*where, "map", "lo", "hi", "n_seeds"]]
                        .rename(columns={"map": "ap_mean", "lo": "ap_lo", "hi": "ap_hi"}), on=where, how="inner")
    diffs = study.differences[study.differences.group == "bucket"][[*where, "diff", "lo", "hi"]]
    table = table.merge(diffs.rename(columns={"lo": "diff_lo", "hi": "diff_hi"}), on=where, how="left")
    gaps = study.gap_closed[study.gap_closed.group == "bucket"][[*where, "closed", "lo", "hi", "verdict"]]
    table = table.merge(gaps.rename(columns={"closed": "gap_closed", "lo": "gap_lo", "hi": "gap_hi",
                                             "verdict": "gap_verdict"}), on=where, how="left")
    table.loc[table.mix == baseline, ["diff", "diff_lo", "diff_hi"]] = 0.0
    measures = point_fidelity(fidelity_table)
    references = {baseline: ("baseline", fidelity.VKITTI), **({oracle: ("oracle", fidelity.ORACLE)} if oracle else {})}
    rows = []
    for mix in dict.fromkeys(table["mix"]):
        if mix in spec.mixes:
            point = spec.point_of(mix)
            kind = "point" if mix == point.name else "extra"
            info = {"translator": point.translator if kind == "point" else mix, "unit": point.unit,
                    "budget": point.budget, "kind": kind}
            source = point.name
        else:
            kind, source = references[mix]
            info = {"translator": mix, "unit": None, "budget": math.nan, "kind": kind}
        found = measures.loc[source] if source in measures.index else pd.Series(dtype=float)
        rows.append({"mix": mix, **info, **{m: found.get(m, math.nan) for m in (*MEASURES, "n_frames")}})
    table = table.merge(pd.DataFrame(rows), on="mix", how="left").rename(columns={"split": "bucket"})
    table["metric"] = metric
    return table[list(COLUMNS)].reset_index(drop=True)


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV (atomic)."""
    path = Path(path)
    with atomic_open(path, newline="") as fh:
        table.to_csv(fh, index=False)
    return path


# ------------------------------------------------------------------------------------------ which measure


@dataclass(frozen=True)
class Kendall:
    """Kendall's τ over ``n_points`` points, its bootstrap interval (``lo``, ``hi``; NaN without resamples) and the
    permutation test's two-sided p-value."""

    tau: float
    lo: float
    hi: float
    p_value: float
    n_points: int


def kendall(measure: Sequence[float], change: Sequence[float], resampled: np.ndarray | None = None, *,
            level: float = 0.95, n_permutations: int = 4999, seed: int = 0) -> Kendall:  # fmt: skip
    """Kendall's τ (``scipy.stats.kendalltau``, τ-b) between ``measure`` and ``change`` over the points where both
    are finite; ``resampled`` (resamples × points): the change on each bootstrap resample, for the interval of τ (the
    measure held fixed); the p-value from ``n_permutations`` random pairings (all of them when fewer exist,
    ``scipy.stats.permutation_test``). Fewer than :data:`MIN_POINTS` points, or a constant side: NaN."""
    from scipy.stats import kendalltau, permutation_test

    x, y = np.asarray(measure, float), np.asarray(change, float)
    if x.shape != y.shape or (resampled is not None and np.shape(resampled)[1:] != x.shape):
        raise ValueError(f"one measure and one change per point: {x.shape}, {y.shape}"
                         + (f", resamples {np.shape(resampled)}" if resampled is not None else ""))
    keep = np.isfinite(x) & np.isfinite(y)
    x, y, n = x[keep], y[keep], int(keep.sum())
    if n < MIN_POINTS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Kendall(math.nan, math.nan, math.nan, math.nan, n)
    tau = float(kendalltau(x, y).statistic)
    lo = hi = math.nan
    if resampled is not None:
        taus = np.array([kendalltau(x, row).statistic for row in np.asarray(resampled, float)[:, keep]])
        taus = taus[np.isfinite(taus)]
        if len(taus):
            lo, hi = (float(v) for v in np.quantile(taus, [(1 - level) / 2, 1 - (1 - level) / 2]))
    test = permutation_test((x,), lambda v: kendalltau(v, y).statistic, permutation_type="pairings",
                            n_resamples=n_permutations, alternative="two-sided", random_state=seed)
    return Kendall(tau, lo, hi, float(test.pvalue), n)


def kendall_table(table: pd.DataFrame, study: StudyBootstrap, bucket: str, *, n_permutations: int = 4999,
                  seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """Per fidelity measure (:data:`MEASURES`, oriented), Kendall's τ with the points' difference to the baseline on
    ``bucket`` (:func:`kendall`; the resamples are ``study``'s): ``measure, orientation, tau, lo, hi, p_value,
    n_points, n_seeds, bucket, metric, level``."""
    points = table[(table["kind"] == "point") & (table["bucket"] == bucket)].drop_duplicates("mix")
    if points.empty:
        raise ValueError(f"no points on bucket {bucket!r} in the sweep table")
    metric = str(points["metric"].iloc[0])
    level = float(study.intervals["level"].iloc[0])
    baseline = str(study.differences["baseline"].iloc[0])
    samples: Mapping[str, SeedSamples] = study.samples.get(("bucket", bucket, metric), {})
    resampled = (np.stack([samples[m].samples - samples[baseline].samples for m in points["mix"]], axis=1)
                 if samples else None)
    rows = []
    for measure, sign in MEASURES.items():
        found = kendall(sign * points[measure].to_numpy(float), points["diff"].to_numpy(float), resampled,
                        level=level, n_permutations=n_permutations, seed=seed)
        rows.append({"measure": measure, "orientation": "higher is closer" if sign > 0 else "lower is closer",
                     "tau": found.tau, "lo": found.lo, "hi": found.hi, "p_value": found.p_value,
                     "n_points": found.n_points})
    return pd.DataFrame(rows).assign(n_seeds=int(points["n_seeds"].min()), bucket=bucket, metric=metric, level=level)
