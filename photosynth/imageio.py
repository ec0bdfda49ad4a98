"""Image files: header sizes, decoding with clear errors, atomic writes, input lists, shards.

Translators (CycleGAN, NST, albumentations) share these so every dataset transformation has the same
guarantees: outputs mirror the inputs' paths relative to the input root (same stems, so the training mixes
find them), are written atomically (a killed run never leaves a truncated file), and finished outputs are
skipped on re-run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from photosynth.atomic import atomic_open

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class ImageError(ValueError):
    """An image that cannot be read; the message names the file."""


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` read from the image header (the pixels are not decoded)."""
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode an image to an ``H×W×3`` uint8 RGB array; unreadable files raise :class:`ImageError`."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc


def write_image(path: str | Path, rgb: np.ndarray, quality: int = 95) -> Path:
    """Write ``rgb`` (H×W×3 uint8) atomically: a temporary file in the same folder, then a rename.

    The format follows the suffix (``.jpg``/``.jpeg`` with ``quality``, ``.png`` lossless).
    """
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{path}: output suffix must be one of {IMAGE_SUFFIXES}")
    array = np.asarray(rgb)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{path}: expected an H×W×3 uint8 array, got {array.dtype} {array.shape}")
    with atomic_open(path, "wb") as fh:
        image = Image.fromarray(array)
        if path.suffix.lower() == ".png":
            image.save(fh, format="PNG")
        else:
            image.save(fh, format="JPEG", quality=quality)
    return path


def list_images(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """Image files from a folder (recursive, sorted), a text file of paths, or a list of paths.

    Raises ``FileNotFoundError`` for a missing source and ``ValueError`` when nothing is found.
    """
    if isinstance(source, (str, Path)):
        source = Path(source)
        if source.is_dir():
            files = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        elif source.is_file():
            lines = [line.strip() for line in source.read_text().splitlines()]
            files = [Path(line) for line in lines if line and not line.startswith("#")]
        else:
            raise FileNotFoundError(f"{source}: no such folder or list file")
    else:
        files = [Path(p) for p in source]
    if not files:
        raise ValueError(f"{source}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return files


def parse_shard(spec: str | None) -> tuple[int, int]:
    """Parse ``"i/n"`` (0 ≤ i < n) into ``(i, n)``; ``None`` means ``(0, 1)``."""
    if spec is None:
        return 0, 1
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError as exc:
        raise ValueError(f"shard must look like 'i/n', got {spec!r}") from exc
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard {spec!r}: need 0 <= i < n")
    return index, count


def shard(items: Sequence, spec: str | None) -> list:
    """The ``i``-th of ``n`` interleaved shards of ``items`` (every item lands in exactly one shard)."""
    index, count = parse_shard(spec)
    return list(items[index::count])


def mirrored_path(src: str | Path, src_root: str | Path, out_root: str | Path, suffix: str | None = None) -> Path:
    """Where the output for ``src`` goes: its path relative to ``src_root`` under ``out_root``.

    ``suffix`` (e.g. ``".png"``) replaces the extension; files outside ``src_root`` are an error.
    """
    src, src_root = Path(src).resolve(), Path(src_root).resolve()
    try:
        rel = src.relative_to(src_root)
    except ValueError as exc:
        raise ValueError(f"{src} is not inside the input root {src_root}") from exc
    out = Path(out_root) / rel
    return out.with_suffix(suffix) if suffix else out


def find_output(out_root: str | Path, rel: str | Path) -> Path | None:
    """The existing output for the input at relative path ``rel``, whatever image suffix it was written with."""
    base = Path(out_root) / Path(rel)
    for suffix in dict.fromkeys((base.suffix.lower(), *IMAGE_SUFFIXES)):
        candidate = base.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def pending(pairs: Iterable[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """The ``(input, output)`` pairs whose output does not exist yet (resume skips the rest)."""
    return [(src, dst) for src, dst in pairs if not dst.is_file()]

