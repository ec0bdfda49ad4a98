"""The papermill pipeline: profiles, --set overrides, notebook failures, mixed-profile builds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from photosynth.report import pipeline
from photosynth.runtime import Workspace


def _notebook(path: Path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('profile = "x"\nworkspace = ""\nseed = 0\nvalue = 1')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A minimal photosynth project: two notebooks, the second fails in its third cell."""
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/index\nchapters:\n"
                                       "  - file: book/executed/first\n  - file: book/executed/second\n")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.yaml").write_text(yaml.safe_dump(
        {"common": {"seed": 4}, "notebooks": {"first": {"value": 2}, "second": {}}}))
    _notebook(tmp_path / "notebooks" / "first.ipynb", "assert value == 2 and seed == 4, (value, seed)\nprint('ok')",
              "# train\nfrom tqdm import tqdm\n"
              "for epoch in tqdm(range(2), desc='toy stage'):\n    print(f'epoch {epoch}/2')")
    _notebook(tmp_path / "notebooks" / "second.ipynb", "x = 1", "raise RuntimeError('boom in second')")
    return tmp_path


def test_load_profile_and_overrides(project: Path) -> None:
    prof = pipeline.load_profile("p", project, ["first.value=[1, 2]", "common.seed=9"])
    assert prof.notebooks["first"]["value"] == [1, 2] and prof.common["seed"] == 9
    params = prof.parameters("first", Workspace(project / "ws"))
    assert params == {"profile": "p", "workspace": str(project / "ws"), "seed": 9, "value": [1, 2]}


@pytest.mark.parametrize("bad, message", [
    ("nothing", "expects notebook.param=value"),
    ("first=3", "expects notebook.param=value"),
    ("third.value=1", "no notebook 'third'"),
])
def test_bad_overrides_are_clear(project: Path, bad: str, message: str) -> None:
    with pytest.raises(pipeline.PipelineError, match=message):
        pipeline.load_profile("p", project, [bad])


def test_missing_and_malformed_profiles(project: Path) -> None:
    with pytest.raises(pipeline.PipelineError, match="available: p"):
        pipeline.load_profile("nope", project)
    (project / "profiles" / "broken.yaml").write_text("notebooks: [a, b]\n")
    with pytest.raises(pipeline.PipelineError, match="non-empty 'notebooks:' mapping"):
        pipeline.load_profile("broken", project)


def test_project_root_is_found_upward(project: Path) -> None:
    (project / "notebooks" / "deep").mkdir()
    assert pipeline.project_root(project / "notebooks" / "deep") == project
    with pytest.raises(pipeline.PipelineError, match="no photosynth project"):
        pipeline.project_root(project.parent)


def test_failing_notebook_stops_the_run_and_names_notebook_and_cell(project: Path) -> None:
    """Also: the build streams each notebook's progress, logs it in the workspace and ends with a summary."""
    done = subprocess.run(
        [sys.executable, "-m", "photosynth.cli", "book", "--profile", "p", "--root", str(project),
         "--runs", str(project / "runs")], capture_output=True, text=True)
    assert done.returncode == 1
    # cell 3 of the executed copy: papermill inserts the injected-parameters cell after cell 0
    assert ("notebook second failed in cell 3 (`raise RuntimeError('boom in second')`): "
            "RuntimeError: boom in second") in done.stderr
    executed = project / "book" / "executed"
    first = json.loads((executed / "first.ipynb").read_text())
    assert first["metadata"]["papermill"]["parameters"]["workspace"] == str(project / "runs" / "p")
    assert (executed / "second.ipynb").is_file()  # the failed copy is kept for inspection
    assert not (project / "_build").exists()  # the book is not built after a failure
    assert not any(p.suffix == ".ipynb" and "executed" in str(p) for p in (project / "notebooks").rglob("*"))
    # streamed as it ran: the notebook's prints, its tqdm bar, and a line naming each cell as it starts
    assert "ok\nepoch 0/2\nepoch 1/2\n" in done.stdout
    assert "toy stage: 100%" in done.stderr
    assert "[photosynth] first cell 3/3: from tqdm import tqdm" in done.stderr  # comments skipped
    assert "[photosynth] second cell 3/3: raise RuntimeError('boom in second')" in done.stderr
    # the full log of each notebook in the workspace
    logs = project / "runs" / "p" / "logs"
    first_log = (logs / "first.log").read_text()
    assert "epoch 1/2" in first_log and "toy stage: 100%" in first_log and "cell 2/3: assert value" in first_log
    assert "RuntimeError: boom in second" in (logs / "second.log").read_text()
    # one summary line per notebook, after everything else
    summary = done.stderr[done.stderr.rindex("[photosynth] summary:"):].splitlines()
    assert re.fullmatch(rf"  first +ok +\d+\.\d s  log: {re.escape(str(logs / 'first.log'))}", summary[1])
    assert re.fullmatch(rf"  second +failed +\d+\.\d s  log: {re.escape(str(logs / 'second.log'))}", summary[2])


def test_unknown_only_and_missing_notebook(project: Path) -> None:
    prof = pipeline.load_profile("p", project)
    with pytest.raises(pipeline.PipelineError, match="not in profile"):
        pipeline.run_notebooks(prof, project, Workspace(project / "ws"), only=["zzz"])
    (project / "notebooks" / "first.ipynb").unlink()
    with pytest.raises(pipeline.PipelineError, match="first.ipynb does not exist"):
        pipeline.run_notebooks(prof, project, Workspace(project / "ws"), only=["first"])


def test_book_refuses_mixed_or_missing_executions(project: Path) -> None:
    with pytest.raises(pipeline.PipelineError, match="first.ipynb: not executed yet"):
        pipeline.check_executed(project, "p")
    executed = project / "book" / "executed"
    executed.mkdir(parents=True)
    for name, prof in (("first", "p"), ("second", "other")):
        nb = nbformat.v4.new_notebook()
        nb.metadata["papermill"] = {"parameters": {"profile": prof}}
        nbformat.write(nb, executed / f"{name}.ipynb")
    with pytest.raises(pipeline.PipelineError, match="second.ipynb: executed with profile 'other'"):
        pipeline.check_executed(project, "p")


def test_figures_render_as_images_even_with_agg_in_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as in CI: must not reach the kernels
    _notebook(project / "notebooks" / "first.ipynb", "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nfig")
    prof = pipeline.load_profile("p", project)
    [executed] = pipeline.run_notebooks(prof, project, Workspace(project / "ws"), only=["first"], progress=False)
    outputs = [o for c in json.loads(executed.read_text())["cells"] for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), outputs
    assert os.environ["MPLBACKEND"] == "Agg"  # restored for this process


def test_a_profile_extends_another(project: Path) -> None:
    (project / "profiles" / "child.yaml").write_text(yaml.safe_dump(
        {"extends": "p", "common": {"extra": 1}, "notebooks": {"second": {"value": 5}}}))
    child = pipeline.load_profile("child", project, ["first.value=7"])
    assert child.name == "child" and list(child.notebooks) == ["first", "second"]
    assert child.common == {"seed": 4, "extra": 1}
    assert child.notebooks == {"first": {"value": 7}, "second": {"value": 5}}
    assert pipeline.load_profile("p", project).notebooks["first"] == {"value": 2}  # the base is unchanged
    (project / "profiles" / "bad.yaml").write_text(yaml.safe_dump({"extends": "p", "notebooks": {"third": {}}}))
    with pytest.raises(pipeline.PipelineError, match=r"notebooks \['third'\] are not in the profile it extends"):
        pipeline.load_profile("bad", project)
    (project / "profiles" / "loop.yaml").write_text(yaml.safe_dump({"extends": "loop", "notebooks": {"first": {}}}))
    with pytest.raises(pipeline.PipelineError, match="in a loop"):
        pipeline.load_profile("loop", project)


def test_a_profile_runs_in_another_profiles_workspace(project: Path) -> None:
    """``workspace: p`` (the sweep's ``workspace: demo``): its notebooks run in runs/p, and so do its children's."""
    (project / "profiles" / "child.yaml").write_text(yaml.safe_dump({"extends": "p", "workspace": "p",
                                                                     "notebooks": {"second": {"value": 5}}}))
    (project / "profiles" / "grandchild.yaml").write_text(yaml.safe_dump({"extends": "child",
                                                                          "notebooks": {"second": {}}}))
    assert pipeline.load_profile("child", project).workspace_name == "p"
    assert pipeline.load_profile("grandchild", project).workspace_name == "p"
    assert pipeline.load_profile("p", project).workspace_name == "p"
    for bad in ("../p", "", 3):
        (project / "profiles" / "bad.yaml").write_text(yaml.safe_dump({"extends": "p", "workspace": bad,
                                                                       "notebooks": {"first": {}}}))
        with pytest.raises(pipeline.PipelineError, match="names another profile's workspace"):
            pipeline.load_profile("bad", project)
    done = subprocess.run([sys.executable, "-m", "photosynth.cli", "book", "--profile", "child", "--root",
                           str(project), "--runs", str(project / "ws"), "--only", "first", "--no-build"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (project / "ws" / "p" / "logs" / "first.log").is_file() and not (project / "ws" / "child").exists()


def test_rehearsal_is_full_with_only_counts_cut_and_the_toy_world(project_root: Path) -> None:
    full = pipeline.load_profile("full", project_root)
    rehearsal = pipeline.load_profile("rehearsal", project_root)
    allowed = {  # counts, the toy world at native scale, and the two weight files this machine lacks
        "01_datasets": {"kitti_root", "kitti_tracking_root", "vkitti2_root", "bdd100k_root", "style_images",
                        "toy_scenes", "toy_frames", "toy_scale", "toy_kitti_object", "toy_bdd_train", "toy_bdd_val",
                        "toy_style_min"},
        "02_cyclegan": {"steps", "decay_steps", "cut_steps", "cut_decay_steps", "checkpoint_every", "sample_every"},
        "03_style_transfer": {"nst_iterations", "nst_lbfgs_maxfun", "nst_weights"},
        "05_detectors": {"epochs", "batch", "seeds"},  # batch 16 at 1248 px: OOM in 23 GB of host memory (GPU memory for real)
        "06_results": {"n_boot", "gap_features", "gap_max_images", "seeds"},
        "07_fidelity": {"features", "reference_epochs", "reference_kitti_frames", "reference_batch"},
        "08_sweep": {"seeds", "n_boot", "features"},  # no sweep in either
    }
    assert list(rehearsal.notebooks) == list(full.notebooks) and rehearsal.common == full.common
    for name, params in rehearsal.notebooks.items():
        changed = {k for k, v in params.items() if full.notebooks[name].get(k, object()) != v}
        assert changed <= allowed.get(name, set()), (name, changed)
    assert rehearsal.notebooks["01_datasets"]["toy_scale"] == 1.0
    # every count full runs is cut: one left at full's value (CUT's 425,200 steps, 100 reference epochs) would
    # make the rehearsal a week-long CPU job
    counts = {"steps": 2, "decay_steps": 2, "cut_steps": 2, "cut_decay_steps": 2, "epochs": 1, "reference_epochs": 1,
              "nst_iterations": 1, "nst_lbfgs_maxfun": 2, "n_boot": 50, "reference_kitti_frames": 8}
    counted = {k for params in full.notebooks.values() for k in params if "warmup" not in k  # a schedule's shape
               and any(word in k for word in ("steps", "epochs", "iterations", "maxfun", "n_boot", "frames"))}
    assert counted <= set(counts) | {"max_frames"}, sorted(counted - set(counts))
    for name, params in rehearsal.notebooks.items():
        for key in set(counts) & set(params):
            assert 0 <= params[key] <= counts[key], (name, key, params[key])
        assert len(params.get("seeds", [0])) == 1, f"{name}: one training seed (full trains {full.notebooks[name]['seeds']})"


def test_common_values_go_to_the_notebooks_that_declare_them(project: Path) -> None:
    """A common value reaches only the notebooks whose parameters cell names it (no papermill "unknown parameter"
    noise elsewhere); one that no notebook declares is a typo, refused before anything runs."""
    second = nbformat.v4.new_notebook()
    second.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('profile = "x"\nworkspace = ""\nseed = 0')
    params.metadata["tags"] = ["parameters"]
    second.cells = [params, nbformat.v4.new_code_cell("assert 'value' not in dir(), value")]
    nbformat.write(second, project / "notebooks" / "second.ipynb")
    prof = pipeline.load_profile("p", project, ["common.value=7"])
    pipeline.run_notebooks(prof, project, Workspace(project / "ws"), progress=False)
    injected = {name: json.loads((project / "book" / "executed" / f"{name}.ipynb").read_text())["metadata"]["papermill"]
                ["parameters"] for name in ("first", "second")}
    assert injected["first"]["value"] == 2 and "value" not in injected["second"]  # its own value wins over common
    assert pipeline.declared_parameters(project / "notebooks" / "first.ipynb") == {"profile", "workspace", "seed", "value"}
    prof = pipeline.load_profile("p", project, ["common.valeu=7"])
    with pytest.raises(pipeline.PipelineError, match=r"common value\(s\) valeu are parameters of none of its notebooks"):
        pipeline.run_notebooks(prof, project, Workspace(project / "ws2"), progress=False)
    assert not (project / "ws2").exists()
