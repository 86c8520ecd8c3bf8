"""FreeSWITCH `mod_cdr_csv` (`--format freeswitch`), the default template: no header, columns

    caller_id_name, caller_id_number, destination_number, context, start_stamp, answer_stamp,
    end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode[, read_codec, write_codec]

The vanilla cdr_csv.conf.xml's `example` template (its default-template) writes all 15; the
module's built-in template stops at accountcode (and puts a space before it); both are read.
Only the A-leg is expected (legs="a", the default). A call is rated on billsec; the record id is the
uuid; stamps are local to the switch: the pipeline passes `timezone` (the brand's unless the
source says otherwise; without it, UTC). Unanswered calls (billsec 0) become zero-duration
records: accounted for, not charged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from telora.rating.engine.records import ParseFailure, UsageRecord, make_record
from telora.rating.formats.common import call_fields, csv_line, zone

CALLER, DESTINATION, START, BILLSEC, UUID = 1, 2, 4, 8, 10
MIN_COLUMNS = 13


def _record(row: list[str], line: int, tz) -> UsageRecord:
    if len(row) < MIN_COLUMNS:
        raise ValueError(f"{len(row)} fields where cdr_csv's default template writes {MIN_COLUMNS} or more")
    missing_uuid = [] if row[UUID].strip() else ["uuid: required"]
    a_number, b_number, start, billsec = call_fields(
        row, tz, caller=(CALLER, "caller_id_number"), callee=(DESTINATION, "destination_number"),
        start=(START, "start_stamp"), billsec=(BILLSEC, "billsec"), problems=missing_uuid)
    return make_record(row[UUID].strip(), "voice", a_number, b_number, start, billsec, 0, 1, "", None, "out", line)


def parse(stream: TextIO, *, timezone=None, **_options) -> Iterator[UsageRecord | ParseFailure]:
    """Records from a cdr_csv text stream; `timezone` is the switch's (a name or tzinfo)."""
    tz = zone(timezone)
    reader = csv.reader(stream, skipinitialspace=True)
    for row in reader:
        if not row:
            continue
        try:
            record = _record(row, reader.line_num, tz)
        except ValueError as exc:
            yield ParseFailure(reader.line_num, str(exc), csv_line(row), row[UUID] if len(row) > UUID else "")
            continue
        yield record
