"""Download the pretrained weight files on purpose (``photosynth fetch``), never at run time (DESIGN §5).

Runs only read these files (:mod:`photosynth.weights`); this module is the one place that downloads them, on a machine
with a network. Each file comes from the URL its owning library downloads it from, is checked with the hash that
library checks (Keras' md5 ``file_hash``; the sha256 prefix in the file name, ``torch.hub``'s ``check_hash``), and lands
in the folder a run looks in — or under ``dest`` in the same layout, to copy to an offline machine.

The transfer is not the libraries' own: ``keras.utils.get_file`` writes straight to the final name (a killed download
leaves a truncated file there, which counts as present, and a wrong hash raises but keeps the file), and
``torch.hub.download_url_to_file`` starts again from byte 0 after any interruption. Here a download goes into
``<name>.part`` beside the final file, an interrupted one resumes from it (HTTP ``Range``), and the file gets its final
name only once its size and hash are right; a wrong hash deletes the download and names both hashes.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.client
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm

from photosynth import __version__, runtime, weights
from photosynth.atomic import publish

#: Bytes read per network call.
CHUNK = 1 << 20


class FetchError(Exception):
    """A download that did not produce a verified file: unreachable URL, HTTP error, interruption or wrong hash."""


class _Interrupted(Exception):
    """The connection ended before the whole file arrived (what arrived stays in the ``.part`` file)."""


@dataclass(frozen=True)
class WeightFile:
    """One weight file: where its library publishes it, how to check it, and where runs look for it."""

    name: str
    url: str
    #: The owning library and where in it the URL and hash come from.
    source: str
    #: What the study uses it for.
    used_for: str
    #: ``"md5"`` or ``"sha256"``; ``None`` when the library publishes no hash (then only the size is checked).
    algorithm: str | None
    #: The hash (md5) or its leading hex digits (sha256 prefix); ``""`` without one.
    digest: str
    #: Exact size in bytes when known, else ``None`` (the server's Content-Length is checked instead).
    size: int | None
    size_text: str
    #: Where runs look, as the user sees it (with the environment variable that moves it).
    where: str
    #: The folder runs look in (resolved when called, so ``KERAS_HOME`` / ``TORCH_HOME`` count).
    folder: Callable[[], Path]
    #: The same folder under ``--dest DIR``, and what to set on the run machine to use it (``{dest}`` = DIR).
    layout: str
    hint: str
    #: Other names runs accept for it in the same folder.
    also: tuple[str, ...] = ()

    @property
    def check(self) -> str:
        """The check in words, e.g. ``md5 6d6b…`` or ``sha256 starting 6726825d``."""
        if self.algorithm is None:
            return "no published hash: only the size is checked, the content is unverified"
        prefix = self.algorithm == "sha256" and len(self.digest) < 64
        return f"{self.algorithm} {'starting ' if prefix else ''}{self.digest}"

    def target(self, dest: Path | None = None) -> Path:
        """The final path: in :attr:`folder`, or under ``dest`` in :attr:`layout`."""
        return (Path(dest).expanduser() / self.layout if dest is not None else self.folder()) / self.name

    def matches(self, digest: str) -> bool:
        """Whether a file's hex digest is this file's (equal, or starting with the published prefix)."""
        return self.algorithm is None or digest.startswith(self.digest)


#: The files ``photosynth fetch`` knows, by key; each URL and hash is its owning library's own, fixed here.
FILES: Mapping[str, WeightFile] = MappingProxyType({
    "vgg16": WeightFile(
        name=weights.VGG16_NOTOP, url=weights.VGG16_NOTOP_URL,
        source="keras (keras.applications.vgg16: WEIGHTS_PATH_NO_TOP, the file_hash VGG16 checks)",
        used_for="neural style transfer (03_style_transfer.nst_weights: imagenet)",
        algorithm="md5", digest=weights.VGG16_NOTOP_MD5,
        size=weights.VGG16_NOTOP_BYTES, size_text=f"{weights.VGG16_NOTOP_BYTES:,} bytes",
        where="$KERAS_HOME/models/ (default ~/.keras/models/)", folder=weights.keras_models,
        layout="keras/models", hint="KERAS_HOME={dest}/keras"),
    "inception": WeightFile(
        name=weights.INCEPTION_FILE, url=weights.INCEPTION_URL,
        source="torch-fidelity (feature_extractor_inceptionv3.URL_INCEPTION_V3), loaded by torchmetrics' FID/KID",
        used_for="FID/KID of the domain gap (06_results.gap_features) and the fidelity table (07_fidelity.features)",
        algorithm="sha256", digest=weights.INCEPTION_SHA256_PREFIX,
        size=None, size_text=f"{weights.INCEPTION_SIZE} (exact size not recorded: the server's length is checked)",
        where="$TORCH_HOME/hub/checkpoints/ (default ~/.cache/torch/hub/checkpoints/)", folder=weights.torch_cache,
        layout="torch/hub/checkpoints", hint="TORCH_HOME={dest}/torch", also=weights.INCEPTION_FILES[1:]),
    "yolo": WeightFile(
        name=weights.AMP_CHECK_WEIGHTS, url=weights.AMP_CHECK_URL,
        source="ultralytics (utils.downloads.attempt_download_asset, assets release v8.4.0)",
        used_for="ultralytics' AMP check: detector training on CUDA uses AMP only when this file is present",
        algorithm=None, digest="", size=None, size_text="not published (the server's length is checked)",
        where="ultralytics' weights_dir setting (settings in $YOLO_CONFIG_DIR; default <checkout>/weights/)",
        folder=runtime.ultralytics_weights, layout="ultralytics/weights",
        hint="ultralytics' weights_dir={dest}/ultralytics/weights (yolo settings weights_dir=...)"),
})  # fmt: skip
#: What ``photosynth fetch`` fetches without options: what the ``full`` profile needs.
DEFAULT: tuple[str, ...] = ("vgg16", "inception")


@dataclass(frozen=True)
class State:
    """What is on disk for one file: the present copy (if any), its digest, and the bytes of a download to resume."""

    path: Path
    present: bool
    digest: str
    partial: int

    def ok(self, spec: WeightFile) -> bool:
        return self.present and spec.matches(self.digest)


def hexdigest(path: Path, algorithm: str | None) -> str:
    """The file's hex digest (``""`` when ``algorithm`` is ``None``)."""
    if algorithm is None:
        return ""
    h = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def part_path(final: Path) -> Path:
    """Where a download of ``final`` collects its bytes until it is verified."""
    return final.with_name(final.name + ".part")


def state(spec: WeightFile, dest: Path | None = None) -> State:
    """What is on disk for ``spec``: the first accepted name that verifies, else the final name (present or not)."""
    final = spec.target(dest)
    part = part_path(final)
    partial = part.stat().st_size if part.is_file() else 0
    wrong = None  # the final name, present with another hash
    for path in (final, *(final.with_name(n) for n in spec.also)):
        if path.is_file():
            found = State(path, True, hexdigest(path, spec.algorithm), partial)
            if found.ok(spec):
                return found
            if path == final:
                wrong = found
    return wrong or State(final, False, "", partial)


def describe(spec: WeightFile, dest: Path | None = None) -> str:
    """One line for ``--list``: present and verified, present with another hash, or missing (what would happen)."""
    now = state(spec, dest)
    if now.ok(spec):
        return f"{spec.name}: present at {now.path} ({_verdict(spec)})"
    resume = f", resuming {now.partial:,} bytes in {part_path(now.path).name}" if now.partial else ""
    if now.present:
        return (f"{spec.name}: {now.path} has {spec.algorithm} {now.digest}, expected {spec.check}: "
                f"would fetch a replacement from {spec.url}{resume}")
    return f"{spec.name}: missing: would fetch {spec.url} into {now.path.parent}{resume}"


def _verdict(spec: WeightFile) -> str:
    return f"{spec.check} ok" if spec.algorithm else "no published hash to check it against"


def fetch(spec: WeightFile, dest: Path | None = None, *, attempts: int = 3, timeout: float = 60.0,
          progress: bool = True, log: Callable[[str], None] = print) -> Path:
    """Make sure ``spec`` is at its final path, verified; download it when it is not. Returns the path.

    A present file that verifies is kept (skipped). Otherwise the file is downloaded into ``<name>.part`` (resuming a
    previous partial download), up to ``attempts`` connections, checked against its size and hash and renamed to its
    final name; a present file with another hash is replaced only by a verified one. Raises :class:`FetchError`
    (naming the file; on a wrong hash also the expected and the actual hash, with the download deleted).
    """
    now = state(spec, dest)
    if now.ok(spec):
        log(f"{spec.name}: already present at {now.path} ({_verdict(spec)}), skipped")
        return now.path
    final = spec.target(dest)
    if now.present:
        log(f"{spec.name}: {now.path} has {spec.algorithm} {now.digest}, expected {spec.check}: fetching a replacement")
    final.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(final)
    log(f"{spec.name}: downloading {spec.url} into {final.parent}")
    with open(part, "ab") as out:
        try:
            fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FetchError(f"{spec.name}: another download is writing {part}; wait for it to finish") from None
        try:
            _download(spec, out, part, attempts, timeout, progress, log)
        except FetchError:
            if part.stat().st_size == 0:  # nothing to resume: leave no empty .part behind
                part.unlink()
            raise
        got = hexdigest(part, spec.algorithm)
        size = part.stat().st_size
        wrong_size = spec.size is not None and size != spec.size
        if wrong_size or not spec.matches(got):
            part.unlink()
            expected = [spec.check] if spec.algorithm else []
            expected += [f"{spec.size:,} bytes"] if spec.size is not None else []
            found = ([f"{spec.algorithm} {got}"] if spec.algorithm else []) + [f"{size:,} bytes"]
            raise FetchError(f"{spec.name}: the download from {spec.url} does not verify: expected "
                             f"{', '.join(expected)}, got {', '.join(found)}. It was deleted; nothing was written "
                             f"to {final}")
        publish(part, final)
    log(f"{spec.name}: fetched {final} ({size:,} bytes, {_verdict(spec)})")
    return final


def _download(spec: WeightFile, out: BinaryIO, part: Path, attempts: int, timeout: float, progress: bool,
              log: Callable[[str], None]) -> None:
    """Complete ``out`` (the locked ``.part`` file, opened for appending) from ``spec.url``, resuming after drops."""
    for attempt in range(1, attempts + 1):
        try:
            _transfer(spec, out, timeout, progress)
            out.flush()
            os.fsync(out.fileno())
            return
        except _Interrupted as exc:
            out.flush()
            kept = part.stat().st_size
            if attempt == attempts:
                raise FetchError(f"{spec.name}: {exc}; {kept:,} bytes are kept in {part}: run photosynth fetch "
                                 "again to resume") from None
            log(f"{spec.name}: {exc}; resuming from byte {kept:,} (attempt {attempt + 1} of {attempts})")


def _transfer(spec: WeightFile, out: BinaryIO, timeout: float, progress: bool) -> None:
    """One connection: append the rest of the file to ``out`` (``Range`` from its size; a server that answers with
    the whole file makes it start over). Raises :class:`_Interrupted` when the connection ends early."""
    out.flush()
    offset = os.fstat(out.fileno()).st_size
    headers = {"User-Agent": f"photosynth/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(spec.url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        if exc.code == 416 and offset:  # nothing left after `offset`: complete if that is the whole file
            if _content_range(exc.headers.get("Content-Range", ""))[1] == offset:
                return
            _restart(out)
            raise _Interrupted("the server refused to resume the partial download; starting again") from None
        raise FetchError(f"{spec.name}: {spec.url} answered HTTP {exc.code} {exc.reason}") from None
    except (URLError, OSError) as exc:
        raise FetchError(f"{spec.name}: cannot reach {spec.url}: {getattr(exc, 'reason', exc)}") from None
    with response:
        if response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range", ""))
            if start != offset:
                _restart(out)
                raise _Interrupted(f"the server resumed at byte {start}, not {offset}; starting again")
        else:  # the whole file: start over
            _restart(out)
            offset = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        with tqdm(total=total, initial=offset, desc=spec.name, unit="B", unit_scale=True, unit_divisor=1024,
                  disable=not progress, file=sys.stderr) as bar:
            try:
                while block := response.read(CHUNK):
                    out.write(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as exc:
                raise _Interrupted(f"the connection broke ({exc})") from None
    out.flush()
    got = os.fstat(out.fileno()).st_size
    if total is not None and got < total:
        raise _Interrupted(f"the connection closed after {got:,} of {total:,} bytes")
    if total is not None and got > total:
        _restart(out)
        raise FetchError(f"{spec.name}: {spec.url} sent {got:,} bytes, more than the {total:,} it announced")


def _restart(out: BinaryIO) -> None:
    """Empty the ``.part`` file so the next transfer starts from byte 0."""
    out.truncate(0)
    out.seek(0)


def _content_range(value: str) -> tuple[int | None, int | None]:
    """``(first byte, total size)`` of a ``Content-Range`` header (``bytes 5-9/10``, ``bytes */10``)."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not match:
        return None, None
    start, total = match.groups()
    return (int(start) if start else None), (int(total) if total.isdigit() else None)


def selected(yolo: bool = False) -> list[WeightFile]:
    """The files to fetch: :data:`DEFAULT`, plus the AMP-check checkpoint with ``yolo``."""
    return [FILES[key] for key in (*DEFAULT, *(("yolo",) if yolo else ()))]


def files_help() -> str:
    """Each file with its source library, URL, size, hash and place (the ``--help`` epilog)."""
    lines = ["files (each URL and hash is the owning library's own, fixed in photosynth.weights):"]
    for key, spec in FILES.items():
        lines += [f"  {spec.name}{'' if key in DEFAULT else '  (only with --yolo)'}",
                  f"    source: {spec.source}", f"    url:    {spec.url}", f"    size:   {spec.size_text}",
                  f"    hash:   {spec.check}", f"    into:   {spec.where}", f"    for:    {spec.used_for}"]
    return "\n".join(lines)
