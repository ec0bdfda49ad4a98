"""A crash between checkpoints: the CLI killed with SIGKILL mid-run, then rerun, equals an uninterrupted run.

Each test runs the real ``photosynth`` command in a subprocess (its own session, so SIGKILL reaches the
DataLoader workers too), kills it as soon as its first checkpoint or output file appears (deterministic:
no timing), checks that nothing partial is left under a final name, reruns it, and compares every byte
with an uninterrupted run of the same command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from cyclegan_toy import make_images, tiny_config

from photosynth.imageio import read_rgb
from photosynth.translate.cyclegan.checkpoint import load_checkpoint
from photosynth.translate.cyclegan.train import train

CYCLEGAN = ["--ngf", "4", "--ndf", "4", "--n-blocks", "1", "--n-layers-d", "2", "--load-size", "24",
            "--crop-size", "16", "--batch-size", "2", "--pool-size", "3", "--num-workers", "1", "--quiet"]


def _env() -> dict[str, str]:
    """The test's environment with one thread per process (speed on shared cores; same numbers every run)."""
    repo = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONPATH": repo + (os.pathsep + path if path else "")}


def photosynth(*args: str) -> list[str]:
    return [sys.executable, "-m", "photosynth.cli", *map(str, args)]


def run(command: list[str]) -> None:
    done = subprocess.run(command, env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def run_and_kill(command: list[str], ready: Callable[[], bool], timeout: float = 120) -> None:
    """Start ``command``; SIGKILL its whole process group the moment ``ready()`` holds.

    Fails when the command exits on its own first (it was never interrupted) or ``ready`` never holds.
    """
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"{command[3:5]} ended (rc {proc.returncode}) before it could be killed: "
                            f"{proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{command[3:5]}: nothing to kill it at after {timeout} s")
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path (hidden temporaries included)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


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


def count_tensors(state: Any) -> int:
    if isinstance(state, torch.Tensor):
        return 1
    if isinstance(state, dict):
        state = list(state.values())
    return sum(count_tensors(v) for v in state) if isinstance(state, (list, tuple)) else 0


def without_speed(csv_text: str) -> list[list[str]]:
    """losses.csv rows without the images_per_s column (wall-clock speed differs between runs)."""
    rows = [line.split(",") for line in csv_text.strip().splitlines()]
    column = rows[0].index("images_per_s")
    return [row[:column] + row[column + 1 :] for row in rows]


@pytest.mark.slow
def test_cyclegan_training_killed_between_checkpoints_resumes_bit_for_bit(tmp_path: Path) -> None:
    a, b = tmp_path / "A", tmp_path / "B"
    make_images(a, [(41, 27), (34, 20), (41, 27), (30, 19), (41, 27), (36, 24)], seed=1)
    make_images(b, [(43, 24), (43, 24), (32, 18), (40, 22)], seed=2)
    # 12 steps, checkpoints at 3, 6, 9, 12: killed right after the first one appears
    schedule = ["--steps", "6", "--decay-steps", "6", "--checkpoint-every", "3", "--sample-every", "3"]
    train = ["cyclegan", "train", "--a", a, "--b", b, *CYCLEGAN, *schedule]

    crashed = tmp_path / "crashed"
    run_and_kill(photosynth(*train, "--out", crashed), (crashed / "checkpoint.pt").is_file)
    step = int(load_checkpoint(crashed / "checkpoint.pt")["step"])
    assert step in (3, 6, 9), step  # killed between two checkpoints, before the last one
    run(photosynth(*train, "--out", crashed, "--resume"))
    reference = tmp_path / "reference"
    run(photosynth(*train, "--out", reference))

    done, expected = load_checkpoint(crashed / "checkpoint.pt"), load_checkpoint(reference / "checkpoint.pt")
    assert int(expected["step"]) == 12
    assert count_tensors(expected) > 50  # weights, Adam moments, history pools, RNG states
    assert_same_state(done, expected)  # every tensor and value of the checkpoint, bit for bit
    assert without_speed((crashed / "losses.csv").read_text()) == without_speed((reference / "losses.csv").read_text())
    crashed_files = {k: v for k, v in files(crashed).items() if k not in ("checkpoint.pt", "losses.csv")}
    reference_files = {k: v for k, v in files(reference).items() if k not in ("checkpoint.pt", "losses.csv")}
    assert crashed_files == reference_files  # sample grids and options, no temporaries left


@pytest.fixture()
def generator_checkpoint(tmp_path: Path) -> Path:
    """A one-step tiny CycleGAN checkpoint to translate with."""
    a, b = tmp_path / "train_A", tmp_path / "train_B"
    make_images(a, [(30, 20)] * 2, seed=5)
    make_images(b, [(30, 20)] * 2, seed=6)
    return train(tiny_config(batch_size=1, num_workers=0), a, b, tmp_path / "model", until_step=1,
                 progress=False).checkpoint


def assert_complete_images(out: Path, reference: dict[str, bytes]) -> None:
    """Every file under a final name is a whole image equal to the reference's (no partial file)."""
    for name, data in files(out).items():
        if Path(name).name.startswith(".") or not name.endswith(".jpg"):
            continue  # a temporary of the killed write (never under a final name), or the run's manifest
        assert name in reference and data == reference[name], name
        assert read_rgb(out / name).shape[0] > 0


@pytest.mark.slow
def test_cyclegan_translation_killed_mid_folder_completes_identically(generator_checkpoint: Path,
                                                                      tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    for scene in range(3):
        make_images(frames / f"Scene0{scene}", [(160, 64)] * 12, seed=10 + scene)
    translate = ["cyclegan", "translate", "--checkpoint", generator_checkpoint, "--input", frames,
                 "--batch-size", "1", "--workers", "1", "--writers", "1", "--quiet"]
    reference = tmp_path / "reference"
    run(photosynth(*translate, "--out", reference))
    expected = files(reference)
    assert len(expected) == 36

    out = tmp_path / "out"
    run_and_kill(photosynth(*translate, "--out", out), lambda: any(out.rglob("img_*.jpg")))
    finished = [n for n in files(out) if not Path(n).name.startswith(".")]
    assert 0 < len(finished) < 36  # killed mid-folder
    assert_complete_images(out, expected)
    run(photosynth(*translate, "--out", out))
    assert files(out) == expected  # every output, byte for byte, and no temporaries left


@pytest.fixture()
def vkitti(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A vKITTI2-like root with clone frames, and a folder of style images."""
    root = tmp_path / "vkitti2"
    clone = root / "Scene01" / "clone" / "frames" / "rgb" / "Camera_0"
    make_images(clone, [(64, 24)] * 10, seed=7)
    styles = tmp_path / "styles"
    make_images(styles, [(40, 30)] * 3, seed=8)
    return root, clone, styles


def _stylize_kill_and_rerun(command: list[str], out: Path, reference: Path, frames: int,
                            uninterrupted: Callable[[Path], None] | None = None) -> None:
    """Kill ``command`` at its first output, rerun it; compare with ``uninterrupted(reference)`` (default: the
    same command run to the end)."""
    (uninterrupted or (lambda folder: run(photosynth(*command, "--out", folder))))(reference)
    expected = files(reference)
    assert sum(n.endswith(".jpg") for n in expected) == frames
    run_and_kill(photosynth(*command, "--out", out), lambda: any(out.rglob("img_*.jpg")))
    finished = [n for n in files(out) if n.endswith(".jpg") and not Path(n).name.startswith(".")]
    assert 0 < len(finished) < frames  # killed mid-folder
    assert_complete_images(out, {k: v for k, v in expected.items() if k.endswith(".jpg")})
    run(photosynth(*command, "--out", out))
    got = files(out)
    assert sorted(got) == sorted(expected)  # same files, no temporaries left
    for name in expected:
        if name.endswith(".jpg"):
            assert got[name] == expected[name], name


@pytest.mark.slow
def test_nst_killed_mid_folder_completes_identically(vkitti, tmp_path: Path) -> None:
    root, clone, styles = vkitti
    command = ["stylize", "nst", "fog", "--workspace", tmp_path / "ws", "--vkitti-root", root, "--sources", clone,
               "--styles", styles, "--weights", "none", "--size", "32x16", "--iterations", "2",
               "--lbfgs-maxfun", "2", "--batch-size", "1", "--backend", "torch", "--no-progress"]
    _stylize_kill_and_rerun(command, tmp_path / "out", tmp_path / "reference", frames=10)


def test_augment_killed_mid_folder_completes_identically(vkitti, tmp_path: Path) -> None:
    from photosynth.imageio import list_images
    from photosynth.translate.weather import augment_dataset

    root, clone, styles = vkitti
    make_images(clone, [(480, 180)] * 20, seed=9)  # bigger frames: the kill must land mid-folder
    command = ["stylize", "augment", "rain", "--workspace", tmp_path / "ws", "--vkitti-root", root,
               "--sources", clone, "--no-progress"]
    _stylize_kill_and_rerun(command, tmp_path / "out", tmp_path / "reference", frames=20,
                            uninterrupted=lambda out: augment_dataset(list_images(clone), root, out, "rain", seed=0,
                                                                      progress=False))
