"""Offline runtime: environment, font, workspace, seeds, and no global side effects on import."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from photosynth import runtime
from photosynth.runtime import Workspace


def test_import_photosynth_changes_no_global_state() -> None:
    code = ("import numpy as np, os, sys; before = (np.get_printoptions(), dict(os.environ));"
            "import photosynth, photosynth.runtime, photosynth.report.pipeline, photosynth.cli, photosynth.imageio, photosynth.frames;"
            "assert np.get_printoptions() == before[0]; assert dict(os.environ) == before[1];"
            "assert 'ultralytics' not in sys.modules and 'torch' not in sys.modules and 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_configure_sets_offline_env_and_places_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("YOLO_CONFIG_DIR", "YOLO_OFFLINE", "YOLO_AUTOINSTALL"):
        monkeypatch.delenv(var, raising=False)
    ws = Workspace(tmp_path / "ws")
    values = runtime.configure(ws)
    assert os.environ["YOLO_OFFLINE"] == "1" and os.environ["YOLO_AUTOINSTALL"] == "false"
    assert values["YOLO_CONFIG_DIR"] == str(ws.root / "config")
    font = ws.root / "config" / "Ultralytics" / "Arial.ttf"
    assert font.read_bytes()[:4] == b"\x00\x01\x00\x00"  # a TrueType font


def test_ultralytics_module_is_offline_and_keeps_numpy_printoptions(tmp_path: Path) -> None:
    code = f"""
import json, numpy as np, sys, cv2
from PIL import Image
from photosynth import runtime
ws = runtime.Workspace({str(tmp_path / 'ws')!r})
before = (np.get_printoptions(), Image.open, cv2.getNumThreads())
ul = runtime.ultralytics_module(ws)
from ultralytics.utils import ONLINE
import ultralytics.data, ultralytics.utils.patches
after = (np.get_printoptions(), Image.open, cv2.getNumThreads())
print(json.dumps({{"same": after == before, "online": ONLINE, "sync": ul.settings["sync"],
                  "runs_dir": ul.settings["runs_dir"]}}))
"""
    env = {k: v for k, v in os.environ.items() if k != "YOLO_CONFIG_DIR"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"same": True, "online": False, "sync": False, "runs_dir": str(tmp_path / "ws" / "detectors")}


def test_workspace_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.RUNS_ENV, str(tmp_path / "runs"))
    ws = Workspace.for_profile("demo")
    assert ws.root == (tmp_path / "runs" / "demo").resolve()
    assert ws.stage("mixes").is_dir() and ws.data == ws.root / "data"
    assert Workspace.from_parameters("demo", "") == ws
    assert Workspace.from_parameters("demo", str(tmp_path / "x")).root == tmp_path / "x"


def test_seed_everything_is_reproducible() -> None:
    runtime.seed_everything(3)
    first = (random.random(), np.random.rand())
    runtime.seed_everything(3)
    assert (random.random(), np.random.rand()) == first


def test_device_prefers_explicit_choice() -> None:
    assert runtime.device("cpu") == "cpu"
    assert runtime.device() in {"cpu", "cuda"}


def test_default_workspace_is_the_projects_runs_whatever_the_cwd(project_root: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime.RUNS_ENV, raising=False)
    monkeypatch.chdir(project_root / "notebooks")  # JupyterLab's kernel cwd
    assert Workspace.for_profile("smoke").root == project_root / "runs" / "smoke"
    assert Workspace.from_parameters("smoke", "").root == project_root / "runs" / "smoke"
    project = tmp_path / "copy"  # another checkout of the project: its own runs/
    (project / "profiles").mkdir(parents=True)
    (project / "_config.yml").write_text("title: t\n")
    (project / "notebooks").mkdir()
    monkeypatch.chdir(project / "notebooks")
    assert Workspace.for_profile("demo").root == project.resolve() / "runs" / "demo"
    monkeypatch.chdir(tmp_path)  # outside any project: the project this package belongs to
    assert runtime.default_runs() == Path(runtime.__file__).resolve().parents[1] / "runs"
    monkeypatch.setenv(runtime.RUNS_ENV, str(tmp_path / "elsewhere"))  # the variable still wins
    assert Workspace.for_profile("demo").root == tmp_path / "elsewhere" / "demo"


def test_require_names_the_notebook_to_run_first(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "smoke")
    with pytest.raises(runtime.StageMissing, match=r"no output of 01_datasets .*run notebooks/01_datasets.ipynb first"
                       r".*photosynth book --profile smoke --only 01_datasets --no-build"):
        runtime.require(ws, "01_datasets")
    (ws.stage("splits") / "manifest.json").write_text("{}")
    runtime.require(ws, "01_datasets")
    with pytest.raises(runtime.StageMissing, match=r"no output of 02_cyclegan, 03_style_transfer .*run notebooks/02"):
        runtime.require(ws, "01_datasets", mixes=["baseline", "cyclegan", "nst", "augment"])
    runtime.require(ws, "01_datasets", mixes=["baseline"])  # the baseline needs no translator
    (ws.stage("models/cyclegan/fog") / "checkpoint.pt").write_bytes(b"x")
    with pytest.raises(runtime.StageMissing, match="translated/cyclegan/"):  # trained but not translated yet
        runtime.require(ws, mixes=["cyclegan"])
    ws.stage("translated/cyclegan/fog")
    runtime.require(ws, mixes=["cyclegan", "cyclegan+vkitti"])
    with pytest.raises(runtime.StageMissing, match="03_style_transfer"):  # an add-mode mix needs its translator
        runtime.require(ws, mixes=["nst+vkitti"])
    runtime.require(ws, mixes=["mytool"])  # frames made elsewhere: notebook 04 checks their folder
    with pytest.raises(ValueError, match="unknown notebook"):
        runtime.require(ws, "02_cycle")
    with pytest.raises(runtime.StageMissing, match="07_fidelity .*fidelity/reference/weights/best.pt"):
        runtime.require(ws, "07_fidelity")  # the sweep (08) scores its points with 07's reference detector
    (ws.stage("fidelity/reference/weights") / "best.pt").write_bytes(b"x")
    (ws.stage("fidelity") / "reference_split.json").write_text("{}")
    runtime.require(ws, "07_fidelity")


def test_notebooks_02_to_08_require_their_inputs_in_the_setup_cell(project_root: Path) -> None:
    expected = {"02_cyclegan": 'runtime.require(ws, "01_datasets")',
                "03_style_transfer": 'runtime.require(ws, "01_datasets")',
                "04_training_sets": 'runtime.require(ws, "01_datasets", mixes=mixes)',
                "05_detectors": 'runtime.require(ws, "04_training_sets")',
                "06_results": 'runtime.require(ws, "05_detectors")'}
    for name, line in expected.items():
        cells = [c for c in json.loads((project_root / "notebooks" / f"{name}.ipynb").read_text())["cells"]
                 if c["cell_type"] == "code"]
        setup = "".join(cells[1]["source"]).splitlines()  # the first cell after the parameters
        assert line in setup, name
        assert setup.index(line) == setup.index("ws = runtime.Workspace.from_parameters(profile, workspace)") + 1
    cells = [c for c in json.loads((project_root / "notebooks" / "08_sweep.ipynb").read_text())["cells"]
             if c["cell_type"] == "code"]
    assert '    runtime.require(ws, "05_detectors", "07_fidelity")' in "".join(cells[1]["source"]).splitlines()
