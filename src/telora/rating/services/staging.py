"""The packed form of records waiting in a batch (`RatingBatch.payload`).

A payload is a version octet followed by `marshal` data. Version 1 is a list of one tuple per
record, the `UsageRecord` fields in order (twelve in payloads written before `balance_after`), the start time as integer microseconds since the epoch (the
moment is all rating needs: bands use the brand's timezone) and the charge and balance after as their exact decimal
digits or None. Version 2 holds a canonical CSV file's raw lines as the intake cut them
(formats.canonical.split): (format, column names, raw lines, line numbers); the worker reads the
lines, so the intake, which runs on one core, only routes them. marshal builds and reads plain
tuples of strings and integers at C speed, about a microsecond a record both ways, and reading it
never runs code (unlike pickle).
"""

from __future__ import annotations

import datetime as dt
import marshal
from decimal import Decimal

import psycopg

from telora.rating.engine.records import ParseFailure, UsageRecord

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
VERSION = b"\x01"
RAW_LINES = b"\x02"
_MICRO = dt.timedelta(microseconds=1)
_FIELDS = (12, 13)  # a payload staged before balance_after has twelve


def micros(moment: dt.datetime) -> int:
    """Exact microseconds since the epoch (no float on the way)."""
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def row(record: UsageRecord) -> tuple:
    """A record as the tuple a payload holds."""
    charge, balance = record.charge, record.balance_after
    return (record.record_id, record.service, record.a_number, record.b_number, micros(record.start_time),
            record.duration, record.volume, record.quantity, record.location,
            None if charge is None else str(charge), record.direction, record.line,
            None if balance is None else str(balance))


def dump(rows: list[tuple]) -> bytes:
    return VERSION + marshal.dumps(rows, 4)


def pack(records) -> bytes:
    """A payload holding `records`."""
    return dump([row(r) for r in records])


def dump_lines(format: str, names: list[str], raws: list[bytes], lines: list[int]) -> bytes:
    """A payload holding a file's raw lines (version 2)."""
    return RAW_LINES + marshal.dumps((format, tuple(names), raws, lines), 4)


def unpack_all(payload: bytes | memoryview) -> tuple[list[UsageRecord], list[ParseFailure]]:
    """The records of a payload, in order, and the lines of a raw payload that cannot be read."""
    payload = bytes(payload)
    if payload[:1] != RAW_LINES:
        return unpack(payload), []
    format, names, raws, lines = marshal.loads(payload[1:])
    if format != "csv":
        raise ValueError(f"payload: no raw lines of format {format!r}")
    from telora.rating.formats.canonical import parse_split

    records, failures = [], []
    for item in parse_split(list(names), raws, lines):
        (records if type(item) is UsageRecord else failures).append(item)
    return records, failures


def unpack(payload: bytes | memoryview) -> list[UsageRecord]:
    """The records of a version 1 payload, in order, with UTC start times."""
    payload = bytes(payload)
    if not payload:
        return []
    if payload[:1] != VERSION:
        raise ValueError(f"payload: unknown version {payload[:1]!r}")
    rows = marshal.loads(payload[1:])
    new, cls, epoch, micro = tuple.__new__, UsageRecord, EPOCH, _MICRO
    records = []
    append = records.append
    for r in rows:
        if type(r) is not tuple or len(r) not in _FIELDS:
            raise ValueError("payload: a record is not a tuple of twelve or thirteen fields")
        charge = r[9]
        balance = r[12] if len(r) == 13 else None
        append(new(cls, (r[0], r[1], r[2], r[3], epoch + r[4] * micro, r[5], r[6], r[7], r[8],
                         None if charge is None else Decimal(charge), r[10], r[11],
                         None if balance is None else Decimal(balance))))
    return records


def _binary_cursor():
    """A cursor with server-side binding on Django's connection (same transaction): a payload of
    megabytes travels as raw bytes instead of a hex literal in the SQL text, several times quicker."""
    from django.db import connection

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def write_payload(batch_id: int, payload: bytes) -> None:
    with _binary_cursor() as cursor:
        cursor.execute("UPDATE rating_ratingbatch SET payload = %b WHERE id = %s", [payload, batch_id])


def read_payload(batch_id: int) -> bytes:
    with _binary_cursor() as cursor:
        cursor.execute("SELECT payload FROM rating_ratingbatch WHERE id = %s", [batch_id], binary=True)
        return cursor.fetchone()[0]
