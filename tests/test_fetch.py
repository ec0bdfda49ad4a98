"""``photosynth fetch`` against a local HTTP server (127.0.0.1, with Range support): files land where runs look,
wrong hashes leave nothing behind, interrupted downloads resume, present files are skipped."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType

import pytest

from photosynth import fetch, weights
from photosynth.cli import main

VGG = bytes(range(256)) * 40  # 10,240 bytes
INCEPTION = b"inception" * 1000


@dataclass
class Files:
    """What the server serves (path → bytes), what it was asked (path, Range header), and how it misbehaves."""

    bodies: dict[str, bytes]
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    drop_after: dict[str, int] = field(default_factory=dict)  # path → bytes sent before the connection drops (once)
    ranges: bool = True


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        files: Files = self.server.files  # type: ignore[attr-defined]
        wanted = self.headers.get("Range")
        files.requests.append((self.path, wanted))
        body = files.bodies.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if wanted and files.ranges:
            start = int(re.fullmatch(r"bytes=(\d+)-", wanted).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut = files.drop_after.pop(self.path, None)
        self.wfile.write(body[start:] if cut is None else body[start:start + cut])
        self.close_connection = cut is not None

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Files]]:
    files = Files({})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.files = files  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


def served(key: str, body: bytes, server: tuple[str, Files], **changes: object) -> fetch.WeightFile:
    """The real file ``key`` with its URL pointing at the local server (serving ``body``) and hash and size of
    ``body`` (the production URLs are only replaced here, in a copy)."""
    base, files = server
    spec = fetch.FILES[key]
    files.bodies[f"/{spec.name}"] = body
    digest = hashlib.new(spec.algorithm, body).hexdigest() if spec.algorithm else ""
    if spec.algorithm == "sha256":
        digest = digest[: len(spec.digest)]  # a prefix, like the real one
    return replace(spec, **{"url": f"{base}/{spec.name}", "digest": digest,
                            "size": len(body) if spec.size else None} | changes)  # fmt: skip


def quiet(spec: fetch.WeightFile, **kwargs: object) -> Path:
    return fetch.fetch(spec, progress=False, log=lambda _: None, **kwargs)


def test_fetched_files_land_where_runs_look(server: tuple[str, Files]) -> None:
    vgg = quiet(served("vgg16", VGG, server))
    inception = quiet(served("inception", INCEPTION, server))
    assert vgg == weights.keras_models() / weights.VGG16_NOTOP and vgg.read_bytes() == VGG
    assert inception == weights.torch_cache() / weights.INCEPTION_FILE and inception.read_bytes() == INCEPTION
    assert weights.local_weights() == {"keras_vgg16_notop": vgg, "torch_inception_fid": inception}
    assert weights.inception_weights() == inception
    assert vgg.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in vgg.parent.iterdir()) == [weights.VGG16_NOTOP]  # no .part left


def test_a_wrong_hash_names_both_hashes_and_leaves_no_file(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server, digest="0" * 32)
    with pytest.raises(fetch.FetchError) as exc:
        quiet(spec)
    message = str(exc.value)
    assert spec.name in message and "0" * 32 in message and hashlib.md5(VGG).hexdigest() in message
    assert "nothing was written" in message
    assert not spec.target().exists() and not fetch.part_path(spec.target()).exists()
    assert weights.local_weights()["keras_vgg16_notop"] is None


def test_a_wrong_sha256_prefix_is_refused(server: tuple[str, Files]) -> None:
    spec = served("inception", INCEPTION, server, digest="ffffffff")
    with pytest.raises(fetch.FetchError, match="expected sha256 starting ffffffff, got sha256 "):
        quiet(spec)
    assert not any(spec.target().parent.iterdir())


def test_an_interrupted_download_resumes_on_the_next_run(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server)
    server[1].drop_after[f"/{spec.name}"] = 4000
    with pytest.raises(fetch.FetchError, match="4,000 of 10,240 bytes.*kept in .*\\.part: run photosynth fetch again"):
        quiet(spec, attempts=1)
    part = fetch.part_path(spec.target())
    assert part.read_bytes() == VGG[:4000] and not spec.target().exists()
    assert "resuming 4,000 bytes" in fetch.describe(spec)
    assert quiet(spec).read_bytes() == VGG
    assert server[1].requests[-1] == (f"/{spec.name}", "bytes=4000-") and not part.exists()


def test_a_dropped_connection_is_resumed_within_one_run(server: tuple[str, Files]) -> None:
    spec = served("inception", INCEPTION, server)
    server[1].drop_after[f"/{spec.name}"] = 1234
    said: list[str] = []
    path = fetch.fetch(spec, progress=False, log=said.append)
    assert path.read_bytes() == INCEPTION
    assert any("resuming from byte 1,234 (attempt 2 of 3)" in line for line in said)


def test_a_server_that_ignores_range_makes_the_download_start_over(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server)
    server[1].ranges = False
    part = fetch.part_path(spec.target())
    part.parent.mkdir(parents=True)
    part.write_bytes(b"stale bytes from another file")
    assert quiet(spec).read_bytes() == VGG
    assert server[1].requests == [(f"/{spec.name}", "bytes=29-")]


def test_a_complete_part_file_is_verified_without_downloading_again(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server)
    part = fetch.part_path(spec.target())
    part.parent.mkdir(parents=True)
    part.write_bytes(VGG)
    assert quiet(spec).read_bytes() == VGG  # the server answers 416 (nothing after byte 10,240)
    assert server[1].requests == [(f"/{spec.name}", "bytes=10240-")]


def test_a_second_download_of_the_same_file_is_refused_while_the_first_runs(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server)
    part = fetch.part_path(spec.target())
    part.parent.mkdir(parents=True)
    with open(part, "ab") as first:
        fcntl.flock(first.fileno(), fcntl.LOCK_EX)
        with pytest.raises(fetch.FetchError, match="another download is writing"):
            quiet(spec)
    assert server[1].requests == []


def test_a_present_file_with_the_right_hash_is_skipped(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server)
    spec.target().parent.mkdir(parents=True)
    spec.target().write_bytes(VGG)
    said: list[str] = []
    assert fetch.fetch(spec, progress=False, log=said.append) == spec.target()
    assert said == [f"{spec.name}: already present at {spec.target()} (md5 {spec.digest} ok), skipped"]
    assert server[1].requests == []


def test_pytorch_fids_name_for_the_inception_file_counts_as_present(server: tuple[str, Files]) -> None:
    spec = served("inception", INCEPTION, server)
    other = spec.target().with_name(weights.INCEPTION_FILES[1])
    other.parent.mkdir(parents=True)
    other.write_bytes(INCEPTION)
    assert quiet(spec) == other and server[1].requests == []


def test_a_present_file_with_another_hash_is_replaced_by_a_verified_one(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server)
    spec.target().parent.mkdir(parents=True)
    spec.target().write_bytes(b"truncated")
    assert "would fetch a replacement" in fetch.describe(spec)
    assert quiet(spec).read_bytes() == VGG


def test_without_a_published_hash_only_the_size_is_checked(server: tuple[str, Files], tmp_path: Path) -> None:
    spec = served("yolo", b"checkpoint" * 50, server, folder=lambda: tmp_path / "weights")
    server[1].drop_after[f"/{spec.name}"] = 100
    with pytest.raises(fetch.FetchError, match="100 of 500 bytes"):
        quiet(spec, attempts=1)
    said: list[str] = []
    assert fetch.fetch(spec, progress=False, log=said.append).read_bytes() == b"checkpoint" * 50
    assert "no published hash" in said[-1] and "no published hash" in fetch.describe(spec)


def test_an_unreachable_url_is_a_clear_error(server: tuple[str, Files]) -> None:
    spec = served("vgg16", VGG, server)
    with pytest.raises(fetch.FetchError, match="HTTP 404"):
        quiet(replace(spec, url=spec.url + ".missing"))
    with pytest.raises(fetch.FetchError, match="cannot reach http://127.0.0.1:9/"):
        quiet(replace(spec, url="http://127.0.0.1:9/x"))
    assert not any(spec.target().parent.iterdir())  # no empty .part left


def _source(package: str, relative: str) -> str:
    """A file of an installed package, read without importing the package."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return (Path(next(iter(spec.submodule_search_locations))) / relative).read_text()


def test_urls_and_hashes_are_the_installed_libraries_own() -> None:
    keras = _source("keras", "src/applications/vgg16.py")
    no_top = re.search(r"WEIGHTS_PATH_NO_TOP = \((.*?)\)", keras, re.S).group(1)
    assert "".join(re.findall(r'"([^"]*)"', no_top)) == weights.VGG16_NOTOP_URL
    assert re.search(r'WEIGHTS_PATH_NO_TOP,\s*cache_subdir="models",\s*file_hash="(\w+)"', keras).group(1) == \
        weights.VGG16_NOTOP_MD5  # fmt: skip
    fidelity = _source("torch_fidelity", "feature_extractor_inceptionv3.py")
    assert f'"{weights.INCEPTION_URL}"' in fidelity
    hub = re.compile(_source("torch", "hub.py").split("HASH_REGEX = re.compile(r")[1].split(")\n")[0].strip("\"'"))
    assert hub.search(weights.INCEPTION_FILE).group(1) == weights.INCEPTION_SHA256_PREFIX
    downloads = _source("ultralytics", "utils/downloads.py")
    release = re.search(r'def attempt_download_asset\(.*?release: str = "([^"]+)"', downloads, re.S).group(1)
    assert weights.AMP_CHECK_URL == f"https://github.com/ultralytics/assets/releases/download/{release}/yolo26n.pt"
    assert '"yolo26n.pt"' in _source("ultralytics", "utils/checks.py")


@pytest.fixture
def cli_files(server: tuple[str, Files], monkeypatch: pytest.MonkeyPatch) -> dict[str, fetch.WeightFile]:
    files = {"vgg16": served("vgg16", VGG, server), "inception": served("inception", INCEPTION, server)}
    monkeypatch.setattr(fetch, "FILES", MappingProxyType(files))
    return files


def test_cli_fetches_then_lists_then_skips(cli_files: dict[str, fetch.WeightFile],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "--list"]) == 0
    assert capsys.readouterr().out.count(": missing: would fetch http://127.0.0.1:") == 2
    assert main(["fetch", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"fetched {weights.keras_models() / weights.VGG16_NOTOP}" in out
    assert f"fetched {weights.torch_cache() / weights.INCEPTION_FILE}" in out
    assert main(["fetch", "--list"]) == 0
    assert capsys.readouterr().out.count(": present at ") == 2
    assert main(["fetch", "--no-progress"]) == 0
    assert capsys.readouterr().out.count("skipped") == 2


def test_cli_reports_a_wrong_hash_with_exit_code_1(cli_files: dict[str, fetch.WeightFile],
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cli_files["vgg16"] = replace(cli_files["vgg16"], digest="0" * 32)
    monkeypatch.setattr(fetch, "FILES", MappingProxyType(cli_files))
    assert main(["fetch", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert f"photosynth fetch: error: {weights.VGG16_NOTOP}: the download" in captured.err
    assert "expected md5 " + "0" * 32 in captured.err
    assert weights.local_weights() == {"keras_vgg16_notop": None,
                                       "torch_inception_fid": weights.torch_cache() / weights.INCEPTION_FILE}


def test_cli_dest_uses_the_cache_layout(cli_files: dict[str, fetch.WeightFile], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "carry"
    assert main(["fetch", "--no-progress", "--dest", str(dest)]) == 0
    assert (dest / "keras" / "models" / weights.VGG16_NOTOP).read_bytes() == VGG
    assert (dest / "torch" / "hub" / "checkpoints" / weights.INCEPTION_FILE).read_bytes() == INCEPTION
    assert f"KERAS_HOME={dest}/keras; TORCH_HOME={dest}/torch" in capsys.readouterr().out
    assert weights.local_weights() == {"keras_vgg16_notop": None, "torch_inception_fid": None}
    (tmp_path / "file").write_text("")
    assert main(["fetch", "--dest", str(tmp_path / "file")]) == 2


def test_cli_help_documents_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fetch", "--help"])
    out = capsys.readouterr().out
    for spec in fetch.FILES.values():
        assert all(text in out for text in (spec.name, spec.url, spec.size_text, spec.check, spec.source))
    assert "58,889,256 bytes" in out and "md5 6d6bbae143d832006294945121d1f1fc" in out
    assert "sha256 starting 6726825d" in out and "only the size is checked" in out
