"""The personal data export: everything held about a customer as JSON, a readable PDF and the uploaded
files, in one zip under MEDIA_ROOT that the job page offers (a job's result file, read with privacy.export)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.text import get_valid_filename

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.core.services.jobs import start_job
from telora.customers.models import Customer, CustomerFile
from telora.privacy.selectors import customer_data


def start_export(customer: Customer, *, actor: Actor, at: dt.datetime):
    """Queue the export job of the customer (privacy.export in its brand)."""
    return start_job("privacy.export", actor=actor, at=at, brand=customer.brand, params={"customer_id": customer.pk},
                     title=f"Personal data export of customer {customer.number}")


PDF_ROWS = 2000  # per section; export.json holds them all


def _cell(value) -> str:
    """A value as a person reads it: nested parts (products, numbers, changes) as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def export_pdf(data: dict, *, brand, at: dt.datetime) -> bytes:
    """The export as a readable PDF (a fixed Django template, autoescaped: not user-editable)."""
    from telora.billing.documents.pdf import html_to_pdf

    sections = [(key, [{name: _cell(value) for name, value in row.items()} for row in rows[:PDF_ROWS]], len(rows))
                for key, rows in data.items() if isinstance(rows, list)]
    html = render_to_string("privacy/export_pdf.html", {"data": data, "sections": sections, "brand": brand, "at": at,
                                                        "pdf_rows": PDF_ROWS})
    return html_to_pdf(html)


def write_export(customer: Customer, *, job_id: int, at: dt.datetime, progress=None) -> tuple[str, dict]:
    """Write the zip; returns its path relative to MEDIA_ROOT and the number of items per section."""
    data = customer_data(customer, on_progress=progress)
    data["exported_at"] = at.isoformat()
    relative = f"exports/privacy-{job_id}-{get_valid_filename(customer.number)}.zip"
    path = settings.MEDIA_ROOT / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))
        archive.writestr("export.pdf", export_pdf(data, brand=customer.brand, at=at))
        for row in CustomerFile.objects.filter(customer=customer).order_by("id"):
            try:
                with row.file.open("rb") as fh:
                    archive.writestr(f"files/{row.pk}-{get_valid_filename(row.name)}", fh.read())
            except FileNotFoundError:
                raise ServiceError(f"files: the stored file of {row.pk} is missing", field="files") from None
    counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
    return relative, counts


def record_export(customer: Customer, *, actor: Actor, at: dt.datetime, job_id: int, counts: dict) -> None:
    record_event(actor=actor, at=at, action="privacy_export", obj=customer, brand=customer.brand,
                 new={"job": job_id, **counts}, message="Personal data exported.")
