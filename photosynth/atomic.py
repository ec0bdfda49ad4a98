"""Atomic writes: a temporary file in the target's folder, renamed over the target only when complete.

A killed run therefore never leaves a truncated image, label, manifest or table behind: the target is either the
old file or the complete new one. Every writer in photosynth goes through :func:`atomic_open`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: Permissions of written files (``mkstemp`` alone would leave 0600).
FILE_MODE = 0o644


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit rename it to ``path``, on any error remove it.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (binary); ``kwargs`` go to :func:`open` (e.g. ``newline=""``).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
