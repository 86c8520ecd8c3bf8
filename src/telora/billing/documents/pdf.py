"""Invoice PDFs with WeasyPrint, one at a time or many in parallel worker processes.

WeasyPrint may fetch nothing but `data:` URIs (a template cannot read files or reach the network);
the brand logo comes in as a data URI. A brand's template is rendered only in bounded worker
processes (telora.core.sandbox.BoundedPool: CPU, memory and wall-clock limits, a worker that
breaches one is killed and replaced): `render_pdf_bounded` and `check_bounded` for one document,
`render_many` for the bill run's PDF job, which spreads documents over the workers (fresh
interpreters forked from the forkserver, never a fork of a process holding database connections),
writes `<invoice number>.pdf` files and reports progress. `render_pdf` renders in this process.

Speed (see docs/billing.md, PDF): almost all of an invoice's ~0.1 s is WeasyPrint's own cascade,
layout and drawing, per element. What is spent once is spent once: a FontConfiguration per process,
the parsed stylesheet of the template kept while its text is the same, the cycle collector paused
during a document, and the forkserver loads WeasyPrint and renders one sample invoice before the
workers fork (then freezes that heap), so no worker pays the ~0.6 s of import and first document.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telora.billing.documents.contract import file_name
from telora.billing.documents.templating import InvoiceTemplateError, check_source, render_html
from telora.core.sandbox import BoundedPool, LimitExceeded, Limits, limits_from_settings, run_bounded

__all__ = ["ManyResult", "InvoiceTemplateError", "check_bounded", "file_name", "render_html", "render_many",
           "render_pdf", "render_pdf_bounded"]

PRELOAD = ["telora.billing.documents.pdf_warm"]  # the forkserver loads WeasyPrint once; workers fork warm

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


def _pdf_task(task: tuple) -> bytes:
    document, template, brand_assets = task
    return render_pdf(document, template=template, brand_assets=brand_assets)


def _bounded(func, task, limits: Limits | None, label: str):
    prefix = f"{label}: " if label else ""
    try:
        return run_bounded(func, task, limits=limits or limits_from_settings(), preload=PRELOAD)
    except LimitExceeded as exc:
        raise InvoiceTemplateError(f"{prefix}{exc}") from None
    except InvoiceTemplateError as exc:
        if not prefix:
            raise
        where = f"line {exc.line}: " if exc.line else ""
        raise InvoiceTemplateError(prefix + where + str(exc).removeprefix("template: "), exc.line) from None


def render_pdf_bounded(document: dict, *, template: str | None = None, brand_assets: dict | None = None,
                       limits: Limits | None = None, label: str = "") -> bytes:
    """`render_pdf` in a bounded worker process; a breached limit is an InvoiceTemplateError naming
    it, and with a `label` (which template) every error starts with it and the line at fault."""
    return _bounded(_pdf_task, (document, template, brand_assets), limits, label)


def check_bounded(source: str, documents: list[dict], *, brand_assets: dict | None = None,
                  limits: Limits | None = None, label: str = "") -> None:
    """`templating.check_source` (parse, refusals, the samples rendered) in a bounded worker."""
    _bounded(check_source, (source, documents, brand_assets), limits, label)


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
                skip_existing: bool = False, limits: Limits | None = None,
                on_written: Callable[[int, Path], None] | None = None) -> ManyResult:
    """Render each document to `out_dir/<file_name>` in `workers` bounded processes.

    `progress(done, total)` is called in this process after each document (total is None when
    `documents` has no length). A document that fails does not stop the others: it is listed in
    `failed` with its error, for the run to park; one whose render breaches a limit (`limits`, else
    the TELORA_TEMPLATE_* settings) is listed with the limit, its worker replaced. With
    `skip_existing`, a document whose file is there already is not rendered again (a PDF job that
    was stopped picks up where it was); its file is listed in `written` and counted in the progress.
    `on_written(index, path)` is called in this process as each document's file is ready (before its
    progress tick), so a caller can keep it at once instead of after the last one.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = len(documents) if hasattr(documents, "__len__") else None
    result = ManyResult()
    done_paths: dict[int, Path] = {}
    names: dict[int, str] = {}
    done = 0
    index_of: list[int] = []  # the pool's task number -> the document's index

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    def to_render():
        for index, document in enumerate(documents):
            try:
                names[index] = file_name(document)
            except (KeyError, TypeError) as exc:
                names[index] = f"#{index}"
                result.failed.append((index, names[index], f"DocumentError: missing {exc}"))
                tick()
                continue
            if skip_existing and (out / names[index]).exists():
                done_paths[index] = out / names[index]
                tick()
                continue
            index_of.append(index)
            yield document

    with BoundedPool(limits or limits_from_settings(), workers=max(1, workers), preload=PRELOAD,
                     initializer=_init_worker, initargs=(template, brand_assets, str(out))) as pool:
        for outcome in pool.map(_render_one, to_render()):
            index = index_of[outcome.index]
            if outcome.error is None:
                done_paths[index] = Path(outcome.value)
                if on_written:
                    on_written(index, done_paths[index])
            else:  # the document's own failure, or a limit its render breached; the rest go on
                error = outcome.error
                result.failed.append((index, names[index], f"{type(error).__name__}: {error}"))
            tick()
    result.written = [done_paths[i] for i in sorted(done_paths)]
    result.failed.sort()
    return result
