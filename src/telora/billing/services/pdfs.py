"""Invoice PDFs kept under MEDIA_ROOT (never served as static files: a view checks rights and
streams them). One invoice on demand (`store_pdf`), or every invoice of a run as a job
(`billing.pdfs`, with render_many on both cores)."""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from telora.billing.documents.contract import file_name
from telora.billing.documents.pdf import render_many, render_pdf
from telora.billing.models import BillRun, Invoice
from telora.billing.services.runs import require
from telora.billing.services.templates import active_template
from telora.core.services.actors import Actor
from telora.core.services.audit import record_event
from telora.core.services.jobs import job_kind


def brand_assets(brand) -> dict:
    """The brand's logo as a data: URI for the template (WeasyPrint fetches nothing else)."""
    if not brand.logo:
        return {}
    try:
        with brand.logo.open("rb") as handle:
            data = handle.read()
    except OSError:
        return {}
    mime = mimetypes.guess_type(brand.logo.name)[0] or "image/png"
    return {"logo": f"data:{mime};base64,{base64.b64encode(data).decode()}"}


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF made now from its document, with the brand's active template and logo."""
    brand = invoice.brand
    return render_pdf(invoice.document, template=active_template(brand), brand_assets=brand_assets(brand))


def pdf_path(invoice: Invoice) -> str:
    """Where an invoice's PDF is kept in the storage: per brand and run."""
    return f"invoices/{invoice.brand.code}/run-{invoice.run_id}/{file_name(invoice.document)}"


def stored_pdf(invoice: Invoice) -> str | None:
    """The storage name of the invoice's PDF if it is there."""
    if invoice.pdf and default_storage.exists(invoice.pdf):
        return invoice.pdf
    return None


def store_pdf(invoice: Invoice, *, actor: Actor, at: dt.datetime) -> str:
    """Render the invoice's document and keep it; returns the storage name (set on Invoice.pdf)."""
    require(actor, invoice.brand, "billing.view")
    pdf = render_invoice_pdf(invoice)
    name = pdf_path(invoice)
    if default_storage.exists(name):
        default_storage.delete(name)
    name = default_storage.save(name, ContentFile(pdf))
    with transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(pdf=name)
        invoice.pdf = name
        record_event(actor=actor, at=at, action="invoice_pdf", obj=invoice, brand=invoice.brand, new={"pdf": name})
    return name


@job_kind("billing.pdfs", title="Invoice PDFs of a bill run", permission="billing.change")
def render_run_pdfs(ctx, *, run_id: int, workers: int = 2) -> dict:
    """Every invoice of the run without a stored PDF, rendered in `workers` processes into the storage."""
    run = BillRun.objects.select_related("brand").get(pk=run_id)
    invoices = [i for i in Invoice.objects.filter(run=run).select_related("brand").order_by("id")
                if not stored_pdf(i)]
    ctx.set_total(len(invoices))
    if not invoices:
        return {"rendered": 0, "failed": 0}
    with tempfile.TemporaryDirectory() as tmp:
        result = render_many([i.document for i in invoices], tmp, workers=workers,
                             template=active_template(run.brand), brand_assets=brand_assets(run.brand),
                             progress=lambda done, total: ctx.advance(1))
        written = {p.name: p for p in result.written}
        stored = 0
        for invoice in invoices:
            path = written.get(file_name(invoice.document))
            if path is None:
                continue
            name = pdf_path(invoice)
            if default_storage.exists(name):
                default_storage.delete(name)
            name = default_storage.save(name, ContentFile(Path(path).read_bytes()))
            Invoice.objects.filter(pk=invoice.pk).update(pdf=name)
            stored += 1
    for _index, name, error in result.failed:
        ctx.log(f"{name}: {error}")
    return {"rendered": stored, "failed": len(result.failed)}
