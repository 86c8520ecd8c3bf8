"""Foreign keys of COPYed rows checked per table at the end of the block: a missing referenced row
refuses the rows (naming the constraint and the key), the referenced rows are KEY SHARE locked
until commit as the per-row checks would lock them, and where the per-row triggers must stay (a
table with a trigger of its own) they do."""

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from telora.core import clock
from telora.core.bulk import copy_objects, copy_pipeline, new_object
from telora.core.bulk_keys import keys_checked_at_end
from telora.core.models import AuditEvent, Brand

pytestmark = pytest.mark.django_db(transaction=True)
MISSING = 987654321


def _events(n: int, label: str, brand=None) -> list:
    return [new_object(AuditEvent, at=clock.now(), actor_label=label, object_type="test", object_id=str(i),
                       object_repr=f"row {i}", action="made", changes={}, brand_id=brand) for i in range(n)]


def _brand() -> Brand:
    return Brand.objects.create(code="keys", name="Keys", currency="EUR", timezone="Europe/Amsterdam", country="NL",
                                language="nl", created_at=clock.now())


def _role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def test_a_key_to_a_missing_row_is_refused_at_the_check_naming_the_constraint_and_nothing_is_kept():
    brand = _brand()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        with keys_checked_at_end([AuditEvent]) as keys:
            assert keys is not None  # the test database's role may switch the per-row triggers off
            with copy_pipeline():
                copy_objects(AuditEvent, _events(300, "good", brand.pk))
                copy_objects(AuditEvent, _events(2, "dangling", MISSING))
            keys.check()
    message = str(refused.value)
    assert "core_auditevent_brand_id" in message and f"({MISSING})" in message and "core_brand" in message
    assert not AuditEvent.objects.filter(actor_label__in=["good", "dangling"]).exists()
    assert _role() == "origin"


def test_good_rows_are_kept_and_their_referenced_rows_locked_until_commit():
    brand = _brand()
    params = connection.get_connection_params()
    other = psycopg.connect(autocommit=True, **{k: params[k] for k in ("dbname", "user", "password", "host", "port")
                                                if params.get(k)})
    try:
        with transaction.atomic():
            with keys_checked_at_end([AuditEvent]) as keys:
                copy_objects(AuditEvent, _events(50, "kept", brand.pk))
                keys.check()
            assert _role() == "origin"  # what follows in the transaction is checked per row again
            with pytest.raises(psycopg.errors.LockNotAvailable):  # a delete of the brand would wait for us
                other.execute("SELECT 1 FROM core_brand WHERE id = %s FOR UPDATE NOWAIT", [brand.pk])
        assert other.execute("SELECT 1 FROM core_brand WHERE id = %s FOR UPDATE NOWAIT", [brand.pk]).fetchone()
    finally:
        other.close()
    assert AuditEvent.objects.filter(actor_label="kept", brand=brand).count() == 50


def test_a_table_with_a_trigger_of_its_own_keeps_the_per_row_checks():
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION test_keys_noop() RETURNS trigger LANGUAGE plpgsql AS "
                       "'BEGIN RETURN NEW; END'")
        cursor.execute("CREATE TRIGGER test_keys_noop BEFORE INSERT ON core_auditevent FOR EACH ROW "
                       "EXECUTE FUNCTION test_keys_noop()")
    try:
        with pytest.raises((DatabaseError, psycopg.Error)), transaction.atomic():
            with keys_checked_at_end([AuditEvent]) as keys:
                assert keys is None and _role() == "origin"  # the replica role would skip that trigger
                copy_objects(AuditEvent, _events(3, "per row", MISSING))
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred key checks, now
        assert not AuditEvent.objects.filter(actor_label="per row").exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_keys_noop ON core_auditevent")
            cursor.execute("DROP FUNCTION test_keys_noop()")


def test_rows_copied_into_a_table_not_named_or_left_unchecked_are_a_programming_error():
    brand = _brand()
    with pytest.raises(RuntimeError, match="not named"), transaction.atomic():
        with keys_checked_at_end([Brand]):
            copy_objects(AuditEvent, _events(1, "unnamed", brand.pk))
    with pytest.raises(RuntimeError, match="after the last check"), transaction.atomic():
        with keys_checked_at_end([AuditEvent]):
            copy_objects(AuditEvent, _events(1, "unchecked", brand.pk))
    assert not AuditEvent.objects.filter(actor_label__in=["unnamed", "unchecked"]).exists()
