"""The lock file, ``requirements.lock``: the exact version (and hashes) of every package ``make install`` puts in
``.venv``, transitive ones included, compiled by pip-tools' ``pip-compile`` from ``pyproject.toml`` (``make lock``).

The lock records a digest of the dependency set it was compiled from (:func:`dependency_digest`): editing
``pyproject.toml`` without re-locking makes :func:`problems` (run by ``tests/test_lock.py``) and ``make install``
(``python3 -m photosynth.lockfile verify``) fail. :func:`mismatches` compares a running environment with the lock.

Reading the lock and the digest need only the standard library, so ``verify`` and ``stamp`` run under a bare
``python3`` before any install; :func:`problems` and :func:`mismatches` use ``packaging`` (imported where used).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

#: The lock file's name, beside ``pyproject.toml`` at the repository root.
LOCK_NAME = "requirements.lock"
#: The comment key under which the lock records :func:`dependency_digest`.
DIGEST_KEY = "pyproject-dependencies-sha256"
#: Distributions a running environment may have outside the lock: the project itself (installed from the checkout
#: with ``--no-deps``) and pip (pinned by the Makefile's ``PIP_VERSION``, installed before the lock).
UNLOCKED = frozenset({"photosynth", "pip"})

_DIGEST_LINE = re.compile(rf"^#\s*{re.escape(DIGEST_KEY)}:\s*([0-9a-f]{{64}})(?:\s.*)?$")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(;[^\\]*)?$")


def repository_root() -> Path:
    """The checkout this package was imported from (holds ``pyproject.toml`` and the lock in an editable install)."""
    return Path(__file__).resolve().parent.parent


def canonical_name(name: str) -> str:
    """A distribution name in its PEP 503 normal form (``Jinja2`` → ``jinja2``, ``ml_dtypes`` → ``ml-dtypes``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Lock:
    """What a lock file pins: canonical name → version, which pins carry hashes, and the recorded digest."""

    path: Path
    pins: dict[str, str]
    hashed: frozenset[str] = field(default_factory=frozenset)
    digest: str | None = None  # the pyproject dependency digest it was compiled from; None if not recorded


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """The lines of a requirements file with ``\\`` continuations joined, each with its first line's number."""
    lines: list[tuple[int, str]] = []
    current, start = "", 1
    for number, raw in enumerate(text.splitlines(), 1):
        if not current:
            start = number
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
        else:
            lines.append((start, current + raw))
            current = ""
    if current:
        lines.append((start, current))
    return lines


def read_lock(path: Path) -> Lock:
    """Parse a pip-compile lock: every requirement must be an exact ``name==version`` pin (else ``ValueError``
    naming the line); ``--hash`` options are noted, comments ignored but for the digest line."""
    pins: dict[str, str] = {}
    hashed: set[str] = set()
    digest = None
    for number, line in _logical_lines(path.read_text()):
        stripped = line.strip()
        if match := _DIGEST_LINE.match(stripped):
            digest = match.group(1)
            continue
        body = re.split(r"(?:^|\s)#", stripped, maxsplit=1)[0].strip()
        if not body:
            continue
        words = body.split()
        hashes = [w for w in words if w.startswith("--hash=")]
        requirement = " ".join(w for w in words if not w.startswith("--hash="))
        match = _PIN.match(requirement)
        if requirement.startswith("-") or match is None:
            raise ValueError(f"{path.name}, line {number}: not an exact `name==version` pin: {requirement!r}")
        name = canonical_name(match.group(1))
        if name in pins:
            raise ValueError(f"{path.name}: {name} is pinned twice")
        pins[name] = match.group(2)
        if hashes:
            hashed.add(name)
    return Lock(path=path, pins=pins, hashed=frozenset(hashed), digest=digest)


def _project(pyproject: Path) -> dict:
    return tomllib.loads(pyproject.read_text())


def declared(pyproject: Path) -> dict[str, list[str]]:
    """Every requirement string ``pyproject.toml`` declares, by group: ``build-system`` (the lock provides it, as
    ``make install`` builds the project without isolation), ``dependencies``, then each extra by name."""
    data = _project(pyproject)
    groups = {"build-system": list(data.get("build-system", {}).get("requires", [])),
              "dependencies": list(data["project"].get("dependencies", []))}
    for extra, requirements in data["project"].get("optional-dependencies", {}).items():
        groups[f"extra '{extra}'"] = list(requirements)
    return groups


def compiled_extras(pyproject: Path) -> list[str]:
    """The extras ``make lock`` compiles: every extra but those that only name other extras of the project itself
    (``all``), which pip-compile would otherwise record as a ``file://`` requirement on the checkout."""
    data = _project(pyproject)
    project = canonical_name(data["project"]["name"])
    self_ref = re.compile(rf"^\s*{re.escape(project)}\s*\[", re.I)
    return [extra for extra, requirements in data["project"].get("optional-dependencies", {}).items()
            if not all(self_ref.match(canonical_name(r)) for r in requirements)]


def dependency_digest(pyproject: Path) -> str:
    """sha256 of the dependency set of ``pyproject.toml`` (requires-python, build requirements, dependencies and
    every extra; whitespace inside a requirement and the order of a list do not count)."""
    data = _project(pyproject)
    canon = {"requires-python": "".join(data["project"].get("requires-python", "").split()),
             **{group: sorted("".join(r.split()) for r in reqs) for group, reqs in declared(pyproject).items()}}
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def stamp(lock_path: Path, pyproject: Path) -> str:
    """Record :func:`dependency_digest` in the lock's header (replacing an older record); returns the digest."""
    digest = dependency_digest(pyproject)
    lines = [ln for ln in lock_path.read_text().splitlines() if not _DIGEST_LINE.match(ln.strip())]
    at = 0
    while at < len(lines) and lines[at].startswith("#"):  # after pip-compile's header comment
        at += 1
    lines.insert(at, f"# {DIGEST_KEY}: {digest} (what it was compiled from; tests/test_lock.py checks)")
    lock_path.write_text("\n".join(lines) + "\n")
    return digest


def file_digest(path: Path, length: int = 12) -> str:
    """The first ``length`` hex digits of the sha256 of the file ``path``."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()[:length]


def digest_problem(pyproject: Path, lock: Lock) -> str | None:
    """Why the lock's recorded digest does not fit ``pyproject.toml``, or None when it does."""
    if lock.digest is None:
        return f"{lock.path.name} records no `{DIGEST_KEY}`: run `make lock`"
    current = dependency_digest(pyproject)
    if lock.digest != current:
        return (f"{lock.path.name} was compiled from another dependency set than {pyproject.name} declares "
                f"(recorded {lock.digest[:12]}, now {current[:12]}): run `make lock` and commit the lock")
    return None


def problems(pyproject: Path, lock_path: Path) -> list[str]:
    """Every disagreement between ``pyproject.toml`` and the lock, one sentence each (empty: they agree): an
    unreadable lock, a stale or missing digest, a requirement (whose markers hold here) the lock lacks or pins
    outside its specifier, a pin without hashes, or a self-reference to an extra that does not exist."""
    from packaging.requirements import Requirement
    from packaging.version import InvalidVersion, Version

    try:
        lock = read_lock(lock_path)
    except ValueError as error:
        return [str(error)]
    found = [p for p in [digest_problem(pyproject, lock)] if p]
    project = canonical_name(_project(pyproject)["project"]["name"])
    groups = declared(pyproject)
    extras = {g.removeprefix("extra '").removesuffix("'") for g in groups if g.startswith("extra '")}
    for group, requirements in groups.items():
        for text in requirements:
            req = Requirement(text)
            name = canonical_name(req.name)
            if name == project:
                found += [f"{text!r} ({group}) names extra {e!r}, which {pyproject.name} does not declare"
                          for e in sorted(req.extras - extras)]
                continue
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue  # not for this platform
            pinned = lock.pins.get(name)
            if pinned is None:
                found.append(f"{text!r} ({group}) is missing from {lock_path.name}: run `make lock`")
                continue
            try:
                ok = req.specifier.contains(Version(pinned), prereleases=True)
            except InvalidVersion:
                ok = False
            if not ok:
                found.append(f"{text!r} ({group}) is not satisfied by {lock_path.name}'s {name}=={pinned}: "
                             "run `make lock`")
    found += [f"{name}=={version} has no --hash in {lock_path.name} (`make install` requires hashes): "
              "run `make lock`" for name, version in sorted(lock.pins.items()) if name not in lock.hashed]
    return found


@dataclass(frozen=True)
class Mismatch:
    """One package where an environment and the lock differ (``None``: absent on that side)."""

    name: str
    locked: str | None
    installed: str | None

    def __str__(self) -> str:
        if self.installed is None:
            return f"{self.name} not installed (lock {self.locked})"
        if self.locked is None:
            return f"{self.name} {self.installed} (not in the lock)"
        return f"{self.name} {self.installed} (lock {self.locked})"


def installed_versions() -> dict[str, str]:
    """Canonical name → version of every distribution the running interpreter sees (the first one found on
    ``sys.path`` wins, as for imports)."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical_name(name), dist.version)
    return found


def mismatches(pins: Mapping[str, str], installed: Mapping[str, str],
               unlocked: frozenset[str] = UNLOCKED) -> list[Mismatch]:
    """Packages pinned but missing or at another version, and packages installed but not pinned (except
    ``unlocked``), sorted by name. Versions compare as versions (``1.0`` equals ``1.0.0``)."""
    from packaging.version import InvalidVersion, Version

    def same(a: str, b: str) -> bool:
        try:
            return Version(a) == Version(b)
        except InvalidVersion:
            return a == b

    pins = {canonical_name(k): v for k, v in pins.items()}
    installed = {canonical_name(k): v for k, v in installed.items()}
    found = []
    for name in sorted(pins.keys() | installed.keys()):
        locked, have = pins.get(name), installed.get(name)
        if locked is None and name in unlocked:
            continue
        if locked is None or have is None or not same(locked, have):
            found.append(Mismatch(name, locked, have))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m photosynth.lockfile {extras,stamp,verify,check}`` (paths default to this checkout's files)."""
    parser = argparse.ArgumentParser(prog="python3 -m photosynth.lockfile", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("extras", "stamp", "verify", "check"),
                        help="extras: print the extras `make lock` compiles; "
                        "stamp: record the pyproject digest in the lock (after pip-compile); verify: the "
                        "recorded digest fits pyproject.toml (standard library only); check: every disagreement "
                        "(needs `packaging`)")
    parser.add_argument("--pyproject", type=Path, default=repository_root() / "pyproject.toml")
    parser.add_argument("--lock", type=Path, default=repository_root() / LOCK_NAME)
    args = parser.parse_args(argv)
    if args.action == "extras":
        print(" ".join(compiled_extras(args.pyproject)))
        return 0
    if args.action == "stamp":
        print(f"{args.lock.name}: {DIGEST_KEY} {stamp(args.lock, args.pyproject)}")
        return 0
    if args.action == "verify":
        try:
            found = [p for p in [digest_problem(args.pyproject, read_lock(args.lock))] if p]
        except ValueError as error:
            found = [str(error)]
    else:
        found = problems(args.pyproject, args.lock)
    for line in found:
        print(f"lock: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
