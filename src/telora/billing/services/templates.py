"""A brand's own invoice template: versions checked before they are kept, one of them active.

Saving never edits a version; it adds the next one, so an earlier layout can be activated again.
A template is checked first (`check_template`, in a bounded worker process: telora.core.sandbox):
it must compile in the sandbox, must not name Python internals (`__class__`, `__globals__`, any
`_name`), use `|safe` or turn autoescaping off, recurse (a macro or block calling itself), or
reference anything outside the document (`url(http://...)`, `src="file:..."`): each refused with its
line even in a branch the sample never takes. It must then render the sample invoice, a draft and a
credit note with the brand's name, colours, language, payment details and logo within the sandbox's
bounds. Every refusal names the template's line. PDFs use `active_template(brand)`; with none active
they use the default template shipped with Telora.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import replace

from django.db import connection, transaction

from telora.billing.documents.pdf import check_bounded, render_pdf_bounded
from telora.billing.documents.sample import example_document
from telora.billing.documents.templating import DEFAULT_TEMPLATE, TEMPLATE_DIR, InvoiceTemplateError
from telora.billing.models import InvoiceTemplate
from telora.billing.services.runs import require, settings_of
from telora.core.sandbox import limits_from_settings
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event

MAX_SOURCE = 200_000  # characters; the default template is about 8,000
# The samples render in well under a second: a request checking or previewing a template waits at
# most this long (or TELORA_TEMPLATE_WALL_SECONDS when that is shorter), whatever the template does.
SAMPLE_WALL_SECONDS = 15.0


def _sample_limits():
    limits = limits_from_settings()
    return replace(limits, wall_seconds=min(limits.wall_seconds, SAMPLE_WALL_SECONDS))


def default_source() -> str:
    """The text of the template Telora ships, the starting point for a brand's own."""
    return (TEMPLATE_DIR / DEFAULT_TEMPLATE).read_text(encoding="utf-8")


def active_template(brand) -> str | None:
    """The source of the brand's active template, or None for the default one."""
    return (InvoiceTemplate.objects.filter(brand=brand, active=True).values_list("source", flat=True).first())


def sample_documents(brand) -> list[dict]:
    """The worked example as this brand would print it (name, colours, language, payment terms): an
    invoice, the same as a draft, and a small credit note, so a template's branches are all tried."""
    settings = settings_of(brand)
    invoice = example_document()
    invoice["brand"].update(code=brand.code, name=brand.name, language=brand.language,
                            colours={"primary": brand.primary_colour, "secondary": brand.secondary_colour},
                            payment={"terms_days": settings.payment_terms_days, "iban": settings.iban})
    invoice["customer"]["language"] = brand.language
    draft = copy.deepcopy(invoice)
    draft["invoice"].update(number=None, draft=True)
    credit = copy.deepcopy(invoice)
    credit["invoice"].update(number="CN-2026-000007", kind="credit_note", net="-4.98", tax="-1.25", total="-6.23")
    credit["sections"] = [section for section in credit["sections"] if section["subscription"] is None]
    credit["taxes"] = [{"code": "VAT", "rate": "25", "net": "-4.98", "tax": "-1.25"}]
    return [invoice, draft, credit]


def _refusal(message: str, line: int | None) -> ServiceError:
    where = f"line {line}: " if line else ""
    return ServiceError(f"source: {where}{message}", field="source")


def check_template(brand, source: str, *, brand_assets: dict | None = None) -> None:
    """Raise ServiceError(field="source") naming the line unless the template is safe and renders
    the brand's sample documents (parsed, checked and rendered in a bounded worker process)."""
    if not isinstance(source, str) or not source.strip():
        raise ServiceError("source: the template is empty", field="source")
    if len(source) > MAX_SOURCE:
        raise ServiceError(f"source: at most {MAX_SOURCE:,} characters", field="source")
    if brand_assets is None:
        from telora.billing.services.pdfs import brand_assets as assets_of

        brand_assets = assets_of(brand)
    try:
        check_bounded(source, sample_documents(brand), brand_assets=brand_assets, limits=_sample_limits())
    except InvoiceTemplateError as exc:
        raise _refusal(str(exc).removeprefix("template: "), exc.line) from None


def _lock(brand) -> None:
    """One template write per brand at a time (versions are numbered max + 1)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"telora.billing.template:{brand.pk}"])


def save_template(brand, source: str, *, actor: Actor, at: dt.datetime, note: str = "",
                  activate: bool = True) -> InvoiceTemplate:
    """Check `source` and keep it as the brand's next version (active at once unless `activate` is
    False). Needs billing.change."""
    require(actor, brand, "billing.change")
    source = (source or "").replace("\r\n", "\n")
    check_template(brand, source)
    with transaction.atomic():
        _lock(brand)
        latest = InvoiceTemplate.objects.filter(brand=brand).order_by("-version").values_list("version", flat=True)
        version = (latest.first() or 0) + 1
        previous = None
        if activate:
            previous = InvoiceTemplate.objects.filter(brand=brand, active=True).values_list("version", flat=True).first()
            InvoiceTemplate.objects.filter(brand=brand, active=True).update(active=False)
        template = InvoiceTemplate.objects.create(brand=brand, version=version, source=source, active=activate,
                                                  note=(note or "").strip()[:300], created_at=at,
                                                  created_by=actor.label[:200])
        record_event(actor=actor, at=at, action="invoice_template_save", obj=template, brand=brand,
                     old={"active_version": previous} if activate else None,
                     new={"version": version, "active": activate, "note": template.note, "characters": len(source)})
    return template


def activate(template: InvoiceTemplate, *, actor: Actor, at: dt.datetime) -> InvoiceTemplate:
    """Make this version the brand's active one (the others are kept, inactive). Needs billing.change."""
    brand = template.brand
    require(actor, brand, "billing.change")
    with transaction.atomic():
        _lock(brand)
        previous = InvoiceTemplate.objects.filter(brand=brand, active=True).values_list("version", flat=True).first()
        if previous == template.version:
            return template
        InvoiceTemplate.objects.filter(brand=brand, active=True).update(active=False)
        InvoiceTemplate.objects.filter(pk=template.pk).update(active=True)
        template.active = True
        record_event(actor=actor, at=at, action="invoice_template_activate", obj=template, brand=brand,
                     old={"active_version": previous}, new={"active_version": template.version})
    return template


def use_default(brand, *, actor: Actor, at: dt.datetime) -> None:
    """Go back to Telora's default template (every version is kept, none active). Needs billing.change."""
    require(actor, brand, "billing.change")
    with transaction.atomic():
        _lock(brand)
        previous = InvoiceTemplate.objects.filter(brand=brand, active=True).first()
        if previous is None:
            return
        InvoiceTemplate.objects.filter(pk=previous.pk).update(active=False)
        record_event(actor=actor, at=at, action="invoice_template_default", obj=previous, brand=brand,
                     old={"active_version": previous.version}, new={"active_version": None})


def preview_pdf(brand, source: str | None = None) -> bytes:
    """The brand's sample invoice as PDF with `source` (checked first), else with the active template."""
    from telora.billing.services.pdfs import brand_assets

    assets = brand_assets(brand)
    if source is not None:
        check_template(brand, source, brand_assets=assets)
    else:
        source = active_template(brand)
    try:
        return render_pdf_bounded(sample_documents(brand)[0], template=source, brand_assets=assets,
                                  limits=_sample_limits())
    except InvoiceTemplateError as exc:
        raise _refusal(str(exc).removeprefix("template: "), exc.line) from None


__all__ = ["activate", "active_template", "check_template", "default_source", "preview_pdf",
           "sample_documents", "save_template", "use_default"]
