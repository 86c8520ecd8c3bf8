"""Invoice PDFs kept under MEDIA_ROOT (never served as static files: a view checks rights and
streams them). Every render runs in bounded worker processes (telora.core.sandbox) and off the web
request: one invoice as the job `billing.invoice_pdf` (`request_pdf` starts it, or joins the one
running, and waits a few seconds for it: TELORA_PDF_WAIT_SECONDS), every invoice of a run as the
job `billing.pdfs` (render_many on both cores)."""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from telora.billing.documents.contract import file_name
from telora.billing.documents.pdf import render_many, render_pdf_bounded
from telora.billing.models import BillRun, Invoice, InvoiceTemplate
from telora.billing.services.runs import require
from telora.billing.services.templates import active_template
from telora.core import clock
from telora.core.models import Job
from telora.core.services.actors import Actor
from telora.core.services.audit import record_event
from telora.core.services.jobs import job_kind, start_job, wait_for


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


def template_label(brand) -> str:
    """How an error names the template in use: the brand's version, or Telora's default."""
    version = InvoiceTemplate.objects.filter(brand=brand, active=True).values_list("version", flat=True).first()
    return f"the brand's invoice template (version {version})" if version else "Telora's default invoice template"


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF made now from its document, with the brand's active template and logo, in a
    bounded worker process (a limit breached is an InvoiceTemplateError naming it and the template)."""
    brand = invoice.brand
    return render_pdf_bounded(invoice.document, template=active_template(brand), brand_assets=brand_assets(brand),
                              label=template_label(brand))


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


@job_kind("billing.invoice_pdf", title="Invoice PDF", permission="billing.view")
def make_invoice_pdf(ctx, *, invoice_id: int) -> dict:
    """One invoice's PDF, rendered and stored (unless it is there already), for `request_pdf`."""
    invoice = Invoice.objects.select_related("brand").get(pk=invoice_id)
    name = stored_pdf(invoice)
    if name is None:
        job = ctx.job
        actor = Actor(user=job.created_by) if job.created_by_id else Actor.system(f"job-{job.pk}")
        name = store_pdf(invoice, actor=actor, at=clock.now())
    return {"pdf": name}


def request_pdf(invoice: Invoice, *, actor: Actor, at: dt.datetime, wait: float | None = None,
                job_id: int | None = None) -> tuple[str | None, Job | None]:
    """The stored PDF's name, else the job making it: (name, None) when stored, (name, job) when the
    job finished within `wait` seconds (default TELORA_PDF_WAIT_SECONDS), (None, job) otherwise (the
    job still queued or running, or failed: its error says why). `job_id` is the job a caller follows
    (from an earlier 202); otherwise a job already making this invoice's PDF is joined, or one is
    started. Needs billing.view."""
    require(actor, invoice.brand, "billing.view")
    name = stored_pdf(invoice)
    if name is not None:
        return name, None
    jobs = Job.objects.filter(kind="billing.invoice_pdf", brand=invoice.brand, params__invoice_id=invoice.pk)
    job = jobs.filter(pk=job_id).first() if job_id is not None and 0 < job_id < 2**63 else None
    if job is not None and job.status == Job.Status.FAILED:
        return None, job
    job = (job if job is not None and not job.is_finished
           else jobs.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).order_by("-id").first())
    if job is None:
        job = start_job("billing.invoice_pdf", actor=actor, at=at, brand=invoice.brand,
                        params={"invoice_id": invoice.pk}, title=f"PDF of invoice {invoice.number or invoice.pk}")
    job = wait_for(job, settings.TELORA_PDF_WAIT_SECONDS if wait is None else wait)
    if job.status == Job.Status.SUCCEEDED:
        invoice.refresh_from_db(fields=["pdf"])
        return stored_pdf(invoice), job
    return None, job


def job_error(job: Job) -> str:
    """A failed PDF job's error as a person reads it (its first paragraph, without the traceback)."""
    return (job.error or "").split("\n\n", 1)[0].strip() or "the PDF job failed"


@job_kind("billing.pdfs", title="Invoice PDFs of a bill run", permission="billing.change")
def render_run_pdfs(ctx, *, run_id: int, workers: int = 2) -> dict:
    """Every invoice of the run gets its PDF: those without one are rendered in `workers` processes
    and each is kept as soon as it is ready, so the job's progress (all the run's invoices, those
    stored before counted done) and the run page's "PDFs stored" move together and end equal."""
    run = BillRun.objects.select_related("brand").get(pk=run_id)
    invoices = list(Invoice.objects.filter(run=run).select_related("brand").order_by("id"))
    todo = [i for i in invoices if not stored_pdf(i)]
    ctx.set_total(len(invoices))
    ctx.advance(len(invoices) - len(todo))
    stored = []

    def keep(index: int, path: Path) -> None:
        invoice = todo[index]
        name = pdf_path(invoice)
        if default_storage.exists(name):
            default_storage.delete(name)
        name = default_storage.save(name, ContentFile(path.read_bytes()))
        Invoice.objects.filter(pk=invoice.pk).update(pdf=name)
        stored.append(invoice.pk)

    failed = []
    if todo:
        with tempfile.TemporaryDirectory() as tmp:
            result = render_many([i.document for i in todo], tmp, workers=workers,
                                 template=active_template(run.brand), brand_assets=brand_assets(run.brand),
                                 progress=lambda done, total: ctx.advance(1), on_written=keep)
        failed = result.failed
    for _index, name, error in failed:
        ctx.log(f"{name}: {error}")
    return {"rendered": len(stored), "failed": len(failed), "stored_before": len(invoices) - len(todo),
            "invoices": len(invoices)}
