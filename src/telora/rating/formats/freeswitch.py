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
from telora.rating.formats.common import csv_line, local_time, normalise_number, whole, zone

CALLER, DESTINATION, START, BILLSEC, UUID = 1, 2, 4, 8, 10
MIN_COLUMNS = 13


def _record(row: list[str], line: int, tz) -> UsageRecord:
    if len(row) < MIN_COLUMNS:
        raise ValueError(f"{len(row)} fields where cdr_csv's default template writes {MIN_COLUMNS} or more")
    problems = []
    if not row[UUID].strip():
        problems.append("uuid: required")
    try:
        a_number = normalise_number(row[CALLER])
    except ValueError as exc:
        problems.append(f"caller_id_number: {exc}")
    try:
        b_number = normalise_number(row[DESTINATION])
    except ValueError as exc:
        problems.append(f"destination_number: {exc}")
    try:
        start = local_time(row[START], tz, "start_stamp")
    except ValueError as exc:
        problems.append(str(exc))
    try:
        billsec = whole(row[BILLSEC].strip(), "billsec")
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
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
