"""Atomic writes: a temporary file in the target's folder, renamed over the target only when complete.

A killed run therefore never leaves a truncated image, label, manifest or table behind: the target is either the
old file or the complete new one. Every writer in photosynth goes through :func:`atomic_open` (or, for a writer
that takes a file name, :func:`atomic_path`).

A full disk is one error, :class:`DiskFullError`, naming the file, its folder and the space left there
(:func:`reporting_disk_full` turns ENOSPC into it, also around writes that are not atomic, such as symlinks and
appended logs). Binary content is collected in memory and written with one Python ``write`` when the block ends:
C encoders handed a real file write to its descriptor themselves, and on a full tmpfs Pillow's JPEG encoder left a
truncated file without any error and ``torch.save`` raised an unrelated ``RuntimeError`` (measured), while
Python's own ``write`` reports ENOSPC.
"""

from __future__ import annotations

import errno
import glob
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: Permissions of written files (``mkstemp`` alone would leave 0600).
FILE_MODE = 0o644
#: The errors of a file system with no room left (space or quota).
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


class DiskFullError(OSError):
    """A write failed for lack of space: the message names the file, its folder and the space free there."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        folder = next(p for p in (self.path.parent, *self.path.parents) if p.exists())
        free = shutil.disk_usage(folder).free
        super().__init__(errno.ENOSPC, f"disk full: no space left to write {self.path} ({_size(free)} free in "
                                       f"{folder}); free some space there and run it again (finished files are kept)")


def _size(count: int) -> str:
    """A byte count for people: kB, MB or GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count / 1e3:.0f} kB"


@contextmanager
def reporting_disk_full(path: str | Path) -> Iterator[None]:
    """Raise :class:`DiskFullError` for ``path`` when the block fails for lack of space (ENOSPC, EDQUOT)."""
    try:
        yield
    except DiskFullError:
        raise
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            raise
        raise DiskFullError(path) from exc


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", durable: bool = False, **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit rename it to ``path``, on any error remove it.

    ``mode`` is ``"w"`` (text, written as it comes) or ``"wb"`` (binary: an in-memory buffer, written when the
    block ends); ``kwargs`` go to :func:`open` (e.g. ``newline=""``). ``durable`` syncs the file to the disk before
    the rename. A full disk raises :class:`DiskFullError`.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    with reporting_disk_full(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, mode, **kwargs) as handle:
                if mode == "wb":
                    buffer = io.BytesIO()
                    yield buffer
                    handle.write(buffer.getbuffer())
                else:
                    yield handle
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            publish(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary name beside ``path`` (``.<stem>.partial<suffix>``) for a writer that takes a file name and
    rewrites it as it goes (papermill saves a notebook after every cell); renamed to ``path`` when the block ends
    normally, removed when it raises. The name is fixed, so what a killed run left is overwritten by the next."""
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    with reporting_disk_full(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield partial
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise


def remove_stale_temps(path: str | Path) -> int:
    """Delete the temporaries a killed :func:`atomic_open` left for ``path`` (``.<name>.<random>.tmp`` beside it);
    returns the count. Call it where one writer owns ``path`` (a stage's own log or manifest) before writing again."""
    path = Path(path)
    stale = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp")) if path.parent.is_dir() else []
    for temp in stale:
        temp.unlink(missing_ok=True)
    return len(stale)


def publish(tmp: str | Path, path: str | Path) -> Path:
    """Give the complete file ``tmp`` (in ``path``'s folder) the usual permissions and rename it over ``path``."""
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path) as handle:
        handle.write(text)
    return Path(path)


def write_json(path: str | Path, obj: Any, indent: int | None = 1, default: Any = None) -> Path:
    """Write ``obj`` as JSON atomically (compact when ``indent`` is ``None``)."""
    separators = None if indent else (",", ":")
    return write_text(path, json.dumps(obj, indent=indent, separators=separators, default=default) + "\n")
