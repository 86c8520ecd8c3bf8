"""The normalised usage record every format parser yields, and what a parser says about a line
it cannot turn into one. A file of a million records makes a million of these, so they stay small
and quick to build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

SERVICES = ("voice", "sms", "mms", "data", "content")
DESTINATION_SERVICES = frozenset({"voice", "sms", "mms", "content"})  # zone by the B-number's prefix


class UsageRecord(NamedTuple):
    """One usage event, normalised: numbers are E.164 digits without '+' or '00', the start time is
    timezone-aware, duration in seconds, volume in bytes, quantity in messages or items.

    `direction` is "out" for usage the subscriber makes, "in" for terminating records (an MSC's
    MTC or MT-SMS record): the catalogue has no incoming rates, so those are kept at no charge.
    `line` is where the parser found it (line number, or record number in a binary file).
    `charge` is a price the source gives (content, or every record of a pre-rated OCS source) and
    `balance_after` the prepaid balance an OCS reports after the record (pre-rated sources only).
    A named tuple: immutable, and parsers build a million of them quickly with `make_record`.
    """

    record_id: str
    service: str
    a_number: str
    b_number: str
    start_time: dt.datetime
    duration: int = 0
    volume: int = 0
    quantity: int = 1
    location: str = ""
    charge: Decimal | None = None
    direction: str = "out"
    line: int = 0
    balance_after: Decimal | None = None

    @property
    def usage(self) -> int:
        """What the rate's unit and increments count: seconds, bytes, or messages and items."""
        if self.service == "voice":
            return self.duration
        if self.service == "data":
            return self.volume
        return self.quantity


_new_tuple = tuple.__new__


def make_record(record_id, service, a_number, b_number, start_time, duration, volume, quantity, location, charge,
                direction, line, balance_after=None) -> UsageRecord:
    """A UsageRecord from its fields in order, without the keyword machinery (hot paths)."""
    return _new_tuple(UsageRecord, (record_id, service, a_number, b_number, start_time, duration, volume, quantity,
                                    location, charge, direction, line, balance_after))


class ParseFailure:
    """A line (or binary record) that could not be read. It is never dropped: it goes to the failed
    records with reason PARSE_ERROR, `reason` saying what is wrong, `text` the original content."""

    __slots__ = ("line", "reason", "text", "record_id")

    def __init__(self, line: int, reason: str, text: str = "", record_id: str = ""):
        self.line = line
        self.reason = reason
        self.text = text
        self.record_id = record_id

    def __eq__(self, other):
        return isinstance(other, ParseFailure) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None

    def __repr__(self):
        return f"ParseFailure(line {self.line}: {self.reason})"


class Ignored:
    """A record that is well formed but is not usage (e.g. an MSC location-update record): counted,
    not rated and not failed."""

    __slots__ = ("line", "reason")

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason

    def __eq__(self, other):
        return isinstance(other, Ignored) and (self.line, self.reason) == (other.line, other.reason)

    __hash__ = None

    def __repr__(self):
        return f"Ignored(line {self.line}: {self.reason})"
