"""The study's training mixes: one image per vKITTI2 frame index, the source chosen by ``frame % 7``.

For every scene and every Camera_0 frame index ``i`` of vKITTI2's ``clone`` variation, slot ``i % 7`` picks
the source among :data:`SOURCES`: the real KITTI tracking frame ``i`` of the sequence the scene clones
(:data:`SCENE_SEQUENCES`, with its own labels), vKITTI's clone, morning and sunset renders, and the three
weather slots (:data:`WEATHER_SLOTS`). Mix ``baseline`` fills the weather slots with vKITTI's own fog/overcast/rain
renders; ``cyclegan``, ``cut``, ``nst`` and ``augment`` with translated clone frames found under
``<translated>/<weather>/`` at the clone frame's path relative to the vKITTI2 (rgb) root, any image suffix
(:func:`photosynth.imageio.find_output`), labelled with the clone frame's boxes (geometry is unchanged; boxes
are rescaled when a translator changed the image size). ``oracle`` is built the same way from the toy world's
oracle renders (the clone frame drawn by the *real* renderer in the target weather: a perfect translation,
the ceiling of every translator), which :func:`link_oracle` exposes as ``<workspace>/translated/oracle``;
real datasets have no oracle.

Any other translator (a registered one, :mod:`photosynth.translate.registry`, or a folder made elsewhere,
:mod:`photosynth.translate.external`) makes a mix the same way from ``translated/<name>/``.

*Replace or add.* A mix named after its translator *replaces* vKITTI's rendered fog/overcast/rain by translations,
as the study did. ``<translator>+vkitti`` (:data:`ADD`) *adds* them beside the rendered weather at the same
training-set size: a weather slot's frame keeps vKITTI's render when its index is even and takes the translation
when it is odd (frames 4, 5, 6 of the first cycle of seven: fog rendered, overcast translated, rain rendered; the
next cycle the other way round). So the mix has the same frame indices, split and size as the baseline (paired
comparisons stay paired), each weather alternates between the two along every sequence (half and half, never in
blocks), every cycle holds both kinds, and no frame index appears twice (a rendered and a translated copy of one
frame would count one street twice and change the size).

Split: a seeded random split *by frame* (80/10/10), as the study did. It is drawn over the ``(scene, frame)``
keys alone, so every mix puts the same frame indices into train/val/test and mixes compare paired. Note that
neighbouring frames of a sequence are near duplicates, so val/test scores of this split are optimistic; the
study's test sets are the BDD100K buckets, not this split.

A mix is a YOLO dataset (:class:`~photosynth.datasets.yolo.YoloWriter`, images *symlinked*) plus
``composition.csv`` and ``manifest.json``; a mix whose manifest fingerprint (parameters, selected files and
their sizes/mtimes, label lines) matches is not rewritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from photosynth.atomic import write_json, write_text
from photosynth.datasets.kitti import read_kitti_tracking
from photosynth.datasets.report import ConversionReport
from photosynth.datasets.vkitti2 import read_vkitti2
from photosynth.datasets.yolo import YoloWriter, label_lines
from photosynth.design import (ADD_SUFFIX, ORACLE, SCENE_SEQUENCES, SOURCES, VARIATION_SOURCES, WEATHER_SLOTS,
                               is_plain_name, source_of)
from photosynth.environment import versions
from photosynth.frames import Frame
from photosynth.imageio import find_output, image_size
from photosynth.translate.registry import available

#: The study's mixes; all but ``baseline`` take translated frames from ``translated/<mix>/``.
MIXES: tuple[str, ...] = ("baseline", "cyclegan", "cut", "nst", "augment", "oracle")
TRANSLATED_MIXES: tuple[str, ...] = MIXES[1:]
#: Suffix of a mix that adds its translator's frames beside vKITTI's rendered weather (``cyclegan+vkitti``).
ADD = ADD_SUFFIX
SPLITS: tuple[str, ...] = ("train", "val", "test")
FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)
MANIFEST = "manifest.json"
COMPOSITION = "composition.csv"
#: Marks a folder as a mix, which a rebuild may clear.
MARKER = ".photosynth-mix"
#: Bumped when the on-disk layout of a mix changes (invalidates old manifests).
FORMAT = 1
#: How many missing files an error message names.
SHOW_MISSING = 5

FrameKey = tuple[str, int]  # (scene, frame index)


class MissingFramesError(FileNotFoundError):
    """Files a mix needs are absent; the message says how many, of which kind, and names the first few."""


@dataclass(frozen=True, slots=True)
class MixItem:
    """One frame of a mix: where it came from, its split, and the frame to write (image + labels)."""

    scene: str
    index: int
    source: str
    split: str
    frame: Frame
    translated: bool = False  # a weather slot filled by a translation


@dataclass(frozen=True)
class MixResult:
    """What :func:`build_mix` made (or found up to date)."""

    mix: str
    out: Path
    data_yaml: Path
    items: list[MixItem]
    composition: pd.DataFrame
    skipped: bool


def translator_of(mix: str) -> str:
    """The translator whose frames ``mix`` uses: ``cyclegan`` for ``cyclegan`` and ``cyclegan+vkitti``."""
    return mix.removesuffix(ADD)


def adds(mix: str) -> bool:
    """Whether ``mix`` keeps vKITTI's rendered weather beside its translations (:data:`ADD`)."""
    return mix.endswith(ADD)


def reserved_names() -> tuple[str, ...]:
    """Names an external translations folder may not take: the study's mixes and every registered translator."""
    return tuple(dict.fromkeys([*MIXES, *available()]))


def with_translations(names: Sequence[str], translations: Mapping[str, Any]) -> list[str]:
    """``names`` followed by the external translators of ``translations`` not already among them."""
    return [*names, *(name for name in translations if name not in names)]


def check_name(mix: str) -> str:
    """``mix``, or ``ValueError`` unless it is ``baseline``, a translator's name, or one + :data:`ADD`."""
    name = translator_of(mix)
    if not is_plain_name(name) or name == "baseline" and adds(mix) or name == "oracle" and adds(mix):
        raise ValueError(f"bad mix name {mix!r}: baseline, a translator's name (lowercase letters, digits, '_', '-'), "
                         f"or a translator's name + {ADD!r}; the study's: {', '.join(MIXES)}")
    return mix


def check_mix(mix: str, translated: str | Path | None) -> Path | None:
    """Validate a mix name and its translated folder (required exactly for the translated mixes)."""
    check_name(mix)
    if mix == "baseline":
        if translated is not None:
            raise ValueError("mix 'baseline' uses vKITTI's own fog/overcast/rain frames; it takes no translated folder")
        return None
    if translated is None:
        raise ValueError(f"mix {mix!r} needs the folder of its translated frames (<workspace>/translated/{translator_of(mix)})")
    folder = Path(translated)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no translated frames for mix {mix!r} (run the translator first)")
    return folder


def assign_splits(
    keys: Iterable[FrameKey], seed: int = 0, fractions: Sequence[float] = FRACTIONS
) -> dict[FrameKey, str]:
    """Seeded random split of frame keys into :data:`SPLITS` by ``fractions`` (sizes rounded, rest to test).

    Depends only on the set of keys and the seed, never on the mix, so every mix splits alike.
    """
    if len(fractions) != len(SPLITS) or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be {len(SPLITS)} non-negative numbers summing to 1, got {list(fractions)}")
    ordered = sorted(set(keys))
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_train = round(fractions[0] * len(ordered))
    n_val = min(round(fractions[1] * len(ordered)), len(ordered) - n_train)
    splits = {}
    for rank, position in enumerate(order):
        splits[ordered[position]] = SPLITS[0] if rank < n_train else SPLITS[1] if rank < n_train + n_val else SPLITS[2]
    return splits


def plan_mix(
    mix: str,
    vkitti_frames: Iterable[Frame],
    kitti_frames: Iterable[Frame],
    *,
    vkitti_root: str | Path,
    translated: str | Path | None = None,
    seed: int = 0,
    fractions: Sequence[float] = FRACTIONS,
) -> list[MixItem]:
    """Choose each frame's source and split (pure selection; nothing is written).

    ``vkitti_frames``: Camera_0 frames of the variations in :data:`VARIATION_SOURCES` (``source`` ids
    ``scene``/``variation``/``camera``/``frame`` as :func:`~photosynth.datasets.vkitti2.read_vkitti2` yields);
    the clone frames define the frame indices. ``kitti_frames``: KITTI tracking frames (``sequence``/``frame``).
    ``vkitti_root``: the root the clone images' relative paths (and so the translated paths) are taken from.
    Raises :class:`MissingFramesError` listing every source file that is absent.
    """
    translated_root = check_mix(mix, translated)
    variations: dict[tuple[str, str, int], Frame] = {}
    for frame in vkitti_frames:
        ids = frame.source
        if ids.get("camera", 0) != 0:
            continue
        variations[(ids["variation"], ids["scene"], int(ids["frame"]))] = frame
    kitti = {(f.source["sequence"], int(f.source["frame"])): f for f in kitti_frames}
    clones = sorted((scene, index) for variation, scene, index in variations if variation == "clone")
    if not clones:
        raise ValueError(f"{vkitti_root}: no vKITTI2 clone Camera_0 frames (a mix is built over the clone frame indices)")
    splits = assign_splits(clones, seed, fractions)
    items: list[MixItem] = []
    missing: dict[str, list[str]] = {}
    for scene, index in clones:
        source = source_of(index)
        clone = variations[("clone", scene, index)]
        key = f"{scene}/{index:05d}_{source}"
        translate = source in WEATHER_SLOTS and translated_root is not None and (not adds(mix) or index % 2 == 1)
        if source == "kitti":
            sequence = SCENE_SEQUENCES.get(scene)
            found = kitti.get((sequence, index)) if sequence else None
            what = f"KITTI tracking {sequence}/{index:06d}" if sequence else f"{scene} (clones no known KITTI sequence)"
        elif translate:
            found = translated_frame(clone, translated_root / source, vkitti_root, translator_of(mix))
            what = f"{translated_root / source}/{_relative(clone.image, vkitti_root)}"
        else:
            found = variations.get((source, scene, index))
            what = f"vKITTI2 {scene}/{source}/Camera_0 frame {index}"
        if found is None:
            missing.setdefault(f"translated {source}" if translate else source, []).append(what)
            continue
        items.append(MixItem(scene, index, source, splits[(scene, index)], dataclasses.replace(found, key=key), translate))
    if missing:
        raise MissingFramesError(_missing_message(mix, missing))
    return items


def translated_frame(clone: Frame, folder: Path, vkitti_root: str | Path, mix: str) -> Frame | None:
    """The translated version of ``clone`` under ``folder`` with the clone's boxes, or ``None`` when absent.

    Boxes are rescaled when the translated image has another size than the clone frame.
    """
    path = find_output(folder, _relative(clone.image, vkitti_root))
    return None if path is None else relabelled(clone, path, f"translated/{mix}")


def relabelled(clone: Frame, image: Path, dataset: str) -> Frame:
    """``clone`` shown by another ``image`` of the same geometry: the clone's boxes, rescaled when the image
    has another size (a translation, the oracle render, vKITTI's rendered weather)."""
    width, height = image_size(image)
    boxes = clone.boxes
    if (width, height) != (clone.width, clone.height):
        sx, sy = width / clone.width, height / clone.height
        boxes = [dataclasses.replace(b, x1=b.x1 * sx, y1=b.y1 * sy, x2=b.x2 * sx, y2=b.y2 * sy) for b in boxes]
    return dataclasses.replace(
        clone, image=Path(image), width=width, height=height, boxes=list(boxes), dataset=dataset,
        source={**clone.source, "clone_image": str(clone.image)},
    )  # fmt: skip


def composition(items: Sequence[MixItem]) -> pd.DataFrame:
    """Frames per source (rows, in slot order) × split (columns), with ``total`` row and column. In an :data:`ADD`
    mix a weather's translations have their own row ``<weather> (translated)``."""
    labels = row_labels(items)
    counts = Counter(zip(labels, (item.split for item in items)))
    rows = _rows(labels)
    table = pd.DataFrame([[counts[(row, split)] for split in SPLITS] for row in rows], index=rows, columns=list(SPLITS))
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    table.index.name = "source"
    return table


def row_labels(items: Sequence[MixItem]) -> list[str]:
    """Each item's composition row: its source, with ``(translated)`` for translations in a mix that also holds
    vKITTI's weather renders (an :data:`ADD` mix); a replace mix's weather rows are all translated."""
    both = any(item.source in WEATHER_SLOTS and not item.translated for item in items)
    return [f"{i.source} (translated)" if i.translated and both else i.source for i in items]


def _rows(labels: Sequence[str]) -> list[str]:
    """The composition rows in slot order: every source, and each ``(translated)`` row that ``labels`` holds."""
    present = set(labels)
    return [r for source in SOURCES for r in (source, f"{source} (translated)") if r == source or r in present]


def sample_items(items: Sequence[MixItem], per_source: int = 1, seed: int = 0) -> list[MixItem]:
    """A seeded pick of ``per_source`` items of every composition row present (:func:`row_labels`), in slot order."""
    rng = np.random.default_rng(seed)
    picked: list[MixItem] = []
    labels = row_labels(items)
    for row in _rows(labels):
        pool = [item for item, label in zip(items, labels) if label == row]
        for position in sorted(rng.choice(len(pool), size=min(per_source, len(pool)), replace=False)):
            picked.append(pool[position])
    return picked


def sample_examples(items: Sequence[MixItem], per_source: int = 1, seed: int = 0) -> list[dict[str, Any]]:
    """:func:`sample_items` as examples for :func:`photosynth.report.figures.detection_examples` (COCO ``gt`` boxes)."""
    labels = {id(item): label for item, label in zip(items, row_labels(items))}
    return [
        {"image": item.frame.image, "label": f"{labels[id(item)]} · {item.scene} #{item.index} · {item.split}",
         "gt": [[b.x1, b.y1, b.width, b.height] for b in item.frame.mapped_boxes], "pred": []}
        for item in sample_items(items, per_source, seed)
    ]  # fmt: skip


def build_workspace_mixes(
    workspace_root: str | Path,
    names: Sequence[str] = MIXES,
    *,
    seed: int = 0,
    fractions: Sequence[float] = FRACTIONS,
    force: bool = False,
) -> dict[str, MixResult]:
    """Build ``names`` in a workspace: sources from ``data/{vkitti2,kitti_tracking}``, translated frames from
    ``translated/<mix>``, output ``mixes/<mix>``. A requested translated mix without its folder is an error."""
    root = Path(workspace_root)
    vkitti, kitti = root / "data" / "vkitti2", root / "data" / "kitti_tracking"
    for folder in (vkitti, kitti):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no dataset root (notebook 01 writes the toy world into <workspace>/data)")
    for name in names:
        check_name(name)
    absent = sorted({translator_of(n) for n in names if n != "baseline" and not (root / "translated" / translator_of(n)).is_dir()})
    if absent:
        oracle = " (the oracle exists only in the toy world; notebook 01 links it)" if ORACLE in absent else ""
        raise FileNotFoundError(
            f"mixes {[n for n in names if translator_of(n) in absent]} were requested but their translated frames are "
            f"missing: {', '.join(str(root / 'translated' / a) for a in absent)} (run notebooks 02/03 or the translator, "
            f"or drop them from the profile's 'mixes'){oracle}"
        )
    return {
        name: build_mix(
            name, vkitti, kitti, root / "mixes" / name, seed=seed, fractions=fractions, force=force,
            translated=None if name == "baseline" else root / "translated" / translator_of(name),
        )  # fmt: skip
        for name in names
    }


def link_oracle(workspace_root: str | Path) -> Path | None:
    """Expose the toy world's oracle renders ``<workspace>/data/oracle`` as the ``oracle`` mix's translated
    frames ``<workspace>/translated/oracle`` (a relative symbolic link); returns it, or ``None`` when the data
    has no oracle (real datasets: a scene cannot be photographed twice), removing a stale link then.
    """
    root = Path(workspace_root)
    target, link = root / "data" / ORACLE, root / "translated" / ORACLE
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a link to the toy world's oracle; remove it")
    if not target.is_dir():
        if link.is_symlink():
            link.unlink()
        return None
    relative = Path(os.path.relpath(target, link.parent))
    if link.is_symlink() and Path(os.readlink(link)) == relative:
        return link
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    os.symlink(relative, link, target_is_directory=True)
    return link


def load_sources(
    vkitti_root: str | Path,
    kitti_root: str | Path,
    *,
    rgb_root: str | Path | None = None,
    lenient: bool = False,
) -> tuple[list[Frame], list[Frame]]:
    """Read the Camera_0 frames of the needed vKITTI2 variations and the cloned KITTI tracking sequences."""
    report = ConversionReport(strict=not lenient)
    reader = read_vkitti2(vkitti_root, rgb_root=rgb_root, variations=list(VARIATION_SOURCES), cameras=(0,), report=report)
    vkitti = list(tqdm(reader, desc="read vKITTI2", unit="frame", leave=False))
    reader = read_kitti_tracking(kitti_root, sequences=sorted(SCENE_SEQUENCES.values()), report=report)
    kitti = list(tqdm(reader, desc="read KITTI tracking", unit="frame", leave=False))
    return vkitti, kitti


def build_mix(
    mix: str,
    vkitti_root: str | Path,
    kitti_root: str | Path,
    out: str | Path,
    *,
    translated: str | Path | None = None,
    seed: int = 0,
    fractions: Sequence[float] = FRACTIONS,
    rgb_root: str | Path | None = None,
    force: bool = False,
) -> MixResult:
    """Read the sources, plan the mix and write it to ``out`` (skipped when its manifest is up to date).

    ``translated`` is ``<workspace>/translated/<mix>`` for the translated mixes. Images are symlinks.
    """
    check_mix(mix, translated)
    out = Path(os.path.abspath(out))
    image_root = rgb_root if rgb_root is not None else vkitti_root
    vkitti, kitti = load_sources(vkitti_root, kitti_root, rgb_root=rgb_root)
    items = plan_mix(mix, vkitti, kitti, vkitti_root=image_root, translated=translated, seed=seed, fractions=fractions)
    table = composition(items)
    parameters = {
        "mix": mix, "vkitti2": str(Path(vkitti_root).resolve()), "vkitti2_rgb": str(Path(image_root).resolve()),
        "kitti_tracking": str(Path(kitti_root).resolve()),
        "translated": str(Path(translated).resolve()) if translated is not None else None,
        "seed": seed, "fractions": list(fractions), "split_by": "frame", "out": str(out), "format": FORMAT,
    }  # fmt: skip
    digest = fingerprint(parameters, items)
    data_yaml = out / "data.yaml"
    previous = read_manifest(out)
    if not force and previous is not None and previous.get("fingerprint") == digest and data_yaml.is_file():
        return MixResult(mix, out, data_yaml, items, table, skipped=True)
    _clear(out)
    writer = YoloWriter(out, mode="link")
    boxes = 0
    for item in tqdm(items, desc=f"mix {mix}", unit="frame", leave=False):
        boxes += writer.add(item.frame, item.split)
    for split in SPLITS:  # ultralytics needs every listed split folder, even an empty one
        writer.splits.setdefault(split, 0)
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
    writer.close()
    write_text(out / COMPOSITION, table.to_csv())
    manifest = {
        "stage": "mixes", "parameters": parameters, "fingerprint": digest, "frames": len(items), "boxes": boxes,
        "composition": {source: row.to_dict() for source, row in table.iterrows()},
        "versions": versions(()), "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }  # fmt: skip
    write_json(out / MANIFEST, manifest, default=str)
    return MixResult(mix, out, data_yaml, items, table, skipped=False)


def fingerprint(parameters: Mapping[str, Any], items: Sequence[MixItem]) -> str:
    """Hash of the parameters and, per item, its key, split, image file (path, size, mtime) and label lines."""
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode())
    for item in items:
        stat = item.frame.image.stat()
        record = [item.frame.key, item.split, str(item.frame.image), stat.st_size, stat.st_mtime_ns, label_lines(item.frame)]
        digest.update(json.dumps(record).encode())
    return digest.hexdigest()


def read_manifest(out: str | Path) -> dict[str, Any] | None:
    """The mix's manifest, or ``None`` when absent or unreadable (an unfinished mix has none)."""
    try:
        return json.loads((Path(out) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _clear(out: Path) -> None:
    """Remove what a previous build wrote (manifest first, so a killed rewrite is never taken as finished).

    A non-empty folder without the mix marker is refused, so a wrong ``out`` never loses another dataset.
    """
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ValueError(f"{out}: not empty and not a training mix (no {MARKER}); choose another output folder")
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / MARKER, "written by photosynth.study.mixes\n")
    (out / MANIFEST).unlink(missing_ok=True)
    for name in ("data.yaml", COMPOSITION):
        (out / name).unlink(missing_ok=True)
    for name in ("images", "labels"):
        if (out / name).is_dir():
            shutil.rmtree(out / name)


def _relative(image: Path, root: str | Path) -> Path:
    """``image`` relative to ``root`` (both resolved), as the translators mirror it."""
    try:
        return Path(image).resolve().relative_to(Path(root).resolve())
    except ValueError as exc:
        raise ValueError(f"{image} is not inside the vKITTI2 root {root}") from exc


def _missing_message(mix: str, missing: Mapping[str, list[str]]) -> str:
    total = sum(len(v) for v in missing.values())
    parts = [f"mix {mix!r}: {total} source frame(s) missing"]
    for kind, paths in missing.items():
        shown = "; ".join(paths[:SHOW_MISSING]) + (f"; … ({len(paths) - SHOW_MISSING} more)" if len(paths) > SHOW_MISSING else "")
        parts.append(f"  {kind}: {len(paths)} missing, e.g. {shown}")
    if any(kind.startswith("translated") for kind in missing):
        parts.append("  (translated frames may have any of the suffixes .jpg/.jpeg/.png; translate the missing ones first: "
                     "photosynth.translate.frameset.translation_sources lists the clone frames each weather needs)")
    return "\n".join(parts)
