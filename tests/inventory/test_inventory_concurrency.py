"""Concurrent allocators (threads, each with its own connection and transactions) never share a card or number."""

import threading

import pytest
from django.db import connection

from telora.core import clock
from telora.core.services import ServiceError
from telora.inventory.models import PhoneNumber, SimCard
from telora.inventory.services import (
    allocate_number,
    allocate_sim,
    import_numbers,
    import_sims,
    reserve_number,
)

from .factories import SIM_HEADER, make_number, sim_row

THREADS = 6
ITEMS = 60


def _race(work) -> list[str]:
    """Run `work()` repeatedly in THREADS threads started together until the stock runs out."""
    taken: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    lock = threading.Lock()

    def worker():
        try:
            start.wait()
            while True:
                try:
                    value = work()
                except ServiceError as exc:
                    if exc.code == "exhausted":
                        return
                    raise
                with lock:
                    taken.append(value)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return taken


@pytest.mark.django_db(transaction=True)
def test_next_free_sims_are_never_handed_out_twice(brand_a, system, write_csv):
    rows = [sim_row(n) for n in range(ITEMS)]
    import_sims(brand_a, write_csv("s.csv", SIM_HEADER, rows), actor=system, at=clock.now())
    taken = _race(lambda: allocate_sim(brand_a, actor=system, at=clock.now()).iccid)
    assert len(taken) == ITEMS == len(set(taken))
    assert SimCard.objects.filter(status="allocated").count() == ITEMS


@pytest.mark.django_db(transaction=True)
def test_next_free_numbers_are_never_handed_out_twice(brand_a, system, write_csv):
    path = write_csv("n.csv", ["number"], [[make_number(n)] for n in range(ITEMS)])
    import_numbers(brand_a, path, actor=system, at=clock.now())
    counter = iter(range(ITEMS * 2))

    def work():
        # Half the calls reserve, half allocate: both claim through SKIP LOCKED.
        if next(counter) % 2:
            return reserve_number(brand_a, actor=system, at=clock.now()).number
        return allocate_number(brand_a, actor=system, at=clock.now()).number

    taken = _race(work)
    assert len(taken) == ITEMS == len(set(taken))
    assert PhoneNumber.objects.exclude(status="available").count() == ITEMS
