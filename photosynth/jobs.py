"""One executor seam for the study's independent jobs: in this process (``local``) or a Slurm job array.

A notebook builds a list of :class:`Call` (a CycleGAN per weather, an NST shard, a detector per mix and seed)
and hands it to :func:`run`, which returns each call's result by name — the same values either way, because
every stage writes its outputs into the workspace and returns what it wrote.

- ``local`` (the default) calls them one after the other, here; nothing else happens.
- ``processes`` runs them at once in separate processes on this machine (:func:`run_processes`), the cores
  split evenly between them: small CPU jobs that cannot use every core alone (the demo's CycleGANs) finish
  together in about the time of the slowest.
- ``slurm`` submits them as one job array through `submitit <https://github.com/facebookincubator/submitit>`_
  (the workspace must be on a filesystem the compute nodes share), shows a live table of job states
  (pending / running / done / failed: an updating table in a notebook, a progress line in a terminal), waits,
  and returns the results. A failed job stops the caller with a :class:`JobFailed` carrying that job's own
  error and its log files, after its siblings have finished (their work is kept).

A job preempted, or stopped at its time limit (``requeues`` times at most), is queued again by submitit and the
stage resumes from its own checkpoint. Finished work is never resubmitted: a call whose ``done()`` predicate
(the stage's own manifest or checkpoint check) is true runs here instead — the stage functions return a
finished result from disk at once — and a call whose job from an earlier, interrupted wait is still queued or
running is re-attached (``<folder>/<name>/jobs.json``), not duplicated.

When Slurm does not answer (:func:`job_states`: ``squeue``, then ``sacct``, each query tried ``QUERY_TRIES`` times),
nothing that may still exist is submitted again: a re-run that cannot tell whether an earlier job is still queued or
running stops with :class:`SlurmUnreachable` naming it, before submitting anything; a wait keeps what it knew,
collects the results the jobs write meanwhile, and stops with :class:`SlurmUnreachable` (every job's id and logs)
once Slurm has been silent for ``no_answer_min`` minutes. The jobs themselves go on: run again once ``squeue``
answers, and they are re-attached.

Several GPUs in one job (``gpus_per_job`` > 1): with ``distributed=True`` (CycleGAN/CUT) the job starts one
task per GPU with the environment ``torchrun`` would set (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``), which :mod:`photosynth.translate.cyclegan.distributed` joins; otherwise
(ultralytics) one task sees every GPU and the caller passes ``device=gpu_devices(n)``, e.g. ``"0,1,2,3"``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from photosynth.atomic import write_json

EXECUTORS = ("local", "processes", "slurm")
#: squeue states of a job that is still coming (the rest are terminal).
WAITING = {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED", "PREEMPTED",
           "CONFIGURING", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED"}
RUNNING = {"RUNNING", "COMPLETING"}
#: A query to Slurm (:func:`job_states`) is tried this many times, ``QUERY_BACKOFF_S`` seconds apart, doubling
#: (1 s, then 2 s); each command may take ``QUERY_TIMEOUT_S`` seconds (a client itself waits about twice Slurm's
#: MessageTimeout, 20 s by default, for a controller that does not answer).
QUERY_TRIES = 3
QUERY_BACKOFF_S = 1.0
QUERY_TIMEOUT_S = 60


@dataclass(frozen=True)
class Call:
    """One independent piece of work: ``fn(*args, **kwargs)``, shown as ``name``.

    ``done`` (optional) says the work is already finished on disk; such a call is evaluated in this process
    (cheap: it returns the finished result) and never submitted.
    """

    name: str
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    done: Callable[[], bool] | None = None

    def __call__(self) -> Any:
        return self.fn(*self.args, **self.kwargs)


@dataclass(frozen=True)
class SlurmSettings:
    """What every job of one :func:`run` asks Slurm for (the profile's ``slurm:`` mapping)."""

    partition: str = ""  # "" lets Slurm pick its default partition
    gpus_per_job: int = 0
    cpus_per_job: int = 1
    mem_gb: float = 0  # 0: the partition's default memory
    time_min: int = 60  # time limit of each job
    requeues: int = 3  # times a job that reaches its time limit is queued again (it resumes); preemption always is
    sbatch: Mapping[str, Any] = field(default_factory=dict)  # extra #SBATCH options, e.g. {account: x, qos: y}
    setup: Sequence[str] = ()  # shell lines before the job starts, e.g. "module load cuda"
    folder: str = ""  # job folders (scripts, pickles, logs); "" is <workspace>/jobs
    max_parallel: int = 0  # array jobs running at once; 0: no limit
    poll_s: float = 15  # seconds between queue checks while waiting
    # minutes without an answer from Slurm after which a wait stops (SlurmUnreachable; the jobs go on); 0: never
    no_answer_min: float = 10

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SlurmSettings:
        """Settings from a profile mapping; an unknown key is an error that lists the known ones."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown slurm setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        settings = cls(**values)
        if (settings.gpus_per_job < 0 or settings.cpus_per_job < 1 or settings.time_min < 1 or settings.requeues < 0
                or settings.no_answer_min < 0):
            raise ValueError("slurm settings need gpus_per_job >= 0, cpus_per_job >= 1, time_min >= 1, "
                             f"requeues >= 0, no_answer_min >= 0: {settings}")
        return settings


class JobFailed(RuntimeError):
    """A job ended without a result: its name, Slurm id, error text and log files."""

    def __init__(self, name: str, job_id: str, error: str, stdout: Path, stderr: Path, others: Sequence[str] = ()):
        self.name, self.job_id, self.stdout, self.stderr = name, job_id, stdout, stderr
        parts = error.split("-" * 22)  # submitit frames the job's traceback with dashed lines
        self.error = (parts[1] if len(parts) >= 3 else error).strip()
        lines = self.error.splitlines() or ["no error text"]
        trace = "\n".join(lines) + "\n" if len(lines) > 1 else ""
        also = f" (also failed: {', '.join(others)})" if others else ""
        super().__init__(f"job {name!r} (Slurm {job_id}) failed{also}: {lines[-1]}\n{trace}"
                         f"  stdout: {stdout}\n  stderr: {stderr}")


class SlurmUnreachable(RuntimeError):
    """Slurm did not answer about jobs that may still exist; ``job_ids`` maps their names to their Slurm ids."""

    def __init__(self, situation: str, jobs: Mapping[str, tuple[Any, str]]):
        """``situation``: what could not go on; ``jobs``: each job's name -> (submitit job, last state known)."""
        self.job_ids = {name: job.job_id for name, (job, _) in jobs.items()}
        rows = "".join(f"\n  {name!r}: Slurm {job.job_id} ({state}), stdout {job.paths.stdout}, "
                       f"stderr {job.paths.stderr}" for name, (job, state) in jobs.items())
        super().__init__(f"Slurm does not answer (squeue, sacct): {situation}. No job was cancelled: run this again "
                         f"once `squeue` answers (jobs still queued or running are re-attached).{rows}")


def gpu_devices(count: int) -> str:
    """ultralytics' ``device`` for ``count`` GPUs of a job: ``"0,1,…"`` (``""`` for none: auto)."""
    return ",".join(str(i) for i in range(count))


def run(calls: Sequence[Call], executor: str = "local", slurm: Mapping[str, Any] | SlurmSettings | None = None,
        *, folder: str | Path | None = None, name: str = "photosynth", distributed: bool = False,
        progress: bool = True) -> dict[str, Any]:
    """Run ``calls`` with ``executor`` (``local``, ``processes`` or ``slurm``); returns ``{call.name: result}`` in
    call order.

    Job folders go under the settings' ``folder``, else under ``folder`` (one of them is required for
    ``slurm``), in ``<name>/``; ``name`` also names the job array. ``distributed`` starts one task per GPU with
    the torch.distributed environment.
    """
    names = [c.name for c in calls]
    if len(set(names)) != len(names):
        raise ValueError(f"call names must be unique: {names}")
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "local":
        return {c.name: c() for c in calls}
    if executor == "processes":
        return run_processes(calls, progress=progress)
    settings = slurm if isinstance(slurm, SlurmSettings) else SlurmSettings.from_mapping(slurm)
    root = Path(settings.folder or folder or "")
    if not str(root) or str(root) == ".":
        raise ValueError("slurm jobs need a folder on the shared filesystem (slurm.folder or folder=)")
    results, todo = _finished_here(calls)
    if todo:
        results.update(_run_slurm(todo, settings, root / name, name, distributed, progress, len(results)))
    return {n: results[n] for n in names}


def _finished_here(calls: Sequence[Call]) -> tuple[dict[str, Any], list[Call]]:
    """The results of the calls already finished on disk (``done()``; evaluated here, cheap) and the others."""
    finished = {c.name for c in calls if c.done is not None and c.done()}
    return {c.name: c() for c in calls if c.name in finished}, [c for c in calls if c.name not in finished]


def _limit_threads(count: int) -> None:
    """A worker process's torch CPU threads (the cores are shared with the other workers)."""
    import torch

    torch.set_num_threads(count)


def run_processes(calls: Sequence[Call], workers: int = 0, progress: bool = True) -> dict[str, Any]:
    """Run ``calls`` in ``workers`` processes at once (0: one per call, at most one more than the cores), each
    with ``cores // workers`` torch threads (at least 1); returns ``{call.name: result}`` in call order.

    Finished calls (``done()``) run here. Every call runs to its end even when another fails; then the first
    failure (in call order) is raised, with the others named. ``fn``, ``args`` and ``kwargs`` must pickle.
    """
    results, todo = _finished_here(calls)
    if todo:
        cores = os.cpu_count() or 1
        workers = workers or min(len(todo), cores + 1)
        errors: dict[str, BaseException] = {}
        context = multiprocessing.get_context("spawn")  # no fork of a process holding threads (torch, TF)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_limit_threads,
                                 initargs=(max(1, cores // workers),)) as pool, \
                tqdm(total=len(todo), desc=f"{len(todo)} jobs in {workers} processes", unit="job",
                     disable=not progress) as bar:
            futures = {pool.submit(c.fn, *c.args, **dict(c.kwargs)): c.name for c in todo}
            for future in as_completed(futures):
                name = futures[future]
                try:
                    results[name] = future.result()
                except Exception as exc:  # noqa: BLE001 - re-raised below, after the siblings
                    errors[name] = exc
                bar.update(1)
        if errors:
            first = next(c.name for c in todo if c.name in errors)
            others = sorted(set(errors) - {first})
            also = f" (also failed: {', '.join(others)})" if others else ""
            raise RuntimeError(f"job {first!r} failed{also}: {errors[first]}") from errors[first]
    return {c.name: results[c.name] for c in calls}


def _resumable() -> Any:
    """The job's entry point (one per task), checkpointable for submitit.

    On preemption, or at the time limit (up to ``requeues`` times), submitit puts the same call back in the
    queue; the stage then resumes from what it wrote (its checkpoint, its finished outputs).
    """
    import submitit

    class Resume(submitit.helpers.Checkpointable):
        def __call__(self, call: Call, distributed: bool) -> Any:
            if distributed:
                submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
            return call()

    return Resume()


def _executor(settings: SlurmSettings, folder: Path, name: str, tasks: int) -> Any:
    import submitit

    executor = submitit.SlurmExecutor(folder=folder / "%j", max_num_timeout=settings.requeues)
    params: dict[str, Any] = dict(
        job_name=name, time=settings.time_min, nodes=1, ntasks_per_node=tasks,
        cpus_per_task=max(1, settings.cpus_per_job // tasks),
        # torch, numpy and OpenCV size their thread pools from this: a job uses the CPUs it was given
        setup=["export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}", *settings.setup],
        additional_parameters=dict(settings.sbatch),
    )
    if settings.partition:
        params["partition"] = settings.partition
    if settings.gpus_per_job:
        params["gpus_per_node"] = settings.gpus_per_job
    if settings.mem_gb:
        params["mem"] = f"{int(settings.mem_gb * 1024)}M"
    if settings.max_parallel:
        params["array_parallelism"] = settings.max_parallel
    executor.update_parameters(**params)
    return executor


def job_states(job_ids: Sequence[str]) -> dict[str, str] | None:
    """Slurm's state of each listed job (array tasks one by one); a job Slurm no longer knows is absent.

    Each try asks ``squeue`` (the controller), then, when it fails, ``sacct`` (the accounting database, which often
    answers while the controller restarts), whose answer counts only if it lists every job (one it does not list
    may exist). ``QUERY_TRIES`` (3) tries, 1 s then 2 s apart (``QUERY_BACKOFF_S``, doubling); all failing:
    ``None``, Slurm cannot tell.
    """
    if not job_ids:
        return {}
    if shutil.which("squeue") is None:
        raise RuntimeError("executor 'slurm' needs the Slurm client commands (squeue, sbatch) on PATH")
    arrays = ",".join(sorted({j.split("_")[0] for j in job_ids}))
    for attempt in range(QUERY_TRIES):
        if attempt:
            time.sleep(QUERY_BACKOFF_S * 2 ** (attempt - 1))
        states = _squeue(arrays)
        if states is None:
            states = _sacct(arrays, job_ids)
        if states is not None:
            return states
    return None


def _query(command: Sequence[str]) -> subprocess.CompletedProcess[str] | None:
    """``command``'s outcome; ``None`` when it cannot start or takes over ``QUERY_TIMEOUT_S`` seconds."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _squeue(arrays: str) -> dict[str, str] | None:
    """``squeue``'s states of the jobs of ``arrays`` (comma-separated ids); ``None`` when it fails.

    "Invalid job id specified" is an answer: the controller knows none of them (all ended long ago).
    """
    done = _query(["squeue", "-h", "-r", "-o", "%i %T", "-j", arrays])
    if done is None or done.returncode != 0:
        return {} if done is not None and "Invalid job id specified" in done.stderr else None
    return dict(line.split(maxsplit=1) for line in done.stdout.splitlines() if line.strip())


def _sacct(arrays: str, job_ids: Sequence[str]) -> dict[str, str] | None:
    """``sacct``'s states of ``job_ids`` (jobs of ``arrays``), ``None`` when it fails or misses one of them."""
    import submitit

    done = _query(["sacct", "-X", "-P", "-o", "JobID,State", "-j", arrays])
    if done is None or done.returncode != 0:
        return None
    listed = submitit.SlurmJob.watcher.read_info(done.stdout)  # expands pending ranges such as 12_[3-7%2]
    states = {j: listed[j]["State"].split()[0] for j in job_ids if j in listed}  # "CANCELLED by 1000"
    return states if len(states) == len(job_ids) else None


def _run_slurm(calls: Sequence[Call], settings: SlurmSettings, folder: Path, name: str, distributed: bool,
               progress: bool, skipped: int) -> dict[str, Any]:
    import submitit

    tasks = settings.gpus_per_job if distributed and settings.gpus_per_job > 1 else 1
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "jobs.json"
    previous = json.loads(record.read_text()) if record.is_file() else {}
    jobs = _alive({c.name: submitit.SlurmJob(folder=folder / "%j", job_id=previous[c.name], tasks=tuple(range(tasks)))
                   for c in calls if c.name in previous})
    new = [c for c in calls if c.name not in jobs]
    if new:
        executor = _executor(settings, folder, name, tasks)
        with executor.batch():
            submitted = [executor.submit(_resumable(), call, tasks > 1) for call in new]
        jobs.update({c.name: j for c, j in zip(new, submitted)})
        write_json(record, {**previous, **{n: j.job_id for n, j in jobs.items()}}, indent=2)
    return _wait(jobs, settings, progress, skipped)


def _alive(earlier: Mapping[str, Any]) -> dict[str, Any]:
    """The jobs of an earlier, interrupted run (by call name) that are still queued or running, to re-attach.

    A job Slurm no longer lists, or shows ended, is not (its call is submitted again). When Slurm cannot tell
    (:func:`job_states` is ``None``), a job every task of which wrote its result has ended; any other may still
    run, so this raises :class:`SlurmUnreachable` naming them, and nothing is submitted.
    """
    states = job_states([job.job_id for job in earlier.values()])
    if states is None:
        unknown = {name: (job, "unknown") for name, job in earlier.items() if not _has_results(job)}
        if unknown:
            raise SlurmUnreachable("cannot tell whether these jobs of an earlier run still exist, so nothing was "
                                   "submitted (a job never runs twice)", unknown)
        states = {}
    return {name: job for name, job in earlier.items() if states.get(job.job_id, "") in WAITING | RUNNING}


def _has_results(job: Any) -> bool:
    """Every task of ``job`` wrote its result file (the job's function returned or raised)."""
    return all(job.task(k).paths.result_pickle.exists() for k in range(job.num_tasks))


def _outcome(job: Any, queue_state: str | None) -> str:
    """A job's state: pending, running, done, failed, or '' (ended or gone without a result visible yet).

    A result counts once Slurm no longer shows the job running, so its logs are complete when we point at them;
    when Slurm does not answer (``queue_state`` ``None``), once every task wrote its result.
    """
    finished = _has_results(job) if queue_state is None else (
        job.paths.result_pickle.exists() and queue_state not in RUNNING)
    if finished:
        return "failed" if job.exception() is not None else "done"
    if queue_state in WAITING:
        return "pending"
    if queue_state in RUNNING:
        return "running"
    return ""


def _wait(jobs: Mapping[str, Any], settings: SlurmSettings, progress: bool, skipped: int) -> dict[str, Any]:
    """Poll every ``poll_s`` until every job is done or failed, showing the table; return results or raise the
    first failure.

    A job that Slurm shows as ended (or no longer shows) without a result file gets a few more polls for the
    file to appear on the shared filesystem; then it failed — killed at its time limit or memory limit, lost
    with its node, or cancelled — and the error names the last state Slurm showed. While Slurm does not answer,
    jobs finish by their result files only; silent for over ``no_answer_min`` (checked after each query), the
    wait stops with :class:`SlurmUnreachable`.
    """
    show = _Display(progress, skipped)
    status = {name: "pending" for name in jobs}
    errors: dict[str, str] = {}
    last: dict[str, str] = {}
    grace: dict[str, int] = {}
    heard = time.monotonic()
    while True:
        queue = job_states([j.job_id for j in jobs.values()])
        if queue is not None:
            heard = time.monotonic()
        for name, job in jobs.items():
            if status[name] in ("done", "failed"):
                continue
            seen = None if queue is None else queue.get(job.job_id, "")  # None: Slurm did not answer
            state = _outcome(job, seen)
            if seen is not None:
                last[name] = seen or last.get(name, "")
            if state:
                grace.pop(name, None)
            if state == "failed":
                errors[name] = str(job.exception())
            elif not state and seen is not None:
                grace[name] = grace.get(name, 0) + 1
                if grace[name] > 3:
                    state = "failed"
                    errors[name] = (f"it ended without a result (last Slurm state: {last[name] or 'never seen'}; "
                                    "time limit, memory, node failure or scancel?)")
            status[name] = state or status[name]
        show.update({n: (jobs[n].job_id, s) for n, s in status.items()})
        finished = all(s in ("done", "failed") for s in status.values())
        if finished or (settings.no_answer_min and time.monotonic() - heard > settings.no_answer_min * 60):
            break
        time.sleep(settings.poll_s)
    show.close()
    if not finished:
        raise SlurmUnreachable(f"silent for over {settings.no_answer_min:g} min while waiting for these jobs",
                               {n: (j, status[n]) for n, j in jobs.items()})
    failed = [n for n, s in status.items() if s == "failed"]
    if failed:
        first = jobs[failed[0]]
        raise JobFailed(failed[0], first.job_id, errors[failed[0]], first.paths.stdout, first.paths.stderr,
                        failed[1:])
    return {name: job.results()[0] for name, job in jobs.items()}  # task 0 (rank 0) of multi-task jobs


class _Display:
    """The live job table: an updating display in a notebook, a tqdm line in a terminal."""

    def __init__(self, enabled: bool, skipped: int):
        self.enabled, self.skipped, self.handle, self.bar = enabled, skipped, None, None
        self.notebook = enabled and _in_notebook()

    def update(self, rows: Mapping[str, tuple[str, str]]) -> None:
        if not self.enabled:
            return
        if self.notebook:
            import pandas as pd
            from IPython.display import display

            table = pd.DataFrame([{"job": n, "Slurm id": j, "state": s} for n, (j, s) in rows.items()])
            if self.handle is None:
                self.handle = display(table, display_id=True)
            else:
                self.handle.update(table)
            return

        counts = {s: sum(1 for _, st in rows.values() if st == s) for s in ("pending", "running", "done", "failed")}
        if self.bar is None:
            self.bar = tqdm(total=len(rows), desc="slurm jobs", unit="job", file=sys.stderr)
        self.bar.n = counts["done"] + counts["failed"]
        self.bar.set_postfix(counts | ({"kept": self.skipped} if self.skipped else {}), refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
