import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, transaction

from telora.core import clock
from telora.core.services import ServiceError
from telora.core.services.sequences import configure_sequence, next_number, next_numbers


def allocate(brand, code="customer"):
    with transaction.atomic():
        return next_number(brand, code, at=clock.now())


def test_numbers_are_sequential_per_brand_and_formatted(brand_a, brand_b, system):
    configure_sequence(brand_a, "customer", actor=system, at=clock.now(), format="A{number:05d}")
    assert [allocate(brand_a) for _ in range(3)] == ["A00001", "A00002", "A00003"]
    assert allocate(brand_b) == "C0000001"  # the default format, counted separately


def test_a_rolled_back_allocation_gives_its_number_back(brand_a):
    assert allocate(brand_a) == "C0000001"
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            next_number(brand_a, "customer", at=clock.now())
            raise RuntimeError("the order failed")
    assert allocate(brand_a) == "C0000002"


def test_numbers_in_bulk_follow_on_and_a_rollback_gives_them_all_back(brand_a):
    assert allocate(brand_a) == "C0000001"
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            assert next_numbers(brand_a, "customer", 3, at=clock.now()) == ["C0000002", "C0000003", "C0000004"]
            raise RuntimeError("the import failed")
    with transaction.atomic():
        assert next_numbers(brand_a, "customer", 2, at=clock.now()) == ["C0000002", "C0000003"]
    assert allocate(brand_a) == "C0000004"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_is_refused(brand_a):
    with pytest.raises(RuntimeError, match="inside transaction"):
        next_number(brand_a, "customer", at=clock.now())


def test_per_year_sequences_restart_in_the_brand_new_year(brand_a):
    with time_machine.travel(dt.datetime(2026, 12, 31, 22, 0, tzinfo=dt.UTC), tick=False):
        assert allocate(brand_a, "invoice") == "INV-2026-000001"
        assert allocate(brand_a, "invoice") == "INV-2026-000002"
    # 23:30 UTC on 31 December is already 2027 in Amsterdam.
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert allocate(brand_a, "invoice") == "INV-2027-000001"


def test_bad_formats_and_going_backwards_are_refused(brand_a, system):
    with pytest.raises(ServiceError) as err:
        configure_sequence(brand_a, "customer", actor=system, at=clock.now(), format="{nummer}")
    assert err.value.field == "format"
    configure_sequence(brand_a, "customer", actor=system, at=clock.now(), format="{number}", next_value=100)
    with pytest.raises(ServiceError, match="backwards"):
        configure_sequence(brand_a, "customer", actor=system, at=clock.now(), format="{number}", next_value=5)


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocators_never_share_or_skip(make_brand):
    brand = make_brand("gamma")
    per_thread, threads = 40, 4
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker(index):
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    number = next_number(brand, "customer", at=clock.now())
                    if (index + i) % 7 == 0:
                        # Some allocations roll back: their numbers must be reused, not skipped.
                        transaction.set_rollback(True)
                        continue
                with lock:
                    results.append(number)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors
    numbers = sorted(int(n[1:]) for n in results)
    assert len(numbers) == len(set(numbers)), "a number was handed out twice"
    assert numbers == list(range(1, len(numbers) + 1)), "a number was skipped"


def test_a_back_dated_number_continues_its_own_year_and_leaves_the_current_one(brand_a):
    """Order numbers restart each year; an order taken in January for a moment of December (a back-dated
    change, the demo's history) continues December's numbers: no duplicate, no gap, and January's count
    goes on where it was."""
    december = dt.datetime(2026, 12, 30, 12, 0, tzinfo=dt.UTC)
    january = dt.datetime(2027, 1, 2, 12, 0, tzinfo=dt.UTC)

    def take(at, count=None):
        with transaction.atomic():
            if count:
                return next_numbers(brand_a, "order", count, at=at)
            return next_number(brand_a, "order", at=at)

    assert [take(december), take(december)] == ["O2026000001", "O2026000002"]
    assert take(january) == "O2027000001"
    assert take(december) == "O2026000003"
    assert take(december, 2) == ["O2026000004", "O2026000005"]
    assert take(january) == "O2027000002"
    assert take(january, 2) == ["O2027000003", "O2027000004"]
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            next_number(brand_a, "order", at=december)
            raise RuntimeError("refused")
    assert take(december) == "O2026000006"  # the rolled-back one given back
    # a year with no number of its own yet (before the sequence began) starts at 1
    assert take(dt.datetime(2025, 6, 1, tzinfo=dt.UTC)) == "O2025000001"
    assert take(january) == "O2027000005"
