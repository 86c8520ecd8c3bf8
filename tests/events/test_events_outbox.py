"""The outbox: events exist exactly when their transaction commits, consumers read from their own
positions at least once (a crash re-delivers), and an event committed late is never passed over."""

import os
import subprocess
import sys
import textwrap
import threading

import pytest
from django.db import connection, transaction

from telora.core import clock
from telora.events.models import ConsumerPosition, Event, ParkedEvent
from telora.events.registry import consumer, unregister
from telora.events.services import emit
from telora.events.services.dispatch import dispatch


@pytest.fixture
def collected():
    """A consumer "collect" that records (id, type) of what it is handed; removed afterwards."""
    seen = []

    @consumer("collect")
    def handle(event):
        seen.append((event.id, event.type))

    yield seen
    unregister("collect")


def test_an_event_is_written_in_the_callers_transaction_and_gone_with_its_rollback(brand_a, system):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit("customer.created", brand=brand_a, subject=brand_a, payload={"customer_id": 1}, at=clock.now(),
             actor=system)
        assert Event.objects.count() == 1
        raise RuntimeError("the change failed")
    assert Event.objects.count() == 0
    event = emit("customer.created", brand=brand_a, subject=brand_a, payload={"n": 1}, at=clock.now(), actor=system)
    assert (event.subject_type, event.subject_id, event.actor_label) == ("core.brand", str(brand_a.pk), "job:tests")
    event.refresh_from_db()
    assert event.txid > 0  # set by PostgreSQL: the writing transaction's id


def test_emit_refuses_unknown_types_and_naive_times(brand_a):
    import datetime as dt

    with pytest.raises(ValueError, match="unknown event type 'customer.exploded'"):
        emit("customer.exploded", brand=brand_a, at=clock.now())
    with pytest.raises(ValueError, match="time zone"):
        emit("customer.created", brand=brand_a, at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="payload"):
        emit("customer.created", brand=brand_a, at=clock.now(), payload={"x": "y" * 20_000})


def test_payload_decimals_and_dates_become_strings(brand_a):
    import datetime as dt
    from decimal import Decimal

    event = emit("balance.low", brand=brand_a, at=clock.now(),
                 payload={"balance": Decimal("1.50"), "day": dt.date(2026, 1, 2), "ids": (1, 2)})
    event.refresh_from_db()
    assert event.payload == {"balance": "1.50", "day": "2026-01-02", "ids": [1, 2]}


def test_each_consumer_keeps_its_own_position_and_filters_types(brand_a, collected):
    first = emit("customer.created", brand=brand_a, at=clock.now())
    second = emit("invoice.issued", brand=brand_a, at=clock.now())
    only_invoices = []
    consumer("invoices", types=("invoice.issued",))(lambda e: only_invoices.append(e.id))
    try:
        assert dispatch("collect") == 2
        assert collected == [(first.id, "customer.created"), (second.id, "invoice.issued")]
        assert dispatch("collect") == 0  # nothing new
        assert dispatch("invoices") == 1 and only_invoices == [second.id]
        third = emit("invoice.issued", brand=brand_a, at=clock.now())
        assert dispatch("invoices") == 1 and only_invoices == [second.id, third.id]
        assert dispatch("collect") == 1 and collected[-1] == (third.id, "invoice.issued")
        assert ConsumerPosition.objects.get(name="collect").delivered == 3
    finally:
        unregister("invoices")


def test_a_failing_handler_stops_its_consumer_there_retries_and_parks_the_event_at_last(brand_a, settings):
    settings.TELORA_EVENTS_MAX_FAILURES = 2
    import datetime as dt

    handled = []

    @consumer("picky")
    def handle(event):
        if event.payload.get("bad"):
            raise ValueError("cannot handle this one")
        handled.append(event.id)

    try:
        good = emit("customer.created", brand=brand_a, at=clock.now())
        bad = emit("customer.created", brand=brand_a, at=clock.now(), payload={"bad": True})
        after = emit("customer.created", brand=brand_a, at=clock.now())
        assert dispatch("picky") == 1 and set(handled) == {good.id}  # (twice: the batch went again one by one)
        position = ConsumerPosition.objects.get(name="picky")
        assert position.failures == 1 and "cannot handle this one" in position.last_error
        assert position.event_id == good.id and position.retry_at > clock.now()
        assert dispatch("picky") == 0  # backing off
        assert dispatch("picky", at=position.retry_at + dt.timedelta(seconds=1)) == 0  # fails again: parked now
        assert ParkedEvent.objects.get(consumer="picky").event_id == bad.id
        assert dispatch("picky") == 1 and handled[-1] == after.id and bad.id not in handled
    finally:
        unregister("picky")


CRASHING_DISPATCHER = textwrap.dedent("""
    import os, sys
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telora.settings")
    django.setup()
    from telora.events.registry import consumer
    from telora.events.services.dispatch import dispatch

    @consumer("crashy")
    def handle(event):
        with open(sys.argv[1], "a") as fh:
            fh.write(f"{event.id}\\n")
        if event.payload.get("crash"):
            os._exit(3)  # the process dies in the middle of the batch, nothing is committed

    dispatch("crashy")
""")


@pytest.mark.django_db(transaction=True)
def test_a_crash_in_the_middle_of_a_batch_delivers_the_events_again(brand_a, tmp_path):
    events = [emit("customer.created", brand=brand_a, at=clock.now(), payload={"crash": n == 1}) for n in range(3)]
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    log = tmp_path / "handled.txt"
    done = subprocess.run([sys.executable, "-c", CRASHING_DISPATCHER, str(log)], env=env, timeout=120)
    assert done.returncode == 3
    assert log.read_text().split() == [str(events[0].id), str(events[1].id)]
    position = ConsumerPosition.objects.filter(name="crashy").first()
    assert position is None or position.event_id == 0  # the crash took the new position with it

    again = []
    consumer("crashy")(lambda e: again.append(e.id))
    try:
        assert dispatch("crashy") == 3
    finally:
        unregister("crashy")
    assert again == [e.id for e in events]  # the first is handed a second time: at least once


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_later_id_is_not_passed_over(brand_a, collected):
    """Transaction A takes an id, B takes a higher one and commits first. A consumer that kept only
    "the last id seen" would read B, then never read A. Reading below the oldest running transaction
    holds B back until A has finished, then hands over both."""
    took_id, may_commit = threading.Event(), threading.Event()
    early = {}

    def slow_writer():
        try:
            with transaction.atomic():
                early["event"] = emit("customer.created", brand=brand_a, at=clock.now(), payload={"who": "A"})
                took_id.set()
                assert may_commit.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert took_id.wait(30)
        late = emit("customer.changed", brand=brand_a, at=clock.now(), payload={"who": "B"})  # commits now
        assert late.id > early["event"].id
        assert Event.objects.filter(pk=late.pk).exists() and not Event.objects.filter(pk=early["event"].pk).exists()
        assert dispatch("collect") == 0  # B waits behind A, which is still running
    finally:
        may_commit.set()
        writer.join(30)
    assert dispatch("collect") == 2
    assert sorted(i for i, _ in collected) == [early["event"].id, late.id]
    assert dispatch("collect") == 0


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_sees_its_own_transactions_events_and_nothing_committed_later_behind_it(brand_a, collected):
    with transaction.atomic():
        mine = emit("customer.created", brand=brand_a, at=clock.now())
        assert dispatch("collect") == 1
        more = emit("customer.changed", brand=brand_a, at=clock.now())
        assert dispatch("collect") == 1
    other = emit("customer.changed", brand=brand_a, at=clock.now())
    assert dispatch("collect") == 1
    assert [i for i, _ in collected] == [mine.id, more.id, other.id]


def test_a_batch_consumer_that_fails_is_handed_its_events_one_by_one_and_the_bad_one_is_parked(brand_a, settings):
    """Not the batch's first event: the one the handler fails on (the events before it are done)."""
    settings.TELORA_EVENTS_MAX_FAILURES = 1
    calls = []

    @consumer("bulk", batch=True)
    def handle(events):
        calls.append([e.id for e in events])
        if any(e.payload.get("bad") for e in events):
            raise ValueError("one of these is bad")

    try:
        good = emit("customer.created", brand=brand_a, at=clock.now())
        bad = emit("customer.created", brand=brand_a, at=clock.now(), payload={"bad": True})
        after = emit("customer.created", brand=brand_a, at=clock.now())
        assert dispatch("bulk") == 1
        assert calls == [[good.id, bad.id, after.id], [good.id], [bad.id]]
        assert ParkedEvent.objects.get(consumer="bulk").event_id == bad.id
        assert ConsumerPosition.objects.get(name="bulk").event_id == bad.id  # passed it, parked
        assert dispatch("bulk") == 1 and calls[-1] == [after.id]
    finally:
        unregister("bulk")
