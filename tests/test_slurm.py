"""The Slurm executor against a real one-node Slurm on localhost (``make test-slurm``; needs root and
``apt-get install slurm-wlm munge``): a job array round trip, a failing job's error and logs, re-running
without resubmitting (also while ``squeue`` fails), the wait's bound when ``squeue`` never answers, and the smoke
chain — notebook 02 (CycleGAN per weather) and the detector training of notebook 05 — giving the same checkpoints
and metrics under Slurm as in-process."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cloudpickle
import pytest
import submitit

from photosynth import jobs

pytestmark = pytest.mark.slurm

sys.path.insert(0, str(Path(__file__).parent))
import slurm_cluster  # noqa: E402
from conftest import report_copy  # noqa: E402

FAST = {"poll_s": 0.5, "cpus_per_job": 1, "time_min": 30}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    reason = slurm_cluster.missing()
    if reason and os.environ.get("PHOTOSYNTH_REQUIRE_SLURM"):  # make test-slurm: a missing piece is a failure
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    with pytest.MonkeyPatch.context() as mp, slurm_cluster.one_node_cluster(root) as conf:
        mp.setenv("SLURM_CONF", str(conf))  # sbatch/squeue here and in notebook kernels find the cluster
        cloudpickle.register_pickle_by_value(sys.modules[__name__])  # jobs cannot import this test module
        yield conf
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _square(x: int) -> int:
    return x * x


def _fail(message: str) -> None:
    raise ValueError(message)


def test_job_array_round_trip(cluster: Path, tmp_path: Path) -> None:
    calls = [jobs.Call(f"c{i}", _square, (i,)) for i in range(4)]
    assert jobs.run(calls, "slurm", FAST, folder=tmp_path) == {"c0": 0, "c1": 1, "c2": 4, "c3": 9}
    record = (tmp_path / "photosynth" / "jobs.json").read_text()
    assert all(f'"c{i}"' in record for i in range(4))


def test_failed_job_stops_the_caller_with_its_error_and_logs(cluster: Path, tmp_path: Path) -> None:
    calls = [jobs.Call("fine", _square, (3,)), jobs.Call("broken", _fail, ("no style images for 'snow'",))]
    expected = "job 'broken' .* failed: ValueError: no style images for 'snow'\n"
    with pytest.raises(jobs.JobFailed, match=expected) as caught:
        jobs.run(calls, "slurm", FAST, folder=tmp_path, name="f")
    assert caught.value.name == "broken" and "Traceback" in caught.value.error
    assert len(list((tmp_path / "f").glob("*/*_result.pkl"))) == 2  # the sibling finished too
    assert caught.value.stderr.is_file() and "no style images" in caught.value.stderr.read_text()
    assert caught.value.stdout.parent == caught.value.stderr.parent


def _note_start_then_sleep(path: Path) -> None:
    with open(path, "a") as fh:
        fh.write("start\n")
    time.sleep(300)


def test_time_limit_requeues_then_fails_naming_the_cause(cluster: Path, tmp_path: Path) -> None:
    """Out of requeues at its time limit, a job fails with the reason (a requeue itself works — measured: the
    second start came about 2.5 min later, Slurm's hold on requeued jobs — so the test spares the wait)."""
    starts = tmp_path / "starts.txt"
    calls = [jobs.Call("slow", _note_start_then_sleep, (starts,))]
    with pytest.raises(jobs.JobFailed, match="job 'slow' .* failed: .*timed-out too many times"):
        jobs.run(calls, "slurm", {**FAST, "time_min": 1, "requeues": 0}, folder=tmp_path, name="t")
    assert starts.read_text() == "start\n"


def _interrupted_run(folder: Path, argv: list[str]) -> Path:
    """Run the call ``check_output(argv)`` as ``s`` under Slurm in a process killed once the job is submitted (a
    closed session); returns the run's ``jobs.json``."""
    command = ("import subprocess; from photosynth import jobs; "
               f"jobs.run([jobs.Call('s', subprocess.check_output, ({argv!r},))], "
               f"'slurm', {{'poll_s': 0.5}}, folder={str(folder)!r}, progress=False)")
    waiter = subprocess.Popen([sys.executable, "-c", command])
    record = folder / "photosynth" / "jobs.json"
    _until(record.is_file)
    waiter.kill()
    waiter.wait()
    return record


def _until(ready: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"not ready after {seconds} s"
        time.sleep(0.2)


def _job_folders(record: Path) -> list[Path]:
    return [p for p in record.parent.iterdir() if p.is_dir()]


def test_rerun_reattaches_a_running_job_instead_of_submitting_again(cluster: Path, tmp_path: Path) -> None:
    """The waiting process dies (a closed session); the same run again waits for the job already running."""
    argv = ["bash", "-c", "sleep 6; echo 42"]
    record = _interrupted_run(tmp_path, argv)
    first = record.read_text()
    out = jobs.run([jobs.Call("s", subprocess.check_output, (argv,))], "slurm", FAST, folder=tmp_path)
    assert out == {"s": b"42\n"}
    assert record.read_text() == first and len(_job_folders(record)) == 1


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder first on PATH (for this process) for stand-ins of Slurm commands (``slurm_cluster.fake_client``)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def _gated(gate: Path) -> list[str]:
    """A job's command that prints 42 once ``gate`` exists (a minute at most)."""
    return ["bash", "-c", f"for i in $(seq 600); do [ -e {gate} ] && break; sleep 0.1; done; echo 42"]


def test_rerun_while_squeue_fails_never_submits_a_job_twice(cluster: Path, tmp_path: Path, fake_bin: Path) -> None:
    """A re-run while the job still runs: squeue always failing, it stops naming the job and submits nothing;
    squeue failing twice (then answering), it re-attaches the job."""
    real_squeue = shutil.which("squeue")  # before the stand-in exists
    gate = tmp_path / "gate"
    call = jobs.Call("s", subprocess.check_output, (_gated(gate),))
    record = _interrupted_run(tmp_path, _gated(gate))
    first = record.read_text()
    (job_id,) = json.loads(first).values()
    slurm_cluster.fake_client(fake_bin, "squeue", None)
    with pytest.raises(jobs.SlurmUnreachable, match=rf"nothing was submitted.*\n  's': Slurm {job_id} \(unknown\)"):
        jobs.run([call], "slurm", FAST, folder=tmp_path)
    assert record.read_text() == first and len(_job_folders(record)) == 1

    squeue = slurm_cluster.fake_client(fake_bin, "squeue", None, None, f'exec {real_squeue} "$@"')
    with ThreadPoolExecutor(1) as pool:
        rerun = pool.submit(jobs.run, [call], "slurm", FAST, folder=tmp_path, progress=False)
        _until(lambda: len(squeue.read_text().splitlines()) > 3)  # third try answered; the wait polls
        gate.touch()
        assert rerun.result(timeout=120) == {"s": b"42\n"}
    assert record.read_text() == first and len(_job_folders(record)) == 1


def test_wait_stops_within_the_bound_when_squeue_never_answers(cluster: Path, tmp_path: Path,
                                                                fake_bin: Path) -> None:
    """The error names every job, its Slurm id and its logs; the jobs go on (here: to their end)."""
    gate = tmp_path / "gate"
    calls = [jobs.Call(f"g{i}", subprocess.check_output, (_gated(gate),)) for i in range(2)]
    slurm_cluster.fake_client(fake_bin, "squeue", None)
    start = time.monotonic()
    with pytest.raises(jobs.SlurmUnreachable, match="silent for over 0.1 min while waiting") as caught:
        jobs.run(calls, "slurm", {**FAST, "no_answer_min": 0.1}, folder=tmp_path, name="silent")
    took = time.monotonic() - start
    gate.touch()
    ids = json.loads((tmp_path / "silent" / "jobs.json").read_text())
    assert caught.value.job_ids == ids and len(ids) == 2
    for name, job_id in ids.items():
        paths = submitit.SlurmJob(folder=tmp_path / "silent" / "%j", job_id=job_id).paths
        assert f"'{name}': Slurm {job_id} (pending), stdout {paths.stdout}, stderr {paths.stderr}" in str(caught.value)
    assert 6 < took < 30  # bound 6 s; each silent query takes about 3 s (three tries, 1 s then 2 s apart)


def test_a_job_finishing_while_squeue_never_answers_is_collected(cluster: Path, tmp_path: Path,
                                                                  fake_bin: Path) -> None:
    """Its result files tell that it finished, without Slurm."""
    slurm_cluster.fake_client(fake_bin, "squeue", None)
    assert jobs.run([jobs.Call("q", _square, (7,))], "slurm", {**FAST, "no_answer_min": 2}, folder=tmp_path) == {
        "q": 49}


def _cancel_myself() -> None:
    subprocess.run(["scancel", os.environ["SLURM_JOB_ID"]], check=True)
    time.sleep(120)


def test_job_killed_by_slurm_fails_with_the_slurm_state(cluster: Path, tmp_path: Path) -> None:
    """No result file: after a grace for the shared filesystem, the error names the last state Slurm showed."""
    expected = r"job 'gone' .* failed: it ended without a result \(last Slurm state: [A-Z]+;"
    with pytest.raises(jobs.JobFailed, match=expected):
        jobs.run([jobs.Call("gone", _cancel_myself)], "slurm", FAST, folder=tmp_path, name="k")


def test_two_gpu_job_runs_cyclegan_data_parallel(cluster: Path, tmp_path: Path) -> None:
    """``gpus_per_job: 2`` + ``distributed``: two tasks with the torch.distributed environment (gloo on these CPUs;
    the node's two "GPUs" are a count only) train like one process of twice the batch, as under torchrun."""
    import torch
    from cyclegan_toy import make_images, tiny_config

    from photosynth.translate.cyclegan.checkpoint import load_checkpoint
    from photosynth.translate.cyclegan.networks import build_discriminator, build_generator
    from photosynth.translate.cyclegan.train import train

    assert slurm_cluster.FAKE_GPUS == 2
    a, b = tmp_path / "A", tmp_path / "B"
    make_images(a, [(41, 27)] * 5, seed=1)
    make_images(b, [(43, 24)] * 3, seed=2)
    call = jobs.Call("ddp", train, (tiny_config(batch_size=1, pool_size=50), a, b, tmp_path / "ddp"),
                     {"device": "cpu", "progress": False})
    result = jobs.run([call], "slurm", {**FAST, "gpus_per_job": 2, "cpus_per_job": 2}, folder=tmp_path,
                      distributed=True)["ddp"]
    single = train(tiny_config(batch_size=2, pool_size=50), a, b, tmp_path / "single", progress=False)
    ddp, one = load_checkpoint(result.checkpoint), load_checkpoint(single.checkpoint)
    assert ddp["world"] == 2 and len(ddp["ranks"]) == 2 and ddp["step"] == one["step"] == 6
    cfg, x = tiny_config(), torch.rand(1, 3, 32, 32) * 2 - 1  # compare outputs, as test_cyclegan_distributed does
    for name, build in (("G_A", build_generator), ("G_B", build_generator), ("D_A", build_discriminator)):
        nets = []
        for state in (ddp, one):
            net = build(cfg).eval()
            net.load_state_dict(state["models"][name])
            nets.append(net)
        with torch.no_grad():
            torch.testing.assert_close(nets[0](x), nets[1](x), rtol=1e-3, atol=1e-3)


def _book(root: Path, runs: Path, only: str, *sets: str) -> None:
    cmd = [sys.executable, "-m", "photosynth.cli", "book", "--profile", "smoke", "--root", str(root),
           "--runs", str(runs), "--only", only, "--no-build"]
    for item in sets:
        cmd += ["--set", item]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-6000:]


def _same_tree(a: Path, b: Path, pattern: str) -> list[str]:
    """Relative paths matching ``pattern`` whose bytes differ between trees ``a`` and ``b`` (or exist in one)."""
    left = {p.relative_to(a) for p in a.glob(pattern)}
    right = {p.relative_to(b) for p in b.glob(pattern)}
    assert left, f"nothing matches {pattern} under {a}"
    return sorted(str(p) for p in left ^ right) + sorted(
        str(p) for p in left & right if not filecmp.cmp(a / p, b / p, shallow=False))


def _csv_without(path: Path, columns: set[str]):
    import pandas as pd

    table = pd.read_csv(path)
    table.columns = table.columns.str.strip()
    return table.drop(columns=[c for c in table.columns if c in columns])


def test_smoke_chain_under_slurm_equals_local(cluster: Path, project_root: Path, tmp_path: Path) -> None:
    """Notebook 02 (one job per weather) and the detector training of 05 (one job per mix): bit-identical."""
    import torch

    from photosynth import detect, runtime

    root = report_copy(tmp_path / "project", "_static")
    local, slurm = tmp_path / "local", tmp_path / "slurm"
    _book(root, local, "01_datasets,04_training_sets", "04_training_sets.mixes=[baseline]")
    shutil.copytree(local, slurm, symlinks=True)
    # the workspace path is part of the copied mix's data.yaml: point the Slurm copy at its own files
    for data in (slurm / "smoke" / "mixes").rglob("*.yaml"):
        data.write_text(data.read_text().replace(str(local), str(slurm)))

    _book(root, local, "02_cyclegan")
    _book(root, slurm, "02_cyclegan", "common.executor=slurm", "common.slurm={poll_s: 1, cpus_per_job: 1}")
    a, b = local / "smoke", slurm / "smoke"
    for step in ("02_cyclegan", "02_translate"):  # one array task per weather, each with its own logs
        assert len(list((b / "jobs" / step).glob("*_*/*_0_log.out"))) == 3, step
    assert not (a / "jobs").exists()
    assert _same_tree(a / "models", b / "models", "cyclegan/*/checkpoint.pt") == []
    assert _same_tree(a / "translated", b / "translated", "cyclegan/**/*.jpg") == []
    for weather in ("fog", "overcast", "rain"):
        la, lb = (_csv_without(w / "models/cyclegan" / weather / "losses.csv", {"images_per_s"}) for w in (a, b))
        assert la.equals(lb), weather

    settings = detect.TrainSettings(model="yolov5n", imgsz=64, epochs=1, batch=16, seed=0, optimizer="SGD",
                                    lr0=0.01, warmup_epochs=0, patience=100, workers=0)
    results = {}
    for name, ws_root, executor in (("local", a, "local"), ("slurm", b, "slurm")):
        ws = runtime.Workspace(ws_root)
        call = jobs.Call("baseline", detect.train, (ws_root / "mixes/baseline/data.yaml",
                                                     ws.stage("detectors") / "baseline", settings, ws))
        results[name] = jobs.run([call], executor, {"poll_s": 1, "cpus_per_job": 1}, folder=ws_root / "jobs",
                                 name="05_detectors")["baseline"]
    assert len(list((b / "jobs" / "05_detectors").glob("*/*_0_log.out"))) == 1
    weights = {k: torch.load(r.best, map_location="cpu", weights_only=False) for k, r in results.items()}
    state = {k: w["model"].float().state_dict() for k, w in weights.items()}
    assert state["local"].keys() == state["slurm"].keys()
    assert all(torch.equal(state["local"][k], state["slurm"][k]) for k in state["local"])
    metrics = {k: _csv_without(r.run_dir / "results.csv", {"time"}) for k, r in results.items()}
    assert metrics["local"].equals(metrics["slurm"])
