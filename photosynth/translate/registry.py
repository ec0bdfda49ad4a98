"""Translators by name: a small protocol, discovered through the ``photosynth.translators`` entry-point group.

A translator is whatever an entry point of the group loads: a callable (usually a class) that takes the
translator's options as keyword arguments and returns an object with two methods,

- ``fit(task)``: learn the clone → ``task.weather`` mapping from ``task.clones`` (every vKITTI2 clone frame) and
  ``task.targets`` (photos of the weather) into ``task.work``; resumable, and a no-op for a translator that learns
  nothing;
- ``translate(task)``: write every frame of ``task.sources`` to ``task.out`` at its path relative to
  ``task.source_root`` (any image suffix; :meth:`Task.output` names it), skipping the ones already there.

photosynth's own translators (``cyclegan``, ``cut``, ``nst``, ``augment``; :mod:`photosynth.translate.builtins`)
are registered the same way in its ``pyproject.toml``; a package adds one with, in its own ``pyproject.toml``::

    [project.entry-points."photosynth.translators"]
    mytool = "mypackage.translator:MyTool"

:func:`run` fits and translates every weather into ``<workspace>/translated/<name>/<weather>/`` and checks that
every frame the mixes need is there (:func:`photosynth.translate.external.check_translations`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from photosynth import imageio
from photosynth.datasets.vkitti2 import clone_frames
from photosynth.translate.external import check_translations
from photosynth.translate.frameset import frame_key, frames_to_translate, style_list

#: The entry-point group translators register under.
GROUP = "photosynth.translators"


@dataclass(frozen=True)
class Task:
    """One weather to translate: what to fit on, what to translate, and where things go."""

    weather: str
    clones: list[Path]  # every vKITTI2 clone Camera_0 frame: the synthetic domain to fit on
    sources: list[Path]  # the clone frames to translate (the weather's frame%7 slot)
    source_root: Path  # outputs mirror the sources' paths relative to this root
    targets: list[Path]  # photos of the target weather (BDD style images)
    work: Path  # the translator's own folder (models, checkpoints, caches)
    out: Path  # where the translated frames go: <workspace>/translated/<name>/<weather>
    seed: int = 0
    progress: bool = True

    def output(self, source: Path, suffix: str = ".jpg") -> Path:
        """Where ``source``'s translation goes (``out`` + its path relative to ``source_root``, new suffix)."""
        return imageio.mirrored_path(source, self.source_root, self.out, suffix)

    def pending(self) -> list[Path]:
        """The sources with no output yet (any image suffix)."""
        return [s for s in self.sources if imageio.find_output(self.out, frame_key(s, self.source_root)) is None]


@runtime_checkable
class Translator(Protocol):
    """What a registered translator's factory returns."""

    def fit(self, task: Task) -> Any:
        """Learn the mapping into ``task.work`` (resume when something is there)."""

    def translate(self, task: Task) -> Any:
        """Write ``task.sources``' translations under ``task.out``."""


def available() -> dict[str, EntryPoint]:
    """Every registered translator, name → entry point, sorted by name."""
    return {ep.name: ep for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name)}


def load(name: str, options: Mapping[str, Any] | None = None) -> Translator:
    """The translator registered as ``name``, built with ``options``; a clear error for an unknown name, a
    factory that rejects the options, or an object without ``fit``/``translate``."""
    found = available()
    if name not in found:
        known = ", ".join(found) or "none (is photosynth installed? `make install` registers its own)"
        raise ValueError(f"no translator {name!r} in entry-point group {GROUP!r}; registered: {known}")
    factory = found[name].load()
    try:
        translator = factory(**dict(options or {}))
    except TypeError as exc:
        raise ValueError(f"translator {name!r} ({found[name].value}) rejected its options {dict(options or {})}: {exc}") from exc
    if not isinstance(translator, Translator):
        raise ValueError(f"translator {name!r} ({found[name].value}) has no fit(task) and translate(task) methods")
    return translator


def task(workspace_root: str | Path, name: str, weather: str, *, seed: int = 0, progress: bool = True,
         work: str | Path | None = None) -> Task:
    """The workspace's task for translator ``name`` and ``weather``: clone frames of ``data/vkitti2``, the BDD
    style images of ``splits/weather/``, work folder ``models/<name>/<weather>`` (or ``work``), output
    ``translated/<name>/<weather>``."""
    root = Path(workspace_root)
    vkitti = root / "data" / "vkitti2"
    return Task(
        weather=weather, clones=clone_frames(vkitti), sources=frames_to_translate(vkitti, weather),
        source_root=vkitti, targets=imageio.list_images(style_list(root, weather)),
        work=Path(work) if work is not None else root / "models" / name / weather,
        out=root / "translated" / name / weather, seed=seed, progress=progress,
    )  # fmt: skip


def run(workspace_root: str | Path, name: str, weathers: Sequence[str], options: Mapping[str, Any] | None = None,
        *, seed: int = 0, progress: bool = True) -> dict[str, int]:
    """Fit and translate every weather with translator ``name``; returns frames per weather.

    Afterwards every frame the mixes need must be under ``translated/<name>/`` as a readable image, or
    :class:`~photosynth.translate.external.TranslationError` lists what the translator left out.
    """
    translator = load(name, options)
    counts = {}
    for weather in weathers:
        job = task(workspace_root, name, weather, seed=seed, progress=progress)
        translator.fit(job)
        translator.translate(job)
        counts[weather] = len(job.sources)
    check_translations(name, Path(workspace_root) / "translated" / name, Path(workspace_root) / "data" / "vkitti2",
                       weathers).raise_if_bad()
    return counts
