"""Check a built book the way a reader sees it: every page opened in headless Chromium.

Per page: it loads, every image loads (``naturalWidth > 0``), MathJax typeset every formula (no raw TeX left
in the text, no output shown as a Python repr), and every internal link points to a file that
exists (and to an anchor that exists on it).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

#: Flags that keep Chromium off the network (ENVIRONMENT.md / the machine notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Pages Sphinx generates that carry no report content.
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{")
#: A pasted output that did not render (e.g. a glued ``Markdown`` object shown as its repr).
UNRENDERED = re.compile(r"<(?:IPython|matplotlib|pandas)\.[\w.]+ object(?: at 0x[0-9a-f]+)?>"
                        r"|<Figure size \d+x\d+ with \d+ Axes>")


@dataclass
class PageReport:
    """What one page showed."""

    page: str
    images: int = 0
    problems: list[str] = field(default_factory=list)


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


def check_site(html_dir: str | Path, timeout_ms: int = 15000) -> list[PageReport]:
    """Open every page of the built book in headless Chromium and report what a reader would miss."""
    from playwright.sync_api import sync_playwright

    html_dir = Path(html_dir).resolve()
    found = pages(html_dir)
    if not found:
        raise FileNotFoundError(f"{html_dir}: no HTML pages (build the book first)")
    reports = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        for path in found:
            report = PageReport(str(path.relative_to(html_dir)))
            response = page.goto(path.as_uri(), wait_until="load", timeout=timeout_ms)
            if response is not None and not response.ok:
                report.problems.append(f"page did not load ({response.status})")
            if page.evaluate("typeof MathJax !== 'undefined' && MathJax.startup !== undefined"):
                page.evaluate("MathJax.startup.promise")
            images = page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src') || '', "
                                   "i.complete && i.naturalWidth > 0])")
            report.images = len(images)
            report.problems += [f"image did not load: {src[:80]}" for src, ok in images if not ok]
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
