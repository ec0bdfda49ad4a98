"""Bring your own translator, end to end: the smoke book with a frames folder made outside photosynth (a tinted
PIL copy of the clone frames) and a third-party translator registered through its own entry point (tests/plugins),
each appearing wherever the built-in translators do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from photosynth.toyworld.world import make_toyworld

from conftest import report_copy

PLUGINS = Path(__file__).resolve().parent / "plugins"


def smoke_world(project_root: Path, root: Path) -> Path:
    """The toy world notebook 01 writes in the smoke profile (same parameters: the same frames), for the test's
    own tool to translate before the book runs."""
    p = yaml.safe_load((project_root / "profiles" / "smoke.yaml").read_text())["notebooks"]["01_datasets"]
    world = make_toyworld(root, scenes=p["toy_scenes"], frames=p["toy_frames"], scale=p["toy_scale"],
                          kitti_object=p["toy_kitti_object"], bdd_train=p["toy_bdd_train"], bdd_val=p["toy_bdd_val"],
                          bdd_style_min=p["toy_style_min"], progress=False)
    return Path(world["vkitti2"])


@pytest.mark.slow  # one more smoke book (~4 min on 2 cores)
def test_a_folder_and_a_plugin_translator_run_through_the_smoke_book(project_root: Path, tmp_path: Path) -> None:
    from test_translators import tinted_copy

    vkitti = smoke_world(project_root, tmp_path / "world")
    assert tinted_copy(vkitti, tmp_path / "tinted") == 15  # 5 scenes × 7 frames: one of each weather slot
    root = report_copy(tmp_path / "book")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGINS), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "photosynth.cli", "book", "--profile", "smoke", "--root", str(root),
                           "--runs", str(root / "runs"), "--set", f"common.translations={{tinted: {tmp_path / 'tinted'}}}",
                           "--set", "common.plugins={tint: {strength: 0.3}}"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    ws = root / "runs" / "smoke"
    assert (ws / "translated" / "tinted").resolve() == (tmp_path / "tinted").resolve()
    assert len(list((ws / "translated" / "tint").rglob("*.png"))) == 15
    results = ws / "results"
    metrics, fidelity = pd.read_csv(results / "metrics.csv"), pd.read_csv(results / "fidelity.csv")
    for name in ("tinted", "tint"):
        assert (ws / "mixes" / name / "data.yaml").is_file()
        assert sorted(set(metrics[metrics.mix == name].seed)) == [0, 1]
        assert name in set(pd.read_csv(results / "bootstrap.csv").mix)
        assert name in set(fidelity.translator) and f"{name} translated" in set(pd.read_csv(results / "domain_gap.csv").source)
        assert name in set(pd.read_csv(results / "gap_closed.csv").mix)
    html = root / "_build" / "html" / "book"
    for page in ("executed/04_training_sets", "executed/05_detectors", "executed/06_results", "executed/07_fidelity",
                 "results"):
        text = (html / f"{page}.html").read_text()
        assert "tinted" in text and "tint" in text.replace("tinted", ""), page
    assert "Frames translated by registered translators" in (html / "executed/03_style_transfer.html").read_text()
