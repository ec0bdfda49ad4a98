"""The built book as one PDF, printed by the headless Chromium that checks it (no LaTeX, nothing downloaded).

Each page of ``_toc.yml`` is opened in reading order, MathJax and every image are awaited, the page is printed
(print media: the theme hides its navigation), and the prints are joined with pypdf, one outline entry per chapter.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from photosynth.atomic import atomic_open
from photosynth.report.bookcheck import CHROMIUM_ARGS, VIEWPORT, chromium_path

#: Where the PDF lands, relative to the project's ``_build`` folder.
PDF_PATH = Path("pdf") / "photosynth.pdf"
#: Wait until MathJax typeset the page, every image loaded (lazy ones too) and the web fonts are ready.
READY_JS = """async () => {
  if (typeof MathJax !== 'undefined' && MathJax.startup) { await MathJax.startup.promise; }
  document.querySelectorAll('img[loading="lazy"]').forEach(i => { i.loading = 'eager'; });
  await Promise.all(Array.from(document.images).map(i => i.complete ? null
    : new Promise(done => { i.addEventListener('load', done); i.addEventListener('error', done); })));
  await document.fonts.ready;
  const h1 = document.querySelector('main h1') || document.querySelector('h1');
  return h1 ? h1.innerText.replace(/[#¶]\\s*$/, '').trim() : document.title;
}"""


def toc_files(root: str | Path) -> list[str]:
    """The book's pages in reading order: ``_toc.yml``'s root, then every ``file`` entry depth-first."""
    path = Path(root) / "_toc.yml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no table of contents (is {root} a photosynth project?)")
    toc = yaml.safe_load(path.read_text()) or {}
    files = [str(toc["root"])] if toc.get("root") else []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return files


def write_pdf(root: str | Path, html_dir: str | Path | None = None, out: str | Path | None = None,
              timeout_ms: int = 60000, progress: bool = True) -> Path:
    """Print every page of the built book (``html_dir``, default ``<root>/_build/html``) into one PDF.

    Returns its path (default ``<root>/_build/pdf/photosynth.pdf``). Needs Chromium (see
    :func:`photosynth.report.bookcheck.chromium_path`) and a built book: a page of the toc that was not built is an error.
    """
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter
    root = Path(root).resolve()
    html_dir = Path(html_dir).resolve() if html_dir else root / "_build" / "html"
    out = Path(out) if out else root / "_build" / PDF_PATH
    pages = [(name, html_dir / f"{name}.html") for name in toc_files(root)]
    missing = [str(p) for _, p in pages if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"build the book first: {len(missing)} page(s) of _toc.yml missing, e.g. {missing[0]}")
    writer = PdfWriter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.emulate_media(media="print")
        for name, path in tqdm(pages, desc="PDF", unit="page", disable=not progress):
            page.goto(path.as_uri(), wait_until="load", timeout=timeout_ms)
            title = page.evaluate(READY_JS) or name
            data = page.pdf(format="A4", print_background=True,
                            margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
            writer.append(PdfReader(io.BytesIO(data)), outline_item=title)
        browser.close()
    writer.add_metadata({"/Title": "photosynth", "/Creator": "photosynth book --pdf (headless Chromium)"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out, "wb") as fh:
        writer.write(fh)
    return out
