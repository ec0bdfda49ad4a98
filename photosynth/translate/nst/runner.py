"""Neural style transfer of a dataset: each frame with a seeded BDD style photo, at its original size,
written atomically, resumable and shardable (:mod:`photosynth.translate.frameset`), with a loss log.

Outputs: ``<out>/<path relative to the vKITTI2 root>`` (same stems as the clone frames), ``manifest.json``
(settings, weights label — random init says so — counts) and ``losses.csv`` (one row per loss evaluation).
With ``random_calibrated`` weights the network is first calibrated on a seeded sample of the frames and
style photos (:func:`calibration_sample`), recorded in the manifest's settings.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from photosynth import imageio
from photosynth.atomic import remove_stale_temps, write_text
from photosynth.translate import frameset
from photosynth.translate.nst.config import NSTConfig
from photosynth.translate.nst.transfer import CALIBRATION_IMAGES, StyleTransfer
from photosynth.translate.nst.weights import Weights


def choose_style(styles: Sequence[Path], seed: int, key: str) -> Path:
    """The style image of one frame: a seeded draw from ``styles`` (same seed and frame key → same image)."""
    if not styles:
        raise ValueError("no style images to choose from")
    rng = np.random.default_rng(frameset.frame_seed(seed, key))
    return Path(styles[int(rng.integers(len(styles)))])


def calibration_sample(sources: Sequence[str | Path], styles: Sequence[str | Path], seed: int,
                       count: int = CALIBRATION_IMAGES) -> list[Path]:
    """Up to ``count`` frames and ``count`` style photos, a seeded draw (same inputs and seed → same sample)."""
    rng = np.random.default_rng([seed, 2016])
    picked = []
    for paths in (sorted(map(str, sources)), sorted(map(str, styles))):
        picked += [Path(paths[i]) for i in sorted(rng.choice(len(paths), min(count, len(paths)), replace=False))]
    return picked


def stylize_dataset(
    sources: Sequence[str | Path],
    src_root: str | Path,
    out_root: str | Path,
    styles: Sequence[str | Path],
    config: NSTConfig,
    weights: str | Path | Weights | None = "imagenet",
    seed: int = 0,
    batch_size: int = 4,
    shard: str | None = None,
    progress: bool = True,
    transfer: StyleTransfer | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Stylize ``sources`` into ``out_root`` (paths mirrored from ``src_root``, original sizes, atomic, resumable).

    Each frame's style image is a seeded draw from ``styles``. Writes ``manifest.json`` (settings, weights
    label — random init says so — counts) and ``losses.csv`` (one row per loss evaluation) beside the images.
    Outputs made with other settings raise ``ValueError`` unless ``overwrite`` (see
    :func:`photosynth.translate.frameset.plan`); ``transfer`` reuses a built model (its config and weights
    then apply). Returns the manifest's payload.
    """
    styles = [Path(s) for s in styles]
    if not styles:
        raise ValueError("no style images given")
    transfer = transfer or StyleTransfer(config, weights, seed)
    if transfer.weights.calibrated:  # the network is a function of the seed and this sample only
        transfer.calibrate(calibration_sample(sources, styles, seed))
    settings = {
        "method": "nst",
        "weights": transfer.weights.label,
        "config": asdict(transfer.config),
        "seed": seed,
        "src_root": str(Path(src_root).resolve()),
        "styles": {"count": len(styles), "sha1": hashlib.sha1("\n".join(sorted(map(str, styles))).encode()).hexdigest()},
    }
    if transfer.weights.calibrated:
        settings["calibration"] = transfer.calibration
    jobs, todo = frameset.plan(sources, src_root, out_root, shard, settings=settings, overwrite=overwrite)
    payload: dict[str, Any] = {
        "settings": settings,
        "backend": transfer.backend,
        "random_init": transfer.weights.random_init,
        "calibrated": transfer.weights.calibrated,
        "notice": transfer.weights.notice,
        "frames": len(jobs),
        "skipped_existing": len(jobs) - len(todo),
        "status": "running",
    }
    frameset.write_manifest(out_root, shard, payload)
    index, count = imageio.parse_shard(shard)
    log = _LossLog(Path(out_root) / ("losses.csv" if count == 1 else f"losses.shard-{index}-of-{count}.csv"),
                   fresh=overwrite or len(todo) == len(jobs))

    def work(batch: list[frameset.Job]) -> None:
        result = transfer.stylize([j.src for j in batch], [choose_style(styles, seed, j.key) for j in batch])
        for job, image in zip(batch, result.images):
            imageio.write_image(job.dst, image)
        log.add(batch[0].key, result.history)

    written = frameset.run_jobs(todo, work, batch_size, desc=f"nst → {Path(out_root).name}", progress=progress)
    payload.update(written=written, status="complete", cached_styles=transfer.cached_styles)
    frameset.write_manifest(out_root, shard, payload)
    return payload


class _LossLog:
    """``losses.csv``: the loss history of every batch, rewritten atomically after each batch (resume appends)."""

    COLUMNS = ("batch_first_frame", "step", "iteration", "content", "style", "tv", "total")

    def __init__(self, path: Path, fresh: bool = False):
        self.path = path
        remove_stale_temps(path)  # a run killed while rewriting the log left its temporary
        header = ",".join(self.COLUMNS) + "\n"
        self.text = path.read_text() if path.is_file() and not fresh else header

    def add(self, key: str, history: list[dict[str, float]]) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf)
        for row in history:
            writer.writerow([key, *(row[c] for c in self.COLUMNS[1:])])
        self.text += buf.getvalue()
        write_text(self.path, self.text)


def read_losses(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``losses.csv`` written by :func:`stylize_dataset` (numbers as floats)."""
    with open(path, newline="") as fh:
        return [{k: (v if k == "batch_first_frame" else float(v)) for k, v in row.items()} for row in csv.DictReader(fh)]
