"""The training loop of every model kind (CycleGAN, CUT): resumable checkpoints, a CSV loss log, sample grids
and a progress bar. The config's type picks the model (:func:`.kinds.model_class`).

Output folder layout: ``checkpoint.pt`` (latest, atomic), ``options.json``, ``losses.csv``,
``samples/step_NNNNNNN.png`` (CycleGAN rows: real A, A→B, A→B→A / real B, B→A, B→A→B; CUT: real A, A→B,
real B, B→B identity).

**Several budgets of one model** (:func:`train_schedules`). A finished run cannot be continued into a longer one:
its learning rate has decayed to 0, and a longer schedule would still have been at the full rate there. Runs whose
options differ only in their schedule (:data:`SCHEDULE_FIELDS`) share their first ``steps`` steps exactly, though: the
rate is constant there in both, and the data order, crops and random state depend on the seed and the step alone. So
the run with the longest constant phase is the *trunk*, and every shorter schedule *branches* from the trunk's
checkpoint at its own ``steps`` (:func:`train`'s ``start_from``) and decays on its own: each result is what training
that schedule from scratch gives, bit for bit (tested), for the trunk's steps plus each branch's decay.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from photosynth import runtime
from photosynth.atomic import atomic_open, reporting_disk_full, write_json
from photosynth.imageio import write_image
from photosynth.translate.cyclegan import distributed
from photosynth.translate.cyclegan.base import TrainableModel
from photosynth.translate.cyclegan.checkpoint import (CheckpointError, load_checkpoint, rng_state, save_checkpoint,
                                                      set_rng_state)
from photosynth.translate.cyclegan.config import CycleGANConfig
from photosynth.translate.cyclegan.data import UnalignedDataset, make_loader, to_uint8, training_files
from photosynth.translate.cyclegan.kinds import config_from_state, model_class
from photosynth.translate.cyclegan.model import LOSS_NAMES

CHECKPOINT = "checkpoint.pt"
LOSSES = "losses.csv"
#: Seconds between redraws of the training progress bar.
PROGRESS_SECONDS = 5.0
CSV_FIELDS: tuple[str, ...] = ("step", "lr", *LOSS_NAMES, "images_per_s")  # CycleGAN's
#: Options a branch may differ in from its trunk (:func:`train_schedules`): the schedule, and bookkeeping that never
#: touches the weights or the random state.
SCHEDULE_FIELDS: tuple[str, ...] = ("steps", "decay_steps", "checkpoint_every", "sample_every", "log_every")


def csv_fields(loss_names: Sequence[str]) -> tuple[str, ...]:
    """Columns of ``losses.csv`` for a model kind with these losses."""
    return ("step", "lr", *loss_names, "images_per_s")


@dataclass(frozen=True)
class TranslatorRun:
    """Where a run left its files and how far it got."""

    out_dir: Path
    step: int
    total_steps: int

    @property
    def checkpoint(self) -> Path:
        return self.out_dir / CHECKPOINT

    @property
    def losses(self) -> Path:
        return self.out_dir / LOSSES

    @property
    def finished(self) -> bool:
        return self.step >= self.total_steps


def is_finished(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` holds a checkpoint that completed its own schedule."""
    path = Path(out_dir) / CHECKPOINT
    if not path.is_file():
        return False
    state = load_checkpoint(path)
    return int(state["step"]) >= config_from_state(state, path).total_steps


def sample_grid(
    visuals: dict[str, torch.Tensor],
    rows_of_names: Sequence[Sequence[str]] = (("real_A", "fake_B", "rec_A"), ("real_B", "fake_A", "rec_B")),
) -> np.ndarray:
    """Grid of the first image of each visual, one row per name tuple (default: CycleGAN's A and B rows)."""
    rows = []
    for names in rows_of_names:
        rows.append(np.concatenate([to_uint8(visuals[n])[0] for n in names], axis=1))
    return np.concatenate(rows, axis=0)


def _truncate_log(path: Path, step: int, fields: Sequence[str] = CSV_FIELDS, source: Path | None = None) -> None:
    """Drop log rows after ``step`` (written after the checkpoint a resumed run starts from) and a last row a full
    disk cut short; with ``source``, write ``source``'s rows up to ``step`` to ``path`` instead (a branch starts with
    its trunk's log)."""
    source = source or path
    if not source.is_file():
        return
    with source.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if None not in r.values() and int(r["step"]) <= step]
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _write_checkpoint(model: TrainableModel, out_dir: Path, place: distributed.Dist) -> None:
    state = model.state_dict()
    per_rank = distributed.gather({"pools": state.pop("pools"), "rng": rng_state()}, place)
    if place.main:
        save_checkpoint(out_dir / CHECKPOINT, {**state, "world": place.world, "ranks": per_rank})


def schedule_differences(trunk: CycleGANConfig, branch: CycleGANConfig) -> list[str]:
    """What keeps ``branch`` from branching off ``trunk``: the kind, or options other than :data:`SCHEDULE_FIELDS`."""
    if type(trunk) is not type(branch):
        return [f"kind ({type(trunk).__name__} vs {type(branch).__name__})"]
    mine = trunk.to_dict()
    return sorted(k for k, v in branch.to_dict().items() if k not in SCHEDULE_FIELDS and mine.get(k) != v)


def check_branch(state: dict, cfg: CycleGANConfig, source: str | Path) -> None:
    """Raise :class:`~.checkpoint.CheckpointError` unless the checkpoint ``state`` may start a run of ``cfg``
    exactly: same kind and options but :data:`SCHEDULE_FIELDS`, taken while both schedules were at the full rate."""
    saved = config_from_state(state, source)
    differ = schedule_differences(saved, cfg)
    if differ:
        raise CheckpointError(f"{source}: a branch may differ from its trunk only in {', '.join(SCHEDULE_FIELDS)}; "
                              f"these differ: {', '.join(differ)}")
    step = int(state["step"])
    if step > min(cfg.steps, saved.steps):
        raise CheckpointError(f"{source}: step {step} is past the constant phase of the trunk ({saved.steps} steps) "
                              f"or of the branch ({cfg.steps}): the branch would not be the run it claims to be")


def _restore(model: TrainableModel, path: Path, place: distributed.Dist, branch: bool = False) -> None:
    state = load_checkpoint(path)
    if branch:
        check_branch(state, model.cfg, path)
    ranks = state.get("ranks", [])
    if state.get("world", 1) != place.world or len(ranks) != place.world:
        raise ValueError(
            f"{path}: written by a {state.get('world', 1)}-process run; resume it with the same number of processes "
            f"(this run has {place.world})"
        )
    mine = ranks[place.rank]
    model.load_state_dict({**state, "pools": mine["pools"]}, path)
    set_rng_state(mine["rng"])


def train(
    cfg: CycleGANConfig,
    a_source: str | Path | Sequence[str | Path],
    b_source: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    resume: bool = True,
    overwrite: bool = False,
    until_step: int | None = None,
    start_from: str | Path | None = None,
    device: str | None = None,
    progress: bool = True,
) -> TranslatorRun:
    """Train a CycleGAN (or, for a :class:`~.cut_config.CUTConfig`, a CUT) from domain A (``a_source``) to B
    (``b_source``) into ``out_dir``.

    Sources are folders, list files or lists of image paths. With ``resume`` an existing checkpoint is
    continued exactly; without it an existing checkpoint is an error unless ``overwrite``. ``until_step``
    stops early (a checkpoint is written there) so long schedules can run in pieces. ``start_from``: when
    ``out_dir`` has no checkpoint yet, start from this trunk checkpoint instead of step 0 (:func:`check_branch`; its
    log up to that step is copied), as :func:`train_schedules` does.
    """
    out_dir = Path(out_dir)
    place, dev = distributed.setup(runtime.device(device))
    a_files, b_files = training_files(a_source, "A"), training_files(b_source, "B")
    ckpt, log_path = out_dir / CHECKPOINT, out_dir / LOSSES
    if ckpt.is_file() and not resume and not overwrite:
        raise FileExistsError(f"{ckpt} exists: resume it, or pass overwrite to start again")

    runtime.seed_everything(cfg.seed)  # python, numpy and torch: the initial weights
    model = model_class(cfg)(cfg, dev, place)
    fields = csv_fields(model.LOSS_NAMES)
    trunk_log = None
    if ckpt.is_file() and resume:
        _restore(model, ckpt, place)
    elif start_from is not None:
        _restore(model, Path(start_from), place, branch=True)
        trunk_log = Path(start_from).parent / LOSSES
    elif place.main:
        log_path.unlink(missing_ok=True)
    if place.main:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "options.json", cfg.to_dict(), indent=2)
        _truncate_log(log_path, model.step, fields, trunk_log)

    end = min(cfg.total_steps, until_step if until_step is not None else cfg.total_steps)
    if model.step >= end:
        return TranslatorRun(out_dir, model.step, cfg.total_steps)
    loader = make_loader(
        UnalignedDataset(a_files, b_files, cfg), cfg, model.step, place.rank, place.world, pin=dev.startswith("cuda")
    )
    batches = iter(loader)
    new_log = not log_path.is_file()
    show = progress and place.main
    # redrawn every few seconds, not every step: a notebook keeps every redraw of a bar in its output
    bar = tqdm(total=end, initial=model.step, desc=f"{model.KIND} {out_dir.name}", unit="step", disable=not show,
               mininterval=PROGRESS_SECONDS)
    with (log_path.open("a", newline="") if place.main else open(os.devnull, "w")) as log:
        writer = csv.DictWriter(log, fieldnames=fields)
        if new_log:
            writer.writeheader()  # written out with the first row, under its guard
        tick, tick_step = time.perf_counter(), model.step
        while model.step < end:
            batch = next(batches)
            real_A = batch["A"].to(dev, non_blocking=True)
            real_B = batch["B"].to(dev, non_blocking=True)
            sample = place.main and (model.step + 1) % cfg.sample_every == 0
            lr = model.lr()
            losses = model.train_step(real_A, real_B, keep_visuals=sample)
            step = model.step
            if step % cfg.log_every == 0 or step == end:
                now = time.perf_counter()
                rate = (step - tick_step) * cfg.batch_size * place.world / max(now - tick, 1e-9)
                tick, tick_step = now, step
                values = {k: float(v) for k, v in losses.items()}
                with reporting_disk_full(log_path):
                    writer.writerow({"step": step, "lr": lr, **values, "images_per_s": round(rate, 3)})
                    log.flush()
                bar.set_postfix({k: f"{sum(values[n] for n in names):.3f}" for k, names in model.PROGRESS.items()},
                                refresh=False)
            if sample:
                write_image(out_dir / "samples" / f"step_{step:07d}.png", sample_grid(model.visuals, model.visual_rows))
            if step % cfg.checkpoint_every == 0 or step == end:
                _write_checkpoint(model, out_dir, place)
            bar.update(1)
    bar.close()
    del batches, loader
    return TranslatorRun(out_dir, model.step, cfg.total_steps)


def _checkpoint_step(out_dir: Path) -> int:
    """The step of ``out_dir``'s checkpoint (0 without one)."""
    path = out_dir / CHECKPOINT
    return int(load_checkpoint(path)["step"]) if path.is_file() else 0


def train_schedules(
    configs: Sequence[CycleGANConfig],
    a_source: str | Path | Sequence[str | Path],
    b_source: str | Path | Sequence[str | Path],
    out_dirs: Sequence[str | Path],
    *,
    device: str | None = None,
    progress: bool = True,
) -> list[TranslatorRun]:
    """Train ``configs`` (one model, schedules that differ: :data:`SCHEDULE_FIELDS`) into ``out_dirs``, sharing the
    constant phase (module docstring): the config with the most ``steps`` is the trunk; each other one branches from
    the trunk's checkpoint at its own ``steps``. A folder with a checkpoint resumes it; a branch whose point the trunk
    has already passed (a budget added later) trains from scratch, which gives the same model. Returns the runs in
    the order of ``configs``; finished ones return at once."""
    if len(configs) != len(out_dirs) or not configs:
        raise ValueError(f"one output folder per config: {len(configs)} configs, {len(out_dirs)} folders")
    dirs = [Path(d) for d in out_dirs]
    if len(set(dirs)) != len(dirs):
        raise ValueError(f"every schedule needs its own folder, got {[str(d) for d in dirs]}")
    order = sorted(range(len(configs)), key=lambda i: configs[i].steps)
    trunk, trunk_dir = configs[order[-1]], dirs[order[-1]]
    for i in order[:-1]:
        differ = schedule_differences(trunk, configs[i])
        if differ:
            raise ValueError(f"schedules of one model may differ only in {', '.join(SCHEDULE_FIELDS)}; "
                             f"{dirs[i]} and {trunk_dir} also differ in {', '.join(differ)}")
    runs: dict[int, TranslatorRun] = {}
    for i in order[:-1]:
        cfg, start = configs[i], None
        if not (dirs[i] / CHECKPOINT).is_file() and 0 < cfg.steps and _checkpoint_step(trunk_dir) <= cfg.steps:
            train(trunk, a_source, b_source, trunk_dir, until_step=cfg.steps, device=device, progress=progress)
            start = trunk_dir / CHECKPOINT
        runs[i] = train(cfg, a_source, b_source, dirs[i], start_from=start, device=device, progress=progress)
    runs[order[-1]] = train(trunk, a_source, b_source, trunk_dir, device=device, progress=progress)
    return [runs[i] for i in range(len(configs))]
