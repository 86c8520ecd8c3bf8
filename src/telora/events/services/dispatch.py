"""Handing the outbox's events to the registered consumers, at least once, each from its own position.

Event ids are taken when a row is inserted but become visible when the transaction commits, and
transactions commit in any order: a consumer that remembered only "the last id I saw" would pass
over an event whose transaction committed after a later id had been read. So the outbox is read in
the order (txid, id) — the writing transaction's id, then the event's — and only below the horizon:
the oldest transaction still running in this database (`horizon()`, like pg_snapshot_xmin but blind
to the cluster's other databases). Every transaction below it has finished, and any that has not is
at or above it, so no event can appear later behind a consumer's position. (The dispatcher's own
transaction is the one exception it may read: its own events are visible to it, and the horizon is
then at most its own id.) The price: a long writing transaction holds back delivery of the events
committed after it began until it ends.

One dispatch of one consumer is one transaction: lock the position (a second dispatcher skips it),
read a batch, call the handler per event in a savepoint, save the position. A crash anywhere before
the commit leaves the position where it was, so the events come again (at least once). A handler that
raises stops its consumer at that event: the events before it are done, the failure is recorded and
retried with backoff; after MAX_FAILURES tries the event is parked (ParkedEvent) and the consumer goes on.
A batch is handed over in one savepoint; only when a handler raises is it done again event by event
(a batch handler then gets one-event lists), so the event at fault is the one retried and parked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction

from telora.core import clock
from telora.events.models import ConsumerPosition, ParkedEvent
from telora.events.registry import Consumer, consumers, get_consumer

logger = logging.getLogger(__name__)

BATCH = 1000


def max_failures() -> int:
    return int(getattr(settings, "TELORA_EVENTS_MAX_FAILURES", 8))


def _backoff(failures: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 5 * 2 ** max(0, failures - 1)))


# The oldest transaction still running in this database (or prepared here), as a full 64-bit id:
# pg_stat_activity gives 32-bit xids, widened to the xid8 nearest the snapshot's xmax (within 2^31 of it;
# our own id may lie just above xmax).
# Only this database counts: other databases of the cluster (a test run beside, a report database)
# must not hold our events back, nor autovacuum's ANALYZE (which takes an id to write statistics).
# Without running transactions, the next id to be given out.
_HORIZON = """
WITH now AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS full),
running AS (
    SELECT backend_xid AS xid FROM pg_stat_activity
     WHERE datname = current_database() AND backend_xid IS NOT NULL AND backend_type = 'client backend'
    UNION ALL
    SELECT transaction FROM pg_prepared_xacts WHERE database = current_database())
SELECT LEAST(now.full, MIN(now.full + (r.xid::text::bigint - now.full % 4294967296 + 2147483648) % 4294967296
                                     - 2147483648))
  FROM now LEFT JOIN running r ON true
 GROUP BY now.full
"""

_READ = """
SELECT id, type, brand_id, subject_type, subject_id, payload, at, txid
  FROM events_event
 WHERE (txid, id) > (%s, %s)
   AND (txid < %s OR txid = pg_current_xact_id_if_assigned()::text::bigint)
   {types}
 ORDER BY txid, id
 LIMIT %s
"""


def horizon() -> int:
    """Every transaction of this database with a smaller id has finished (committed or rolled back).

    Computed in its own statement before the events are read in the next one (READ COMMITTED: a
    newer snapshot), so a transaction that finished in between is visible to the read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the activity view is cached per transaction
        cursor.execute(_HORIZON)
        return cursor.fetchone()[0]


def _read(position: ConsumerPosition, types: tuple[str, ...], limit: int) -> list[SimpleNamespace]:
    params: list = [position.txid, position.event_id, horizon()]
    clause = ""
    if types:
        clause = "AND type = ANY(%s)"
        params.append(list(types))
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(_READ.format(types=clause), params)
        rows = cursor.fetchall()
    # Django reads jsonb as text (its JSONField decodes it); so do we.
    return [SimpleNamespace(id=r[0], type=r[1], brand_id=r[2], subject_type=r[3], subject_id=r[4],
                            payload=json.loads(r[5]) if isinstance(r[5], str) else r[5], at=r[6], txid=r[7])
            for r in rows]


def _lock(name: str, now: dt.datetime) -> ConsumerPosition | None:
    ConsumerPosition.objects.get_or_create(name=name)
    position = ConsumerPosition.objects.select_for_update(skip_locked=True).filter(name=name).first()
    if position is not None and position.retry_at is not None and position.retry_at > now:
        return None  # failing: wait for the backoff
    return position


def _fail(position: ConsumerPosition, event, exc: BaseException, now: dt.datetime) -> None:
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
    position.failures += 1
    position.last_error = f"event {event.id} ({event.type}): {error}"
    logger.warning("events: consumer %s failed on event %s: %s", position.name, event.id, error)
    if position.failures >= max_failures():
        ParkedEvent.objects.create(consumer=position.name, event_id=event.id, error=error, at=now)
        position.txid, position.event_id = event.txid, event.id
        position.failures, position.retry_at = 0, None
    else:
        position.retry_at = now + _backoff(position.failures)


def _one_by_one(handler, events) -> tuple[int, tuple | None]:
    """Hand the events over in one savepoint; if one fails, undo and go again with a savepoint per
    event, stopping at the failing one (the handlers before it run twice: at least once allows it)."""
    try:
        with transaction.atomic():
            for event in events:
                handler(event)
        return len(events), None
    except Exception:  # noqa: BLE001  (found again below, with the event it belongs to)
        pass
    for handled, event in enumerate(events):
        try:
            with transaction.atomic():
                handler(event)
        except Exception as exc:
            return handled, (event, exc)
    return len(events), None  # it failed once, not again: all handed over


def _singly(handler, events) -> tuple[int, tuple | None]:
    """A batch handler's failed batch again, one event per call and savepoint, stopping at the one
    that fails (so that event, not the batch's first, is retried and parked)."""
    for handled, event in enumerate(events):
        try:
            with transaction.atomic():
                handler([event])
        except Exception as exc:
            return handled, (event, exc)
    return len(events), None


def dispatch(name: str, *, limit: int = BATCH, at: dt.datetime | None = None) -> int:
    """One batch of consumer `name`: the number of events handed to it (0: none waiting, busy or backing off)."""
    entry: Consumer = get_consumer(name)
    now = at or clock.now()
    with transaction.atomic():
        position = _lock(name, now)
        if position is None:
            return 0
        events = _read(position, entry.types, limit)
        if not events:
            return 0
        handled, failure = 0, None
        if entry.batch:
            try:
                with transaction.atomic():
                    entry.handler(events)
                handled = len(events)
            except Exception:  # noqa: BLE001  (found again below, with the event it belongs to)
                handled, failure = _singly(entry.handler, events)
        else:
            handled, failure = _one_by_one(entry.handler, events)
        if handled:
            last = events[handled - 1]
            position.txid, position.event_id = last.txid, last.id
            position.delivered += handled
        if failure is None:
            position.failures, position.retry_at, position.last_error = 0, None, ""
        else:
            _fail(position, *failure, now)
        position.updated_at = now
        position.save()
        return handled


def skip_to_end(name: str, *, at: dt.datetime | None = None) -> int:
    """Place consumer `name` after the last event of the outbox (below the horizon), so it starts with
    the events still to come: for a consumer added to an installation with a history it must not
    replay (the demo's letters). Returns how many events it passes over."""
    get_consumer(name)
    now = at or clock.now()
    with transaction.atomic():
        ConsumerPosition.objects.get_or_create(name=name)
        position = ConsumerPosition.objects.select_for_update().get(name=name)
        limit = horizon()
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid, id FROM events_event WHERE (txid, id) > (%s, %s) AND (txid < %s OR "
                           "txid = pg_current_xact_id_if_assigned()::text::bigint) ORDER BY txid DESC, id DESC LIMIT 1",
                           [position.txid, position.event_id, limit])
            last = cursor.fetchone()
            if last is None:
                return 0
            cursor.execute("SELECT count(*) FROM events_event WHERE (txid, id) > (%s, %s) AND (txid, id) <= (%s, %s)",
                           [position.txid, position.event_id, *last])
            skipped = cursor.fetchone()[0]
        position.txid, position.event_id = last
        position.failures, position.retry_at, position.last_error = 0, None, ""
        position.updated_at = now
        position.save()
    logger.info("events: consumer %s starts after event %s (%s passed over)", name, last[1], skipped)
    return skipped


def dispatch_all(*, limit: int = BATCH, rounds: int = 100) -> dict[str, int]:
    """Every consumer until nothing is waiting (or `rounds` batches each): {name: events handed}."""
    totals: dict[str, int] = {}
    for entry in consumers():
        total = 0
        for _ in range(rounds):
            handled = dispatch(entry.name, limit=limit)
            total += handled
            if handled < limit:
                break
        totals[entry.name] = total
    return totals
