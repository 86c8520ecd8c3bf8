"""Small pieces the parsers share: number normalisation, strict whole numbers, local times."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from zoneinfo import ZoneInfo


def normalise_number(text: str) -> str:
    """E.164 digits without '+' or the international prefix '00': '+45 20 00 00 01' -> '4520000001'.
    Spaces, dashes, dots and brackets are dropped; anything else is refused (ValueError)."""
    number = text.strip()
    if number.startswith("+"):
        number = number[1:]
    for separator in " -.()":
        number = number.replace(separator, "")
    if number.startswith("00"):
        number = number[2:]
    if not (number.isascii() and number.isdigit()):
        raise ValueError(f"{text!r} is not a phone number")
    return number


def number_or_empty(text: str) -> str:
    return normalise_number(text) if text.strip() else ""


def whole(text: str, what: str) -> int:
    """A non-negative whole number written in ASCII digits ('' is 0)."""
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{what}: {text!r} is not a whole number")
    if len(text) > 18:
        raise ValueError(f"{what}: {text} is too large")
    return int(text)


def zone(timezone: str | dt.tzinfo | None, default: str = "UTC") -> dt.tzinfo:
    if timezone is None:
        return ZoneInfo(default)
    return ZoneInfo(timezone) if isinstance(timezone, str) else timezone


def local_time(text: str, tz: dt.tzinfo, what: str) -> dt.datetime:
    """'2026-10-03 09:15:00' in `tz` (a time with its own offset keeps it)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a date and time") from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def csv_line(row: list[str]) -> str:
    """A row written back as one CSV line, for a failure's `text`."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


def call_fields(row: list[str], tz: dt.tzinfo, *, caller: tuple[int, str], callee: tuple[int, str],
                start: tuple[int, str], billsec: tuple[int, str],
                problems: list[str] | None = None) -> tuple[str, str, dt.datetime, int]:
    """The four fields every switch CDR carries, as (a_number, b_number, start, billsec).

    Each field is `(column index, name in the switch's own words)`; every unreadable field is
    reported at once, joined in one ValueError, so a person fixes a line in one pass.
    """
    problems = list(problems or ())
    values: list = []
    readers = (
        (caller, lambda text, name: normalise_number(text), True),
        (callee, lambda text, name: normalise_number(text), True),
        (start, lambda text, name: local_time(text, tz, name), False),
        (billsec, lambda text, name: whole(text.strip(), name), False),
    )
    for (index, name), read, prefix in readers:
        try:
            values.append(read(row[index], name))
        except ValueError as exc:
            problems.append(f"{name}: {exc}" if prefix else str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return values[0], values[1], values[2], values[3]


class Split:
    """A file cut into its raw records at intake (a format's `split`): `names`, the columns its
    header names, and `route(partitions, limit, flush)`, which sends every raw record to its
    subscription partition by the A-number alone, `flush(partition, raws, line_numbers)` taking
    at most `limit` records at a time, and returns how many records there were."""

    def __init__(self, names: list[str], route: Callable[[int, int, Callable], int]):
        self.names = names
        self.route = route
