"""What a usage record may hold before it is rated: a start time inside a window around now,
usage and a source's charge inside their bounds, ids and numbers no longer than their columns.

A record outside them fails alone (OUT_OF_RANGE, the detail naming the field and line) instead of
breaking its batch: a start in year 9999 would need a partition nobody wants, a duration of 10^18
a charge no column holds, and a negative charge from a source is a credit that only the billing
adjustment right may give. Pure (standard library only): the pipeline builds a `Bounds` from the
settings and the source (services.limits) and the engine's callers apply it.

The check is cheap on a good batch: `split` compares the batch's extremes, gathered in C with
`map`, with the precomputed bounds, and only walks the records one by one when an extreme is out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from operator import itemgetter

RECORD_ID_MAX, A_NUMBER_MAX, B_NUMBER_MAX = 128, 32, 64  # the rated-usage and key columns
CHARGE_MICRO_MAX = 10**18 - 1  # NUMERIC(18,6)

_ID, _A, _B, _START, _DURATION, _VOLUME, _QUANTITY, _CHARGE = (itemgetter(i) for i in (0, 2, 3, 4, 5, 6, 7, 9))


def _plain(amount: Decimal) -> str:
    """50.000000 -> '50', 12.50 -> '12.5'."""
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class Bounds:
    """The window [earliest, latest) for start times and the largest duration (s), volume (bytes),
    quantity and charge a record may carry. Charges below zero are always out: credits are not
    taken from mediation."""

    __slots__ = ("earliest", "latest", "max_duration", "max_volume", "max_quantity", "max_charge", "source")

    def __init__(self, *, earliest: dt.datetime, latest: dt.datetime, max_duration: int, max_volume: int,
                 max_quantity: int, max_charge: Decimal, source: str = ""):
        self.earliest, self.latest = earliest, latest
        self.max_duration, self.max_volume, self.max_quantity = max_duration, max_volume, max_quantity
        self.max_charge = max_charge
        self.source = source

    def problems(self, record) -> str:
        """Every bound the record breaks ('' when none), each naming its field."""
        out = []
        start = record.start_time
        if not self.earliest <= start < self.latest:
            out.append(f"start_time: {start.isoformat()} is outside the usage window "
                       f"{self.earliest:%Y-%m-%d %H:%M} – {self.latest:%Y-%m-%d %H:%M} UTC")
        for name, value, most in (("duration", record.duration, self.max_duration),
                                  ("volume", record.volume, self.max_volume),
                                  ("quantity", record.quantity, self.max_quantity)):
            if value > most:
                out.append(f"{name}: {value} is above the most a record may carry ({most})")
        charge = record.charge
        if charge is not None:
            if charge < 0:
                out.append(f"charge: {charge} is negative (credits are not taken from usage records, "
                           "book them as adjustments)")
            elif charge > self.max_charge:
                out.append(f"charge: {charge} is above the most a record of {self.source or 'this source'} "
                           f"may carry ({_plain(self.max_charge)})")
        for name, value, most in (("record_id", record.record_id, RECORD_ID_MAX),
                                  ("a_number", record.a_number, A_NUMBER_MAX),
                                  ("b_number", record.b_number, B_NUMBER_MAX)):
            if len(value) > most:
                out.append(f"{name}: {len(value)} characters, at most {most}")
        return "; ".join(out)

    def detail(self, record) -> str:
        """The problems with the line they are on, for the failed record."""
        problems = self.problems(record)
        return f"line {record.line}: {problems}" if problems and record.line else problems

    def within(self, records: list) -> bool:
        """True when every record of the list is inside the bounds: the batch's extremes, read in C."""
        if not records:
            return True
        if min(map(_START, records)) < self.earliest or max(map(_START, records)) >= self.latest:
            return False
        if (max(map(_DURATION, records)) > self.max_duration or max(map(_VOLUME, records)) > self.max_volume
                or max(map(_QUANTITY, records)) > self.max_quantity):
            return False
        if (max(map(len, map(_ID, records))) > RECORD_ID_MAX or max(map(len, map(_A, records))) > A_NUMBER_MAX
                or max(map(len, map(_B, records))) > B_NUMBER_MAX):
            return False
        charges = set(map(_CHARGE, records))
        charges.discard(None)
        return not charges or (min(charges) >= 0 and max(charges) <= self.max_charge)

    def split(self, records: list) -> tuple[list, list[tuple[object, str]]]:
        """(records inside, [(record outside, detail)]); the list itself when all are inside."""
        if self.within(records):
            return records, []
        inside, outside = [], []
        for record in records:
            detail = self.detail(record)
            if detail:
                outside.append((record, detail))
            else:
                inside.append(record)
        return inside, outside
