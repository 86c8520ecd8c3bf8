"""Domain events: emitting into the outbox, and dispatching to a consumer (events/s, target >= 5,000/s),
against a baseline of reading the same rows with a bare SELECT in the same order and batch size."""

from __future__ import annotations

from run import Timer

EVENTS = 50_000
BATCH = 1000


def run(report) -> None:
    from django.db import connection, transaction

    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.events.registry import consumer, unregister
    from telora.events.services import emit, emit_many
    from telora.events.services.dispatch import dispatch

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="ev", name="Events", currency="EUR",
                         timezone="Europe/Amsterdam", country="NL")

    single = 5000
    with Timer() as t:
        for n in range(single):
            with transaction.atomic():
                emit("balance.low", brand=brand, at=clock.now(), payload={"subscription_id": n, "balance": "1.00"})
    report.figure("events emitted (one per transaction)", single / t.seconds, "events/s", f"{single:,} events")

    with Timer() as t, transaction.atomic():
        emit_many("balance.low", brand=brand, at=clock.now(), subject_type="customers.subscription",
                  items=[(n, {"subscription_id": n, "balance": "1.00", "threshold": "2.00"})
                         for n in range(EVENTS - single)])
    report.figure("events emitted in bulk (one transaction)", (EVENTS - single) / t.seconds, "events/s",
                  f"{EVENTS - single:,} events")

    # Baseline: the same rows, same order, same batch size, no consumer and no position.
    with Timer() as base, connection.cursor() as cursor:
        last, read = (0, 0), 0
        while True:
            cursor.execute("SELECT id, type, brand_id, subject_type, subject_id, payload, at, txid FROM events_event "
                           "WHERE (txid, id) > (%s, %s) ORDER BY txid, id LIMIT %s", [*last, BATCH])
            rows = cursor.fetchall()
            if not rows:
                break
            read += len(rows)
            last = (rows[-1][7], rows[-1][0])
    report.figure("baseline: bare SELECT of the same rows", read / base.seconds, "rows/s", f"{read:,} rows")

    seen = {"n": 0}

    @consumer("bench")
    def count(event):
        seen["n"] += 1

    try:
        with Timer() as t:
            while dispatch("bench", limit=BATCH):
                pass
    finally:
        unregister("bench")
    assert seen["n"] == EVENTS, seen
    rate = EVENTS / t.seconds
    report.figure("events dispatched to a consumer", rate, "events/s", f"{EVENTS:,} events, batches of {BATCH}")
    report.figure("  ratio to the bare SELECT", t.seconds / base.seconds, "x slower", "")
