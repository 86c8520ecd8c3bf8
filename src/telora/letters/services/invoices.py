"""Invoice delivery: a production run's invoices sent as letters by each billing account's choice
(e-mail with the invoice PDF attached, or paper through the print queue with the PDF behind the
cover letter), from the brand's `invoice` templates. Run directly by a job or from the
invoice.issued trigger; each invoice once (the letter's key is the invoice), one failure parks
that invoice only."""

from __future__ import annotations

import datetime as dt

from telora.core.services.actors import Actor, ServiceError
from telora.letters.models import Letter
from telora.letters.services.common import require
from telora.letters.services.outbox import queue_letter

TEMPLATE = "invoice"


def deliver_invoice(invoice, *, actor: Actor, at: dt.datetime, template_code: str = TEMPLATE) -> Letter:
    """The invoice's letter (made once: a second call returns the first)."""
    from telora.billing.services.pdfs import store_pdf, stored_pdf

    account = invoice.account
    customer = account.customer
    pdf = stored_pdf(invoice) or store_pdf(invoice, actor=Actor.system("letters.invoices"), at=at)
    channel = "print" if account.invoice_delivery == "print" else "email"
    attachment = {"name": f"{invoice.number or invoice.pk}.pdf", "path": pdf, "content_type": "application/pdf"}
    return queue_letter(invoice.brand, actor=actor, at=at, key=f"invoice:{invoice.pk}", customer=customer,
                        template_code=template_code, channel=channel, account=account, invoice=invoice,
                        attachments=[attachment], purpose="service")


def deliver_run(run, *, actor: Actor, at: dt.datetime) -> dict:
    """Every final invoice of a production run; returns {"letters": n, "failed": [(invoice, reason)]}."""
    require(actor, run.brand, "letters.send")
    if run.kind != "production":
        raise ServiceError("run: only a production run's invoices are delivered", field="run")
    from telora.billing.models import Invoice

    result = {"letters": 0, "failed": []}
    invoices = Invoice.objects.filter(run=run, status="final").select_related(
        "brand", "account", "account__customer", "account__customer__brand").order_by("id")
    for invoice in invoices:
        try:
            letter = deliver_invoice(invoice, actor=actor, at=at)
        except (ServiceError, ValueError, OSError) as exc:
            result["failed"].append((invoice.number, getattr(exc, "message", str(exc))))
            continue
        result["letters"] += 1
        if letter.state == "failed":
            result["failed"].append((invoice.number, letter.error))
    return result
