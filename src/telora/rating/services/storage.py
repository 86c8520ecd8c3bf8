"""Bulk writes of a rating batch: record keys, rated rows by COPY into monthly partitions made
on demand, and bundle counters."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection

RATED_COLUMNS = ("brand_id", "source", "record_id", "subscription_id", "service", "a_number", "b_number",
                 "start_time", "usage", "quantity", "zone", "band", "rate_plan", "rate_key", "bundle_use",
                 "discount", "charge", "currency", "balance_after", "file_id", "batch_id")
_known_partitions: set[str] = set()


def insert_keys(batch, rated) -> bool:
    """Insert (brand, source, record_id) of every rated record; False when one was taken already."""
    if not rated:
        return True
    ids = [r.record.record_id for r in rated]
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO rating_usagekey (brand_id, source, record_id) "
                       "SELECT %s, %s, unnest(%s::text[]) ON CONFLICT DO NOTHING",
                       [batch.brand_id, batch.file.source, ids])
        return cursor.rowcount == len(ids)


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
    brand_id, source, file_id, batch_id = batch.brand_id, batch.file.source, batch.file_id, batch.pk
    keys: dict = {}
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY rating_ratedusage ({', '.join(RATED_COLUMNS)}) FROM STDIN") as copy:
        write = copy.write_row
        for r in rated:
            record = r.record
            rate = r.rate
            key = keys.get(id(rate))
            if key is None:
                key = keys[id(rate)] = _rate_key(rate)
            uses = json.dumps([[u.bundle, u.code, u.allowance, u.period_start and u.period_start.isoformat(),
                                u.units] for u in r.bundle_use]) if r.bundle_use else "[]"
            write((brand_id, source, record.record_id, r.subscription_id, record.service, record.a_number,
                   record.b_number, record.start_time, r.usage, r.quantity, r.zone or "", r.band or "",
                   r.rate_plan or "", key, uses, r.discount, r.charge, currency, r.balance_after, file_id,
                   batch_id))


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
