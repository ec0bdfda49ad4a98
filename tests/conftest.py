"""Shared test setup: hermetic caches, a non-interactive matplotlib backend, the project root."""

from __future__ import annotations

import contextlib
import os
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


@pytest.fixture(autouse=True)
def _hermetic_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep ultralytics' settings out of the user's home for every test (ENVIRONMENT.md P7)."""
    config = tmp_path_factory.getbasetemp() / "yolo-config"
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(config))
