"""The outbox: letters queued (rendered once and kept), sent by a job with retries, and resent.

Sending is crash-safe. A sending job claims due letters (`FOR UPDATE SKIP LOCKED`), marks them
`sending` with a lease and commits *before* it talks to a gateway; it writes each answer after.
A letter found still `sending` after its lease (the process died between the gateway's answer and
the commit) is sent once more with the same idempotency key (the e-mail's Message-ID, so a mail
system can drop the duplicate) and says so in its log; if that happens to it twice it is failed
"unknown whether it went out" for a person to check rather than risking a third copy. So a crash
re-sends at most once, and the outbox shows it.

A gateway that refuses a message (bad number, rejected address) fails the letter with the
gateway's reason; one that is down or throttles leaves it queued with exponential backoff (1, 2,
4, ... minutes, at most an hour) until MAX_TRIES, then failed. A template that fails on one
customer's data fails that letter with the part and line; the others go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import time

import psycopg
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from telora.core import clock
from telora.core.bulk import copy_objects
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event, record_events
from telora.letters.channels import Message, Refused, Unavailable, channel_for
from telora.letters.constants import MARKETING_CONSENT, MAX_TRIES
from telora.letters.engine import LetterTemplateError, check_part
from telora.letters.models import Letter, LetterPreference
from telora.letters.services.common import clean_recipient, require
from telora.letters.services.context import address_lines, customer_context, postal_address
from telora.letters.services.rendering import render_many
from telora.letters.services.templates import active_template

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)  # a letter `sending` longer than this was left by a process that died
BATCH = 200
STOPPED = ("failed", "bounced")


class NoConsent(ServiceError):
    """A marketing letter to a customer who has not opted in on that channel."""

    def __init__(self, message: str):
        super().__init__(message, field="channel", code="no_consent")


def backoff(tries: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(60, 2 ** max(0, tries - 1)))


def _note(letter: Letter, at: dt.datetime, what: str, detail: str = "") -> None:
    letter.log = [*letter.log, {"at": at.isoformat(), "what": what, "detail": detail[:500]}][-50:]


# Columns the sending path writes, with their SQL types (see _write).
_COLUMNS = {"state": "text", "error": "text", "tries": "smallint", "next_try_at": "timestamptz",
            "provider_ref": "text", "sent_at": "timestamptz", "delivered_at": "timestamptz", "log": "jsonb"}


def _write(letters: list[Letter], fields: list[str]) -> None:
    """`fields` of many letters in one UPDATE from one JSON document (jsonb_to_recordset), one round
    trip whatever the batch size. Django's bulk_update builds a CASE per field and row, and passing
    one array per column made psycopg adapt every element: both cost more than the sending."""
    if not letters:
        return
    import json

    rows = []
    for letter in letters:
        row = {"id": letter.pk}
        for name in fields:
            value = getattr(letter, name)
            row[name] = value.isoformat() if isinstance(value, dt.datetime) else value
        rows.append(row)
    columns = ", ".join(f"{f} {_COLUMNS[f]}" for f in fields)
    sets = ", ".join(f"{f} = v.{f}" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Letter._meta.db_table} AS l SET {sets} "
                       f"FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, {columns}) WHERE l.id = v.id",
                       [json.dumps(rows, separators=(",", ":"))])


# -- choosing channel, recipient and consent ---------------------------------------------------------
def preferred_channel(customer) -> str:
    """The customer's own choice, else e-mail when there is an address, else SMS, else print."""
    chosen = LetterPreference.objects.filter(customer=customer).values_list("channel", flat=True).first()
    if chosen:
        return chosen
    return "email" if customer.email else "sms" if customer.phone else "print"


def recipient_of(customer, channel: str, *, account=None) -> str:
    if channel == "email":
        return (account.invoice_email if account is not None and account.invoice_email else "") or customer.email
    if channel == "sms":
        return customer.phone
    return "\n".join(address_lines(customer, postal_address(customer)))


def marketing_allowed(customer, channel: str) -> bool:
    """Service letters always; marketing only with the customer's latest decision on that channel's
    purpose being an opt-in (privacy app); never by post (no consent purpose exists for it)."""
    from telora.privacy.selectors import current_consents

    purpose = MARKETING_CONSENT.get(channel)
    if purpose is None:
        return False
    return any(c.purpose == purpose and c.granted for c in current_consents(customer))


# -- queueing -------------------------------------------------------------------------------------
def queue_letter(brand, *, actor: Actor, at: dt.datetime, key: str, customer=None, template_code: str = "",
                 channel: str = "preferred", parts: dict | None = None, purpose: str | None = None,
                 recipient: str | None = None, context: dict | None = None, attachments: list | None = None,
                 trigger=None, event_id: str = "", account=None, subscription=None, event=None, invoice=None,
                 check_recipient: bool = False) -> Letter:
    """Render and queue one letter, once per (brand, `key`): a second call with the same key returns
    the first letter. Either `template_code` (the active template for the customer's language, else
    the brand's) or `parts` (an ad-hoc text, checked like a template). A recipient or template that
    fails on this customer's data makes a failed letter saying why; a recipient given by a person
    (`check_recipient`) is refused at once instead. NoConsent for marketing without opt-in."""
    item = {"key": key, "customer": customer, "template_code": template_code, "channel": channel, "parts": parts,
            "purpose": purpose, "recipient": recipient, "context": context, "attachments": attachments,
            "trigger": trigger, "event_id": event_id, "account": account, "subscription": subscription,
            "event": event, "invoice": invoice}
    [answer] = queue_letters(brand, [item], actor=actor, at=at, check_recipient=check_recipient)
    if isinstance(answer, ServiceError):
        raise answer
    return answer


def queue_letters(brand, items, *, actor: Actor, at: dt.datetime, check_recipient: bool = False) -> list:
    """Many letters of one brand at once (a trigger fired by a batch of events, a campaign): each item
    holds queue_letter's keyword arguments. Keys already queued are found in one query, templates and
    preferred channels read once, every render done in one round trip to the sandbox worker per
    chunk, and the letters and their audit events inserted in one statement each. The answer per
    item, in order: its Letter, or the ServiceError (NoConsent, no such template) that stopped it."""
    items = list(items)
    keys = [str(item["key"])[:200] for item in items]
    answers: list = [None] * len(items)
    existing = {letter.idempotency_key: letter for letter in Letter.objects.filter(brand=brand,
                                                                                  idempotency_key__in=keys)}
    wanting = [item["customer"] for item in items
               if item.get("customer") is not None and item.get("channel", "preferred") == "preferred"]
    preferences = dict(LetterPreference.objects.filter(customer__in=wanting).exclude(channel="")
                       .values_list("customer_id", "channel")) if wanting else {}
    templates: dict = {}
    fresh: dict[str, int] = {}  # key -> index of the item that makes it in this call
    made: list[tuple[int, Letter, dict, dict]] = []
    for index, item in enumerate(items):
        key = keys[index]
        if key in existing or key in fresh:
            continue
        try:
            letter, parts, values = _prepare(brand, item, key, actor=actor, at=at, preferences=preferences,
                                             templates=templates, check_recipient=check_recipient)
        except ServiceError as exc:
            answers[index] = exc
            continue
        fresh[key] = index
        made.append((index, letter, parts, values))
    rendering = [(index, letter, parts, values) for index, letter, parts, values in made if letter.state != "failed"]
    for (_index, letter, _parts, values), rendered in zip(
            rendering, render_many([(parts, values) for _i, _l, parts, values in rendering]), strict=True):
        if isinstance(rendered, LetterTemplateError):
            template = letter.template
            version = f"template {template.code} v{template.version}, " if template else ""
            letter.state, letter.error = "failed", f"{version}{rendered}"
            continue
        letter.subject, letter.text, letter.html = rendered["subject"], rendered["text"], rendered["html"]
        if letter.channel == "print":
            try:
                letter.pdf = _store_print_pdf(letter, values, at)
            except LetterTemplateError as exc:
                letter.state, letter.error = "failed", str(exc)
    for _index, letter, _parts, _values in made:
        if letter.channel == "print" and letter.state == "queued":
            letter.next_try_at = None  # waits for a print batch, not for the sending job
        _note(letter, at, "queued" if letter.state == "queued" else "failed", letter.error)
    letters = [letter for _index, letter, _parts, _values in made]
    if letters:
        try:
            with transaction.atomic():
                copy_objects(Letter, letters, with_ids=True)  # COPY: bulk_create cost more than the render
                record_events(actor=actor, at=at, action="letter_queue", items=[_audited(one) for one in letters])
            for letter in letters:
                letter._state.adding, letter._state.db = False, "default"
        except (IntegrityError, psycopg.IntegrityError):  # a key queued at the same moment by another process
            for letter in letters:
                letter.pk = letter.id = None
                letter._state.adding = True
            taken = {letter.idempotency_key: letter for letter in Letter.objects.filter(
                brand=brand, idempotency_key__in=[letter.idempotency_key for letter in letters])}
            letters = [letter for letter in letters if letter.idempotency_key not in taken]
            existing.update(taken)
            for letter in letters:  # the others, one by one (another race stops only its own)
                try:
                    with transaction.atomic():
                        letter.save()
                        record_events(actor=actor, at=at, action="letter_queue", items=[_audited(letter)])
                except IntegrityError:
                    existing[letter.idempotency_key] = Letter.objects.get(brand=brand,
                                                                           idempotency_key=letter.idempotency_key)
    by_key = {**existing, **{letter.idempotency_key: letter for letter in letters}}
    for index, key in enumerate(keys):
        if answers[index] is None:
            answers[index] = by_key[key]
    for channel in {letter.channel for letter in letters if letter.state == "queued" and letter.channel != "print"}:
        transaction.on_commit(lambda channel=channel: _kick(channel))
    return answers


def _audited(letter: Letter) -> tuple:
    return (letter, letter.brand, {"channel": letter.channel, "recipient": letter.recipient, "state": letter.state,
                                   "template": str(letter.template) if letter.template else "ad hoc",
                                   "key": letter.idempotency_key})


def _prepare(brand, item: dict, key: str, *, actor: Actor, at: dt.datetime, preferences: dict, templates: dict,
             check_recipient: bool) -> tuple[Letter, dict, dict]:
    """One unsaved letter with its recipient checked, and the parts and values to render it with."""
    customer, channel = item.get("customer"), item.get("channel") or "preferred"
    parts, purpose, attachments = item.get("parts"), item.get("purpose"), item.get("attachments")
    template = None
    if channel == "preferred":
        if customer is None:
            channel = "email"
        else:
            channel = preferences.get(customer.pk) or ("email" if customer.email else "sms" if customer.phone
                                                       else "print")
    if parts is None:
        language = (customer.language if customer is not None else "") or brand.language
        found = (item.get("template_code") or "", channel, language)
        if found not in templates:
            templates[found] = active_template(brand, *found)
        template = templates[found]
        if template is None:
            raise ServiceError(f"template: no active {channel} template {found[0]!r}", field="template")
        parts = {"subject": template.subject, "text": template.text, "html": template.html}
        purpose = purpose or template.purpose
        attachments = list(attachments or [])
    else:
        for name, source in parts.items():
            try:
                check_part(name, source or "")
            except LetterTemplateError as exc:
                raise ServiceError(str(exc), field=name) from None
    purpose = purpose or "service"
    if purpose == "marketing" and (customer is None or not marketing_allowed(customer, channel)):
        raise NoConsent(f"channel: the customer has not opted in to marketing by {channel}")
    letter = Letter(brand=brand, customer=customer, channel=channel, purpose=purpose, template=template,
                    language=(template.language if template else (customer.language if customer else "")),
                    idempotency_key=key, trigger=item.get("trigger"), event_id=str(item.get("event_id") or "")[:64],
                    created_at=at, created_by=actor.label[:200], next_try_at=at, attachments=attachments or [])
    recipient, account = item.get("recipient"), item.get("account")
    raw = recipient if recipient is not None else (
        recipient_of(customer, channel, account=account) if customer is not None else "")
    try:
        letter.recipient = clean_recipient(channel, raw, brand)
    except ServiceError as exc:
        if check_recipient:
            raise
        letter.recipient, letter.state, letter.error = (raw or "")[:254], "failed", exc.message
    values = {}
    if letter.state != "failed":
        values = item.get("context") or (customer_context(
            customer, subscription=item.get("subscription"), account=account, event=item.get("event"),
            invoice=item.get("invoice"), at=at) if customer is not None else {})
    return letter, parts, values


def _store_print_pdf(letter: Letter, context: dict, at: dt.datetime) -> str:
    from telora.billing.services.pdfs import brand_assets
    from telora.letters.documents import html_to_pdf_bounded, layout_html

    html = layout_html(letter.brand, body_html=letter.html, address_lines=context.get("address", {}).get("lines", []),
                       subject=letter.subject, date=at.date().isoformat(), logo=brand_assets(letter.brand).get("logo"))
    pdf = html_to_pdf_bounded(html)
    return default_storage.save(f"letters/{letter.brand.code}/{at:%Y/%m}/{letter.idempotency_key[:60].replace(':', '-')}.pdf",
                                ContentFile(pdf))


_KICKED: dict[str, float] = {}


def _kick(channel: str) -> None:
    """Ask a worker to send now (the periodic job would anyway, within a minute); at most once a
    second per channel and process, so a burst of letters defers one job, not one each."""
    now = time.monotonic()
    if now - _KICKED.get(channel, -10.0) < 1.0:
        return
    _KICKED[channel] = now
    try:
        from telora.letters.jobs import send_letters_task

        send_letters_task.configure(queueing_lock=f"letters-send-{channel}").defer(channel=channel)
    except Exception:  # noqa: BLE001  (a job already queued: it will take this letter too)
        pass


# -- sending --------------------------------------------------------------------------------------
def _claim(channel: str, at: dt.datetime, limit: int, brand_ids=None) -> list[Letter]:
    """Due letters of `channel` marked `sending` (committed before any gateway is called); stale
    `sending` letters (their lease passed) recovered once, or failed when recovered before."""
    with transaction.atomic():
        due = Letter.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            Q(state="queued") | Q(state="sending"), channel=channel, next_try_at__lte=at).order_by("next_try_at", "id")
        if brand_ids is not None:
            due = due.filter(brand_id__in=brand_ids)
        claimed, changed = [], []
        for letter in due[:limit]:
            changed.append(letter)
            if letter.state == "sending":  # left by a process that died after (maybe) handing it over
                if any(entry["what"] == "recovered" for entry in letter.log):
                    letter.state, letter.error = "failed", ("interrupted twice while sending: it may have gone "
                                                            "out; check with the recipient before resending")
                    letter.next_try_at = None
                    _note(letter, at, "failed", letter.error)
                    continue
                _note(letter, at, "recovered", "the sending process stopped before recording the gateway's "
                                               "answer; sent once more with the same idempotency key")
            letter.state, letter.tries = "sending", letter.tries + 1
            letter.next_try_at = at + LEASE
            _note(letter, at, f"try {letter.tries}")
            claimed.append(letter)
        _write(changed, ["state", "error", "tries", "next_try_at", "log"])
    return claimed


def _brand_codes(letters: list[Letter]) -> dict[int, str]:
    """The brand codes of a batch's letters in one query (a Brand object per letter cost more)."""
    from telora.core.models import Brand

    return dict(Brand.objects.filter(pk__in={letter.brand_id for letter in letters}).values_list("pk", "code"))


def _message(letter: Letter, codes: dict[int, str]) -> Message:
    files = []
    for item in letter.attachments:
        with default_storage.open(item["path"], "rb") as handle:
            files.append((item["name"], handle.read(),
                          item.get("content_type") or mimetypes.guess_type(item["name"])[0] or "application/octet-stream"))
    return Message(key=f"{codes[letter.brand_id]}:{letter.idempotency_key}", recipient=letter.recipient,
                   subject=letter.subject, text=letter.text, html=letter.html, attachments=files)


def _record(letter: Letter, result, at: dt.datetime) -> None:
    if isinstance(result, Refused):
        letter.state, letter.error, letter.next_try_at = "failed", f"refused by the gateway: {result}", None
    elif isinstance(result, (Unavailable, Exception)):
        if letter.tries >= MAX_TRIES:
            letter.state, letter.next_try_at = "failed", None
            letter.error = f"gave up after {letter.tries} tries: {result}"
        else:
            letter.state, letter.next_try_at = "queued", at + backoff(letter.tries)
            letter.error = f"try {letter.tries}: {result}; next try at {letter.next_try_at:%Y-%m-%d %H:%M} UTC"
    else:
        letter.state, letter.error, letter.next_try_at = "sent", "", None
        letter.provider_ref, letter.sent_at = result.provider_ref[:200], at
    _note(letter, at, letter.state, letter.error or getattr(result, "detail", ""))


RECORDED = ["state", "error", "next_try_at", "provider_ref", "sent_at", "log"]


def _record_all(letters: list[Letter], results: list, at: dt.datetime) -> None:
    """Each letter's answer, written in one statement (the letters are ours: claimed `sending`)."""
    for letter, result in zip(letters, results, strict=True):
        _record(letter, result, at)
    _write(letters, RECORDED)


def send_due(channel: str, *, at: dt.datetime | None = None, limit: int = BATCH, brand_ids=None,
             crash_after_send: bool = False) -> dict:
    """Send the due letters of one channel (e-mail or SMS) in batches until none is due; returns counts.
    `crash_after_send` stops after the gateway answered and before anything is recorded (tests)."""
    counts = {"sent": 0, "failed": 0, "retry": 0}
    receipts: list[tuple[str, str, str]] = []
    gateway = None
    try:
        while True:
            now = at or clock.now()
            letters = _claim(channel, now, limit, brand_ids)
            if not letters:
                break
            if gateway is None:
                gateway = channel_for(channel, on_receipt=lambda *r: receipts.append(r))
            messages, ready, codes = [], [], _brand_codes(letters)
            for letter in letters:
                try:
                    messages.append(_message(letter, codes))
                    ready.append(letter)
                except OSError as exc:
                    _record_all([letter], [Refused(f"attachment missing: {exc}")], now)
                    counts["failed"] += 1
            results = gateway.send_many(messages) if messages else []
            if crash_after_send:
                raise SystemExit("crash between send and commit (test)")
            _record_all(ready, results, at or clock.now())
            for letter in ready:
                key = "sent" if letter.state == "sent" else "retry" if letter.state == "queued" else "failed"
                counts[key] += 1
            if len(letters) < limit:
                break
    finally:
        if gateway is not None:
            gateway.close()
    if receipts:
        apply_receipts(receipts, at=at or clock.now())
    return counts


def apply_receipts(receipts, *, at: dt.datetime) -> int:
    """Delivery receipts (message id, stat, err): DELIVRD makes a sent letter delivered; UNDELIV,
    REJECTD, EXPIRED, DELETED make it bounced with the receipt's words. One-part messages are found
    by their reference in one query; a part of a long message by the part's id in the list."""
    receipts = list(receipts)
    if not receipts:
        return 0
    changed = []
    with transaction.atomic():
        ids = {message_id for message_id, _stat, _err in receipts}
        found = {letter.provider_ref: letter for letter in Letter.objects.select_for_update().filter(
            channel="sms", state="sent", provider_ref__in=ids)}
        parts = list(ids - found.keys())  # parts of long messages ("id1,id2,id3"), or already applied
        if parts:
            for letter in Letter.objects.select_for_update().filter(
                    channel="sms", state="sent", provider_ref__contains=",").extra(
                    where=["string_to_array(provider_ref, ',') && %s::text[]"], params=[parts]):
                for part in letter.provider_ref.split(","):
                    found.setdefault(part, letter)
        for message_id, stat, err in receipts:
            letter = found.get(message_id)
            if letter is None or letter.state != "sent":
                continue
            if stat == "DELIVRD":
                letter.state, letter.delivered_at = "delivered", at
            elif stat in ("UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN"):
                letter.state, letter.error = "bounced", f"delivery receipt: {stat} (error {err or '-'})"
            else:
                continue
            _note(letter, at, f"receipt {stat}", f"message {message_id}, error {err or '-'}")
            changed.append(letter)
        _write(changed, ["state", "delivered_at", "error", "log"])
    return len(changed)


def collect_receipts(seconds: float = 2.0, *, at: dt.datetime | None = None) -> int:
    """Bind to the SMS centre, take the delivery receipts waiting for us for `seconds`, apply them."""
    receipts: list = []
    gateway = channel_for("sms", on_receipt=lambda *r: receipts.append(r))
    try:
        gateway.listen(seconds)
    except Unavailable as exc:
        logger.warning("letters: no receipts: %s", exc)
    finally:
        gateway.close()
    return apply_receipts(receipts, at=at or clock.now())


# -- resending ------------------------------------------------------------------------------------
def resend(letter: Letter, *, actor: Actor, at: dt.datetime, recipient: str | None = None) -> Letter:
    """A new letter with the same content (to `recipient` if given: checked), queued now; the
    original keeps its state and history. Needs letters.send."""
    require(actor, letter.brand, "letters.send")
    if letter.state in ("queued", "sending"):
        raise ServiceError("letter: it is still waiting to be sent", field="letter", code="conflict")
    if not (letter.text or letter.html or letter.pdf):
        raise ServiceError("letter: it has no content to send (its template failed); queue a new one",
                           field="letter", code="conflict")
    target = clean_recipient(letter.channel, recipient if recipient else letter.recipient, letter.brand)
    count = Letter.objects.filter(resend_of=letter).count()
    with transaction.atomic():
        copy = Letter.objects.create(
            brand=letter.brand, customer=letter.customer, channel=letter.channel, purpose=letter.purpose,
            recipient=target, template=letter.template, language=letter.language, subject=letter.subject,
            text=letter.text, html=letter.html, attachments=letter.attachments, pdf=letter.pdf,
            idempotency_key=f"resend:{letter.pk}:{count + 1}", resend_of=letter, created_at=at,
            created_by=actor.label[:200], next_try_at=None if letter.channel == "print" else at,
            log=[{"at": at.isoformat(), "what": "queued", "detail": f"resend of letter {letter.pk}"}])
        record_event(actor=actor, at=at, action="letter_resend", obj=copy, brand=letter.brand,
                     new={"resend_of": letter.pk, "recipient": target})
    if copy.channel != "print":
        transaction.on_commit(lambda: _kick(copy.channel))
    return copy


def file_name(letter: Letter) -> str:
    return f"letter-{letter.pk}.pdf"


def letter_pdf(letter: Letter) -> bytes:
    """The letter as PDF: the printed one as it went out, an e-mail or SMS laid out as a page."""
    if letter.pdf and default_storage.exists(letter.pdf):
        with default_storage.open(letter.pdf, "rb") as handle:
            return handle.read()
    from django.utils.html import escape, linebreaks

    from telora.letters.documents import html_to_pdf_bounded, layout_html

    body = letter.html or linebreaks(escape(letter.text))
    return html_to_pdf_bounded(layout_html(letter.brand, body_html=body, address_lines=[letter.recipient],
                                           subject=letter.subject, date=letter.created_at.date().isoformat(),
                                           logo=None))


__all__ = ["NoConsent", "apply_receipts", "backoff", "collect_receipts", "letter_pdf", "marketing_allowed",
           "preferred_channel", "queue_letter", "queue_letters", "resend", "send_due"]
