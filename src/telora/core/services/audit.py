"""Recording audit events: explicit calls from services, never signals, so bulk paths are audited too.

Inside `batched()` (a unit of work that records many events in one transaction: an order's start, a desk
step with the automatic steps after it), the events are kept and inserted together, in the order they were
recorded, by one statement when the block ends: the same rows in the same transaction, one round trip.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from decimal import Decimal

from django.db import models, transaction

from telora.core.models import AuditEvent
from telora.core.services.actors import Actor


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return str(value)


def snapshot(obj, fields) -> dict:
    """The named fields of `obj` as JSON-ready values (foreign keys as ids)."""
    result = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            result[name] = sorted(obj.pk and getattr(obj, name).values_list("pk", flat=True) or [])
        elif field.is_relation:
            result[name] = getattr(obj, field.attname)
        else:
            result[name] = _plain(getattr(obj, name))
    return result


def diff(old: dict | None, new: dict | None) -> dict:
    old = old or {}
    new = new or {}
    return {
        key: [old.get(key), new.get(key)]
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }


def record_event(
    *,
    actor: Actor,
    at: dt.datetime,
    action: str,
    obj,
    brand=None,
    old: dict | None = None,
    new: dict | None = None,
    message: str = "",
    object_type: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:200],
        brand=brand,
        object_type=object_type or obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        changes=diff(_plain_dict(old), _plain_dict(new)),
        message=message,
        request_id=actor.request_id,
        address=actor.address,
    )
    batch = getattr(_LOCAL, "batch", None)
    if batch is not None:
        batch.keep(event)
    else:
        event.save(force_insert=True)
    return event


class _Batch:
    """The events recorded in a `batched()` block, not inserted yet.

    Each one is tied to the savepoints open when it was recorded, as Django ties its on_commit callbacks: a
    marker callback is registered with `transaction.on_commit`, and Django drops the markers of a savepoint
    that rolls back (`connection.run_on_commit`, filtered by savepoint id). So an event recorded inside a
    savepoint that rolled back (a service task's failed try) is not inserted, exactly as its row would have
    been rolled back."""

    def __init__(self, using: str | None):
        self.using = using
        self.events: list[tuple[AuditEvent, object]] = []

    def keep(self, event: AuditEvent) -> None:
        def marker():  # noqa: ANN202 - runs after the commit: nothing to do
            return None

        transaction.on_commit(marker, using=self.using)
        self.events.append((event, marker))

    def flush(self) -> None:
        if not self.events:
            return
        connection = transaction.get_connection(self.using)
        pending, self.events = self.events, []
        if connection.needs_rollback:  # the transaction is rolling back: the events go with it
            return
        alive = {id(callback) for _sids, callback, _robust in connection.run_on_commit}
        kept = [event for event, marker in pending if id(marker) in alive]
        if kept:
            AuditEvent.objects.using(self.using).bulk_create(kept)


_LOCAL = threading.local()


@contextlib.contextmanager
def batched(using: str | None = None):
    """Collect the audit events recorded inside the block and insert them together as it ends (same content,
    same order, same transaction). Enter it directly inside the atomic block it belongs to (`with
    transaction.atomic(), batched():`): an exception leaving the block drops the events, as that atomic
    block's rollback drops everything else. Nested blocks join the outer one; outside a transaction it
    does nothing (each event is inserted at once)."""
    if getattr(_LOCAL, "batch", None) is not None or not transaction.get_connection(using).in_atomic_block:
        yield
        return
    batch = _LOCAL.batch = _Batch(using)
    try:
        yield
        batch.flush()
    finally:
        _LOCAL.batch = None


def flush_pending() -> None:
    """Insert the events a `batched()` block holds now (a bulk path writing its own audit rows keeps the order)."""
    batch = getattr(_LOCAL, "batch", None)
    if batch is not None:
        batch.flush()


def record_events(*, actor: Actor, at: dt.datetime, action: str, items, message: str = "") -> int:
    """Bulk paths: one AuditEvent per (obj, brand, new values) in one COPY, each as record_event
    would write it (the objects must have their primary keys)."""
    from telora.core.bulk import copy_objects, new_object

    flush_pending()  # the events recorded before these come before them
    user_id = actor.user.pk if actor.user is not None else None
    key_id = actor.api_key.pk if actor.api_key is not None else None
    events = [
        new_object(AuditEvent, at=at, actor_user_id=user_id, actor_api_key_id=key_id, actor_label=actor.label[:200],
                   brand_id=brand.pk if brand is not None else None, object_type=obj._meta.label_lower,
                   object_id=str(obj.pk), object_repr=str(obj)[:200], action=action,
                   changes=diff(None, _plain_dict(new)), message=message, request_id=actor.request_id,
                   address=actor.address)
        for obj, brand, new in items
    ]
    copy_objects(AuditEvent, events)  # COPY: a tenth of bulk_create's cost per row (core.bulk)
    return len(events)


def _plain_dict(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {key: _plain(value) for key, value in values.items()}
