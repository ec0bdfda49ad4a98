"""The whole report in the smoke profile: every notebook through papermill, the book built with -W,
then every page opened in headless Chromium (pages and images load, no raw TeX, no broken links, legible
figures, no pandas leftovers in tables), and the book printed as one PDF."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from photosynth.report import pipeline

from conftest import report_copy


@pytest.fixture(scope="module")
def smoke_book(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A copy of the project's report sources, executed and built in the smoke profile."""
    root = report_copy(tmp_path_factory.mktemp("book"))
    done = subprocess.run([sys.executable, "-m", "photosynth.cli", "book", "--profile", "smoke", "--check",
                           "--root", str(root), "--runs", str(root / "runs")], capture_output=True, text=True)
    return root, done


def test_smoke_book_builds_and_reads_well_in_chromium(smoke_book: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, done = smoke_book
    assert done.returncode == 0, done.stderr[-4000:]
    assert "problems" in done.stderr and ": 0 problems" in done.stderr
    assert "figures measured, smallest text" in done.stderr  # the legibility check saw the figures' records
    html = root / "_build" / "html"
    for notebook in pipeline.toc_notebooks(root):
        page = html / notebook.relative_to(root).with_suffix(".html")
        assert page.is_file(), page


def test_environment_page_shows_this_run(smoke_book: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, done = smoke_book
    assert done.returncode == 0, done.stderr[-4000:]
    page = (root / "_build/html/book/executed/00_environment.html").read_text()
    for text in ("ultralytics", "keras_vgg16_notop", "YOLO_OFFLINE", "profile: smoke", "requirements.lock, sha256"):
        assert text in page


def test_smoke_numbers_are_the_pinned_ones(smoke_book: tuple[Path, subprocess.CompletedProcess]) -> None:
    """Every number of the smoke chain's metrics, intervals and fidelity equals tests/pinned/smoke/ (`make pin`
    updates them on purpose: a change from the code or the lock is then a reviewed diff)."""
    import pinned

    root, done = smoke_book
    assert done.returncode == 0, done.stderr[-4000:]
    found = pinned.compare(root / "runs" / "smoke" / "results")
    assert not found, "the smoke numbers moved (if on purpose: `make pin`):\n" + "\n".join(found)


@pytest.mark.slow  # printing every page (the API reference is long) takes tens of seconds
def test_smoke_book_prints_as_one_pdf_in_reading_order(smoke_book: tuple[Path, subprocess.CompletedProcess]) -> None:
    from pypdf import PdfReader

    from photosynth.report.pdf import toc_files, write_pdf

    root, done = smoke_book
    assert done.returncode == 0, done.stderr[-4000:]
    pdf = write_pdf(root, progress=False)
    assert pdf == root / "_build" / "pdf" / "photosynth.pdf"
    reader = PdfReader(pdf)
    chapters = toc_files(root)
    assert len(reader.pages) >= len(chapters)
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert len(outline) == len(chapters) and [p for _, p in outline] == sorted({p for _, p in outline})
    # NFKC: Chromium prints "fi" as the ligature "ﬁ" (in the fidelity page's title, for one)
    text = unicodedata.normalize("NFKC", " ".join(" ".join(page.extract_text().split()) for page in reader.pages))
    for title, _ in outline:
        assert " ".join(title.split()) in text, title
    headings = []  # each page's own title, in toc order
    for name in chapters:
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", (root / "_build" / "html" / f"{name}.html").read_text(), re.S)
        headings.append(html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))).rstrip("#¶ \n"))
    assert [t for t, _ in outline] == headings
