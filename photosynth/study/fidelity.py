"""The fidelity study (DESIGN §2, notebook 07): how faithful each translator's frames are, per weather — which
frames are compared, the reference detector's data and its held-out split, and the table. The measures themselves
are :mod:`photosynth.metrics.fidelity`'s.

For every translator (``translated/<method>/<weather>/``, paths mirrored from the vKITTI2 root) and weather,
on the frames it translated (every image in its folder; each must be a clone frame of that weather's slot):

* **paired** — toy world only, where the oracle exists: SSIM and PSNR of each frame against the oracle render
  of the same frame (torchmetrics' functional SSIM — Gaussian window 11, σ 1.5, on RGB in [0, 1] — and PSNR),
  averaged over frames. A frame of another size is resized (bilinear) to the oracle's first. Identical frames
  have PSNR +∞; each frame's PSNR is capped at :data:`PSNR_CAP` dB (above the PSNR of any two different 8-bit
  images under 50 Mpx), so means stay finite.
* **unpaired** — everywhere: KID (mean and std over random subsets of half the smaller set) and FID of the frames
  to the target weather's real photos (the BDD style list ``splits/weather/<domain>.txt``) on a labelled feature
  network (``kid``, ``kid_std``, ``fid``, ``features``), and KID on the pooled backbone features of the reference
  detector (``detector_kid``, ``detector_kid_std``, ``detector_features``:
  :func:`photosynth.metrics.domain_gap.detector_network`) — a distance in what a detector of real-style frames
  looks at. FID is reported only when both sets have more images than the features have dimensions
  (:func:`~photosynth.metrics.domain_gap.fid_allowed`); KID is unbiased at any sample size.
* **content kept** — a reference detector trained on real-style frames predicts every set. Its training frames
  (:func:`reference_frames`: the oracle renders with the clone frames' labels plus KITTI tracking frames; on real
  data, KITTI only) never come from the **held-out scenes** (:data:`HELDOUT_SCENES`; a KITTI tracking sequence
  counts as the vKITTI2 scene that clones it), and content kept is scored on held-out scenes' frames only
  (``n_scored`` of the ``n_frames``); :class:`ReferenceSplit` records both sides and a frame on both is an error.
  On those frames, per ground-truth box of the clone labels: is it found (IoU ≥ :data:`IOU`, score ≥
  :data:`MIN_SCORE`, COCO matching, class-aware)? ``recall`` = found / ``n_boxes``; ``heldout_recall`` = the
  detector's recall on the **reference render** of the same frames — the oracle render when there is one, else (real
  data) the untranslated clone frame (``reference``); ``content_kept`` = the share of the vehicles found on the
  reference render that are also found on this set's frame (:func:`photosynth.metrics.fidelity.content_kept`). It
  lies in [0, 1] and is 1 for the reference itself: with the oracle as reference it counts the cars, not the
  weather — a car the true weather leaves visible should stay visible, and a translation that adds too little
  weather earns nothing for the cars it shows more clearly (that shows in KID instead). Without an oracle the
  clone frame is the reference, so there content kept also counts the cars a real weather would hide.

Beside the translators, reference rows on the weather's slot frames: ``clone`` (the untranslated frame: the
"do nothing" translator), ``vkitti`` (vKITTI2's own rendered weather: what the baseline mix uses) and
``oracle`` (its paired columns are empty: it is what the others are measured against).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from photosynth import detect
from photosynth.atomic import atomic_open, write_json
from photosynth.datasets.convert import write_dataset
from photosynth.datasets.kitti import read_kitti_tracking
from photosynth.datasets.report import ConversionReport
from photosynth.datasets.vkitti2 import read_vkitti2
from photosynth.design import SCENE_SEQUENCES, STYLE_DOMAINS, WEATHER_SLOTS
from photosynth.frames import Frame
from photosynth.imageio import find_output, list_images, read_rgb
from photosynth.metrics.domain_gap import FeatureNet, extract_features
from photosynth.metrics.fidelity import KID_SUBSETS, MIN_SCORE, content_kept, distances, found_boxes, frame_scores
from photosynth.study.mixes import relabelled
from photosynth.translate.frameset import translation_sources

#: A translator keeps the content when its content kept reaches this share (the bar of issue 11).
KEEP = 0.8
#: Scenes the reference detector never trains on; content kept is scored on their frames. Every second scene of
#: DESIGN's order (01, 02, 06, 18, 20): 572 of vKITTI2's 2,126 frames, and 2 of the toy world's 5 scenes.
HELDOUT_SCENES: tuple[str, ...] = ("Scene02", "Scene18")


CLONE, VKITTI, ORACLE = "clone", "vkitti", "oracle"
#: Columns of the fidelity table, in order.
COLUMNS: tuple[str, ...] = (
    "translator", "kind", "weather", "bdd_domain", "n_frames", "ssim", "psnr", "kid", "kid_std", "fid",
    "detector_kid", "detector_kid_std", "n_target", "n_scored", "n_boxes", "found", "recall", "reference",
    "heldout_recall", "content_kept", "features", "detector_features",
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


def frame_id(frame: Frame) -> tuple[str, int]:
    """``(vKITTI2 scene, frame index)`` of a vKITTI2 frame (any variation, translation or oracle render, which keep
    the clone frame's ``source``) or of a KITTI tracking frame (the scene that clones its sequence): one street
    at one moment, however it is rendered."""
    scenes = {sequence: scene for scene, sequence in SCENE_SEQUENCES.items()}
    scene = frame.source.get("scene") or scenes.get(frame.source.get("sequence"))
    if scene is None or "frame" not in frame.source:
        raise ValueError(f"{frame.image}: neither a vKITTI2 frame nor a KITTI tracking frame of a sequence vKITTI2 "
                         f"clones ({', '.join(SCENE_SEQUENCES.values())})")  # fmt: skip
    return str(scene), int(frame.source["frame"])


@dataclass(frozen=True)
class ReferenceSplit:
    """The reference detector's two sides: ``trained`` — the :func:`frame_id` of every frame it trained on — and
    ``heldout`` — the scenes whose frames content kept is scored on. No frame may be on both."""

    heldout: tuple[str, ...]
    trained: frozenset[tuple[str, int]]

    @classmethod
    def of(cls, frames: Sequence[Frame], heldout: Sequence[str] = HELDOUT_SCENES) -> "ReferenceSplit":
        """The split of a training set ``frames``; a frame of a held-out scene among them is an error."""
        split = cls(tuple(heldout), frozenset(frame_id(f) for f in frames))
        split.check(split.trained, "the reference detector's training frames")
        return split

    def scored(self, frame: Frame) -> bool:
        """Whether content kept is scored on ``frame`` (it is in a held-out scene)."""
        return frame_id(frame)[0] in self.heldout

    def check(self, ids: Iterable[tuple[str, int]], what: str = "the scored frames") -> None:
        """Raise if a frame of ``ids`` is both a training frame and in a held-out scene."""
        both = sorted(i for i in set(ids) if i in self.trained and i[0] in self.heldout)
        if both:
            raise ValueError(f"{what}: {len(both)} frame(s) both trained the reference detector and are held out "
                             f"for scoring, e.g. {both[0][0]} frame {both[0][1]}")  # fmt: skip

    def write(self, path: str | Path) -> Path:
        """Save as JSON (atomic)."""
        write_json(Path(path), {"heldout": list(self.heldout), "trained": sorted(map(list, self.trained))})
        return Path(path)

    @classmethod
    def read(cls, path: str | Path) -> "ReferenceSplit":
        """Load what :meth:`write` saved."""
        data = json.loads(Path(path).read_text())
        try:
            return cls(tuple(data["heldout"]), frozenset((str(s), int(f)) for s, f in data["trained"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a reference split (expected heldout: [scenes], trained: [[scene, frame], "
                             f"…]): {exc}") from exc


def reference_frames(vkitti_root: str | Path, kitti_root: str | Path, oracle_root: str | Path | None = None,
                     kitti_frames: int | None = None,
                     heldout: Sequence[str] = HELDOUT_SCENES) -> list[Frame]:  # fmt: skip
    """The reference detector's training frames, none from a ``heldout`` scene: KITTI tracking frames of the
    sequences vKITTI2 clones (``kitti_frames`` evenly spaced ones, default all) plus, in the toy world, every oracle
    render (``<oracle_root>/<weather>/…``) with its clone frame's labels."""
    unknown = sorted(set(heldout) - set(SCENE_SEQUENCES))
    if unknown or not heldout:
        raise ValueError(f"held-out scenes {list(heldout)}: name one or more of {', '.join(SCENE_SEQUENCES)}")
    frames = list(read_kitti_tracking(kitti_root, sequences=sorted(SCENE_SEQUENCES.values())))
    if oracle_root is not None:
        oracle = {w: folder_frames(Path(oracle_root) / w) for w in WEATHER_SLOTS if (Path(oracle_root) / w).is_dir()}
        frames += labelled(oracle, clone_frames(vkitti_root), "oracle")
    scenes = {frame_id(f)[0] for f in frames}
    if not scenes & set(heldout) or scenes <= set(heldout):
        raise ValueError(f"held-out scenes {list(heldout)} of the scenes {sorted(scenes)}: both the reference "
                         "detector's training frames and the scored frames need a scene")  # fmt: skip
    frames = [f for f in frames if frame_id(f)[0] not in heldout]
    kitti = [f for f in frames if f.dataset == "kitti_tracking"]
    if kitti_frames is not None and kitti_frames < len(kitti):
        picked = np.linspace(0, len(kitti) - 1, kitti_frames).round().astype(int) if kitti_frames else []
        frames = [kitti[i] for i in picked] + [f for f in frames if f.dataset != "kitti_tracking"]
    return frames


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
    ``work/predictions.json``, redone only when weights or images change); per ground-truth box
    :func:`~photosynth.metrics.fidelity.found_boxes`."""
    work = Path(work)
    data = write_frames(frames, work / "sets", "val", description=f"fidelity sets {_fingerprint(frames)}")
    settings = detect.PredictSettings(conf=min_score, device=device)
    preds = detect.predict(weights, data, data.parent / "coco.json", work / "predictions.json", settings, split="val",
                           progress=progress)  # fmt: skip
    return found_boxes(data.parent / "coco.json", preds, min_score)


def _gap(images: Mapping[str, Path], target: np.ndarray, net: FeatureNet, seed: int, kid_subsets: int,
         device: str | None) -> dict[str, float]:  # fmt: skip
    if not images:
        return {"kid": math.nan, "kid_std": math.nan, "fid": math.nan}
    return distances(extract_features(list(images.values()), net, device=device), target, seed, kid_subsets)


def fidelity_table(jobs: Sequence[Job], net: FeatureNet, *, detector: str | Path | None = None,
                   split: ReferenceSplit | None = None, detector_net: FeatureNet | None = None,
                   work: str | Path | None = None, max_images: int | None = None, seed: int = 0,
                   min_score: float = MIN_SCORE, kid_subsets: int = KID_SUBSETS, device: str | None = None,
                   progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """The fidelity table (:data:`COLUMNS`), one row per weather × set (module docstring).

    ``net``: a labelled feature network (:func:`photosynth.metrics.domain_gap.feature_net`); ``detector``: the
    reference detector's weights (``None``: no content-kept columns) with ``split`` its :class:`ReferenceSplit`
    and ``work`` the folder for its evaluation set and predictions; ``detector_net``: its pooled backbone
    (:func:`photosynth.metrics.domain_gap.detector_network`; ``None``: no detector KID); ``max_images``: seeded
    subsample of frames per weather and of target photos.
    """
    if detector is not None and (work is None or split is None):
        raise ValueError("content kept needs the reference detector's split and a work folder for its predictions")
    if len({job.weather for job in jobs}) != len(jobs):
        raise ValueError(f"one job per weather, got {[job.weather for job in jobs]}")
    all_sets = {job.weather: job_sets(job, max_images, seed) for job in jobs}
    nets = {"": net, "detector_": detector_net} if detector_net is not None else {"": net}
    per_frame = []
    rows = []
    total = sum(len(sets) + 1 for sets in all_sets.values()) * len(nets)
    with tqdm(total=total, desc="fidelity", unit="set", disable=not progress) as bar:
        for job in jobs:
            sets = all_sets[job.weather]
            targets = [Path(p) for p in _subsample([str(p) for p in list_images(job.targets)], max_images, seed)]
            target = {}
            for prefix, features in nets.items():
                target[prefix] = extract_features(targets, features, device=device)
                bar.update(1)
            for name, images in sets.items():
                paired = (paired_scores(images, sets[ORACLE]) if ORACLE in sets and name != ORACLE
                          else pd.DataFrame({"key": list(images), "ssim": math.nan, "psnr": math.nan}))  # fmt: skip
                per_frame.append(paired.assign(translator=name, weather=job.weather))
                kind = "reference" if name in (CLONE, VKITTI) else ORACLE if name == ORACLE else "translator"
                row = {"translator": name, "kind": kind, "weather": job.weather, "bdd_domain": job.bdd_domain,
                       "n_frames": len(images), "n_target": len(targets), "features": net.name,
                       "detector_features": detector_net.name if detector_net is not None else None}  # fmt: skip
                for prefix, features in nets.items():
                    gap = _gap(images, target[prefix], features, seed, kid_subsets, device)
                    row |= {f"{prefix}{k}": v for k, v in gap.items() if not prefix or k != "fid"}  # KID only
                    bar.update(1)
                rows.append(row)
    frames = pd.concat(per_frame, ignore_index=True)
    table = pd.DataFrame(rows).reindex(columns=[c for c in COLUMNS if c not in ("ssim", "psnr")])
    summary = frames.groupby(["weather", "translator"], sort=False)[["ssim", "psnr"]].mean().reset_index()
    table = table.merge(summary, on=["weather", "translator"], how="left")
    if detector is None:
        return table.assign(n_scored=pd.NA, n_boxes=pd.NA, found=pd.NA, recall=math.nan, reference=None,
                            heldout_recall=math.nan, content_kept=math.nan)[list(COLUMNS)]  # fmt: skip
    clones: dict[Path, dict[str, Frame]] = {}
    for job in jobs:
        clones.setdefault(job.vkitti_root, clone_frames(job.vkitti_root))
    scored = [f for job in jobs for f in labelled(all_sets[job.weather], clones[job.vkitti_root], job.weather)
              if split.scored(f)]  # fmt: skip
    if not scored:
        raise ValueError(f"no frame of the held-out scenes {list(split.heldout)} among the frames to score")
    split.check(map(frame_id, scored))
    boxes = detect_sets(detector, scored, work, min_score, device, progress)
    parts = boxes["key"].str.split("/", n=2, expand=True)
    boxes = boxes.assign(weather=parts[0], translator=parts[1], key=parts[2])
    n_scored = Counter(tuple(f.key.split("/", 2)[:2]) for f in scored)
    content = table.apply(lambda row: _content(row, boxes, ORACLE if ORACLE in all_sets[row.weather] else CLONE,
                                               n_scored[(row.weather, row.translator)]), axis=1)  # fmt: skip
    content = content.astype({"n_scored": int, "n_boxes": int, "found": int, "recall": float, "heldout_recall": float,
                              "content_kept": float})  # fmt: skip
    return table.drop(columns=list(content.columns)).join(content)[list(COLUMNS)]


def _content(row: pd.Series, boxes: pd.DataFrame, reference: str, n_scored: int) -> pd.Series:
    """One set's held-out frames: frames and boxes scored, boxes found, recall, the reference render's recall on
    the same frames and the content kept."""
    of_weather = boxes[boxes.weather == row.weather]
    here = of_weather[of_weather.translator == row.translator]
    ref = of_weather[of_weather.translator == reference]
    pair = here.merge(ref, on=["key", "box"], how="left", suffixes=("", "_ref"), validate="one_to_one")
    if pair.found_ref.isna().any():
        raise ValueError(f"{row.weather}/{row.translator}: boxes without a {reference} counterpart")
    found, ref_found = pair.found.to_numpy(bool), pair.found_ref.to_numpy(bool)
    n = len(pair)
    return pd.Series({"n_scored": n_scored, "n_boxes": n, "found": int(found.sum()),
                      "recall": found.mean() if n else math.nan, "reference": reference,
                      "heldout_recall": ref_found.mean() if n else math.nan,
                      "content_kept": content_kept(found, ref_found)})  # fmt: skip


def criteria(table: pd.DataFrame) -> pd.DataFrame:
    """Per translator and weather: ``keeps_content`` (content kept ≥ :data:`KEEP`) and ``moves_to_target`` — its
    KID to the target photos is below the untranslated clone frames' by more than the two spreads:
    ``kid + kid_std < kid_clone - kid_clone_std`` (the intervals KID ± std do not overlap); a smaller difference is
    not a move. ``moves_to_target_detector`` applies the same rule to the detector-feature KID when the table has
    one. NaN inputs give ``<NA>``."""
    families = {"": "moves_to_target"}
    if "detector_kid" in table and table.detector_kid.notna().any():
        families["detector_"] = "moves_to_target_detector"
    kids = [f"{p}{c}" for p in families for c in ("kid", "kid_std")]
    clone = table[table.translator == CLONE].set_index("weather")[kids]
    rows = table[table.kind == "translator"][["translator", "weather", "content_kept", *kids]].copy()
    rows["keeps_content"] = (rows.content_kept >= KEEP).astype("boolean").mask(rows.content_kept.isna())
    for prefix, name in families.items():
        kid, std = f"{prefix}kid", f"{prefix}kid_std"
        rows[f"{kid}_clone"], rows[f"{std}_clone"] = rows.weather.map(clone[kid]), rows.weather.map(clone[std])
        values = rows[[kid, std, f"{kid}_clone", f"{std}_clone"]]
        moved = rows[kid] + rows[std] < rows[f"{kid}_clone"] - rows[f"{std}_clone"]
        rows[name] = moved.astype("boolean").mask(values.isna().any(axis=1))
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
