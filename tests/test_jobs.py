"""The executor seam without a cluster: the local path, settings validation, finished calls never submitted.
The Slurm path itself runs against a real one-node Slurm in tests/test_slurm.py (``make test-slurm``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosynth import jobs


def _square(x: int, offset: int = 0) -> int:
    return x * x + offset


def _where(tag: str) -> tuple[str, int, int]:
    import os

    import torch

    return tag, os.getpid(), torch.get_num_threads()


def _fail(message: str) -> None:
    raise KeyError(message)


def test_local_runs_every_call_in_order_and_returns_by_name() -> None:
    seen = []

    def record(x: int) -> int:
        seen.append(x)
        return -x

    out = jobs.run([jobs.Call(f"c{i}", record, (i,)) for i in (3, 1, 2)])
    assert list(out) == ["c3", "c1", "c2"] and out == {"c3": -3, "c1": -1, "c2": -2}
    assert seen == [3, 1, 2]


def test_local_error_is_the_call_own_error() -> None:
    def boom() -> None:
        raise KeyError("weather 'snow' has no style list")

    with pytest.raises(KeyError, match="no style list"):
        jobs.run([jobs.Call("a", _square, (2,)), jobs.Call("b", boom)])


def test_processes_run_calls_at_once_elsewhere_with_the_cores_split() -> None:
    import os

    calls = [jobs.Call(f"c{i}", _where, (f"t{i}",)) for i in range(3)]
    calls.append(jobs.Call("kept", _square, (4,), {"offset": 1}, done=lambda: True))  # finished: runs here
    out = jobs.run(calls, executor="processes", progress=False)
    assert list(out) == ["c0", "c1", "c2", "kept"] and out["kept"] == 17
    tags, pids, threads = zip(*(out[f"c{i}"] for i in range(3)))
    assert tags == ("t0", "t1", "t2") and os.getpid() not in pids
    workers = min(3, (os.cpu_count() or 1) + 1)
    assert len(set(pids)) <= workers and set(threads) == {max(1, (os.cpu_count() or 1) // workers)}
    assert jobs.run_processes([jobs.Call("a", _where, ("x",))], workers=1, progress=False)["a"][2] == (
        os.cpu_count() or 1)


def test_processes_finish_every_call_then_raise_the_first_failure(tmp_path: Path) -> None:
    calls = [jobs.Call("a", _fail, ("weather 'snow' has no style list",)), jobs.Call("b", _square, (3,)),
             jobs.Call("c", _fail, ("second",))]
    with pytest.raises(RuntimeError, match=r"job 'a' failed \(also failed: c\):.*no style list") as caught:
        jobs.run(calls, executor="processes", progress=False)
    assert isinstance(caught.value.__cause__, KeyError)


def test_bad_requests_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unique"):
        jobs.run([jobs.Call("a", _square, (1,)), jobs.Call("a", _square, (2,))])
    with pytest.raises(ValueError, match="local, processes, slurm"):
        jobs.run([jobs.Call("a", _square, (1,))], executor="pbs")
    with pytest.raises(ValueError, match="folder"):
        jobs.run([jobs.Call("a", _square, (1,))], executor="slurm")
    with pytest.raises(ValueError, match="unknown slurm setting.*gpus.*known:.*gpus_per_job"):
        jobs.SlurmSettings.from_mapping({"gpus": 2})
    with pytest.raises(ValueError, match="cpus_per_job >= 1"):
        jobs.SlurmSettings.from_mapping({"cpus_per_job": 0})


def test_settings_from_profile_mapping() -> None:
    s = jobs.SlurmSettings.from_mapping({"partition": "gpu", "gpus_per_job": 4, "cpus_per_job": 32,
                                         "sbatch": {"account": "lab"}, "setup": ["module load cuda"]})
    assert (s.partition, s.gpus_per_job, s.cpus_per_job, dict(s.sbatch), list(s.setup)) == (
        "gpu", 4, 32, {"account": "lab"}, ["module load cuda"])
    assert jobs.SlurmSettings.from_mapping(None) == jobs.SlurmSettings()
    assert jobs.gpu_devices(0) == "" and jobs.gpu_devices(3) == "0,1,2"


def test_finished_calls_run_here_and_are_never_submitted(tmp_path: Path) -> None:
    """Every call done: no job folder, no Slurm command needed, results as the local path gives them."""
    calls = [jobs.Call(f"w{i}", _square, (i,), {"offset": 1}, done=lambda: True) for i in range(3)]
    out = jobs.run(calls, executor="slurm", folder=tmp_path / "jobs")
    assert out == {"w0": 1, "w1": 2, "w2": 5}
    assert not (tmp_path / "jobs").exists()


def test_profile_override_sets_one_slurm_key(project_root: Path) -> None:
    """``--set common.slurm.partition=gpu`` changes one key and keeps the profile's others."""
    from photosynth.report import pipeline

    prof = pipeline.load_profile("full", project_root, ["common.executor=slurm", "common.slurm.partition=gpu",
                                                        "common.slurm.sbatch.account=lab"])
    settings = jobs.SlurmSettings.from_mapping(prof.common["slurm"])
    assert prof.common["executor"] == "slurm"
    assert (settings.partition, settings.gpus_per_job, dict(settings.sbatch)) == ("gpu", 1, {"account": "lab"})
    with pytest.raises(pipeline.PipelineError, match="'seed' is not a mapping"):
        pipeline.load_profile("full", project_root, ["common.seed.x=1"])
