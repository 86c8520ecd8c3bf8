"""Bulk COPY on a pipeline thread: rows land in the caller's transaction, in order, with ids taken
ahead; an error on the pipeline is raised to the caller and the transaction keeps nothing."""

import psycopg
import pytest
from django.db import DatabaseError, transaction

from telora.core import clock
from telora.core.bulk import assign_ids, copy_objects, copy_pipeline, new_object
from telora.core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _events(n: int, label: str, brand=None) -> list:
    return [new_object(AuditEvent, at=clock.now(), actor_label=label, object_type="test", object_id=str(i),
                       object_repr=f"row {i}", action="made", changes={"n": [None, i]}, brand_id=brand)
            for i in range(n)]


def test_rows_copied_on_the_pipeline_are_in_the_transaction_in_order_with_their_ids():
    first, second = _events(3000, "first"), _events(2000, "second")
    with transaction.atomic(), copy_pipeline() as pipeline:
        assign_ids(AuditEvent, first)
        copy_objects(AuditEvent, first, ids_given=True)
        copy_objects(AuditEvent, second, with_ids=True)
        pipeline.drain()  # a query that must see the rows waits for them
        assert AuditEvent.objects.filter(actor_label__in=["first", "second"]).count() == 5000
    ids = [e.pk for e in first + second]
    assert len(set(ids)) == 5000 and None not in ids
    stored = dict(AuditEvent.objects.filter(actor_label="second").values_list("id", "changes"))
    assert stored == {e.pk: {"n": [None, int(e.object_id)]} for e in second}


def test_an_error_on_the_pipeline_reaches_the_caller_and_nothing_is_kept():
    good, bad = _events(500, "kept?"), _events(10, "bad", brand=987654321)  # no such brand: its key refuses it
    with pytest.raises((DatabaseError, psycopg.Error)), transaction.atomic(), copy_pipeline():
        copy_objects(AuditEvent, good, with_ids=True)
        copy_objects(AuditEvent, bad, with_ids=True)
        copy_objects(AuditEvent, _events(10, "after"), with_ids=True)
    assert not AuditEvent.objects.filter(actor_label__in=["kept?", "bad", "after"]).exists()


def test_a_failure_of_the_caller_stops_the_pipeline_and_rolls_back():
    with pytest.raises(RuntimeError), transaction.atomic(), copy_pipeline():
        copy_objects(AuditEvent, _events(200, "half"), with_ids=True)
        raise RuntimeError("the caller failed")
    assert not AuditEvent.objects.filter(actor_label="half").exists()
    copy_objects(AuditEvent, _events(5, "plain"), with_ids=True)  # no pipeline left behind: a plain COPY
    assert AuditEvent.objects.filter(actor_label="plain").count() == 5
