"""The crash tests' one helper: run a stage's real command, SIGKILL it when its first output appears, check that
nothing partial sits under a final name, and run the same command again to the end (:func:`kill_and_rerun`).

Each test then compares the rerun's outputs with an uninterrupted run of the same command, byte for byte where
the stage is deterministic on the CPU, and says in its docstring what it compares where it is not. The kill point
is deterministic (no timing): the moment a file matching a glob appears under a final name. The whole process
tree dies at once (its process group, and the Jupyter kernel papermill starts in a session of its own), as on a
power cut.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import psutil
import pytest
import torch
import yaml

from photosynth.imageio import read_rgb

ROOT = Path(__file__).resolve().parents[1]
#: ``(inode, size, mtime_ns)`` of a file: a file a rerun did not rewrite keeps all three.
Stat = tuple[int, int, int]


def env(one_thread: bool = True) -> dict[str, str]:
    """The test's environment with this checkout first on the import path (subprocesses import the code under
    test) and, with ``one_thread``, one OpenMP thread per process (speed on shared cores)."""
    path = os.environ.get("PYTHONPATH", "")
    threads = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"} if one_thread else {}
    return {**os.environ, **threads, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def photosynth(*args: object) -> list[str]:
    """The ``photosynth`` command line with ``args``."""
    return [sys.executable, "-m", "photosynth.cli", *map(str, args)]


def run(command: list[str], one_thread: bool = True) -> subprocess.CompletedProcess:
    """Run ``command`` to the end (environment: :func:`env`); it must succeed."""
    done = subprocess.run(command, env=env(one_thread), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path (hidden temporaries included)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def final_names(root: Path) -> list[Path]:
    """Files under ``root`` under a final name: hidden files and folders (temporaries) left out."""
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def stats(root: Path) -> dict[str, Stat]:
    """:data:`Stat` of every file under a final name, by relative path."""
    return {p.relative_to(root).as_posix(): (s.st_ino, s.st_size, s.st_mtime_ns)
            for p in final_names(root) for s in [p.stat()]}


def assert_complete(root: Path) -> None:
    """Every file under a final name is whole: images decode, JSON, notebooks and YAML parse, checkpoints load, every
    CSV row has the header's fields."""
    for path in final_names(root):
        suffix = path.suffix.lower()
        if suffix in (".jpg", ".jpeg", ".png"):
            assert read_rgb(path).size, path
        elif suffix in (".json", ".ipynb"):
            json.loads(path.read_text())
        elif suffix == ".yaml":
            yaml.safe_load(path.read_text())
        elif suffix == ".pt":
            torch.load(path, map_location="cpu", weights_only=False)
        elif suffix == ".csv":
            rows = list(csv.reader(path.read_text().splitlines()))
            assert all(len(row) == len(rows[0]) for row in rows), path


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s process group and every process it started (also those in sessions of their own)."""
    os.killpg(proc.pid, signal.SIGSTOP)  # nothing of the group starts another process while the tree is listed
    tree = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGKILL)
    for child in tree:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(tree, timeout=30)


class Rerun(NamedTuple):
    """What :func:`kill_and_rerun` saw: the :func:`stats` of the output at the kill point, the rerun's stderr."""

    killed: dict[str, Stat]
    stderr: str


def kill_and_rerun(command: list[str], out: Path, first: str, *, one_thread: bool = True,
                   timeout: float = 600) -> Rerun:
    """Run ``command``, kill it when a file matching the glob ``first`` appears under ``out``, check that every
    file under a final name there is complete, then run ``command`` again to the end (``one_thread``: see
    :func:`env`). Fails when the command ends before it could be killed.
    """
    with tempfile.TemporaryFile() as log:  # not a pipe: a full pipe would stall a chatty command before the kill
        proc = subprocess.Popen(command, env=env(one_thread), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            while not any(out.glob(first)):
                if proc.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"{command[3:5]} ended (rc {proc.returncode}) before {first} appeared: "
                                f"{log.read().decode()[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"{command[3:5]}: no {first} under {out} after {timeout} s")
                time.sleep(0.002)
        finally:
            if proc.poll() is None:
                _kill_tree(proc)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert_complete(out)
    killed = stats(out)
    return Rerun(killed, run(command, one_thread).stderr)


def kept(killed: dict[str, Stat], out: Path, where: Callable[[str], bool] = lambda name: True) -> None:
    """The files finished at the kill point (``where`` picks them) were not rewritten by the rerun."""
    now = stats(out)
    changed = [name for name, stat in killed.items() if where(name) and now.get(name) != stat]
    assert not changed, f"rewritten by the rerun: {changed[:5]}"


def assert_same_state(a: Any, b: Any, where: str = "checkpoint") -> None:
    """Two checkpoint trees are equal: same keys, every tensor bit-identical, every other value equal."""
    assert type(a) is type(b), where
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same_state(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def without_columns(csv_text: str, *names: str) -> list[list[str]]:
    """A CSV's rows without the columns ``names`` (wall-clock speed and time differ between runs)."""
    rows = [line.split(",") for line in csv_text.strip().splitlines()]
    drop = {rows[0].index(name) for name in names}
    return [[cell for i, cell in enumerate(row) if i not in drop] for row in rows]
