"""Rehearse the real run: the `rehearsal` profile (full's settings, the toy world at native scale, counts cut)
executes every notebook, and the paths `full` takes are the ones that ran (sizes, networks, detector settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from photosynth.imageio import image_size
from photosynth.report.pipeline import load_profile


@pytest.mark.slow
def test_rehearsal_runs_every_notebook_with_fulls_settings(project_root: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(KERAS_HOME=str(tmp_path / "keras"), TORCH_HOME=str(tmp_path / "torch"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(project_root), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "photosynth.cli", "book", "--profile", "rehearsal", "--root",
                           str(project_root), "--runs", str(tmp_path / "runs"), "--no-build"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-5000:]
    summary = done.stderr[done.stderr.rindex("[photosynth] summary:"):].splitlines()[1:]
    notebooks = load_profile("rehearsal", project_root).notebooks
    assert len(summary) == len(notebooks) and all(line.split()[1] == "ok" for line in summary), summary

    ws = tmp_path / "runs" / "rehearsal"
    clone = sorted((ws / "data" / "vkitti2").glob("**/Scene01/clone/frames/rgb/Camera_0/*.jpg"))
    assert clone and image_size(clone[0]) == (1242, 375)  # native vKITTI2 / KITTI size
    bdd = sorted((ws / "data" / "bdd100k" / "images" / "100k" / "val").glob("*.jpg"))
    assert bdd and image_size(bdd[0]) == (1280, 720)
    for method in ("cyclegan", "cut", "nst", "augment"):
        frames = sorted((ws / "translated" / method / "fog").glob("**/*.jpg"))
        assert frames and all(image_size(p) == (1242, 375) for p in frames), method
    options = yaml.safe_load((ws / "models" / "cyclegan" / "fog" / "options.json").read_text())
    assert {k: options[k] for k in ("ngf", "n_blocks", "preprocess", "load_size", "crop_size", "num_workers")} == {
        "ngf": 64, "n_blocks": 9, "preprocess": "scale_width_and_crop", "load_size": 1242, "crop_size": 256,
        "num_workers": 8}
    cut = yaml.safe_load((ws / "models" / "cut" / "fog" / "options.json").read_text())
    assert (cut["ngf"], cut["n_blocks"], cut["crop_size"], cut["steps"] + cut["decay_steps"]) == (64, 9, 256, 4)
    assert (ws / "results" / "fidelity.csv").is_file() and (ws / "results" / "bootstrap.csv").is_file()
    runs = sorted(ws.glob("detectors/**/args.yaml")) + [ws / "fidelity" / "reference" / "args.yaml"]
    assert len(runs) >= 5
    for args in map(lambda p: yaml.safe_load(p.read_text()), runs):
        assert (args["imgsz"], args["batch"], args["workers"], Path(args["model"]).stem) == (1248, 4, 8, "yolov5m")
