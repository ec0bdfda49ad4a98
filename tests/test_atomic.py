"""Atomic writes: complete files or nothing, readable permissions."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from photosynth.atomic import (
    FILE_MODE,
    DiskFullError,
    atomic_open,
    atomic_path,
    reporting_disk_full,
    write_json,
    write_text,
)


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


def test_a_full_disk_names_the_file_and_the_space_left(tmp_path: Path) -> None:
    target = write_text(tmp_path / "x.txt", "old")
    for mode in ("w", "wb"):
        message = rf"disk full: no space left to write {target} \(.* free in {tmp_path}\)"
        with pytest.raises(DiskFullError, match=message):
            with atomic_open(target, mode):
                raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]
    with pytest.raises(PermissionError):  # other errors pass as they are
        with reporting_disk_full(target):
            raise PermissionError(errno.EACCES, "denied")


def test_binary_content_is_written_when_the_block_ends(tmp_path: Path) -> None:
    with atomic_open(tmp_path / "x.bin", "wb", durable=True) as fh:
        fh.write(b"abc")
        assert not (tmp_path / "x.bin").exists()
    assert (tmp_path / "x.bin").read_bytes() == b"abc"


def test_atomic_path_renames_when_done_and_removes_on_error(tmp_path: Path) -> None:
    target = tmp_path / "nb.ipynb"
    with atomic_path(target) as partial:
        assert partial == tmp_path / ".nb.partial.ipynb"
        partial.write_text("1")
        partial.write_text("2")  # rewritten as it goes
    assert target.read_text() == "2" and not partial.exists()
    with pytest.raises(RuntimeError):
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("cell failed")
    assert target.read_text() == "2" and not partial.exists()


def test_remove_stale_temps_deletes_only_what_atomic_open_left_for_that_file(tmp_path: Path) -> None:
    from photosynth.atomic import remove_stale_temps

    log = tmp_path / "losses.csv"
    for name in (".losses.csv.ab12cd34.tmp", ".losses.csv.zz.tmp", ".other.csv.ab12cd34.tmp", "losses.csv"):
        (tmp_path / name).write_text("x")
    assert remove_stale_temps(log) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.csv.ab12cd34.tmp", "losses.csv"]
    assert remove_stale_temps(tmp_path / "none" / "x.json") == 0
