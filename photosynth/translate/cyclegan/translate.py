"""Translate a whole dataset with a trained generator, at exactly the original size.

Each frame is reflect-padded on the right/bottom to a multiple of 4, translated and cropped back (no resize
round trip). Frames are batched by size; decoding runs in DataLoader worker processes and encoding + atomic
writing in a thread pool, so the model never waits on file I/O. Outputs mirror the input paths relative to
``input_root`` (same stems, so the training mixes find them); finished outputs are skipped on re-run.
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from photosynth import runtime
from photosynth.imageio import image_size, list_images, mirrored_path, pending, read_rgb, shard, write_image
from photosynth.translate.cyclegan.networks import SIZE_MULTIPLE

#: Output formats: ``same`` keeps each input's suffix.
FORMATS: dict[str, str | None] = {"jpg": ".jpg", "png": ".png", "same": None}


@dataclass(frozen=True)
class TranslateReport:
    """Counts of one translation run (inputs of this shard = translated + skipped)."""

    out_root: Path
    inputs: int
    translated: int
    skipped: int


class _Frames(Dataset):
    """Decodes one input frame (in a worker process) to a 3×H×W uint8 tensor."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[int, torch.Tensor]:
        return index, torch.from_numpy(np.array(read_rgb(self.files[index]))).permute(2, 0, 1)


def _collate(items: list[tuple[int, torch.Tensor]]) -> tuple[list[int], torch.Tensor]:
    return [i for i, _ in items], torch.stack([t for _, t in items])


def size_batches(sizes: Sequence[tuple[int, int]], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of at most ``batch_size`` frames that share one size (input order kept)."""
    groups: dict[tuple[int, int], list[int]] = collections.defaultdict(list)
    for index, size in enumerate(sizes):
        groups[size].append(index)
    return [idx[i : i + batch_size] for idx in groups.values() for i in range(0, len(idx), batch_size)]


def translate_batch(generator: nn.Module, images: torch.Tensor, bf16: bool = False) -> torch.Tensor:
    """N×3×H×W uint8 → N×3×H×W uint8 through ``generator``, any H, W ≥ 4 (reflect-pad to ×4, crop back)."""
    h, w = images.shape[-2:]
    x = images.float().div_(127.5).sub_(1.0)
    ph, pw = (-h) % SIZE_MULTIPLE, (-w) % SIZE_MULTIPLE
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    cast = torch.autocast(x.device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with cast:
        y = generator(x)
    y = y[..., :h, :w].float()
    return y.add_(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def _input_root(source: str | Path | Sequence[str | Path], files: Sequence[Path]) -> Path:
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        return Path(source)
    return Path(os.path.commonpath([str(Path(f).resolve().parent) for f in files]))


def _remove_stale_temps(outputs: Sequence[Path]) -> int:
    """Delete temporary files a killed run left for these outputs; returns the count.

    :func:`photosynth.imageio.write_image` names them ``.<stem>.<8 random chars><suffix>``; only the temporaries
    of this run's own outputs are touched (other shards may be writing in the same folders).
    """
    by_dir: dict[Path, set[tuple[str, str]]] = collections.defaultdict(set)
    for out in outputs:
        by_dir[out.parent].add((out.stem, out.suffix))
    removed = 0
    for folder, wanted in by_dir.items():
        if not folder.is_dir():
            continue
        suffixes = {suffix for _, suffix in wanted}
        for entry in os.scandir(folder):
            name = entry.name
            suffix = next((x for x in suffixes if name.endswith(x)), None)
            if not name.startswith(".") or suffix is None or len(name) < len(suffix) + 10:
                continue
            stem = name[1 : len(name) - len(suffix) - 9]
            if name[len(stem) + 1] == "." and (stem, suffix) in wanted:
                os.unlink(entry.path)
                removed += 1
    return removed


def translate_images(
    generator: nn.Module,
    source: str | Path | Sequence[str | Path],
    out_root: str | Path,
    *,
    input_root: str | Path | None = None,
    fmt: str = "jpg",
    quality: int = 95,
    batch_size: int = 4,
    num_workers: int = 2,
    writers: int = 4,
    shard_spec: str | None = None,
    device: str | None = None,
    bf16: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> TranslateReport:
    """Translate every image of ``source`` (folder, list file or list) into ``out_root``.

    ``input_root`` (default: the source folder, or the inputs' common folder) decides the mirrored output
    paths. ``fmt`` is ``jpg`` (with ``quality``), ``png`` or ``same``. ``shard_spec`` ``"i/n"`` takes every
    n-th frame. bf16 autocast applies on CUDA only.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
    files = list_images(source)
    root = Path(input_root) if input_root is not None else _input_root(source, files)
    mine = shard(files, shard_spec)
    pairs = [(Path(src), mirrored_path(src, root, out_root, FORMATS[fmt])) for src in mine]
    todo = pairs if overwrite else pending(pairs)
    report = TranslateReport(Path(out_root), len(mine), len(todo), len(pairs) - len(todo))
    if not todo:
        return report
    for src, _ in todo:
        if not src.is_file():
            raise FileNotFoundError(f"{src}: listed input image does not exist")
    _remove_stale_temps([dst for _, dst in todo])
    sizes = [image_size(src) for src, _ in todo]  # header only; unreadable files fail here, named
    dev = torch.device(runtime.device(device))
    generator = generator.to(dev).eval()
    loader = DataLoader(
        _Frames([src for src, _ in todo]),
        batch_sampler=size_batches(sizes, batch_size),
        num_workers=num_workers,
        collate_fn=_collate,
        pin_memory=dev.type == "cuda",
        prefetch_factor=4 if num_workers > 0 else None,
    )
    use_bf16 = bf16 and dev.type == "cuda"
    pool = ThreadPoolExecutor(max_workers=max(1, writers), thread_name_prefix="cyclegan-write")
    inflight: collections.deque[Future] = collections.deque()
    bar = tqdm(total=len(todo), desc=f"translate → {Path(out_root).name}", unit="img", disable=not progress)
    try:
        with torch.inference_mode():
            for indices, images in loader:
                out = translate_batch(generator, images.to(dev, non_blocking=True), use_bf16)
                arrays = out.permute(0, 2, 3, 1).cpu().numpy()
                for index, array in zip(indices, arrays):
                    inflight.append(pool.submit(write_image, todo[index][1], np.ascontiguousarray(array), quality))
                while len(inflight) > 4 * max(1, writers) + batch_size:
                    inflight.popleft().result()
                    bar.update(1)
        while inflight:
            inflight.popleft().result()
            bar.update(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    return report
