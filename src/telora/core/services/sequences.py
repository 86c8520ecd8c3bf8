"""Gap-free, per-brand number sequences (customer, order, invoice numbers)."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from telora.core import clock
from telora.core.models import Brand, Sequence
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event, snapshot

DEFAULT_FORMATS = {
    "customer": "C{number:07d}",
    "order": "O{year}{number:06d}",
    "invoice": "INV-{year}-{number:06d}",
}


def format_number(fmt: str, *, number: int, brand: Brand, at: dt.datetime) -> str:
    year = clock.localtime(at, brand).year
    return fmt.format(number=number, year=year, brand=brand.code.upper())


def _check_format(fmt: str) -> None:
    try:
        fmt.format(number=1, year=2000, brand="X")
    except (KeyError, ValueError, IndexError) as exc:
        raise ServiceError(f"format: {fmt!r} is not valid ({exc}); use {{number}}, {{year}}, {{brand}}",
                           field="format") from exc


def _counter(brand: Brand, code: str, at: dt.datetime) -> tuple[Sequence, Sequence]:
    """(the sequence, the locked row whose `next_value` counts `at`'s numbers).

    A per-year sequence counts the current year on its own row. When a later year starts, where the
    year stopped is kept on a closed-year row (`<code>--<year>`), so a number taken later for a moment in
    that year (a back-dated order or invoice) continues that year's numbers instead of restarting the
    sequence at 1: unique and gap-free per year, and the current year's count is untouched."""
    if not connection.in_atomic_block:
        raise RuntimeError("next_number must be called inside transaction.atomic()")
    fmt = DEFAULT_FORMATS.get(code, "{number}")
    per_year = "{year}" in fmt
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_sequence (brand_id, code, format, next_value, per_year) "
            "VALUES (%s, %s, %s, 1, %s) ON CONFLICT (brand_id, code) DO NOTHING",
            [brand.pk, code, fmt, per_year],
        )
    seq = Sequence.objects.select_for_update().get(brand=brand, code=code)
    if not seq.per_year:
        return seq, seq
    year = clock.localtime(at, brand).year
    if seq.year is None or seq.year == year:
        seq.year = year
        return seq, seq
    if year > seq.year:  # a new year: keep where the old one stopped, start again at 1
        Sequence.objects.update_or_create(brand=brand, code=closed_year_code(code, seq.year), defaults={
            "format": seq.format, "next_value": seq.next_value, "per_year": False, "year": seq.year})
        seq.year, seq.next_value = year, 1
        return seq, seq
    closed, _created = Sequence.objects.select_for_update().get_or_create(
        brand=brand, code=closed_year_code(code, year),
        defaults={"format": seq.format, "next_value": 1, "per_year": False, "year": year})
    return seq, closed


def closed_year_code(code: str, year: int) -> str:
    return f"{code}--{year}"


def next_number(brand: Brand, code: str, *, at: dt.datetime) -> str:
    """Allocate the next number. Must run inside the transaction that uses the number.

    The sequence row stays locked until that transaction ends: a rollback hands the number
    back, and concurrent allocators queue behind the lock, so numbers are neither shared nor skipped.
    A per-year sequence numbers a moment of an earlier year (back-dated) in that year's own count.
    """
    seq, counter = _counter(brand, code, at)
    number = counter.next_value
    counter.next_value = number + 1
    counter.save(update_fields=["next_value", "year"])
    if counter is not seq:
        seq.save(update_fields=["next_value", "year"])
    return format_number(seq.format, number=number, brand=brand, at=at)


def next_numbers(brand: Brand, code: str, count: int, *, at: dt.datetime) -> list[str]:
    """`count` consecutive numbers, taken in the caller's transaction (gap-free: a rollback gives
    them all back), from the same count as next_number would use."""
    if count <= 0:
        return []
    seq, counter = _counter(brand, code, at)
    start = counter.next_value
    counter.next_value = start + count
    counter.save(update_fields=["next_value", "year"])
    if counter is not seq:
        seq.save(update_fields=["next_value", "year"])
    return [format_number(seq.format, number=n, brand=brand, at=at) for n in range(start, start + count)]


@transaction.atomic
def configure_sequence(brand: Brand, code: str, *, actor: Actor, at: dt.datetime, format: str,
                       per_year: bool = False, next_value: int | None = None) -> Sequence:
    _check_format(format)
    seq, _ = Sequence.objects.select_for_update().get_or_create(brand=brand, code=code)
    old = snapshot(seq, ["format", "per_year", "next_value"])
    seq.format = format
    seq.per_year = per_year
    if next_value is not None:
        if next_value < seq.next_value:
            raise ServiceError("next_value: cannot go backwards (numbers would repeat)", field="next_value")
        seq.next_value = next_value
    seq.save()
    record_event(actor=actor, at=at, action="update", obj=seq, brand=brand, old=old,
                 new=snapshot(seq, ["format", "per_year", "next_value"]))
    return seq
