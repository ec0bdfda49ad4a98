"""Translations made outside photosynth: a folder of translated clone frames becomes a named translator.

The folder has the layout photosynth's own translators write: ``<folder>/<weather>/`` mirrors the vKITTI2 tree, so
the translation of ``<vkitti2>/Scene01/clone/frames/rgb/Camera_0/rgb_00004.jpg`` into fog is
``<folder>/fog/Scene01/clone/frames/rgb/Camera_0/rgb_00004.<jpg|jpeg|png>``. Only the frames the mixes use are
needed: those of each weather's frame%7 slot (:func:`photosynth.translate.frameset.translation_sources`).

:func:`check_translations` reads every needed frame before anything trains and lists, all at once, the frames that
are missing and the images that cannot be read; other files are ignored and counted, and images of another size
than their clone frame are allowed (the mixes rescale their boxes, as for the built-in translators).
:func:`link_translations` checks several folders and exposes each as ``<workspace>/translated/<name>`` (a symbolic
link), so notebooks 04–07 treat it like a built-in translator.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from photosynth.design import WEATHER_SLOTS, is_plain_name
from photosynth.imageio import find_output, image_size
from photosynth.translate.frameset import translation_sources

#: How many paths of one kind a message names before "… and N more".
SHOW = 20


class TranslationError(ValueError):
    """A translations folder cannot be used; the message lists every problem found."""


@dataclass
class TranslationCheck:
    """What :func:`check_translations` found in one folder."""

    name: str
    folder: Path
    expected: int = 0
    found: int = 0
    missing: list[str] = field(default_factory=list)  # <weather>/<path relative to the vKITTI2 root>
    unreadable: list[str] = field(default_factory=list)  # "<path>: <reason>"
    resized: int = 0  # readable frames of another size than their clone frame
    stray: int = 0  # files under the folder that no needed frame uses
    listing: Path | None = None  # a file with every missing and unreadable path, when there are many

    def write_listing(self, path: Path) -> None:
        """Write every missing and unreadable path to ``path`` (messages name only the first :data:`SHOW`)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"missing {m}\n" for m in self.missing)
                        + "".join(f"unreadable {u}\n" for u in self.unreadable))
        self.listing = path

    def problems(self) -> list[str]:
        """One line per kind of problem, naming every path (up to :data:`SHOW` per kind)."""
        lines = []
        if not self.folder.is_dir():
            return [f"{self.name}: {self.folder} is not a folder"]
        if self.missing:
            lines.append(f"{self.name}: {len(self.missing)} of {self.expected} frames missing under {self.folder}: "
                         + _listed(self.missing))
        if self.unreadable:
            lines.append(f"{self.name}: {len(self.unreadable)} unreadable image(s): " + _listed(self.unreadable))
        if lines and self.listing is not None:
            lines.append(f"{self.name}: every path is listed in {self.listing}")
        return lines

    def summary(self) -> str:
        """One line: frames found, resized, other files ignored."""
        return (f"{self.name}: {self.found} of {self.expected} frames in {self.folder}"
                f"{f', {self.resized} of another size than the clone frame (boxes rescaled)' if self.resized else ''}"
                f"{f', {self.stray} other file(s) ignored' if self.stray else ''}")

    def raise_if_bad(self) -> TranslationCheck:
        """``self``, or :class:`TranslationError` listing every problem."""
        if self.problems():
            raise TranslationError("\n".join(self.problems()))
        return self


def check_translations(name: str, folder: str | Path, vkitti_root: str | Path,
                       weathers: Iterable[str] = tuple(WEATHER_SLOTS)) -> TranslationCheck:
    """Check that ``folder`` holds a readable translation of every clone frame of each weather's slot."""
    folder, vkitti_root = Path(folder), Path(vkitti_root)
    check = TranslationCheck(name, folder)
    if not folder.is_dir():
        return check
    used: set[Path] = set()
    for weather in weathers:
        for clone in translation_sources(vkitti_root, weather):
            check.expected += 1
            relative = clone.resolve().relative_to(vkitti_root.resolve())
            path = find_output(folder / weather, relative)
            if path is None:
                check.missing.append(f"{weather}/{relative.as_posix()}")
                continue
            used.add(path.resolve())
            try:
                with Image.open(path) as image:
                    image.load()  # decodes every pixel: a truncated file fails here, not in training
                    size = image.size
            except Exception as exc:  # any failure to decode is "unreadable": PIL raises OSError, SyntaxError,
                # struct.error…, and once ultralytics is imported its Image.open patch raises ImportError (no pi_heif)
                check.unreadable.append(f"{path}: {type(exc).__name__}: {exc}")
                continue
            check.found += 1
            check.resized += size != image_size(clone)
    check.stray = sum(1 for p in folder.rglob("*") if p.is_file() and p.resolve() not in used)
    return check


def link_translations(workspace_root: str | Path, translations: Mapping[str, str | Path],
                      reserved: Iterable[str] = (), weathers: Iterable[str] = tuple(WEATHER_SLOTS)
                      ) -> dict[str, TranslationCheck]:
    """Check every folder of ``translations`` (name → folder) against the workspace's vKITTI2 clone frames, then
    link each as ``<workspace>/translated/<name>``. Every problem of every folder is raised at once, before
    anything is linked: a name in ``reserved`` (built-in and registered translators, ``baseline``, ``oracle``) or
    not a plain lowercase name, a missing folder, missing frames, unreadable images."""
    root = Path(workspace_root)
    vkitti = root / "data" / "vkitti2"
    reserved = set(reserved)
    weathers = tuple(weathers)
    problems, checks = [], {}
    for name, folder in translations.items():
        problem = name_problem(name, reserved)
        if problem:
            problems.append(problem)
            continue
        check = checks[name] = check_translations(name, Path(folder).expanduser().resolve(), vkitti, weathers)
        if len(check.missing) > SHOW or len(check.unreadable) > SHOW:
            check.write_listing(root / "logs" / f"translations_{name}.txt")
        problems += check.problems()
    if problems:
        raise TranslationError("external translations cannot be used:\n  " + "\n  ".join(problems))
    for name, check in checks.items():
        _link(root / "translated" / name, check.folder)
    return checks


def name_problem(name: str, reserved: Iterable[str]) -> str | None:
    """Why ``name`` cannot name external translations (taken by a built-in, registered translator or mix in
    ``reserved``, or not a plain lowercase name), or ``None``."""
    if name in set(reserved):
        return f"{name}: the name of a built-in or registered translator or mix; choose another name"
    if not is_plain_name(name):
        return f"{name!r}: a translator name is lowercase letters, digits, '_' and '-'"
    return None


def _link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` (absolute); a real folder in its place is never replaced."""
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a link to external translations; remove it or rename the translator")
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    os.symlink(target, link, target_is_directory=True)


def _listed(paths: list[str]) -> str:
    shown = "; ".join(paths[:SHOW])
    return shown + (f"; … and {len(paths) - SHOW} more" if len(paths) > SHOW else "")

