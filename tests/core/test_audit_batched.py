"""Audit events of a unit of work inserted together (core.services.audit.batched): the same rows, in the
order recorded, in the same transaction; an event recorded in a savepoint that rolled back is not inserted."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.audit import batched, record_event, record_events


def _mine(brand):
    return list(AuditEvent.objects.filter(brand=brand, object_type="core.brand").order_by("id")
                .values_list("action", "message"))


def _inserts(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith('INSERT INTO "core_auditevent"'))


@pytest.mark.django_db
def test_events_of_a_batch_are_inserted_together_in_their_order(brand_a, system):
    at = clock.now()
    before = _mine(brand_a)
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), batched():
        for n in range(5):
            record_event(actor=system, at=at, action=f"step{n}", obj=brand_a, brand=brand_a, message=str(n),
                         new={"n": n})
        assert _mine(brand_a) == before  # kept until the block ends
    assert _inserts(queries) == 1
    assert _mine(brand_a)[len(before):] == [(f"step{n}", str(n)) for n in range(5)]
    last = AuditEvent.objects.filter(brand=brand_a, action="step4").get()
    assert last.changes == {"n": [None, 4]} and last.actor_label == system.label


@pytest.mark.django_db
def test_an_event_recorded_in_a_savepoint_that_rolled_back_is_not_inserted(brand_a, system):
    """As the row would have been rolled back with the savepoint (a failed try of a service task)."""
    at = clock.now()
    before = _mine(brand_a)
    with transaction.atomic(), batched():
        record_event(actor=system, at=at, action="kept1", obj=brand_a, brand=brand_a)
        with pytest.raises(ValueError), transaction.atomic():
            record_event(actor=system, at=at, action="dropped", obj=brand_a, brand=brand_a)
            with transaction.atomic():  # a nested savepoint released inside the one rolled back
                record_event(actor=system, at=at, action="dropped too", obj=brand_a, brand=brand_a)
            raise ValueError("the try fails")
        with transaction.atomic():  # released: kept
            record_event(actor=system, at=at, action="kept2", obj=brand_a, brand=brand_a)
    assert [action for action, _message in _mine(brand_a)[len(before):]] == ["kept1", "kept2"]


@pytest.mark.django_db
def test_an_exception_leaving_the_batch_drops_its_events_with_its_transaction(brand_a, system):
    at = clock.now()
    before = _mine(brand_a)
    with pytest.raises(ValueError), transaction.atomic(), batched():
        record_event(actor=system, at=at, action="gone", obj=brand_a, brand=brand_a)
        raise ValueError("refused")
    assert _mine(brand_a) == before
    record_event(actor=system, at=at, action="after", obj=brand_a, brand=brand_a)  # no batch left behind
    assert _mine(brand_a)[-1] == ("after", "")


@pytest.mark.django_db
def test_nested_batches_join_the_outer_one_and_bulk_events_keep_the_order(brand_a, system):
    at = clock.now()
    before = _mine(brand_a)
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), batched():
        record_event(actor=system, at=at, action="first", obj=brand_a, brand=brand_a)
        with transaction.atomic(), batched():
            record_event(actor=system, at=at, action="inner", obj=brand_a, brand=brand_a)
        assert _mine(brand_a) == before  # the inner block did not insert
        record_events(actor=system, at=at, action="bulk", items=[(brand_a, brand_a, {})])
        record_event(actor=system, at=at, action="last", obj=brand_a, brand=brand_a)
    assert [action for action, _message in _mine(brand_a)[len(before):]] == ["first", "inner", "bulk", "last"]
    assert _inserts(queries) == 2  # the two before the bulk rows, then the last one


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_event_is_inserted_at_once(brand_a, system):
    at = clock.now()
    with batched():
        record_event(actor=system, at=at, action="at once", obj=brand_a, brand=brand_a)
        assert _mine(brand_a)[-1] == ("at once", "")
