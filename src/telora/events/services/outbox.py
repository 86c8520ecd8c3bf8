"""Writing domain events: one row in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from telora.core.services.actors import Actor
from telora.events.models import Event
from telora.events.types import EVENT_TYPES

PAYLOAD_MAX = 16_000  # characters of JSON: events carry ids and figures, not documents


def _plain(value):
    """Decimals as strings, times ISO, everything else as json allows."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def subject_ref(subject) -> tuple[str, str]:
    """("customers.subscription", "123") for a model instance; ("", "") for None."""
    if subject is None:
        return "", ""
    return subject._meta.label_lower, str(subject.pk)


def emit(type: str, *, brand, subject=None, payload: dict | None = None, at: dt.datetime,
         actor: Actor | None = None) -> Event:
    """Record that `type` happened to `subject` in `brand`, inside the caller's transaction: the event
    exists exactly when the change that caused it commits. Consumers are woken after the commit."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if at.tzinfo is None:
        raise ValueError("at: an event's time needs a time zone")
    body = _plain(payload or {})
    if len(json.dumps(body, cls=DjangoJSONEncoder)) > PAYLOAD_MAX:
        raise ValueError(f"payload of {type}: more than {PAYLOAD_MAX} characters of JSON")
    subject_type, subject_id = subject_ref(subject)
    event = Event.objects.create(brand_id=getattr(brand, "pk", brand), type=type, subject_type=subject_type,
                                 subject_id=subject_id, payload=body, at=at,
                                 actor_label=actor.label[:200] if actor is not None else "")
    wake_dispatcher()
    return event


def emit_many(type: str, *, brand, items, at: dt.datetime, actor: Actor | None = None,
              subject_type: str = "") -> int:
    """Bulk paths (a bill run's invoices, a rating batch's balance events): many events of one type
    and brand in one statement. `items`: (subject_id, payload) pairs; the subjects are `subject_type`
    ("billing.invoice"). Returns how many were written."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    brand_id, label = getattr(brand, "pk", brand), actor.label[:200] if actor is not None else ""
    rows = [Event(brand_id=brand_id, type=type, subject_type=subject_type, subject_id=str(subject_id),
                  payload=_plain(payload), at=at, actor_label=label) for subject_id, payload in items]
    if rows:
        Event.objects.bulk_create(rows, batch_size=2000)
        wake_dispatcher()
    return len(rows)


def _wake() -> None:
    from telora.events.jobs import defer_dispatch

    defer_dispatch()


def wake_dispatcher() -> None:
    """Ask for a dispatch once the transaction commits (once per transaction, however many events)."""
    if not connection.in_atomic_block:
        _wake()
        return
    if any(func is _wake for _sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_wake, robust=True)
