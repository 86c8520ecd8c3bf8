"""The canonical usage-record CSV (`--format csv`): a header line naming the columns, then one
record a line. Columns (any order, extra columns ignored):

    record_id, service, a_number, b_number, start_time, duration, volume, quantity, location, charge

and optionally `balance_after`. start_time is ISO 8601 with an offset; duration in seconds, volume
in bytes, quantity (messages or items) 1 when empty; location an ISO 3166 alpha-2 country, empty
for home; charge a pre-priced amount (content, or every record of a pre-rated OCS source);
balance_after the prepaid balance the OCS reports after the record. See docs/rating.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import zlib
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from operator import itemgetter, methodcaller
from typing import BinaryIO, TextIO

from telora.rating.engine.records import SERVICES, ParseFailure, UsageRecord
from telora.rating.formats.common import Split, csv_line, normalise_number, number_or_empty, whole

COLUMNS = ("record_id", "service", "a_number", "b_number", "start_time", "duration", "volume", "quantity",
           "location", "charge")
BALANCE_AFTER = "balance_after"  # optional: the balance an OCS reports after a pre-rated record
NEEDS_B_NUMBER = frozenset({"voice", "sms", "mms", "content"})
_SERVICES = frozenset(SERVICES)
_fromisoformat = dt.datetime.fromisoformat
_new = tuple.__new__
_UTC = dt.UTC
MAX_DIGITS = 18  # a whole number must fit a bigint; the configured bounds (engine.bounds) are far lower


def _fast(fields, line: int) -> UsageRecord:
    """The common case, with as few calls as possible; anything unusual raises and `_explain` says why."""
    record_id, service, a_number, b_number, start, duration, volume, quantity, location, charge = fields
    if service not in _SERVICES or not record_id:
        raise ValueError
    if not (a_number.isdigit() and a_number.isascii()) or a_number[:2] == "00":
        a_number = normalise_number(a_number)
    if b_number and (not (b_number.isdigit() and b_number.isascii()) or b_number[:2] == "00"):
        b_number = normalise_number(b_number)
    elif not b_number and service in NEEDS_B_NUMBER:
        raise ValueError
    moment = _fromisoformat(start)
    if moment.tzinfo is None:
        raise ValueError
    moment = moment.astimezone(_UTC)  # one shared zone: later comparisons and COPY take the quick path
    if location and (len(location) != 2 or not location.isalpha() or not location.isascii()):
        raise ValueError
    # whole numbers: ASCII digits only (int() would also take '+5', ' 5' and '5_0')
    if duration:
        if not (duration.isdigit() and duration.isascii()) or len(duration) > MAX_DIGITS:
            raise ValueError
        duration = int(duration)
    else:
        duration = 0
    if volume:
        if not (volume.isdigit() and volume.isascii()) or len(volume) > MAX_DIGITS:
            raise ValueError
        volume = int(volume)
    else:
        volume = 0
    if quantity:
        if not (quantity.isdigit() and quantity.isascii()) or len(quantity) > MAX_DIGITS:
            raise ValueError
        quantity = int(quantity)
    else:
        quantity = 1
    return _new(UsageRecord, (record_id, service, a_number, b_number, moment, duration, volume, quantity,
                              location.upper(), _charge(charge) if charge else None, "out", line, None))


def _charge(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError
    return value


def _with_balance(record: UsageRecord, text: str) -> UsageRecord:
    """The record with the balance its OCS reports after it (an optional column)."""
    return record._replace(balance_after=_charge(text)) if text else record


def _explain(fields, balance_after: str = "") -> str:
    """Every problem of a line that failed, so one look is enough to fix it."""
    record_id, service, a_number, b_number, start, duration, volume, quantity, location, charge = fields
    problems = []
    if not record_id:
        problems.append("record_id: required")
    if service not in _SERVICES:
        problems.append(f"service: {service!r} is not one of {', '.join(SERVICES)}")
    try:
        if not normalise_number(a_number):
            problems.append("a_number: required")
    except ValueError as exc:
        problems.append(f"a_number: {exc}")
    try:
        if not number_or_empty(b_number) and service in NEEDS_B_NUMBER:
            problems.append(f"b_number: required for {service}")
    except ValueError as exc:
        problems.append(f"b_number: {exc}")
    try:
        moment = _fromisoformat(start)
        if moment.tzinfo is None:
            problems.append(f"start_time: {start!r} has no offset (write e.g. 2026-10-05T09:15:00+02:00)")
        else:
            moment.astimezone(_UTC)
    except ValueError:
        problems.append(f"start_time: {start!r} is not ISO 8601 with an offset")
    except OverflowError:
        problems.append(f"start_time: {start!r} is out of range")
    for name, text in (("duration", duration), ("volume", volume), ("quantity", quantity)):
        try:
            whole(text, name)
        except ValueError as exc:
            problems.append(str(exc))
    if location and (len(location) != 2 or not location.isalpha() or not location.isascii()):
        problems.append(f"location: {location!r} is not an ISO 3166 alpha-2 country")
    if charge:
        try:
            _charge(charge)
        except (ValueError, InvalidOperation, ArithmeticError):
            problems.append(f"charge: {charge!r} is not an amount")
    if balance_after:
        try:
            _charge(balance_after)
        except (ValueError, InvalidOperation, ArithmeticError):
            problems.append(f"balance_after: {balance_after!r} is not an amount")
    return "; ".join(problems) or "unreadable line"


def _columns(names: list[str]):
    """How to take the canonical columns from a row under this header: (in order, picker, the
    index of the optional balance_after column or None)."""
    in_order = names[:len(COLUMNS)] == list(COLUMNS) and len(names) == len(COLUMNS)
    balance_at = names.index(BALANCE_AFTER) if BALANCE_AFTER in names else None
    return in_order, itemgetter(*(names.index(column) for column in COLUMNS)), balance_at


def _read_row(row: list[str], line: int, in_order: bool, pick, balance_at: int | None) -> UsageRecord | ParseFailure:
    try:
        record = _fast(row if in_order else pick(row), line)
        return record if balance_at is None else _with_balance(record, row[balance_at])
    except (ValueError, InvalidOperation, OverflowError):  # a time that is no UTC moment overflows
        return ParseFailure(line, _explain(pick(row), "" if balance_at is None else row[balance_at]), csv_line(row),
                            row[0])


def _header_names(header: list[str]) -> list[str]:
    names = [name.strip().lower() for name in header]
    if names:
        names[0] = names[0].lstrip("\ufeff")
    return names


def parse(stream: TextIO, **_options) -> Iterator[UsageRecord | ParseFailure]:
    """Records from a canonical CSV text stream (open it with newline='')."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return
    names = _header_names(header)
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        reason = f"header: missing column(s) {', '.join(missing)} (the first line must name the columns)"
        yield ParseFailure(1, reason, csv_line(header))
        for row in reader:
            if row:
                yield ParseFailure(reader.line_num, reason, csv_line(row), row[0])
        return
    yield from _records(reader, names, lambda: reader.line_num)


def _records(rows, names: list[str], line_of) -> Iterator[UsageRecord | ParseFailure]:
    """The records of CSV rows under a header that names every column; `line_of()` is the line
    number of the row just read."""
    width = len(names)
    in_order, pick, balance_at = _columns(names)
    for row in rows:
        if not row:
            continue  # a blank line is not a record
        line = line_of()
        if len(row) != width:
            yield ParseFailure(line, f"{len(row)} fields where the header has {width}", csv_line(row), row[0])
            continue
        yield _read_row(row, line, in_order, pick, balance_at)


# ---- split at intake, parsed by the rating worker ---------------------------------------------
# A big file's records are routed to their subscription partitions by the A-number alone, and
# kept as their raw lines: reading a record fully (times, numbers, checks) is the worker's job,
# which runs on every core, instead of the intake's, which runs on one. Each line keeps its number,
# so a line the worker cannot read is reported just as the intake would have reported it.


def split(stream: BinaryIO) -> Split | None:
    """The file's raw records (a binary stream), or None when this file must be parsed whole:
    a header missing columns (every line then fails the same way), no header, or lines ended by a
    bare carriage return."""
    first = stream.readline()
    if not first or b"\r" in first.rstrip(b"\r\n"):
        return None
    header = next(csv.reader([first.decode("utf-8", "replace")]), None)
    if not header:
        return None
    names = _header_names(header)
    if any(column not in names for column in COLUMNS):
        return None
    a_column = names.index("a_number")
    return Split(names, lambda partitions, limit, flush: _route(stream, a_column, partitions, limit, flush))


def _route(stream: BinaryIO, a_column: int, partitions: int, limit: int, flush) -> int:
    """Route every raw record to its partition, `crc32(A-number) % partitions`, the A-number
    normalised as the parser would; `flush(partition, raws, lines)` takes a partition's records
    whenever it holds `limit` of them, and the rest at the end. Returns the number of records.
    A record with a quote is read with the csv module (a quoted field may hold commas, or run over
    lines until its quotes balance). One loop for everything: it runs once per line of the file."""
    raws: list[list[bytes]] = [[] for _ in range(partitions)]
    lines: list[list[int]] = [[] for _ in range(partitions)]
    crc32 = zlib.crc32
    line = 1
    count = 0
    cut = a_column + 1
    carry = None  # a quoted field running over lines: the record so far
    for block in _blocks(stream):
        for raw in block:  # one physical line, without its line feed
            line += 1
            if carry is not None:
                carry += b"\n" + raw
                if carry.count(b'"') % 2:
                    continue
                raw, carry = carry, None
            elif not raw or raw == b"\r":
                continue  # a blank line is not a record
            if b'"' in raw:
                if raw.count(b'"') % 2:
                    carry = raw
                    continue
                row = next(csv.reader([raw.decode("utf-8", "replace")]), [])
                number = row[a_column].encode() if len(row) > a_column else b""
            else:
                fields = raw.split(b",", cut)
                number = fields[a_column].rstrip(b"\r") if len(fields) > a_column else b""
            if not number.isdigit() or number[:2] == b"00":
                try:
                    number = normalise_number(number.decode("utf-8", "replace")).encode()
                except ValueError:
                    number = b""  # the worker reports the line
            p = crc32(number) % partitions
            raws[p].append(raw)
            numbers = lines[p]
            numbers.append(line)
            count += 1
            if len(numbers) >= limit:
                flush(p, raws[p], numbers)
                raws[p], lines[p] = [], []
    if carry is not None:  # quotes never balanced: the worker reports it
        p = 0
        raws[p].append(carry)
        lines[p].append(line)
        count += 1
    for p in range(partitions):
        if lines[p]:
            flush(p, raws[p], lines[p])
    return count


BLOCK = 1 << 23  # the file is read 8 MB at a time and cut into lines in one step


def _blocks(stream: BinaryIO) -> Iterator[list[bytes]]:
    """The rest of the stream as lists of lines without their line feeds (a line cut by a block's
    end is completed from the next block)."""
    pending = b""
    while chunk := stream.read(BLOCK):
        data = pending + chunk
        end = data.rfind(b"\n")
        if end < 0:
            pending = data
            continue
        pending = data[end + 1:]
        yield data[:end].split(b"\n")
    if pending:
        yield [pending]


def parse_split(names: list[str], raws: list[bytes], lines: list[int]) -> Iterator[UsageRecord | ParseFailure]:
    """The records of raw lines cut by `split` (with their header and line numbers): what `parse`
    gives for the same lines, in one loop (this runs once per record in the workers)."""
    width = len(names)
    in_order, pick, balance_at = _columns(names)
    joined = b"\n".join(raws)
    if b'"' in joined:  # a quoted field may hold a line feed: each record read on its own
        reader = csv.reader(map(methodcaller("decode", "utf-8", "replace"), raws))
    else:
        reader = csv.reader(joined.decode("utf-8", "replace").split("\n"))
    for line in lines:
        try:
            row = next(reader)
        except csv.Error as exc:
            yield ParseFailure(line, f"unreadable line: {exc}")
            continue
        except StopIteration:
            return
        if len(row) != width:
            yield ParseFailure(line, f"{len(row)} fields where the header has {width}", csv_line(row),
                               row[0] if row else "")
            continue
        yield _read_row(row, line, in_order, pick, balance_at)
