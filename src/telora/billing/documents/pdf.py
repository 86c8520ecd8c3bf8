"""Invoice PDFs with WeasyPrint, one at a time or many in parallel worker processes.

WeasyPrint may fetch nothing but `data:` URIs (a template cannot read files or reach the network);
the brand logo comes in as a data URI. `render_many` is the bill run's PDF job: it spreads documents
over worker processes (a fresh interpreter each through the forkserver, never a fork of a process
holding database connections), writes `<invoice number>.pdf` files and reports progress.

Speed (see docs/billing.md, PDF): almost all of an invoice's ~0.1 s is WeasyPrint's own cascade,
layout and drawing, per element. What is spent once is spent once: a FontConfiguration per process,
the parsed stylesheet of the template kept while its text is the same, the cycle collector paused
during a document, and the forkserver loads WeasyPrint and renders one sample invoice before the
workers fork (then freezes that heap), so no worker pays the ~0.6 s of import and first document.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from telora.billing.documents.contract import file_name
from telora.billing.documents.templating import InvoiceTemplateError, render_html

__all__ = ["ManyResult", "InvoiceTemplateError", "file_name", "render_html", "render_many", "render_pdf"]

_IMAGE_CACHE: dict = {}
_FONT_CONFIG = []
_STYLESHEETS: dict = {}  # the CSS text of a template's <style> -> (parsed CSS, its counter styles)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def _fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    if not _FONT_CONFIG:  # one per process: fontconfig set up once, not per invoice
        _FONT_CONFIG.append(FontConfiguration())
    return _FONT_CONFIG[0]


def _own_stylesheet(html: str):
    """The HTML without its one `<style>` and that style parsed once (or (html, None, None)).

    Every invoice of a run has the same style text (brand colours, the "Page" label), so parsing it
    again per invoice is waste. It is only taken out when it is the document's only style source
    (one bare <style>, no <link>, no style attribute): WeasyPrint adds a stylesheet given apart
    with the user origin, which ranks below the author's own rules, so with any other source
    present the cascade could differ and the HTML goes in as it is.
    """
    lowered = html.lower()
    if lowered.count("<style") != 1 or "<link" in lowered or " style=" in lowered:
        return html, None, None
    match = _STYLE.search(html)
    if match is None:
        return html, None, None
    text = match.group(1)
    if text not in _STYLESHEETS:
        from weasyprint import CSS
        from weasyprint.css.counters import CounterStyle

        if len(_STYLESHEETS) >= 32:  # a few brands' styles per process, never a leak
            _STYLESHEETS.clear()
        counter_style = CounterStyle()
        css = CSS(string=text, url_fetcher=_fetcher(), font_config=_font_config(), counter_style=counter_style)
        _STYLESHEETS[text] = css, counter_style
    css, counter_style = _STYLESHEETS[text]
    return html[:match.start()] + html[match.end():], css, counter_style


def html_to_pdf(html: str) -> bytes:
    """The PDF, with Python's cycle collector paused while WeasyPrint works.

    WeasyPrint allocates a few hundred thousand objects per invoice; left on, the collector runs
    hundreds of times per invoice and walks the whole heap now and then (about a tenth of the time).
    The invoice's own garbage is collected once at the end, in the young generation.
    """
    from weasyprint import HTML

    html, css, counter_style = _own_stylesheet(html)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return HTML(string=html, url_fetcher=_fetcher()).write_pdf(
            cache=_IMAGE_CACHE, font_config=_font_config(), counter_style=counter_style,
            stylesheets=[css] if css is not None else None)
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


def render_pdf(document: dict, *, template: str | None = None, brand_assets: dict | None = None) -> bytes:
    """The invoice as PDF bytes (the document is checked first; see contract.check_document)."""
    return html_to_pdf(render_html(document, template=template, brand_assets=brand_assets))


@dataclass
class ManyResult:
    """What `render_many` did: the files written (in input order) and the documents that failed."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # (index, file name, error)


def warm_up() -> None:
    """Load WeasyPrint, fontconfig, the default template and Babel's data by rendering a sample.

    Run in render_many's forkserver (module `pdf_warm`): each worker is forked from it ready.
    """
    from telora.billing.documents.sample import generated_document

    render_pdf(generated_document(0, subscriptions=1))


_worker_options: dict = {}


def _init_worker(template, brand_assets, out_dir) -> None:
    _worker_options.update(template=template, brand_assets=brand_assets, out_dir=out_dir)
    import weasyprint  # noqa: F401  (loaded once per worker, before the first document)


def _render_one(document: dict) -> str:
    path = Path(_worker_options["out_dir"]) / file_name(document)
    pdf = render_pdf(document, template=_worker_options["template"], brand_assets=_worker_options["brand_assets"])
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(pdf)
    os.replace(partial, path)  # a reader never sees half a file
    return str(path)


def render_many(documents: Iterable[dict], out_dir, workers: int = 2, *, template: str | None = None,
                brand_assets: dict | None = None, progress: Callable[[int, int | None], None] | None = None,
                skip_existing: bool = False) -> ManyResult:
    """Render each document to `out_dir/<file_name>` in `workers` processes.

    `progress(done, total)` is called in this process after each document (total is None when
    `documents` has no length). A document that fails does not stop the others: it is listed in
    `failed` with its error, for the run to park. With `skip_existing`, a document whose file is
    there already is not rendered again (a PDF job that was stopped picks up where it was); its
    file is listed in `written` and counted in the progress.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = len(documents) if hasattr(documents, "__len__") else None
    result = ManyResult()
    done_paths: dict[int, Path] = {}
    names: dict[int, str] = {}
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["telora.billing.documents.pdf_warm"])  # workers fork warm
    done = 0
    limit = max(1, workers) * 8  # documents in flight: memory stays flat for any run size
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context, initializer=_init_worker,
                             initargs=(template, brand_assets, str(out))) as pool:
        pending: dict = {}

        def collect(finished):
            nonlocal done
            for future in finished:
                index = pending.pop(future)
                try:
                    done_paths[index] = Path(future.result())
                except Exception as exc:  # the document's own failure; the rest go on
                    result.failed.append((index, names[index], f"{type(exc).__name__}: {exc}"))
                done += 1
                if progress:
                    progress(done, total)

        for index, document in enumerate(documents):
            try:
                names[index] = file_name(document)
            except (KeyError, TypeError) as exc:
                names[index] = f"#{index}"
                result.failed.append((index, names[index], f"DocumentError: missing {exc}"))
                done += 1
                if progress:
                    progress(done, total)
                continue
            if skip_existing and (out / names[index]).exists():
                done_paths[index] = out / names[index]
                done += 1
                if progress:
                    progress(done, total)
                continue
            pending[pool.submit(_render_one, document)] = index
            if len(pending) >= limit:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                collect(finished)
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            collect(finished)
    result.written = [done_paths[i] for i in sorted(done_paths)]
    result.failed.sort()
    return result
