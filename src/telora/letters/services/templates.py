"""A brand's letter templates: versions checked before they are kept, one active per code, channel
and language (like billing's invoice templates).

A save never edits a version; it adds the next one. The parts are checked in a bounded worker
process (telora.core.sandbox: CPU, memory and wall-clock limits): they must compile in the sandbox,
read only known placeholders (engine.VARIABLES), reach nothing outside the document, and render the
brand's sample data; every refusal names the part and the line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import transaction

from telora.core.models.brands import validate_language
from telora.core.sandbox import LimitExceeded, limits_from_settings, run_bounded
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.letters.constants import CHANNELS, PURPOSES
from telora.letters.engine import LetterTemplateError, check_and_render
from telora.letters.models import LetterTemplate
from telora.letters.services.common import lock, require
from telora.letters.services.context import sample_contexts

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ATTACHMENTS = ("invoice_pdf",)
SAMPLE_WALL_SECONDS = 15.0
REQUIRED = {"email": ("subject", "text"), "sms": ("text",), "print": ("html",)}


def _limits():
    limits = limits_from_settings()
    return replace(limits, wall_seconds=min(limits.wall_seconds, SAMPLE_WALL_SECONDS))


def check_parts(brand, parts: dict, *, language: str | None = None) -> dict:
    """The parts rendered with the brand's sample data (in a bounded worker); a ServiceError naming
    the part and line when they do not pass."""
    try:
        return run_bounded(check_and_render, (parts, sample_contexts(brand, language)), limits=_limits())
    except LetterTemplateError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise ServiceError(f"{exc.part or 'template'}: {where}{exc.args[0]}", field=exc.part or "text") from None
    except LimitExceeded as exc:
        raise ServiceError(f"template: {exc}", field="text") from None


def _clean(brand, *, code, channel, language, purpose, subject, text, html, attachments) -> dict:
    code = (code or "").strip().lower()
    if not CODE.match(code):
        raise ServiceError("code: 1 to 40 lower-case letters, digits, - and _", field="code")
    if channel not in CHANNELS:
        raise ServiceError(f"channel: one of {', '.join(CHANNELS)}", field="channel")
    language = (language or brand.language).strip()
    try:
        validate_language(language)
    except ValidationError:
        raise ServiceError(f"language: {language[:10]!r} is not a language code", field="language") from None
    if purpose not in PURPOSES:
        raise ServiceError(f"purpose: one of {', '.join(PURPOSES)}", field="purpose")
    parts = {"subject": (subject or "").replace("\r\n", "\n"), "text": (text or "").replace("\r\n", "\n"),
             "html": (html or "").replace("\r\n", "\n")}
    if channel != "email":
        parts["subject"] = "" if channel == "sms" else parts["subject"]
    if channel == "sms":
        parts["html"] = ""
    for name in REQUIRED[channel]:
        if not parts[name].strip():
            raise ServiceError(f"{name}: a {channel} template needs one", field=name)
    attachments = list(attachments or [])
    unknown = [a for a in attachments if a not in ATTACHMENTS]
    if unknown or (attachments and channel == "sms"):
        raise ServiceError(f"attachments: {', '.join(unknown) or 'an SMS has none'} (known: {', '.join(ATTACHMENTS)})",
                           field="attachments")
    return {"code": code, "channel": channel, "language": language, "purpose": purpose, "parts": parts,
            "attachments": attachments}


def save_template(brand, *, actor: Actor, at: dt.datetime, code: str, channel: str, language: str = "",
                  purpose: str = "service", name: str = "", subject: str = "", text: str = "", html: str = "",
                  attachments=(), note: str = "", activate: bool = True) -> LetterTemplate:
    """Check the parts and keep them as the next version of (code, channel, language), active at once
    unless `activate` is False. Needs letters.change."""
    require(actor, brand, "letters.change")
    values = _clean(brand, code=code, channel=channel, language=language, purpose=purpose, subject=subject,
                    text=text, html=html, attachments=attachments)
    check_parts(brand, values["parts"], language=values["language"])
    key = {"code": values["code"], "channel": values["channel"], "language": values["language"]}
    with transaction.atomic():
        lock(brand, "template")
        same = LetterTemplate.objects.filter(brand=brand, **key)
        version = (same.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        previous = same.filter(active=True).values_list("version", flat=True).first()
        if activate:
            same.filter(active=True).update(active=False)
        template = LetterTemplate.objects.create(
            brand=brand, version=version, active=activate, purpose=values["purpose"], name=(name or "").strip()[:120],
            attachments=values["attachments"], note=(note or "").strip()[:300], created_at=at,
            created_by=actor.label[:200], **key, **values["parts"])
        record_event(actor=actor, at=at, action="letter_template_save", obj=template, brand=brand,
                     old={"active_version": previous} if activate else None,
                     new={**key, "version": version, "active": activate, "purpose": values["purpose"]})
    return template


def activate(template: LetterTemplate, *, actor: Actor, at: dt.datetime) -> LetterTemplate:
    """Make this version the active one of its code, channel and language. Needs letters.change."""
    brand = template.brand
    require(actor, brand, "letters.change")
    with transaction.atomic():
        lock(brand, "template")
        same = LetterTemplate.objects.filter(brand=brand, code=template.code, channel=template.channel,
                                             language=template.language)
        previous = same.filter(active=True).values_list("version", flat=True).first()
        if previous == template.version:
            return template
        same.filter(active=True).update(active=False)
        LetterTemplate.objects.filter(pk=template.pk).update(active=True)
        template.active = True
        record_event(actor=actor, at=at, action="letter_template_activate", obj=template, brand=brand,
                     old={"active_version": previous}, new={"active_version": template.version})
    return template


def preview(brand, *, channel: str, subject: str = "", text: str = "", html: str = "", language: str = "") -> dict:
    """The parts rendered with the brand's sample data, without keeping anything (checked first)."""
    values = _clean(brand, code="preview", channel=channel, language=language, purpose="service", subject=subject,
                    text=text, html=html, attachments=())
    return check_parts(brand, values["parts"], language=values["language"])


def active_template(brand, code: str, channel: str, language: str) -> LetterTemplate | None:
    """The active version for the customer's language, else the brand's, else any language."""
    found = {t.language: t for t in LetterTemplate.objects.filter(brand=brand, code=code, channel=channel,
                                                                   active=True)}
    for wanted in (language, (language or "").split("_")[0], brand.language):
        if wanted in found:
            return found[wanted]
    return next(iter(sorted(found.values(), key=lambda t: t.language)), None)
