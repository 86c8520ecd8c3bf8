"""Printed letters as PDF: the brand's layout (logo, colours, sender line, an address window where a
DL/C5 window envelope shows it) around the body the template rendered, made with WeasyPrint in a
bounded worker process (it may fetch nothing but data: URIs); and a print batch as one PDF."""

from __future__ import annotations

import io
from dataclasses import replace

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from telora.core.sandbox import LimitExceeded, limits_from_settings, run_bounded
from telora.letters.engine import LetterTemplateError

PRELOAD = ["telora.billing.documents.pdf_warm"]
PDF_WALL_SECONDS = 30.0


def layout_html(brand, *, body_html: str, address_lines: list[str], subject: str, date: str,
                logo: str | None) -> str:
    """The whole page: `body_html` is the sandbox's output (autoescaped), everything else is escaped
    by Django's template."""
    return render_to_string("letters/print_layout.html", {
        "brand": brand, "body": mark_safe(body_html), "address_lines": address_lines,  # noqa: S308
        "subject": subject, "date": date, "logo": logo})


def _pdf(html: str) -> bytes:
    from telora.billing.documents.pdf import html_to_pdf

    return html_to_pdf(html)


def html_to_pdf_bounded(html: str) -> bytes:
    limits = limits_from_settings()
    try:
        return run_bounded(_pdf, html, limits=replace(limits, wall_seconds=min(limits.wall_seconds,
                                                                                PDF_WALL_SECONDS)),
                           preload=PRELOAD)
    except LimitExceeded as exc:
        raise LetterTemplateError(f"the PDF: {exc}", part="html") from None


def merge_pdfs(documents: list[bytes]) -> bytes:
    """One PDF of every page of `documents`, in order (a print batch)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for document in documents:
        writer.append(PdfReader(io.BytesIO(document)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
