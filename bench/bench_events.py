"""Domain events: emitting into the outbox, and dispatching to a consumer (events/s, target >= 5,000/s),
against a baseline of reading the same rows with a bare SELECT in the same order and batch size
(medians of ROUNDS rounds, each with a fresh consumer reading every event from the start)."""

from __future__ import annotations

import statistics

from run import Timer

EVENTS = 50_000
BATCH = 1000
ROUNDS = 3


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
    def bare_select() -> tuple[int, float]:
        with Timer() as base, connection.cursor() as cursor:
            last, read = (0, 0), 0
            while True:
                cursor.execute("SELECT id, type, brand_id, subject_type, subject_id, payload, at, txid "
                               "FROM events_event WHERE (txid, id) > (%s, %s) ORDER BY txid, id LIMIT %s",
                               [*last, BATCH])
                rows = cursor.fetchall()
                if not rows:
                    break
                read += len(rows)
                last = (rows[-1][7], rows[-1][0])
        return read, base.seconds

    # Each round a fresh consumer (its own position from the start) reads every event.
    bases, rounds = [], []
    for n in range(ROUNDS):
        read, seconds = bare_select()
        bases.append(seconds)
        seen = {"n": 0}
        name = f"bench-{n}"

        @consumer(name)
        def count(event, seen=seen):
            seen["n"] += 1

        try:
            with Timer() as t:
                while dispatch(name, limit=BATCH):
                    pass
        finally:
            unregister(name)
        assert seen["n"] == EVENTS, seen
        rounds.append(t.seconds)
    base = statistics.median(bases)
    report.figure("baseline: bare SELECT of the same rows", read / base, "rows/s",
                  f"{read:,} rows, median of {ROUNDS}")
    rate = EVENTS / statistics.median(rounds)
    report.figure("events dispatched to a consumer", rate, "events/s",
                  f"{EVENTS:,} events, batches of {BATCH}, median of {ROUNDS}")
    report.figure("  ratio to the bare SELECT", statistics.median(rounds) / base, "x slower", "")
