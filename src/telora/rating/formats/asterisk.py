"""Asterisk `cdr_csv` Master.csv (`--format asterisk`): no header, one call a line, columns

    accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
    start, answer, end, duration, billsec, disposition, amaflags, uniqueid, userfield

(uniqueid and userfield are there with cdr.conf's loguniqueid/loguserfield, the default since
Asterisk 1.8; columns after userfield are ignored). A call is rated on billsec, the answered
seconds; the record id is the uniqueid (without it: channel and start). Times are local to the PBX:
the pipeline passes `timezone` (the brand's unless the source says otherwise); without it, UTC
(what `usegmtime=yes` PBXes write).

Unanswered calls (NO ANSWER, BUSY, FAILED, CONGESTION) are not charged: they become voice
records with zero duration, so they are accounted for and cost nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from telora.rating.engine.records import ParseFailure, UsageRecord, make_record
from telora.rating.formats.common import call_fields, csv_line, zone

SRC, DST, CHANNEL, START, BILLSEC, DISPOSITION, UNIQUEID = 1, 2, 5, 9, 13, 14, 16
MIN_COLUMNS = 16
ANSWERED = "ANSWERED"
NOT_CHARGED = frozenset({"NO ANSWER", "BUSY", "FAILED", "CONGESTION"})


def _record(row: list[str], line: int, tz) -> UsageRecord:
    if len(row) < MIN_COLUMNS:
        raise ValueError(f"{len(row)} fields where cdr_csv writes at least {MIN_COLUMNS}")
    disposition = row[DISPOSITION].strip().upper()
    if disposition != ANSWERED and disposition not in NOT_CHARGED:
        raise ValueError(f"disposition: {row[DISPOSITION]!r} is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION")
    a_number, b_number, start, billsec = call_fields(
        row, tz, caller=(SRC, "src"), callee=(DST, "dst"), start=(START, "start"), billsec=(BILLSEC, "billsec"))
    record_id = row[UNIQUEID] if len(row) > UNIQUEID and row[UNIQUEID] else f"{row[CHANNEL]}@{row[START]}"
    duration = billsec if disposition == ANSWERED else 0
    return make_record(record_id, "voice", a_number, b_number, start, duration, 0, 1, "", None, "out", line)


def parse(stream: TextIO, *, timezone=None, **_options) -> Iterator[UsageRecord | ParseFailure]:
    """Records from a Master.csv text stream; `timezone` is the PBX's (a name or tzinfo)."""
    tz = zone(timezone)
    reader = csv.reader(stream)
    for row in reader:
        if not row:
            continue
        try:
            record = _record(row, reader.line_num, tz)
        except ValueError as exc:
            record_id = row[UNIQUEID] if len(row) > UNIQUEID else ""
            yield ParseFailure(reader.line_num, str(exc), csv_line(row), record_id)
            continue
        yield record
