"""YOLOv5-family detectors with ultralytics, offline-safe: training (resumable) and COCO-results predictions.

Models are built from ``yolov5{n,s,m,l,x}.yaml`` (random init, nothing downloaded; ultralytics builds its
anchor-free "v5u" head from these names). A training run lives in one folder (``detectors/<mix>/seed<k>/``
in the workspace): the ultralytics outputs (``weights/{best,last}.pt``, ``results.csv``, ``args.yaml``), our
``manifest.json`` and ``predictions/<split>.json``. A finished run whose manifest matches its inputs is skipped;
an unfinished one resumes from ``weights/last.pt`` when ultralytics can (:func:`resume_epoch`), else starts over.
Each epoch's checkpoints are written atomically (ultralytics writes them in place: see :class:`_AtomicCheckpoint`;
on one process: ultralytics' multi-GPU workers run without our callbacks).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from tqdm.auto import tqdm

from photosynth import environment, runtime
from photosynth.atomic import atomic_open, write_json, write_text
from photosynth.datasets.coco import CocoIndex
from photosynth.frames import CLASSES
from photosynth.imageio import IMAGE_SUFFIXES
from photosynth.lockfile import file_digest
from photosynth.weights import AMP_CHECK_WEIGHTS

#: Model names that can be built from ultralytics' YAML (no checkpoint download).
MODELS: tuple[str, ...] = ("yolov5n", "yolov5s", "yolov5m", "yolov5l", "yolov5x")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run (the manifest key) plus how to run it.

    ``extra`` takes any other ultralytics train argument (``{"mosaic": 0.0}``). ``device``, ``workers``,
    ``plots`` and ``threads`` (torch CPU threads, ``None``: every core this process may use) do not change the
    result and are not part of the key.
    """

    model: str = "yolov5n"
    imgsz: int = 640
    epochs: int = 100
    batch: int = 16
    seed: int = 0
    optimizer: str = "auto"
    lr0: float = 0.01
    warmup_epochs: float = 3.0
    patience: int = 100
    extra: dict[str, Any] = field(default_factory=dict)
    device: str | None = None
    workers: int = 2
    plots: bool = False
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        for name in ("imgsz", "epochs", "batch"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "TrainSettings":
        """Build from a profile/CLI mapping; unknown keys are an error naming the allowed ones."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; allowed: {sorted(known)}")
        return cls(**values)

    @classmethod
    def from_parameters(cls, values: Mapping[str, Any]) -> "TrainSettings":
        """Pick the training settings out of a notebook's/profile's parameters (other names ignored)."""
        picked = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        if picked.get("device") in ("", None):
            picked["device"] = None
        picked["extra"] = dict(picked.get("extra") or {})
        if picked.get("threads") in ("", 0):
            picked["threads"] = None
        return cls(**picked)

    def key(self) -> dict[str, Any]:
        """The settings that determine the trained weights."""
        values = asdict(self)
        for name in ("device", "workers", "plots", "threads"):
            values.pop(name)
        return values


@dataclass(frozen=True)
class TrainResult:
    """Where a run's outputs are and what happened (``"trained"``, ``"resumed"`` or ``"skipped"``)."""

    run_dir: Path
    status: str
    seconds: float

    @property
    def best(self) -> Path:
        return self.run_dir / "weights" / "best.pt"

    @property
    def last(self) -> Path:
        return self.run_dir / "weights" / "last.pt"

    @property
    def results_csv(self) -> Path:
        return self.run_dir / "results.csv"


def dataset_fingerprint(data: Path) -> str:
    """Digest of ``data.yaml`` plus the names and sizes of its train/val images and labels."""
    digest = hashlib.sha256(Path(data).read_bytes())
    for split in ("train", "val"):
        try:
            images = dataset_images(data, split)
        except (ValueError, FileNotFoundError):
            continue
        for image in images:
            label = Path(str(image).replace(f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}")).with_suffix(".txt")
            size = label.stat().st_size if label.is_file() else -1
            digest.update(f"{image}:{image.stat().st_size}:{size}\n".encode())
    return digest.hexdigest()[:16]


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest in ``folder``, or ``None`` when absent or unreadable."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def versions() -> dict[str, str]:
    """Library versions recorded in detector manifests."""
    return environment.versions(("ultralytics", "torch"))


def amp_allowed(device: str) -> bool:
    """AMP only on CUDA and only when the AMP-check checkpoint is already local (the check downloads it)."""
    if not device.startswith("cuda") and not device.replace(",", "").isdigit():
        return False
    return (runtime.ultralytics_weights() / AMP_CHECK_WEIGHTS).is_file()


def cpu_threads(requested: int | None = None) -> int:
    """Torch CPU threads to use: ``requested``, else every core this process may run on."""
    if requested is not None:
        if int(requested) < 1:
            raise ValueError(f"threads must be a positive integer or None, got {requested!r}")
        return int(requested)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextmanager
def torch_threads(requested: int | None = None) -> Iterator[int]:
    """Run ultralytics with ``requested`` torch CPU threads (default: every core).

    On CPU, ultralytics' ``select_device`` — called by its trainer, validator and predictor — sets
    ``torch.set_num_threads(NUM_THREADS)`` with ``NUM_THREADS = cpu_count − 1`` (at most 8): one thread on a
    2-core machine. ``select_device`` reads that module global at call time, so it is pointed at our count for
    the duration (every select_device inside then sets ours) and both are put back afterwards.
    """
    import torch

    runtime.ultralytics_module()
    from ultralytics.utils import torch_utils

    count = cpu_threads(requested)
    before_torch, before_ul = torch.get_num_threads(), torch_utils.NUM_THREADS
    torch_utils.NUM_THREADS = count
    torch.set_num_threads(count)
    try:
        yield count
    finally:
        torch_utils.NUM_THREADS = before_ul
        torch.set_num_threads(before_torch)


def _clear_run(run_dir: Path) -> None:
    """Remove a previous run's outputs; refuse to delete a folder that is not a run."""
    if not run_dir.exists():
        return
    if any(run_dir.iterdir()) and not ((run_dir / MANIFEST).exists() or (run_dir / "args.yaml").exists()):
        raise ValueError(f"{run_dir}: exists and is not a detector run folder; choose another output folder")
    shutil.rmtree(run_dir)


def run_key(data: Path, settings: TrainSettings) -> dict[str, Any]:
    """What a run's manifest records to tell whether a finished run still matches its data and settings."""
    return {"data": str(data), "data_digest": dataset_fingerprint(data), "settings": settings.key()}


def is_trained(data: str | Path, run_dir: str | Path, settings: TrainSettings) -> bool:
    """Whether :func:`train` would skip ``run_dir``: a finished run of ``settings`` on this very ``data``."""
    data, run_dir = Path(data).resolve(), Path(run_dir).resolve()
    old = read_manifest(run_dir)
    return bool(old and old.get("key") == run_key(data, settings) and old.get("finished")
                and (run_dir / "weights" / "best.pt").is_file())


def resume_epoch(last: Path, epochs: int) -> int | None:
    """The last finished epoch (0-based) of checkpoint ``last`` when ultralytics can resume from it, else ``None``:
    no file, a file that does not load (ultralytics rewrites its checkpoints in place when a run ends), or one of the
    last epoch or a final one (ultralytics marks those epoch -1): such a run was killed before its manifest said it
    finished, and ultralytics refuses to resume it."""
    if not last.is_file():
        return None
    import torch

    runtime.ultralytics_module()  # the checkpoint pickles ultralytics' classes
    try:
        epoch = int(torch.load(last, map_location="cpu", weights_only=False)["epoch"])
    except Exception:  # torch raises several types for a truncated or foreign file
        return None
    return epoch if 0 <= epoch < epochs - 1 else None


def _trim_results(path: Path, epochs: int) -> None:
    """Keep the rows of ``results.csv`` up to epoch ``epochs`` (1-based, as ultralytics numbers them): ultralytics
    appends an epoch's row before it saves that epoch's checkpoint, so a run killed in between would, once resumed,
    log that epoch twice."""
    if not path.is_file():
        return
    header, *rows = path.read_text().splitlines(keepends=True)
    write_text(path, header + "".join(row for row in rows if float(row.split(",", 1)[0]) <= epochs))


class _AtomicCheckpoint(type(Path())):  # type: ignore[misc]  # PosixPath here: Path itself cannot be subclassed in 3.11
    """A path whose ``write_bytes`` is atomic: ultralytics saves ``weights/{last,best}.pt`` every epoch with
    ``Path.write_bytes``, which a killed run would leave truncated under the final name."""

    def write_bytes(self, data: Any) -> int:
        with atomic_open(self, "wb") as fh:
            fh.write(data)
        return len(data)


def _atomic_checkpoints(trainer: Any) -> None:
    """ultralytics ``on_train_start`` callback: the trainer's epoch checkpoints become :class:`_AtomicCheckpoint`."""
    trainer.last, trainer.best = _AtomicCheckpoint(trainer.last), _AtomicCheckpoint(trainer.best)


def train(
    data: str | Path,
    run_dir: str | Path,
    settings: TrainSettings,
    workspace: runtime.Workspace | None = None,
    progress: bool = True,
    callbacks: Mapping[str, Callable[[Any], None]] | None = None,
) -> TrainResult:
    """Train ``settings.model`` on the YOLO dataset ``data`` (a ``data.yaml``) into ``run_dir``.

    Skips a finished run with a matching manifest, resumes an unfinished one from ``weights/last.pt`` (when
    :func:`resume_epoch` allows, else starts it over), and starts over (clearing stale outputs) when the data or
    the settings changed. ``callbacks`` are extra ultralytics callbacks (event name → function of the trainer).
    """
    data, run_dir = Path(data).resolve(), Path(run_dir).resolve()
    if not data.is_file():
        raise FileNotFoundError(f"{data}: no such data.yaml (build the training mix first)")
    key = run_key(data, settings)
    old = read_manifest(run_dir)
    same = old is not None and old.get("key") == key
    best, last = run_dir / "weights" / "best.pt", run_dir / "weights" / "last.pt"
    if is_trained(data, run_dir, settings):
        return TrainResult(run_dir, "skipped", 0.0)
    finished_epoch = resume_epoch(last, settings.epochs) if same else None
    resume = finished_epoch is not None
    if resume:
        _trim_results(run_dir / "results.csv", finished_epoch + 1)
    else:
        _clear_run(run_dir)
    ul = runtime.ultralytics_module(workspace)
    device = runtime.device(settings.device)
    runtime.seed_everything(settings.seed)
    started = time.time()
    write_json(run_dir / MANIFEST, {"key": key, "finished": False, "versions": versions(), "started": started})
    run_args = {"device": device, "workers": settings.workers, "plots": settings.plots}
    if resume:
        model = ul.YOLO(str(last))
        args = {"resume": str(last), **run_args}
    else:
        model = ul.YOLO(f"{settings.model}.yaml")
        args = {
            "data": str(data),
            "project": str(run_dir.parent),
            "name": run_dir.name,
            "exist_ok": True,
            "imgsz": settings.imgsz,
            "epochs": settings.epochs,
            "batch": settings.batch,
            "seed": settings.seed,
            "optimizer": settings.optimizer,
            "lr0": settings.lr0,
            "warmup_epochs": settings.warmup_epochs,
            "patience": settings.patience,
            "pretrained": False,
            "amp": amp_allowed(device),
            "verbose": False,
            **settings.extra,
            **run_args,
        }
    model.add_callback("on_train_start", _atomic_checkpoints)
    for event, function in (callbacks or {}).items():
        model.add_callback(event, function)
    with _epoch_bar(model, settings.epochs, "/".join(run_dir.parts[-2:]), progress), torch_threads(settings.threads):
        model.train(**args)
    if not best.is_file():
        raise RuntimeError(f"{run_dir}: ultralytics finished without writing {best}")
    seconds = time.time() - started
    write_json(
        run_dir / MANIFEST,
        {"key": key, "finished": True, "versions": versions(), "started": started, "seconds": seconds},
    )
    return TrainResult(run_dir, "resumed" if resume else "trained", seconds)


class _epoch_bar:
    """A tqdm bar over epochs fed by an ultralytics callback (ultralytics' own logging is quiet)."""

    def __init__(self, model: Any, epochs: int, label: str, enabled: bool) -> None:
        self.model, self.epochs, self.label, self.enabled = model, epochs, label, enabled
        self.bar: Any = None

    def _update(self, trainer: Any) -> None:
        if self.bar is None:
            return
        done = min(trainer.epoch + 1, trainer.epochs)
        if done == self.bar.n:  # ultralytics calls again after its final validation
            return
        self.bar.total, self.bar.n = trainer.epochs, done
        map50 = (getattr(trainer, "metrics", None) or {}).get("metrics/mAP50(B)")
        if map50 is not None:
            self.bar.set_postfix(mAP50=f"{map50:.3f}", refresh=False)
        self.bar.refresh()

    def __enter__(self) -> "_epoch_bar":
        if self.enabled:
            self.bar = tqdm(total=self.epochs, desc=f"train {self.label}", unit="epoch")
            self.model.add_callback("on_fit_epoch_end", self._update)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def read_results(run_dir: str | Path) -> pd.DataFrame:
    """The per-epoch training log (ultralytics ``results.csv``) with stripped column names."""
    path = Path(run_dir) / "results.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log (train the detector first)")
    frame = pd.read_csv(path)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


RunKey = str | tuple[str, int]


def _run_labels(key: RunKey) -> dict[str, Any]:
    """Table columns of a run key: a mix name, or ``(mix, seed)``."""
    return {"mix": key[0], "seed": key[1]} if isinstance(key, tuple) else {"mix": key}


def training_logs(runs: Mapping[RunKey, str | Path]) -> pd.DataFrame:
    """The training logs of several runs (mix name or ``(mix, seed)`` → run folder) in one frame with a ``mix``
    (and ``seed``) column."""
    return pd.concat([read_results(path).assign(**_run_labels(key)) for key, path in runs.items()], ignore_index=True)


def seconds_per_epoch(log: pd.DataFrame) -> float:
    """Median wall seconds per epoch from the cumulative ``time`` column (restarts at a resume are skipped)."""
    times = log["time"].to_numpy(dtype=float)
    steps = [b - a for a, b in zip(times[:-1], times[1:]) if b > a]
    return float(pd.Series(steps).median()) if steps else float(times[0])


def run_table(runs: Mapping[RunKey, str | Path]) -> pd.DataFrame:
    """One row per run (mix name or ``(mix, seed)`` → run folder): model, image size, epochs done, wall seconds
    per epoch and the last validation mAP50 (ultralytics, on the mix's own val split)."""
    rows = []
    for name, path in runs.items():
        log, key = read_results(path), (read_manifest(Path(path)) or {}).get("key", {})
        settings = key.get("settings", {})
        last = log.iloc[-1]
        rows.append({**_run_labels(name), "model": settings.get("model"), "imgsz": settings.get("imgsz"),
                     "epochs": int(last["epoch"]), "s_per_epoch": seconds_per_epoch(log),
                     "val_map50": float(last.get("metrics/mAP50(B)", float("nan"))),
                     "best_val_map50": float(log.get("metrics/mAP50(B)", pd.Series([float("nan")])).max())})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------- datasets


def dataset_images(data: str | Path, split: str = "val") -> list[Path]:
    """Image files of one split of a YOLO dataset (``data.yaml`` entry: folder, list file or list of either)."""
    data = Path(data)
    try:
        spec = yaml.safe_load(data.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{data}: not a readable data.yaml ({exc})") from exc
    if not isinstance(spec, dict) or split not in spec or spec[split] is None:
        raise ValueError(f"{data}: no {split!r} entry (expected a folder or list of images)")
    root = Path(spec.get("path") or data.parent)
    if not root.is_absolute():
        root = (data.parent / root).resolve()
    entries = spec[split] if isinstance(spec[split], list) else [spec[split]]
    images: list[Path] = []
    for entry in entries:
        path = Path(entry) if Path(entry).is_absolute() else root / entry
        if path.is_dir():
            images += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
            images += [Path(ln) if Path(ln).is_absolute() else root / ln for ln in lines]
        else:
            raise FileNotFoundError(f"{data}: {split} entry {entry!r} resolves to {path}, which does not exist")
    if not images:
        raise ValueError(f"{data}: the {split!r} split has no images")
    return images


def match_image_ids(coco_gt: str | Path, images: Sequence[Path]) -> dict[Path, int]:
    """Map each image file to its COCO image id by ``file_name`` (a trailing part of the image's path).

    Every image must match a COCO entry and every COCO entry exactly one image, so scores are exact.
    """
    index = CocoIndex(coco_gt)
    out: dict[Path, int] = {}
    for image in images:
        try:
            out[image] = index.id_for(image)
        except KeyError as exc:
            raise ValueError(f"{coco_gt}: {exc.args[0]}") from None
    if len(set(out.values())) != len(out):
        raise ValueError(f"{coco_gt}: two image files matched the same COCO image entry")
    missing = set(index.ids.values()) - set(out.values())
    if missing:
        raise ValueError(f"{coco_gt}: {len(missing)} COCO images have no image file in the dataset (e.g. id {min(missing)})")
    return out


# ------------------------------------------------------------------------------------------ predictions


@dataclass(frozen=True)
class PredictSettings:
    """Prediction parameters: low confidence and many boxes, as mAP needs (NMS IoU 0.6 like YOLOv5 ``val.py``).

    ``imgsz=None`` predicts at the training image size recorded in the run's manifest; ``threads``: torch CPU
    threads (``None``: every core, see :func:`torch_threads`).
    """

    imgsz: int | None = None
    conf: float = 0.001
    iou: float = 0.6
    max_det: int = 300
    batch: int = 16
    device: str | None = None
    threads: int | None = None


def training_imgsz(weights: Path) -> int:
    """The image size a run was trained at (its manifest sits two folders above ``weights/best.pt``)."""
    manifest = read_manifest(Path(weights).resolve().parent.parent)
    try:
        return int(manifest["key"]["settings"]["imgsz"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        raise ValueError(f"{weights}: no run manifest with the training image size; pass imgsz explicitly") from None


def _chunks(items: Sequence[Path], size: int) -> Iterator[Sequence[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def predict(
    weights: str | Path,
    data: str | Path,
    coco_gt: str | Path,
    out: str | Path,
    settings: PredictSettings = PredictSettings(),
    split: str = "val",
    workspace: runtime.Workspace | None = None,
    progress: bool = True,
) -> Path:
    """Predict every image of ``data``'s ``split`` and write COCO results json ``out`` (atomic).

    Entries are ``{image_id, category_id, bbox: [x, y, w, h], score}`` with ids from ``coco_gt`` (matched by
    file name) and ``category_id = class index + 1``. Skipped when ``out`` matches weights, data and settings.
    """
    return predict_sets(weights, [(data, coco_gt, out)], settings, split, workspace, progress)[0]


def predict_sets(
    weights: str | Path,
    sets: Sequence[tuple[str | Path, str | Path, str | Path]],
    settings: PredictSettings = PredictSettings(),
    split: str = "val",
    workspace: runtime.Workspace | None = None,
    progress: bool = True,
) -> list[Path]:
    """:func:`predict` for several ``(data, coco_gt, out)`` sets with one model: an image that several sets share
    (the occlusion buckets and weather sets are subsets of the same BDD photos, linked) is predicted once.

    Each ``out`` is exactly what :func:`predict` writes for its set alone, and is skipped the same way.
    """
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: no such file")
    shared_key = {"weights": str(weights.resolve()), "weights_digest": file_digest(weights, 16)}  # hashed once
    kept_settings = {k: v for k, v in asdict(settings).items() if k not in ("batch", "device", "threads")}
    todo = []
    for data, coco_gt, out in sets:
        coco_gt, out = Path(coco_gt), Path(out)
        if not coco_gt.is_file():
            raise FileNotFoundError(f"{coco_gt}: no such file")
        key = {
            **shared_key,
            "data": str(Path(data).resolve()),
            "split": split,
            "coco_gt": str(coco_gt.resolve()),
            "coco_digest": file_digest(coco_gt, 16),
            "settings": kept_settings,
        }
        meta = out.with_suffix(".manifest.json")
        if out.is_file() and meta.is_file() and json.loads(meta.read_text()).get("key") == key:
            continue
        todo.append((out, meta, key, match_image_ids(coco_gt, dataset_images(data, split))))
    if todo:
        files = list(dict.fromkeys(path.resolve() for *_, ids in todo for path in ids))
        desc = f"predict {todo[0][0].stem}" if len(todo) == 1 else f"predict {len(todo)} sets"
        entries = _predict_images(weights, files, settings, workspace, progress, desc)
        for out, meta, key, ids in todo:
            results = [{**entry, "image_id": image_id} for path, image_id in ids.items()
                       for entry in entries[path.resolve()]]
            write_json(out, results, indent=None)
            write_json(meta, {"key": key, "detections": len(results), "images": len(ids), "versions": versions()})
    return [Path(out) for _, _, out in sets]


def _predict_images(weights: Path, files: Sequence[Path], settings: PredictSettings,
                    workspace: runtime.Workspace | None, progress: bool, desc: str) -> dict[Path, list[dict[str, Any]]]:
    """COCO results entries (``image_id`` 0) of every image in ``files``, by path."""
    if settings.imgsz is None:
        settings = replace(settings, imgsz=training_imgsz(weights))
    model = runtime.ultralytics_module(workspace).YOLO(str(weights))
    device = runtime.device(settings.device)
    entries: dict[Path, list[dict[str, Any]]] = {}
    with tqdm(total=len(files), desc=desc, unit="img", disable=not progress) as bar, torch_threads(settings.threads):
        for chunk in _chunks(files, max(64, settings.batch)):
            for path, result in zip(chunk, model.predict(
                source=[str(p) for p in chunk],
                imgsz=settings.imgsz,
                conf=settings.conf,
                iou=settings.iou,
                max_det=settings.max_det,
                batch=settings.batch,
                device=device,
                verbose=False,
                stream=True,
            )):
                entries[path] = result_entries(0, result.boxes)
                bar.update(1)
    return entries


def result_entries(image_id: int, boxes: Any) -> list[dict[str, Any]]:
    """COCO results entries of one image from an ultralytics ``Boxes`` object."""
    xyxy = boxes.xyxy.cpu().numpy().astype(float)
    scores = boxes.conf.cpu().numpy().astype(float)
    classes = boxes.cls.cpu().numpy().astype(int)
    out = []
    for (x1, y1, x2, y2), score, cls in zip(xyxy, scores, classes):
        if not 0 <= cls < len(CLASSES):
            raise ValueError(f"model predicted class index {cls}, outside the study classes {CLASSES}")
        out.append(
            {
                "image_id": image_id,
                "category_id": int(cls) + 1,
                "bbox": [round(x1, 3), round(y1, 3), round(x2 - x1, 3), round(y2 - y1, 3)],
                "score": round(float(score), 6),
            }
        )
    return out

