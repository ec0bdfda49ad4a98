"""Shared test setup: hermetic caches, a non-interactive matplotlib backend, the project root."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
# triton (torch's compiler, loaded by torchvision/ultralytics) segfaults when it loads after TensorFlow in one
# process (both bundle LLVM); loaded first, both work. Tests mix NST (TensorFlow) and detectors in one process.
with contextlib.suppress(ImportError):
    import triton  # noqa: F401


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository root (holds _config.yml, profiles/, notebooks/)."""
    return ROOT


def report_copy(root: Path, *ignore: str) -> Path:
    """A copy of the project's report sources (book config, book/, notebooks/, profiles/) in ``root``, without
    executed notebooks, checkpoints and the ``ignore`` patterns: a book run there leaves the checkout untouched."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    skip = shutil.ignore_patterns("executed", ".ipynb_checkpoints", *ignore)
    for name in ("book", "notebooks", "profiles"):
        shutil.copytree(ROOT / name, root / name, ignore=skip)
    return root


@pytest.fixture(autouse=True)
def _hermetic_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep ultralytics' settings out of the user's home for every test (ENVIRONMENT.md P7)."""
    config = tmp_path_factory.getbasetemp() / "yolo-config"
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(config))
