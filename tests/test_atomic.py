"""Atomic writes: complete files or nothing, readable permissions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photosynth.atomic import FILE_MODE, atomic_open, write_json, write_text


def test_write_text_and_json(tmp_path: Path) -> None:
    path = write_text(tmp_path / "a" / "x.txt", "hello\n")
    assert path.read_text() == "hello\n" and (path.stat().st_mode & 0o777) == FILE_MODE
    write_json(tmp_path / "x.json", {"b": Path("p")}, indent=None, default=str)
    assert json.loads((tmp_path / "x.json").read_text()) == {"b": "p"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "x.json"]


def test_error_keeps_old_content_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = write_text(tmp_path / "x.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("partial")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_only_whole_file_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode must be"):
        with atomic_open(tmp_path / "x", "a"):
            pass
