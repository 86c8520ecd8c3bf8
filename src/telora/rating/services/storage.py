"""Bulk writes of a rating batch: record keys, rated rows by COPY into monthly partitions made
on demand, and bundle counters."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection

RATED_COLUMNS = ("brand_id", "source", "record_id", "subscription_id", "service", "a_number", "b_number",
                 "start_time", "usage", "quantity", "zone", "band", "rate_plan", "rate_key", "bundle_use",
                 "discount", "charge", "currency", "balance_after", "location", "direction", "record_charge", "file_id",
                 "batch_id")
_known_partitions: set[str] = set()
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
SEPARATOR = "\x1f"  # joins many ids into one text parameter: quicker to send than an array
CHUNK = 20000


def escape(text: str) -> str:
    """A value for COPY's text format (backslash, tab and line ends escaped)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def id_list(ids: list[str]) -> tuple[str, list | str]:
    """SQL for "these ids as a set of text" and its parameter: one joined string when no id holds
    the separator, else an array."""
    if any(SEPARATOR in i for i in ids):
        return "unnest(%s::text[])", ids
    return "unnest(string_to_array(%s, chr(31)))", SEPARATOR.join(ids)


def claim_keys(batch, record_ids: list[str]) -> set[str]:
    """Insert (brand, source, record_id) for the ids; those taken before are skipped. Returns the
    ids inserted now: the rest were already rated (duplicates). A concurrent claim of the same id
    waits for the other transaction, so an id is never claimed twice."""
    if not record_ids:
        return set()
    expression, param = id_list(record_ids)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO rating_usagekey (brand_id, source, record_id) "
                       f"SELECT %s, %s, {expression} ON CONFLICT DO NOTHING RETURNING record_id",
                       [batch.brand_id, batch.file.source, param])
        return {row[0] for row in cursor.fetchall()}


def release_keys(batch, record_ids) -> None:
    """Give back the keys of records that were claimed but not rated (they failed)."""
    if not record_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM rating_usagekey WHERE brand_id = %s AND source = %s AND record_id = ANY(%s)",
                       [batch.brand_id, batch.file.source, list(record_ids)])


def partition_name(month: dt.date) -> str:
    return f"rating_ratedusage_y{month.year:04d}m{month.month:02d}"


def ensure_partitions(moments) -> None:
    """The monthly partitions the moments fall in (UTC months), made if missing."""
    months = {dt.date(m.astimezone(dt.UTC).year, m.astimezone(dt.UTC).month, 1) for m in moments}
    missing = [m for m in months if partition_name(m) not in _known_partitions]
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


def copy_rated(batch, rated, currency: str) -> None:
    if not rated:
        return
    ensure_partitions({r.record.start_time for r in rated})
    head = f"{batch.brand_id}\t{escape(batch.file.source)}\t"
    tail = f"\t{currency}\t"
    ids = f"\t{batch.file_id}\t{batch.pk}\n"
    null = "\\N"
    keys: dict = {}
    lines = []
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY rating_ratedusage ({', '.join(RATED_COLUMNS)}) FROM STDIN") as copy:
        for r in rated:
            record = r.record
            rate = r.rate
            key = keys.get(id(rate))
            if key is None:
                key = keys[id(rate)] = escape(_rate_key(rate))
            uses = escape(json.dumps([[u.bundle, u.code, u.allowance, u.period_start and u.period_start.isoformat(),
                                       u.units] for u in r.bundle_use])) if r.bundle_use else "[]"
            balance = null if r.balance_after_micro is None else r.balance_after
            lines.append(f"{head}{escape(record.record_id)}\t{r.subscription_id}\t{record.service}\t"
                         f"{escape(record.a_number)}\t{escape(record.b_number)}\t{record.start_time.isoformat()}\t"
                         f"{r.usage}\t{r.quantity}\t{r.zone or ''}\t{r.band or ''}\t{r.rate_plan or ''}\t{key}\t"
                         f"{uses}\t{r.discount}\t{r.charge}{tail}{balance}\t{escape(record.location)}\t"
                         f"{record.direction}\t{null if record.charge is None else record.charge}{ids}")
            if len(lines) == CHUNK:
                copy.write("".join(lines))
                lines.clear()
        if lines:
            copy.write("".join(lines))


def upsert_counters(counters) -> None:
    if not counters:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO rating_bundlecounter (subscription_id, bundle, code, allowance, period_start, period_end, "
            "amount, used) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (subscription_id, bundle, allowance, period_start) DO UPDATE SET used = EXCLUDED.used",
            [(c.subscription_id, c.bundle, c.code, c.allowance, c.period_start, c.period_end, c.amount, c.used)
             for c in counters])
