"""Bulk writes of a rating batch: record keys, rated rows by COPY into monthly partitions made
on demand, and bundle counters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from operator import attrgetter

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from psycopg.adapt import Dumper, PyFormat
from psycopg.pq import Format

from telora.core import clock
from telora.rating.engine.money import from_micro
from telora.rating.services.limits import window

RATED_COLUMNS = ("brand_id", "source", "record_id", "subscription_id", "service", "a_number", "b_number",
                 "start_time", "usage", "quantity", "zone", "band", "rate_plan", "rate_key", "bundle_use",
                 "discount", "charge", "currency", "balance_after", "location", "direction", "record_charge", "file_id",
                 "batch_id", "override")
_known_partitions: set[str] = set()
SEPARATOR = "\x1f"  # joins many ids into one text parameter: quicker to send than an array


def id_list(ids: list[str]) -> tuple[str, list | str]:
    """SQL for "these ids as a set of text" and its parameter: one joined string when no id holds
    the separator, else an array."""
    if any(SEPARATOR in i for i in ids):
        return "unnest(%s::text[])", ids
    return "unnest(string_to_array(%s, chr(31)))", SEPARATOR.join(ids)


def claim_keys(batch, record_ids: set[str] | list[str]) -> set[str]:
    """Insert (brand, source, record_id) for the ids; those taken before are skipped. Returns the
    ids inserted now: the rest were already rated (duplicates). The ids go distinct and sorted,
    so the index fills in order. A concurrent claim of the same id waits for the other
    transaction, so an id is never claimed twice.

    Usually no id was seen before, so the batch first tries a plain INSERT in a savepoint: half
    the database work of ON CONFLICT (which probes the index before and after each row) and no
    ids sent back. Only when that meets a taken id does it roll back to the savepoint and insert
    with ON CONFLICT DO NOTHING, which reports the new ids."""
    if not record_ids:
        return set()
    distinct = record_ids if isinstance(record_ids, set) else set(record_ids)
    expression, param = id_list(sorted(distinct))
    params = [batch.brand_id, batch.file.source, clock.now().date(), param]
    insert = ("INSERT INTO rating_usagekey (brand_id, source, claimed_on, record_id) "
              f"SELECT %s, %s, %s, i.id FROM {expression} AS i(id)")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, params)
    except IntegrityError:  # some id was claimed before: the savepoint took the plain insert back
        with connection.cursor() as cursor:
            cursor.execute(f"{insert} ON CONFLICT DO NOTHING RETURNING record_id", params)
            return {row[0] for row in cursor.fetchall()}
    return distinct


def forget_keys(days: int | None = None, *, chunk: int = 100_000) -> int:
    """Forget the usage keys claimed more than `days` ago (TELORA_USAGE_KEY_DAYS; None: keep them
    forever, the default), a chunk per transaction; returns how many. A record whose key is
    forgotten would be charged again if its file came back: the window is the operator's promise
    of how late a file may be sent twice. Deleted oldest first, by the BRIN index on the day."""
    days = settings.TELORA_USAGE_KEY_DAYS if days is None else days
    if days is None:
        return 0
    before = clock.now().date() - dt.timedelta(days=days)
    forgotten = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM rating_usagekey WHERE ctid = ANY(ARRAY(SELECT ctid FROM rating_usagekey "
                           "WHERE claimed_on < %s LIMIT %s))", [before, chunk])
            forgotten += cursor.rowcount
            if cursor.rowcount < chunk:
                return forgotten


def release_keys(batch, record_ids) -> None:
    """Give back the keys of records that were claimed but not rated (they failed)."""
    if not record_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM rating_usagekey WHERE brand_id = %s AND source = %s AND record_id = ANY(%s)",
                       [batch.brand_id, batch.file.source, list(record_ids)])


def partition_name(month: dt.date) -> str:
    return f"rating_ratedusage_y{month.year:04d}m{month.month:02d}"


def _months(first: dt.datetime, last: dt.datetime) -> list[dt.date]:
    """The UTC months from the one of `first` to the one of `last`."""
    first, last = first.astimezone(dt.UTC), last.astimezone(dt.UTC)
    month, months = dt.date(first.year, first.month, 1), []
    while month <= last.date():
        months.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _inside_window(first: dt.datetime, last: dt.datetime) -> None:
    """Partitions are made only for months the usage window reaches: a record of year 9999 is
    refused before it gets here (engine.bounds); this is the last guard, so no statement ever
    makes thousands of partitions for one stray date."""
    earliest, latest = window(clock.now())
    if first < earliest.replace(day=1, hour=0, minute=0, second=0, microsecond=0) or last > latest:
        raise ValueError(f"rated usage: no partition for {first:%Y-%m} to {last:%Y-%m}: outside the usage window "
                         f"{earliest:%Y-%m-%d} – {latest:%Y-%m-%d} (TELORA_USAGE_PAST_DAYS, TELORA_USAGE_FUTURE_DAYS)")


def ensure_partitions(moments) -> None:
    """The monthly partitions from the earliest to the latest moment (UTC months), made if missing."""
    moments = list(moments)
    if not moments:
        return
    first, last = min(moments), max(moments)
    _inside_window(first, last)
    missing = [m for m in _months(first, last) if partition_name(m) not in _known_partitions]
    if not missing:
        return
    with connection.cursor() as cursor:
        # Two workers making the same partition at once would fail: one at a time.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('rating_ratedusage_partitions'))")
        for month in sorted(missing):
            following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
            name = partition_name(month)
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF rating_ratedusage "
                           f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') TO ('{following.isoformat()} 00:00+00')")
    # Remembered only after the commit: a rolled-back transaction takes its partitions with it.
    connection.on_commit(lambda: _known_partitions.update(partition_name(m) for m in missing))


def _rate_key(rate) -> str:
    rate = getattr(rate, "rate", rate)
    if rate is None:
        return ""
    return f"{rate.service}/{rate.zone}/{rate.band or '*'}"


_by_subscription = attrgetter("subscription_id")


class JsonText(str):
    """JSON already written as text, for a jsonb column of a binary COPY."""


class _JsonTextDumper(Dumper):
    """jsonb's binary form is a version octet and the JSON text: no encoding per row (the driver's
    own jsonb dumper would run json.dumps for every row, mostly on the same "[]")."""

    format = Format.BINARY

    def dump(self, obj) -> bytes:
        return b"\x01" + obj.encode()


EMPTY_JSON_LIST = JsonText("[]")
RATED_TYPES = ("int8", "varchar", "varchar", "int8", "varchar", "varchar", "varchar", "timestamptz", "int8", "int8",
               "varchar", "varchar", "varchar", "varchar", "jsonb", "numeric", "numeric", "varchar", "numeric",
               "varchar", "varchar", "numeric", "int8", "int8", "varchar")


class NumericBytes(bytes):
    """A numeric already in PostgreSQL's binary form, for a binary COPY: a batch has few distinct
    amounts, and dumping each Decimal again costs more than all the row's other columns together."""


class _NumericBytesDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj) -> bytes:
        return obj


def _register_dumpers(cursor) -> None:
    """The pre-encoded jsonb and numeric columns of the binary COPYs, on this cursor."""
    adapters = cursor.adapters
    adapters.register_dumper(JsonText, type("JsonbTextDumper", (_JsonTextDumper,), {"oid": adapters.types["jsonb"].oid}))
    adapters.register_dumper(NumericBytes, type("NumericBinDumper", (_NumericBytesDumper,),
                                                {"oid": adapters.types["numeric"].oid}))


class _Amounts(dict):
    """Micro-units -> the numeric's binary form, made once per distinct amount."""

    def __init__(self, cursor):
        super().__init__()
        self._dump = cursor.adapters.get_dumper(Decimal, PyFormat.BINARY)(Decimal).dump

    def __missing__(self, micro: int) -> NumericBytes:
        value = self[micro] = NumericBytes(self._dump(from_micro(micro)))
        return value

    def of(self, amount: Decimal | None) -> NumericBytes | None:
        return None if amount is None else NumericBytes(self._dump(amount))


def copy_rated(batch, rated, currency: str, span: tuple[dt.datetime, dt.datetime] | None = None) -> None:
    """COPY the rated rows into their monthly partitions, in PostgreSQL's binary format: the
    driver's C code writes times, integers and numerics straight into the server's own form, so
    neither side formats or parses text (about half the cost of a text COPY). Amounts and the
    rate key are made once per distinct value: this loop runs once per record. The rows go in
    subscription order, so the (subscription, time) index takes them in few places."""
    if not rated:
        return
    rated = sorted(rated, key=_by_subscription)  # time order kept within a subscription (stable)
    if span is None:  # the batch's earliest and latest record (its rated ones lie between)
        stamps = [r.record.start_time for r in rated]
        span = (min(stamps), max(stamps))
    ensure_partitions(span)
    source, brand_id, file_id, batch_id = batch.file.source, batch.brand_id, batch.file_id, batch.pk
    keys: dict[int, str] = {}
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY rating_ratedusage ({', '.join(RATED_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        _register_dumpers(cursor.cursor)
        amounts = _Amounts(cursor.cursor)
        copy.set_types(RATED_TYPES)
        write = copy.write_row
        for r in rated:
            # unpacked whole: one step instead of twenty named-field lookups a row
            (record, subscription_id, rate_plan, zone, band, rate, usage, quantity, bundle_use, _codes, discount,
             charge, balance, override) = r
            (record_id, service, a_number, b_number, start_time, _duration, _volume, _quantity, location, given,
             direction, _line, _balance) = record
            key = keys.get(id(rate))
            if key is None:
                key = keys[id(rate)] = _rate_key(rate)
            uses = JsonText(json.dumps([[u.bundle, u.code, u.allowance, u.period_start and u.period_start.isoformat(),
                                         u.units] for u in bundle_use])) if bundle_use else EMPTY_JSON_LIST
            write((brand_id, source, record_id, subscription_id, service, a_number, b_number, start_time, usage,
                   quantity, zone or "", band or "", rate_plan or "", key, uses, amounts[discount], amounts[charge],
                   currency, None if balance is None else amounts[balance], location, direction,
                   None if given is None else amounts.of(given), file_id, batch_id, (override or "")[:120]))


def copy_ledger(source: str, rated) -> None:
    """One prepaid ledger entry (cause usage) per charged prepaid record, by binary COPY."""
    copy_entries(source, ((r.subscription_id, -r.charge_micro, r.balance_after_micro, r.record) for r in rated),
                 "usage")


def copy_entries(source: str, entries, cause: str) -> None:
    """Prepaid ledger entries (subscription, amount_micro, balance_after_micro, record) by binary
    COPY, each referring to its record (`source:record_id`) at the record's start."""
    entries = list(entries)
    if not entries:
        return
    with connection.cursor() as cursor, cursor.cursor.copy(
            "COPY rating_prepaidbalanceentry (subscription_id, amount, balance_after, cause, reference, at) "
            "FROM STDIN (FORMAT BINARY)") as copy:
        _register_dumpers(cursor.cursor)
        amounts = _Amounts(cursor.cursor)
        copy.set_types(("int8", "numeric", "numeric", "varchar", "varchar", "timestamptz"))
        for subscription_id, amount, after, record in entries:
            copy.write_row((subscription_id, amounts[amount], amounts[after], cause,
                            f"{source}:{record.record_id}"[:200], record.start_time))


def store_balances(balances: dict, now) -> None:
    """The cached prepaid balances after a batch, in one statement."""
    if not balances:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rating_prepaidbalance (subscription_id, balance, updated_at) "
            "SELECT s, b, %s FROM unnest(%s::bigint[], %s::numeric[]) AS x(s, b) "
            "ON CONFLICT (subscription_id) DO UPDATE SET balance = EXCLUDED.balance, updated_at = EXCLUDED.updated_at",
            [now, list(balances), list(balances.values())])


def upsert_counters(counters) -> None:
    """The bundle counters a batch touched, with the units used after it, in one statement."""
    if not counters:
        return
    columns = list(zip(*[(c.subscription_id, c.bundle, c.code, c.allowance, c.period_start, c.period_end, c.amount,
                          c.used) for c in counters], strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rating_bundlecounter (subscription_id, bundle, code, allowance, period_start, period_end, "
            "amount, used) SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::smallint[], "
            "%s::date[], %s::date[], %s::bigint[], %s::bigint[]) "
            "ON CONFLICT (subscription_id, bundle, allowance, period_start) DO UPDATE SET used = EXCLUDED.used",
            [list(c) for c in columns])
