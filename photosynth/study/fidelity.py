"""The fidelity study (DESIGN §2, notebook 07): how faithful each translator's frames are, per weather — which
frames are compared, the reference detector's data, and the table. The measures themselves are
:mod:`photosynth.metrics.fidelity`'s.

For every translator (``translated/<method>/<weather>/``, paths mirrored from the vKITTI2 root) and weather,
on the frames it translated (every image in its folder; each must be a clone frame of that weather's slot):

* **paired** — toy world only, where the oracle exists: SSIM and PSNR of each frame against the oracle render
  of the same frame (torchmetrics' functional SSIM — Gaussian window 11, σ 1.5, on RGB in [0, 1] — and PSNR),
  averaged over frames. A frame of another size is resized (bilinear) to the oracle's first. Identical frames
  have PSNR +∞; each frame's PSNR is capped at :data:`PSNR_CAP` dB (above the PSNR of any two different 8-bit
  images under 50 Mpx), so means stay finite.
* **unpaired** — everywhere: KID (mean and std over random subsets) and FID of the frames to the target
  weather's real photos (the BDD style list ``splits/weather/<domain>.txt``) on a labelled feature network,
  through :mod:`photosynth.metrics.domain_gap`. FID is reported only when both sets have more images than the
  features have dimensions (:func:`fid_allowed`): with fewer, the covariance estimates are rank-deficient and
  FID is dominated by its small-sample bias; KID is unbiased at any sample size.
* **content kept** — a reference detector trained on real-style frames (:func:`reference_frames`: the oracle
  renders with the clone frames' labels plus KITTI tracking frames; on real data, KITTI only) predicts every
  set; recall at IoU 0.5 (:data:`IOU`) of its detections with score ≥ :data:`MIN_SCORE` against the clone
  frames' boxes (COCO matching, class-aware, :func:`photosynth.metrics.ap.match`). ``content_kept`` = that
  recall / the same detector's recall on the *same frames* of the reference set: the oracle render when there
  is one, else (real data) the untranslated clone frame. 1 means as many vehicles found as on a perfect
  translation (real data: as on the synthetic frame itself); a translator that erases cars scores low whatever
  its style. The reference detector has seen the oracle frames in training, so its recall on them is a
  training-set recall: the ceiling, not a generalisation claim.

Beside the translators, reference rows on the weather's slot frames: ``clone`` (the untranslated frame: the
"do nothing" translator), ``vkitti`` (vKITTI2's own rendered weather: what the baseline mix uses) and
``oracle`` (its paired columns are empty: it is what the others are measured against).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from photosynth import detect
from photosynth.atomic import atomic_open
from photosynth.datasets.convert import write_dataset
from photosynth.datasets.kitti import read_kitti_tracking
from photosynth.datasets.report import ConversionReport
from photosynth.datasets.vkitti2 import read_vkitti2
from photosynth.design import SCENE_SEQUENCES, STYLE_DOMAINS, WEATHER_SLOTS
from photosynth.frames import Frame
from photosynth.imageio import find_output, list_images, read_rgb
from photosynth.metrics.domain_gap import extract_features
from photosynth.metrics.fidelity import KID_SUBSETS, MIN_SCORE, distances, frame_scores, recall_counts
from photosynth.study.mixes import relabelled
from photosynth.translate.frameset import translation_sources

#: A translator keeps the content when its content kept reaches this share (the bar of issue 11).
KEEP = 0.8


CLONE, VKITTI, ORACLE = "clone", "vkitti", "oracle"
#: Columns of the fidelity table, in order.
COLUMNS: tuple[str, ...] = (
    "translator", "kind", "weather", "bdd_domain", "n_frames", "ssim", "psnr", "kid", "kid_std", "fid",
    "n_target", "n_boxes", "found", "recall", "reference", "reference_recall", "content_kept", "features",
)  # fmt: skip


@dataclass(frozen=True)
class Job:
    """One weather to score: translators' folders (name → ``translated/<name>/<weather>``), the oracle folder
    of that weather (``None`` on real data), the vKITTI2 root and the target photos (a list file or folder)."""

    weather: str
    vkitti_root: Path
    targets: Path
    translated: dict[str, Path] = field(default_factory=dict)
    oracle: Path | None = None

    @property
    def bdd_domain(self) -> str:
        return STYLE_DOMAINS[self.weather]


def frame_key(image: str | Path, root: str | Path) -> str:
    """``image``'s path relative to ``root`` without its suffix: how a translation names its clone frame."""
    try:
        rel = Path(image).resolve().relative_to(Path(root).resolve())
    except ValueError as exc:
        raise ValueError(f"{image} is not inside {root}") from exc
    return rel.with_suffix("").as_posix()


def folder_frames(folder: str | Path) -> dict[str, Path]:
    """Images under ``folder`` keyed by :func:`frame_key` (two images of one frame are an error)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of translated frames")
    out: dict[str, Path] = {}
    for image in list_images(folder):
        key = frame_key(image, folder)
        if key in out:
            raise ValueError(f"{folder}: two images of one frame: {out[key].name} and {image.name}")
        out[key] = image
    return out


def slot_frames(vkitti_root: str | Path, weather: str) -> dict[str, Path]:
    """The clone Camera_0 frames of ``weather``'s slot (what translators translate), keyed by :func:`frame_key`."""
    return {frame_key(p, vkitti_root): p for p in translation_sources(vkitti_root, weather)}


def rendered_frames(vkitti_root: str | Path, weather: str, keys: Sequence[str]) -> dict[str, Path]:
    """vKITTI2's own render of ``weather`` for clone frame ``keys`` (``…/clone/…`` → ``…/<weather>/…``)."""
    out, missing = {}, []
    for key in keys:
        parts = key.split("/")
        if "clone" not in parts:
            raise ValueError(f"{key}: not a clone frame (expected …/SceneXX/clone/frames/rgb/Camera_0/rgb_NNNNN)")
        at = len(parts) - 1 - parts[::-1].index("clone")
        found = find_output(vkitti_root, "/".join([*parts[:at], weather, *parts[at + 1:]]))
        if found is None:
            missing.append(key)
        else:
            out[key] = found
    if missing:
        raise FileNotFoundError(f"{vkitti_root}: vKITTI2's {weather} render is missing for {len(missing)} frame(s), "
                                f"e.g. {missing[0].replace('/clone/', f'/{weather}/')}")  # fmt: skip
    return out


def _subsample(keys: Sequence[str], count: int | None, seed: int) -> list[str]:
    keys = sorted(keys)
    if count is None or count >= len(keys):
        return keys
    rng = np.random.default_rng(seed)
    return [keys[i] for i in sorted(rng.choice(len(keys), count, replace=False))]


def job_sets(job: Job, max_images: int | None = None, seed: int = 0) -> dict[str, dict[str, Path]]:
    """Every set of one weather, name → {frame key → image}: clone, vkitti, the translators, oracle (if any).

    Reference sets cover the weather's slot frames (a seeded subsample of ``max_images`` of them); a
    translator's set is every image of its folder (within that subsample), each of which must be a slot frame.
    """
    slot = slot_frames(job.vkitti_root, job.weather)
    keys = _subsample(list(slot), max_images, seed)
    sets = {CLONE: {k: slot[k] for k in keys}, VKITTI: rendered_frames(job.vkitti_root, job.weather, keys)}
    for name, folder in job.translated.items():
        if name in (CLONE, VKITTI, ORACLE):
            raise ValueError(f"{name!r} names a reference row, not a translator")
        frames = folder_frames(folder)
        stray = sorted(set(frames) - set(slot))
        if stray:
            raise ValueError(f"{frames[stray[0]]}: not a clone frame of the {job.weather} slot ({len(stray)} such "
                             f"file(s) in {folder}); translators translate photosynth.study.mixes.translation_sources")
        sets[name] = {k: frames[k] for k in keys if k in frames}
    if job.oracle is not None:
        oracle = folder_frames(job.oracle)
        missing = [k for k in keys if k not in oracle]
        if missing:
            raise FileNotFoundError(f"{job.oracle}: no oracle render of {len(missing)} {job.weather} slot frame(s), "
                                    f"e.g. {missing[0]}")  # fmt: skip
        sets[ORACLE] = {k: oracle[k] for k in keys}
    return sets


def paired_scores(images: Mapping[str, Path], oracle: Mapping[str, Path]) -> pd.DataFrame:
    """Per frame ``key, ssim, psnr`` of ``images`` against the oracle render of the same key."""
    rows = []
    for key, path in images.items():
        try:
            ssim, psnr = frame_scores(read_rgb(path), read_rgb(oracle[key]))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        rows.append({"key": key, "ssim": ssim, "psnr": psnr})
    return pd.DataFrame(rows, columns=["key", "ssim", "psnr"])


def clone_frames(vkitti_root: str | Path) -> dict[str, Frame]:
    """The labelled clone Camera_0 frames of a vKITTI2 root, keyed by :func:`frame_key`."""
    return {frame_key(f.image, vkitti_root): f for f in read_vkitti2(vkitti_root, variations=["clone"], cameras=(0,))}


def labelled(sets: Mapping[str, Mapping[str, Path]], clones: Mapping[str, Frame], prefix: str) -> list[Frame]:
    """Every image of ``sets`` (name → key → image) as a frame with its clone frame's boxes, keyed
    ``<prefix>/<name>/<key>``."""
    frames = []
    for name, images in sets.items():
        for key, image in images.items():
            if key not in clones:
                raise ValueError(f"{image}: no labelled clone frame {key} in the vKITTI2 root")
            frame = relabelled(clones[key], image, f"fidelity/{name}")
            frames.append(replace(frame, key=f"{prefix}/{name}/{key}"))
    return frames


def reference_frames(vkitti_root: str | Path, kitti_root: str | Path, oracle_root: str | Path | None = None,
                     kitti_frames: int | None = None) -> list[Frame]:  # fmt: skip
    """The reference detector's training frames: KITTI tracking frames of the sequences vKITTI2 clones
    (``kitti_frames`` evenly spaced ones, default all) plus, in the toy world, every oracle render
    (``<oracle_root>/<weather>/…``) with its clone frame's labels."""
    kitti = list(read_kitti_tracking(kitti_root, sequences=sorted(SCENE_SEQUENCES.values())))
    if kitti_frames is not None and kitti_frames < len(kitti):
        kitti = [kitti[i] for i in np.linspace(0, len(kitti) - 1, kitti_frames).round().astype(int)] if kitti_frames else []
    if oracle_root is None:
        return kitti
    oracle = {w: folder_frames(Path(oracle_root) / w) for w in WEATHER_SLOTS if (Path(oracle_root) / w).is_dir()}
    return kitti + labelled(oracle, clone_frames(vkitti_root), "oracle")


def write_frames(frames: Sequence[Frame], out: str | Path, split: str, description: str = "") -> Path:
    """``frames`` as a YOLO dataset (images linked) + ``coco.json`` in ``out``; returns its ``data.yaml``."""
    if not frames:
        raise ValueError(f"{out}: no frames to write")
    report = ConversionReport()
    for frame in frames:
        report.frames_in += 1
        report.boxes_in += len(frame.boxes)
        report.accept(frame)
    write_dataset(frames, out, split=split, report=report, description=description)
    return Path(out).resolve() / "data.yaml"


def _fingerprint(frames: Sequence[Frame]) -> str:
    """Digest of the frames' keys and image files (path, size, mtime): predictions are redone when it changes."""
    digest = hashlib.sha256()
    for frame in frames:
        stat = Path(frame.image).stat()
        digest.update(f"{frame.key}\t{frame.image}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def detect_sets(weights: str | Path, frames: Sequence[Frame], work: str | Path, min_score: float = MIN_SCORE,
                device: str | None = None, progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """Run the reference detector on ``frames`` (one evaluation set in ``work/sets``, predictions in
    ``work/predictions.json``, redone only when weights or images change); per-frame :func:`recall_counts`."""
    work = Path(work)
    data = write_frames(frames, work / "sets", "val", description=f"fidelity sets {_fingerprint(frames)}")
    settings = detect.PredictSettings(conf=min_score, device=device)
    preds = detect.predict(weights, data, data.parent / "coco.json", work / "predictions.json", settings, split="val",
                           progress=progress)  # fmt: skip
    return recall_counts(data.parent / "coco.json", preds, min_score)


def fidelity_table(jobs: Sequence[Job], net: Any, *, detector: str | Path | None = None,
                   work: str | Path | None = None, max_images: int | None = None, seed: int = 0,
                   min_score: float = MIN_SCORE, kid_subsets: int = KID_SUBSETS, device: str | None = None,
                   progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """The fidelity table (:data:`COLUMNS`), one row per weather × set (module docstring).

    ``net``: a labelled feature network (:func:`photosynth.metrics.domain_gap.feature_net`); ``detector``: the
    reference detector's weights (``None``: no content-kept columns) with ``work`` the folder for its
    evaluation set and predictions; ``max_images``: seeded subsample of frames per weather and of target photos.
    """

    if detector is not None and work is None:
        raise ValueError("content kept needs a work folder for the reference detector's predictions")
    if len({job.weather for job in jobs}) != len(jobs):
        raise ValueError(f"one job per weather, got {[job.weather for job in jobs]}")
    all_sets = {job.weather: job_sets(job, max_images, seed) for job in jobs}
    per_frame = []
    rows = []
    total = sum(len(sets) + 1 for sets in all_sets.values())
    with tqdm(total=total, desc="fidelity", unit="set", disable=not progress) as bar:
        for job in jobs:
            sets = all_sets[job.weather]
            targets = _subsample([str(p) for p in list_images(job.targets)], max_images, seed)
            target = extract_features([Path(p) for p in targets], net, device=device)
            bar.update(1)
            for name, images in sets.items():
                paired = (paired_scores(images, sets[ORACLE]) if ORACLE in sets and name != ORACLE
                          else pd.DataFrame({"key": list(images), "ssim": math.nan, "psnr": math.nan}))  # fmt: skip
                per_frame.append(paired.assign(translator=name, weather=job.weather))
                gap = (distances(extract_features(list(images.values()), net, device=device), target, seed, kid_subsets)
                       if images else {"kid": math.nan, "kid_std": math.nan, "fid": math.nan})  # fmt: skip
                kind = "reference" if name in (CLONE, VKITTI) else ORACLE if name == ORACLE else "translator"
                rows.append({"translator": name, "kind": kind, "weather": job.weather, "bdd_domain": job.bdd_domain,
                             "n_frames": len(images), **gap, "n_target": len(targets), "features": net.name})
                bar.update(1)
    frames = pd.concat(per_frame, ignore_index=True)
    table = pd.DataFrame(rows)
    summary = frames.groupby(["weather", "translator"], sort=False)[["ssim", "psnr"]].mean().reset_index()
    table = table.merge(summary, on=["weather", "translator"], how="left")
    if detector is None:
        table = table.assign(n_boxes=pd.NA, found=pd.NA, recall=math.nan, reference=None, reference_recall=math.nan,
                             content_kept=math.nan)
        return table[list(COLUMNS)]
    clones: dict[Path, dict[str, Frame]] = {}
    for job in jobs:
        clones.setdefault(job.vkitti_root, clone_frames(job.vkitti_root))
    labelled_frames = [f for job in jobs for f in labelled(all_sets[job.weather], clones[job.vkitti_root], job.weather)]
    counts = detect_sets(detector, labelled_frames, work, min_score, device, progress)
    parts = counts["key"].str.split("/", n=2, expand=True)
    counts = counts.assign(weather=parts[0], translator=parts[1], key=parts[2])
    table = table.join(table.apply(lambda row: _content(row, counts, all_sets[row.weather]), axis=1))
    return table[list(COLUMNS)]


def _content(row: pd.Series, counts: pd.DataFrame, sets: Mapping[str, Mapping[str, Path]]) -> pd.Series:
    """Recall of one set, and of the reference set on the same frames, and their ratio."""
    reference = ORACLE if ORACLE in sets else CLONE
    here = counts[(counts.weather == row.weather) & (counts.translator == row.translator)]
    keys = set(here.key)
    ref = counts[(counts.weather == row.weather) & (counts.translator == reference) & counts.key.isin(keys)]
    recall = here.found.sum() / here.n_gt.sum() if here.n_gt.sum() else math.nan
    ref_recall = ref.found.sum() / ref.n_gt.sum() if ref.n_gt.sum() else math.nan
    kept = recall / ref_recall if ref_recall else math.nan
    return pd.Series({"n_boxes": int(here.n_gt.sum()), "found": int(here.found.sum()), "recall": recall,
                      "reference": reference, "reference_recall": ref_recall, "content_kept": kept})


def criteria(table: pd.DataFrame) -> pd.DataFrame:
    """Per translator and weather: ``keeps_content`` (content kept ≥ :data:`KEEP`) and ``moves_to_target``
    (KID to the target photos below the untranslated clone frames'); NaN inputs give ``<NA>``."""
    clone = table[table.translator == CLONE].set_index("weather").kid
    rows = table[table.kind == "translator"][["translator", "weather", "content_kept", "kid"]].copy()
    rows["kid_clone"] = rows.weather.map(clone)
    rows["keeps_content"] = (rows.content_kept >= KEEP).astype("boolean").mask(rows.content_kept.isna())
    rows["moves_to_target"] = (rows.kid < rows.kid_clone).astype("boolean").mask(rows[["kid", "kid_clone"]].isna().any(axis=1))
    return rows.reset_index(drop=True)


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the fidelity table as CSV (atomic)."""
    path = Path(path)
    with atomic_open(path, newline="") as fh:
        table.to_csv(fh, index=False)
    return path


def workspace_jobs(workspace_root: str | Path, translators: Sequence[str],
                   weathers: Sequence[str] | None = None) -> list[Job]:  # fmt: skip
    """The jobs of a workspace: ``data/vkitti2``, ``splits/weather/<domain>.txt``, ``translated/<name>/<weather>``
    for every name of ``translators`` that is not a reference row (clone, vkitti, oracle), and the oracle
    ``translated/oracle/<weather>`` when the toy world made one (real data has none)."""
    root = Path(workspace_root)
    vkitti = root / "data" / "vkitti2"
    if not vkitti.is_dir():
        raise FileNotFoundError(f"{vkitti}: no vKITTI2 root (run notebook 01 first)")
    jobs = []
    for weather in weathers or list(WEATHER_SLOTS):
        targets = root / "splits" / "weather" / f"{STYLE_DOMAINS[weather]}.txt"
        if not targets.is_file():
            raise FileNotFoundError(f"{targets}: no BDD photo list for {weather} (run notebook 01 first)")
        folders = {name: root / "translated" / name / weather for name in translators
                   if name not in (CLONE, VKITTI, ORACLE)}  # fmt: skip
        absent = [str(f) for f in folders.values() if not f.is_dir()]
        if absent:
            raise FileNotFoundError(f"no translated frames in {', '.join(absent)} (run notebooks 02/03, or drop "
                                    "those translators from the profile)")  # fmt: skip
        oracle = root / "translated" / ORACLE / weather
        jobs.append(Job(weather, vkitti, targets, folders, oracle if oracle.is_dir() else None))
    return jobs


def examples(jobs: Sequence[Job], seed: int = 0) -> dict[str, dict[str, Path]]:
    """One seeded frame per weather as every set shows it: weather → {set name → image} (for an image grid)."""
    rows = {}
    for job in jobs:
        sets = job_sets(job)
        keys = sorted(set.intersection(*(set(images) for images in sets.values())))
        if keys:
            key = keys[int(np.random.default_rng([seed, len(rows)]).integers(len(keys)))]
            label = f"{job.weather}\n{key.split('/')[-6]} #{int(key.rsplit('_', 1)[-1])}"
            rows[label] = {name: images[key] for name, images in sets.items()}
    return rows
