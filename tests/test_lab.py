"""JupyterLab is the same study: `make lab`, open a notebook in headless Chromium, Run All, files land in the
project's ``runs/<profile>`` (not ``notebooks/runs``), no error output, no "Jupyter news" prompt."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from photosynth.report.bookcheck import CHROMIUM_ARGS, chromium_path

NOTEBOOK = "00_environment"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"jupyter lab did not answer {url} within {timeout} s")


@pytest.mark.slow
def test_run_all_in_jupyterlab_writes_the_projects_workspace(project_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("playwright")
    project = tmp_path / "project"  # a copy of the project: its runs/ is the one the notebook must use
    (project / "notebooks").mkdir(parents=True)
    for name in ("_config.yml", "Makefile"):
        shutil.copy(project_root / name, project / name)
    shutil.copytree(project_root / "profiles", project / "profiles")
    shutil.copytree(project_root / "lab", project / "lab")
    shutil.copy(project_root / "notebooks" / f"{NOTEBOOK}.ipynb", project / "notebooks")

    venv = Path(sys.executable).parent.parent
    recipe = subprocess.run(["make", "-s", "-n", "-o", "install", "lab", f"VENV={venv}"], cwd=project,
                            capture_output=True, text=True, check=True).stdout  # exactly what `make lab` runs
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("PHOTOSYNTH_RUNS", "MPLBACKEND", "JUPYTER_CONFIG_PATH",
                                                         "YOLO_CONFIG_DIR")}  # defaults: in the workspace
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(project_root), os.environ.get("PYTHONPATH")])))
    command = recipe.strip() + f" --ip=127.0.0.1 --port={port} --ServerApp.token={token}"
    lab = subprocess.Popen(["bash", "-c", command], cwd=project, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=(tmp_path / "lab.log").open("w"))
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", lab)
        errors, texts = _run_all_in_browser(
            f"http://127.0.0.1:{port}/lab/tree/notebooks/{NOTEBOOK}.ipynb?token={token}", tmp_path / "lab.png")
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=30)
    assert errors == [], errors
    assert not any("Jupyter news" in t for t in texts), texts  # the announcements plugin is off
    assert (project / "runs" / "smoke" / "config" / "Ultralytics" / "Arial.ttf").is_file()  # configure(ws) ran
    assert not (project / "notebooks" / "runs").exists()


def _run_all_in_browser(url: str, screenshot: Path) -> tuple[list[str], list[str]]:
    """Open ``url``, Run All from the Run menu, wait until every code cell ran; (error outputs, toast texts)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
                return prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t));
            }""", timeout=600_000)  # environment.report() imports torch, TF, ultralytics
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        errors = page.eval_on_selector_all(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']",
            "nodes => nodes.map(n => n.textContent)")
        texts = page.eval_on_selector_all(".Toastify__toast, .jp-toast", "nodes => nodes.map(n => n.textContent)")
        page.screenshot(path=str(screenshot))  # kept in the test's tmp folder for a failure's post-mortem
        browser.close()
    return errors, texts
