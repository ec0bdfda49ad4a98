"""Shared test setup: hermetic caches, a non-interactive matplotlib backend, the project root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository root (holds _config.yml, profiles/, notebooks/)."""
    return ROOT


@pytest.fixture(autouse=True)
def _hermetic_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep ultralytics' settings out of the user's home for every test (ENVIRONMENT.md P7)."""
    config = tmp_path_factory.getbasetemp() / "yolo-config"
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(config))
