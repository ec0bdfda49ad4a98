"""Asking Slurm about jobs, without a cluster: stand-in ``squeue``, ``sacct`` and ``sbatch`` scripts first on PATH
(:func:`slurm_cluster.fake_client`) check the retries, ``sacct`` as the second source, and that a job which may still
exist is never submitted again while Slurm does not answer. Against a real Slurm: tests/test_slurm.py."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import submitit
from submitit.core.utils import cloudpickle_dump

from photosynth import jobs

sys.path.insert(0, str(Path(__file__).parent))
from slurm_cluster import fake_client  # noqa: E402

SILENT = None  # a step of a stand-in command: fail as when the controller does not answer


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder first on PATH for stand-in commands; every query's tries follow each other at once."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(jobs, "QUERY_BACKOFF_S", 0)
    return folder


def _lines(calls: Path) -> list[str]:
    return calls.read_text().splitlines()


def test_a_failing_squeue_is_asked_again_after_1_then_2_s(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "QUERY_BACKOFF_S", 1.0)
    slept: list[float] = []
    monkeypatch.setattr(jobs, "time", SimpleNamespace(sleep=slept.append, monotonic=time.monotonic))
    squeue = fake_client(bin_dir, "squeue", SILENT, SILENT, r"printf '12_0 RUNNING\n12_1 PENDING\n'")
    sacct = fake_client(bin_dir, "sacct", SILENT)
    assert jobs.job_states(["12_0", "12_1"]) == {"12_0": "RUNNING", "12_1": "PENDING"}
    assert _lines(squeue) == ["-h -r -o %i %T -j 12"] * 3 and len(_lines(sacct)) == 2
    assert slept == [1.0, 2.0] and jobs.QUERY_TRIES == 3


def test_sacct_answers_for_a_silent_controller_only_when_it_lists_every_job(bin_dir: Path) -> None:
    squeue = fake_client(bin_dir, "squeue", SILENT)
    sacct = fake_client(bin_dir, "sacct", "printf '%s\\n' 'JobID|State' '12_0|COMPLETED' '12_1|CANCELLED by 0' "
                                          "'12_[2-3%1]|PENDING'")
    assert jobs.job_states(["12_0", "12_1", "12_2", "12_3"]) == {
        "12_0": "COMPLETED", "12_1": "CANCELLED", "12_2": "PENDING", "12_3": "PENDING"}
    assert _lines(sacct) == ["-X -P -o JobID,State -j 12"]
    assert jobs.job_states(["12_0", "12_4"]) is None  # 12_4 unlisted: it may exist
    assert len(_lines(squeue)) == 1 + jobs.QUERY_TRIES and len(_lines(sacct)) == 1 + jobs.QUERY_TRIES


def test_an_unknown_job_id_is_an_answer_and_a_hanging_client_a_failure(bin_dir: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sacct = fake_client(bin_dir, "sacct", SILENT)
    fake_client(bin_dir, "squeue", "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1")
    assert jobs.job_states(["12_0"]) == {} and _lines(sacct) == []  # the controller forgot an old job: it ended
    monkeypatch.setattr(jobs, "QUERY_TIMEOUT_S", 0.2)
    squeue = fake_client(bin_dir, "squeue", "exec sleep 5")
    assert jobs.job_states(["12_0"]) is None and len(_lines(squeue)) == jobs.QUERY_TRIES


def _earlier_run(folder: Path, record: dict[str, str]) -> Path:
    """A job folder whose ``jobs.json`` names the jobs of an earlier, interrupted run."""
    (folder / "photosynth").mkdir(parents=True)
    path = folder / "photosynth" / "jobs.json"
    path.write_text(json.dumps(record))
    return path


def _result(folder: Path, job_id: str, value: object) -> None:
    """What a finished job of ``folder`` leaves, as submitit writes it."""
    job = submitit.SlurmJob(folder=folder / "photosynth" / "%j", job_id=job_id)
    job.paths.folder.mkdir(parents=True)
    cloudpickle_dump(("success", value), job.paths.result_pickle)


def _double(x: int) -> int:
    return 2 * x


def test_a_rerun_never_submits_a_job_slurm_cannot_account_for(bin_dir: Path, tmp_path: Path) -> None:
    """Slurm silent: an earlier job without results may still run, so nothing is submitted; one whose results are
    all written has ended, so its call (not done by its own account) is submitted again as usual."""
    fake_client(bin_dir, "squeue", SILENT)
    fake_client(bin_dir, "sacct", SILENT)
    sbatch = fake_client(bin_dir, "sbatch", "echo 'Submitted batch job 13'")
    record = _earlier_run(tmp_path, {"a": "12_0", "b": "12_1"})
    calls = [jobs.Call("a", _double, (1,)), jobs.Call("b", _double, (2,))]
    settings = {"poll_s": 0, "no_answer_min": 1e-3}
    with pytest.raises(jobs.SlurmUnreachable, match=r"nothing was submitted.*\n  'a': Slurm 12_0 \(unknown\), "
                                                    r"stdout \S+/12_0/12_0_0_log.out, stderr \S+/12_0_0_log.err\n"
                                                    r"  'b': Slurm 12_1") as caught:
        jobs.run(calls, "slurm", settings, folder=tmp_path)
    assert caught.value.job_ids == {"a": "12_0", "b": "12_1"}
    assert _lines(sbatch) == [] and json.loads(record.read_text()) == {"a": "12_0", "b": "12_1"}

    _result(tmp_path, "12_0", 2)
    with pytest.raises(jobs.SlurmUnreachable, match="nothing was submitted") as caught:
        jobs.run(calls, "slurm", settings, folder=tmp_path)
    assert caught.value.job_ids == {"b": "12_1"} and _lines(sbatch) == []
    with pytest.raises(jobs.SlurmUnreachable, match="silent for over 0.001 min while waiting"):
        jobs.run(calls[:1], "slurm", settings, folder=tmp_path)  # 12_0 ended: "a" goes again (job 13)
    assert len(_lines(sbatch)) == 1 and json.loads(record.read_text()) == {"a": "13", "b": "12_1"}


def test_a_wait_collects_results_while_slurm_is_silent_and_stops_at_the_bound(bin_dir: Path, tmp_path: Path) -> None:
    running = r"printf '12_0 RUNNING\n12_1 RUNNING\n'"
    fake_client(bin_dir, "sacct", SILENT)
    _earlier_run(tmp_path, {"a": "12_0", "b": "12_1"})
    _result(tmp_path, "12_0", 2)
    calls = [jobs.Call("a", _double, (1,)), jobs.Call("b", _double, (2,))]
    fake_client(bin_dir, "squeue", running, SILENT)  # answers the re-run (both re-attached), then never again
    with pytest.raises(jobs.SlurmUnreachable, match=r"silent for over 0.001 min.*\n  'a': Slurm 12_0 \(done\), "
                                                    r".*\n  'b': Slurm 12_1 \(pending\), stdout \S+12_1_0_log.out, "
                                                    r"stderr \S+12_1_0_log.err$") as caught:
        jobs.run(calls, "slurm", {"poll_s": 0, "no_answer_min": 1e-3}, folder=tmp_path)
    assert caught.value.job_ids == {"a": "12_0", "b": "12_1"}
    fake_client(bin_dir, "squeue", running, SILENT)
    assert jobs.run(calls[:1], "slurm", {"poll_s": 0, "no_answer_min": 1e-3}, folder=tmp_path) == {"a": 2}


def test_no_answer_bound_setting() -> None:
    assert jobs.SlurmSettings().no_answer_min == 10
    assert jobs.SlurmSettings.from_mapping({"no_answer_min": 0}).no_answer_min == 0  # 0: wait without a bound
    with pytest.raises(ValueError, match="no_answer_min >= 0"):
        jobs.SlurmSettings.from_mapping({"no_answer_min": -1})
