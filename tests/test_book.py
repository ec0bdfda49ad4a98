"""The whole report in the smoke profile: every notebook through papermill, the book built with -W,
then every page opened in headless Chromium (pages and images load, no raw TeX, no broken links)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from photosynth import pipeline


@pytest.fixture(scope="module")
def smoke_book(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A copy of the project's report sources, executed and built in the smoke profile."""
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(project_root / name, root / name)
    for name in ("book", "notebooks", "profiles"):
        shutil.copytree(project_root / name, root / name, ignore=shutil.ignore_patterns("executed", ".ipynb_checkpoints"))
    done = subprocess.run([sys.executable, "-m", "photosynth.cli", "book", "--profile", "smoke", "--check",
                           "--root", str(root), "--runs", str(root / "runs")], capture_output=True, text=True)
    return root, done


def test_smoke_book_builds_and_reads_well_in_chromium(smoke_book: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, done = smoke_book
    assert done.returncode == 0, done.stderr[-4000:]
    assert "problems" in done.stderr and ": 0 problems" in done.stderr
    html = root / "_build" / "html"
    for notebook in pipeline.toc_notebooks(root):
        page = html / notebook.relative_to(root).with_suffix(".html")
        assert page.is_file(), page


def test_environment_page_shows_this_run(smoke_book: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, done = smoke_book
    assert done.returncode == 0, done.stderr[-4000:]
    page = (root / "_build/html/book/executed/00_environment.html").read_text()
    for text in ("ultralytics", "keras_vgg16_notop", "YOLO_OFFLINE", "profile: smoke"):
        assert text in page
