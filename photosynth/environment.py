"""What this machine has: library versions, whether they match the lock file, the compute device, and which
optional weights are local."""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from photosynth import __version__
from photosynth.lockfile import (LOCK_NAME, Mismatch, file_digest, installed_versions, mismatches, read_lock,
                                 repository_root)
from photosynth.runtime import device
from photosynth.weights import local_weights

if TYPE_CHECKING:
    import pandas as pd

#: Distributions whose versions the report lists.
DISTRIBUTIONS = ("numpy", "pandas", "torch", "torchvision", "tensorflow", "keras", "ultralytics",
                 "opencv-python", "albumentations", "pycocotools", "papermill", "jupyter-book")


def versions(names: Sequence[str] = DISTRIBUTIONS) -> dict[str, str]:
    """Python, photosynth and the installed versions of the distributions ``names`` (read from package
    metadata, nothing imported; ``missing`` when absent). Manifests record this beside their outputs."""
    found = {"python": platform.python_version(), "photosynth": __version__}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


@dataclass(frozen=True)
class LockState:
    """The lock file this checkout installs from and how the running environment compares with it."""

    path: Path
    digest: str | None  # short sha256 of the lock file; None when there is no lock file
    locked: int  # how many packages it pins
    differences: tuple[Mismatch, ...]
    error: str = ""  # why the lock file could not be read

    def file_line(self) -> str:
        """The lock file and its short digest (or why there is none)."""
        if self.digest is None:
            return f"no {self.path.name} beside this photosynth (not installed from a checkout)"
        return f"{self.path.name}, sha256 {self.digest}"

    def match_line(self) -> str:
        """Whether the running environment matches the lock, naming every package that differs."""
        if self.digest is None or self.error:
            return f"not compared ({self.error or 'no lock file'})"
        if not self.differences:
            return f"matches the lock: all {self.locked} locked packages at their locked versions"
        return (f"differs from the lock in {len(self.differences)} package(s): "
                + "; ".join(str(m) for m in self.differences))


def lock_state(lock_path: Path | None = None, installed: Mapping[str, str] | None = None) -> LockState:
    """Compare ``installed`` (default: this interpreter's distributions) with the lock file (default: the
    checkout's ``requirements.lock``); the project itself and pip are not locked."""
    path = lock_path or repository_root() / LOCK_NAME
    if not path.is_file():
        return LockState(path, None, 0, ())
    try:
        lock = read_lock(path)
    except ValueError as error:
        return LockState(path, file_digest(path), 0, (), error=str(error))
    found = mismatches(lock.pins, installed_versions() if installed is None else installed)
    return LockState(path, file_digest(path), len(lock.pins), tuple(found))


def report() -> "pd.DataFrame":
    """One table: versions, the lock file and whether this environment matches it, device, and each optional
    weights file (path or ``not present``)."""
    import pandas as pd

    rows = [("version", k, v) for k, v in versions().items()]
    lock = lock_state()
    rows += [("lock", "file", lock.file_line()), ("lock", "environment", lock.match_line())]
    rows.append(("device", "compute", device()))
    rows += [("weights", k, str(v) if v else "not present (offline: place the file to enable)")
             for k, v in local_weights().items()]
    return pd.DataFrame(rows, columns=["kind", "name", "value"])
