"""The compact text form of records waiting in a batch (`RatingBatch.payload`).

One record per line, twelve tab-separated fields in `UsageRecord` order; the start time as
integer microseconds since the epoch (the moment is all rating needs: bands use the brand's
timezone), the charge as its exact decimal digits or empty. Text fields have backslash, tab and
line ends escaped, so any record id or number survives. Packing and unpacking a record takes
about a microsecond each: a million staged records cost seconds less than a row each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from telora.rating.engine.records import UsageRecord, make_record

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in _UNESCAPES:
            out.append(_UNESCAPES[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def micros(moment: dt.datetime) -> int:
    """Exact microseconds since the epoch (no float on the way)."""
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def pack(record: UsageRecord) -> str:
    """One record as one line, ending with a line feed."""
    charge = "" if record.charge is None else str(record.charge)
    return (f"{_escape(record.record_id)}\t{record.service}\t{_escape(record.a_number)}\t"
            f"{_escape(record.b_number)}\t{micros(record.start_time)}\t{record.duration}\t{record.volume}\t"
            f"{record.quantity}\t{_escape(record.location)}\t{charge}\t{record.direction}\t{record.line}\n")


def unpack(payload: str) -> list[UsageRecord]:
    """The records of a payload, in order, with UTC start times."""
    records = []
    append = records.append
    epoch, micro = EPOCH, _MICRO
    escaped = "\\" in payload
    for line in payload.split("\n"):
        if not line:
            continue
        f = line.split("\t")
        if escaped:
            f = [_unescape(v) for v in f]
        append(make_record(f[0], f[1], f[2], f[3], epoch + int(f[4]) * micro, int(f[5]), int(f[6]), int(f[7]),
                           f[8], Decimal(f[9]) if f[9] else None, f[10], int(f[11])))
    return records
