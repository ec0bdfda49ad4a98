"""The headless-Chromium page check finds what a reader would miss (on a small hand-made site)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from photosynth.report.bookcheck import check_site, figure_record, pages
from photosynth.report.figures import DPI_KEY, FONT_KEY

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _figure_png(width: int, text: dict[str, str]) -> bytes:
    """A plain PNG ``width`` px wide with ``text`` chunks (what a saved figure carries)."""
    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.new("RGB", (width, 50), "white").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


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


@pytest.fixture()
def figure_site(tmp_path: Path) -> Path:
    """Figures that are legible, illegible (tiny text, or shrunk), unrecorded, and tables with pandas leftovers."""
    (tmp_path / "book").mkdir()
    record = {FONT_KEY: "10", DPI_KEY: "150"}  # 10 pt at 150 dpi: 20.8 px at natural size
    (tmp_path / "book" / "ok.png").write_bytes(_figure_png(300, record))
    (tmp_path / "book" / "tiny.png").write_bytes(_figure_png(300, {FONT_KEY: "4", DPI_KEY: "150"}))
    (tmp_path / "book" / "mpl.png").write_bytes(_figure_png(300, {"Software": "Matplotlib version3.11.2"}))
    (tmp_path / "book" / "photo.png").write_bytes(_figure_png(300, {}))
    inline = base64.b64encode(_figure_png(2000, record)).decode()
    (tmp_path / "book" / "good.html").write_text(_page(
        '<p>text</p><img src="ok.png"><img src="photo.png" style="width:10px">'
        '<table><tbody><tr><th>baseline</th><td>0.5</td></tr><tr><th>nst</th><td>—</td></tr></tbody></table>'))
    (tmp_path / "book" / "bad.html").write_text(_page(
        f'<p>text</p><img src="tiny.png"><img src="ok.png" style="width:100px"><img src="mpl.png">'
        f'<img src="data:image/png;base64,{inline}" style="width:600px">'
        '<table><tbody><tr><th>0</th><td>NaN</td></tr><tr><th>1</th><td>0.5</td></tr></tbody></table>'))
    return tmp_path


def test_figure_legibility_and_tables(figure_site: Path) -> None:
    reports = {r.page: r for r in check_site(figure_site)}
    good, bad = reports["book/good.html"], reports["book/bad.html"]
    assert good.problems == []
    assert [round(px, 1) for _, px in good.figures] == [20.8]  # the photo without a record is not a figure
    problems = " | ".join(bad.problems)
    assert "figure 1 (tiny.png): illegible" in problems and "8.3 px" in problems
    assert "figure 2 (ok.png): illegible" in problems and "shown 100 px wide of 300 px" in problems
    assert "figure 3 (mpl.png): a matplotlib figure without a font record" in problems
    assert "figure 4 (" in problems and "shown 600 px wide of 2000 px" in problems  # 20.8 × 0.3 = 6.2 px
    assert "table 1 shows 'NaN'" in problems and "integer index column (0…1)" in problems
    assert len(bad.problems) == 6


def test_figure_record_kinds() -> None:
    assert figure_record(_figure_png(10, {FONT_KEY: "9.5", DPI_KEY: "100"})) == (9.5, 100.0)
    assert figure_record(_figure_png(10, {FONT_KEY: "none", DPI_KEY: "100"})) is None
    assert figure_record(_figure_png(10, {"Software": "Matplotlib version3"})) == "matplotlib"
    assert figure_record(b"GIF89a not a png") is None


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
