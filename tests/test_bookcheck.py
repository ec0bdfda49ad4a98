"""The headless-Chromium page check finds what a reader would miss (on a small hand-made site)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from photosynth.bookcheck import check_site, pages

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _page(body: str) -> str:
    return f"<!doctype html><html><head><title>t</title></head><body><main>{body}</main></body></html>"


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ok.png").write_bytes(PNG)
    (tmp_path / "index.html").write_text(_page("redirect"))  # the top-level redirect is not a page
    (tmp_path / "search.html").write_text(_page("search"))
    (tmp_path / "book" / "good.html").write_text(_page(
        '<h1 id="top">Good</h1><img src="ok.png"><a href="bad.html#x">other</a><a href="#top">self</a>'
        '<a href="https://example.org">web</a><pre>$$ code is fine $$</pre>'))
    (tmp_path / "book" / "bad.html").write_text(_page(
        '<p id="x">raw \\(x^2\\) here</p><img src="missing.png"><a href="nowhere.html">dead</a>'
        '<a href="good.html#nope">no anchor</a><div>&lt;IPython.core.display.Markdown object&gt;</div>'))
    return tmp_path


def test_pages_skip_redirect_and_sphinx_pages(site: Path) -> None:
    assert [p.name for p in pages(site)] == ["bad.html", "good.html"]


def test_check_site_reports_each_problem(site: Path) -> None:
    reports = {r.page: r for r in check_site(site)}
    assert reports["book/good.html"].problems == [] and reports["book/good.html"].images == 1
    problems = " | ".join(reports["book/bad.html"].problems)
    for expected in ("image did not load: missing.png", "raw TeX", "broken link 'nowhere.html'",
                     "no anchor #nope", "Python repr"):
        assert expected in problems


def test_empty_site_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no HTML pages"):
        check_site(tmp_path)
