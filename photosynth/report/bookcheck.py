"""Check a built book the way a reader sees it: every page opened in headless Chromium.

Per page: it loads, every image loads (``naturalWidth > 0``), MathJax typeset every formula (no raw TeX left
in the text, no output shown as a Python repr), every internal link points to a file that
exists (and to an anchor that exists on it), no table shows ``NaN`` or pandas' integer index, and every figure is
legible as displayed: the smallest font the figure recorded when it was saved (PNG text chunks written by
:func:`photosynth.report.figures.figure_png`), scaled by its displayed / natural width, is not smaller than the page's
small print (the computed size of ``<small>`` in the text column) at a :data:`VIEWPORT` window.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image, UnidentifiedImageError

#: Flags that keep Chromium off the network (ENVIRONMENT.md / the machine notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Pages Sphinx generates that carry no report content.
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{")
#: A pasted output that did not render (e.g. a glued ``Markdown`` object shown as its repr).
UNRENDERED = re.compile(r"<(?:IPython|matplotlib|pandas)\.[\w.]+ object(?: at 0x[0-9a-f]+)?>"
                        r"|<Figure size \d+x\d+ with \d+ Axes>")
#: The window the pages are read in (a laptop screen; the text column is narrower on smaller windows).
VIEWPORT = {"width": 1280, "height": 900}
#: What pandas writes for a value that does not exist.
MISSING_TEXT = {"NaN", "nan", "<NA>", "NaT", "None"}
#: Per image: src, natural and displayed width; per page: the small-print size in the text column.
MEASURE_JS = """(() => {
  const main = document.querySelector('main') || document.body;
  const probe = document.createElement('small'); probe.textContent = 'x';
  (main.querySelector('p') || main).appendChild(probe);
  const small = parseFloat(getComputedStyle(probe).fontSize); probe.remove();
  const images = Array.from(document.images).map(i => [i.getAttribute('src') || '', i.complete && i.naturalWidth > 0,
                                                      i.naturalWidth, i.getBoundingClientRect().width]);
  const tables = Array.from(main.querySelectorAll('table')).map(t => ({
    missing: Array.from(t.querySelectorAll('td')).map(c => c.innerText.trim()),
    index: Array.from(t.querySelectorAll('tbody tr')).map(r => r.firstElementChild
      && r.firstElementChild.tagName === 'TH' ? r.firstElementChild.innerText.trim() : null)}));
  return {small, images, tables};
})()"""


@dataclass
class PageReport:
    """What one page showed."""

    page: str
    images: int = 0
    problems: list[str] = field(default_factory=list)
    #: Each measured figure: (src, smallest text as displayed in CSS px).
    figures: list[tuple[str, float]] = field(default_factory=list)


def chromium_path() -> str:
    """Path of the Chromium executable; a clear error when it is missing."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("Chromium is not installed: `sudo apt-get install chromium` (or `make browser`)")


def pages(html_dir: Path) -> list[Path]:
    """The report's HTML pages (Sphinx's index/search pages and the top-level redirect excluded)."""
    html_dir = Path(html_dir)
    redirect = html_dir / "index.html"
    return sorted(p for p in html_dir.rglob("*.html")
                  if p.name not in SKIP_PAGES and p != redirect
                  and not {"_static", "_sources", "_images"} & set(p.relative_to(html_dir).parts))


def _link_problem(page: Path, href: str, html_dir: Path) -> str | None:
    url = urlparse(href)
    if url.scheme in ("http", "https", "mailto", "data", "javascript") or not (url.path or url.fragment):
        return None
    target = (page.parent / unquote(url.path)).resolve() if url.path else page
    if url.scheme == "file":
        target = Path(unquote(url.path))
    if not target.exists():
        return f"broken link {href!r}"
    if url.fragment and target.suffix == ".html":
        text = target.read_text(errors="replace")
        if f'id="{url.fragment}"' not in text and f"name=\"{url.fragment}\"" not in text:
            return f"link {href!r}: no anchor #{url.fragment}"
    return None


def figure_record(data: bytes) -> tuple[float, float] | None | str:
    """``(smallest font pt, dpi)`` recorded in a PNG; ``"matplotlib"`` for a matplotlib PNG without the record;
    ``None`` for any other image (not a figure: a photo, a GIF, a logo)."""
    from photosynth.report.figures import DPI_KEY, FONT_KEY

    try:
        with Image.open(io.BytesIO(data)) as image:
            text = dict(getattr(image, "text", {}) or {})
    except (UnidentifiedImageError, OSError):
        return None
    if FONT_KEY in text and DPI_KEY in text:
        if text[FONT_KEY] == "none":
            return None  # a figure without any text
        return float(text[FONT_KEY]), float(text[DPI_KEY])
    return "matplotlib" if str(text.get("Software", "")).startswith("Matplotlib") else None


def _image_bytes(page: Path, src: str) -> bytes | None:
    if src.startswith("data:"):
        header, _, payload = src.partition(",")
        return base64.b64decode(payload) if header.endswith(";base64") else None
    url = urlparse(src)
    if url.scheme not in ("", "file"):
        return None
    path = Path(unquote(url.path)) if url.scheme == "file" else page.parent / unquote(url.path)
    return path.read_bytes() if path.is_file() else None


def figure_problems(report: PageReport, page: Path, images: list, small_px: float) -> None:
    """Add to ``report`` each figure whose smallest text, as displayed, is below ``small_px``."""
    for number, (src, loaded, natural, shown) in enumerate(images, start=1):
        data = _image_bytes(page, src) if loaded and natural and shown else None
        record = figure_record(data) if data else None
        name = f"figure {number} ({src.rsplit('/', 1)[-1][:40]})"
        if record == "matplotlib":
            report.problems.append(f"{name}: a matplotlib figure without a font record (draw it with "
                                   "photosynth.report.figures.book_style)")
        elif record is not None:
            points, dpi = record
            px = points * dpi / 72 * shown / natural
            report.figures.append((src, px))
            if px < small_px - 0.05:
                report.problems.append(
                    f"{name}: illegible, its smallest text ({points:g} pt at {dpi:g} dpi) shows at {px:.1f} px "
                    f"(the image is shown {shown:.0f} px wide of {natural} px), below the page's small print "
                    f"({small_px:g} px)")


def table_problems(tables: list[dict]) -> list[str]:
    """Tables showing a missing value as pandas writes it, or pandas' integer index (0, 1, …) as row labels."""
    problems = []
    for number, table in enumerate(tables, start=1):
        found = sorted(MISSING_TEXT & set(table["missing"]))
        if found:
            problems.append(f"table {number} shows {found[0]!r} for a missing value")
        index = table["index"]
        if len(index) >= 2 and index == [str(i) for i in range(len(index))]:
            problems.append(f"table {number} shows an integer index column (0…{len(index) - 1})")
    return problems


def check_site(html_dir: str | Path, timeout_ms: int = 15000) -> list[PageReport]:
    """Open every page of the built book in headless Chromium and report what a reader would miss."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    html_dir = Path(html_dir).resolve()
    found = pages(html_dir)
    if not found:
        raise FileNotFoundError(f"{html_dir}: no HTML pages (build the book first)")
    reports = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        for path in found:
            report = PageReport(str(path.relative_to(html_dir)))
            response = page.goto(path.as_uri(), wait_until="load", timeout=timeout_ms)
            if response is not None and not response.ok:
                report.problems.append(f"page did not load ({response.status})")
            # MathJax's script may load after the page's load event (the config object exists before it):
            # wait until its startup exists wherever the page loads it, then for its typesetting.
            try:
                page.wait_for_function("() => !document.querySelector('script[src*=\"mathjax\"]') || "
                                       "(window.MathJax !== undefined && MathJax.startup !== undefined && "
                                       "MathJax.startup.promise !== undefined)", timeout=timeout_ms)
                if page.evaluate("typeof MathJax !== 'undefined' && MathJax.startup !== undefined"):
                    page.evaluate("MathJax.startup.promise")
            except PlaywrightTimeout:
                report.problems.append(f"MathJax did not start within {timeout_ms} ms (is book/_static/mathjax "
                                       "there? `make mathjax`)")
            measured = page.evaluate(MEASURE_JS)
            images = measured["images"]
            report.images = len(images)
            report.problems += [f"image did not load: {src[:80]}" for src, ok, *_ in images if not ok]
            figure_problems(report, path, images, measured["small"])
            report.problems += table_problems(measured["tables"])
            text = page.evaluate("(() => { const m = document.querySelector('main') || document.body;"
                                 " const c = m.cloneNode(true); c.querySelectorAll('pre, code, script, style,"
                                 " mjx-container').forEach(e => e.remove()); return c.innerText; })()")
            if RAW_TEX.search(text):
                report.problems.append(f"raw TeX in the text: {RAW_TEX.search(text).group(0)!r}")
            whole = page.evaluate("document.body.innerText")
            if UNRENDERED.search(whole):
                report.problems.append(f"an output shows as a Python repr: {UNRENDERED.search(whole).group(0)!r}")
            hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
            report.problems += [p for h in hrefs if (p := _link_problem(path, h, html_dir))]
            reports.append(report)
        browser.close()
    return reports
