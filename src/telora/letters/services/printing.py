"""The print queue: printed letters wait until a back-office user makes a batch (one PDF of every
letter with its attachments, and a manifest CSV for the print house), downloads it or has it
written to a drop folder (TELORA_PRINT_DROP_DIR), and marks it printed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from pypdf import PdfReader

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.letters.documents import merge_pdfs
from telora.letters.models import Letter, PrintBatch
from telora.letters.services.common import lock, require

MAX_BATCH = 2000
MANIFEST_COLUMNS = ["sequence", "letter", "customer", "recipient_lines", "pages", "first_page", "template", "created_at"]


def print_queue(brand):
    return Letter.objects.filter(brand=brand, channel="print", state="queued", print_batch__isnull=True)


def _read(path: str) -> bytes:
    with default_storage.open(path, "rb") as handle:
        return handle.read()


def make_batch(brand, *, actor: Actor, at: dt.datetime, limit: int = MAX_BATCH) -> PrintBatch:
    """Take the waiting printed letters (oldest first) into a new batch. Needs letters.send."""
    require(actor, brand, "letters.send")
    with transaction.atomic():
        lock(brand, "print")
        letters = list(print_queue(brand).select_for_update(of=("self",)).select_related("customer", "template")
                       .order_by("created_at", "id")[:limit])
        if not letters:
            raise ServiceError("print queue: no letters are waiting", field="print_queue", code="conflict")
        number = (PrintBatch.objects.filter(brand=brand).order_by("-number").values_list("number", flat=True)
                  .first() or 0) + 1
        documents, rows, page = [], [], 1
        for sequence, letter in enumerate(letters, start=1):
            parts = [_read(letter.pdf)] + [_read(a["path"]) for a in letter.attachments
                                           if a.get("content_type") == "application/pdf"]
            pages = sum(len(PdfReader(io.BytesIO(p)).pages) for p in parts)
            documents += parts
            rows.append([sequence, letter.pk, letter.customer.number if letter.customer else "",
                         letter.recipient.replace("\n", " | "), pages, page,
                         str(letter.template) if letter.template else "ad hoc", letter.created_at.isoformat()])
            page += pages
        manifest = io.StringIO()
        writer = csv.writer(manifest)
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(rows)
        base = f"letters/{brand.code}/print/batch-{number:05d}"
        pdf_name = default_storage.save(f"{base}.pdf", ContentFile(merge_pdfs(documents)))
        csv_name = default_storage.save(f"{base}.csv", ContentFile(manifest.getvalue().encode()))
        batch = PrintBatch.objects.create(brand=brand, number=number, letters_count=len(letters), pdf=pdf_name,
                                          manifest=csv_name, created_at=at, created_by=actor.label[:200])
        Letter.objects.filter(pk__in=[letter.pk for letter in letters]).update(print_batch=batch)
        record_event(actor=actor, at=at, action="letter_print_batch", obj=batch, brand=brand,
                     new={"letters": len(letters), "pages": page - 1})
    return batch


def export_to_drop_folder(batch: PrintBatch, *, actor: Actor, at: dt.datetime) -> list[Path]:
    """Copy the batch's PDF and manifest into TELORA_PRINT_DROP_DIR/<brand> (the print house collects
    them there). Needs letters.send."""
    require(actor, batch.brand, "letters.send")
    folder = getattr(settings, "TELORA_PRINT_DROP_DIR", None)
    if not folder:
        raise ServiceError("drop folder: TELORA_PRINT_DROP_DIR is not set", field="drop_folder")
    target = Path(folder) / batch.brand.code
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in (batch.pdf, batch.manifest):
        path = target / Path(name).name
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(_read(name))
        partial.replace(path)  # the print house never picks up half a file
        written.append(path)
    record_event(actor=actor, at=at, action="letter_print_export", obj=batch, brand=batch.brand,
                 new={"folder": str(target)})
    return written


def mark_printed(batch: PrintBatch, *, actor: Actor, at: dt.datetime) -> PrintBatch:
    """The print house has it: the batch and its letters are sent. Needs letters.send."""
    require(actor, batch.brand, "letters.send")
    with transaction.atomic():
        batch = PrintBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.printed_at is not None:
            raise ServiceError("batch: already marked printed", field="batch", code="conflict")
        batch.printed_at, batch.printed_by = at, actor.label[:200]
        batch.save(update_fields=["printed_at", "printed_by"])
        for letter in Letter.objects.filter(print_batch=batch, state="queued"):
            letter.log = [*letter.log, {"at": at.isoformat(), "what": "sent", "detail": f"printed in batch {batch.number}"}]
            letter.state, letter.sent_at = "sent", at
            letter.save(update_fields=["state", "sent_at", "log"])
        record_event(actor=actor, at=at, action="letter_print_done", obj=batch, brand=batch.brand,
                     new={"letters": batch.letters_count})
    return batch
