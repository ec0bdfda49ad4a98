"""The PDF's reading order comes from _toc.yml; a book that was not built is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosynth.report.pdf import toc_files, write_pdf

TOC = """format: jb-book
root: book/index
parts:
  - caption: The study
    chapters:
      - file: book/introduction
        sections:
          - file: book/introduction_more
      - file: book/results
  - caption: Notebooks
    chapters:
      - file: book/executed/00_environment
"""


def test_toc_files_in_reading_order(tmp_path: Path) -> None:
    (tmp_path / "_toc.yml").write_text(TOC)
    assert toc_files(tmp_path) == ["book/index", "book/introduction", "book/introduction_more", "book/results",
                                   "book/executed/00_environment"]


def test_project_toc_and_unbuilt_book(project_root: Path, tmp_path: Path) -> None:
    files = toc_files(project_root)
    assert files[0] == "book/index" and files.index("book/results") < files.index("book/api")
    with pytest.raises(FileNotFoundError, match="no table of contents"):
        toc_files(tmp_path)
    (tmp_path / "_toc.yml").write_text(TOC)
    with pytest.raises(FileNotFoundError, match="build the book first: 5 page"):
        write_pdf(tmp_path)
