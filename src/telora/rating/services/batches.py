"""Rating a batch: its packed records -> the engine -> one transaction that writes everything.

The transaction claims the records' keys (UsageKey, ON CONFLICT DO NOTHING), rates them (in
parts where a plan or the catalogue changes), COPYs the rated rows into their monthly partitions, stores failed records, upserts bundle counters, appends the
prepaid ledger and balance events, empties the batch's payload and marks it done. A batch
that is done is never rated again, and a crash before the commit leaves it pending with its
records: re-running it cannot charge twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from operator import itemgetter
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import F

from telora.core import clock
from telora.events.services import emit_many
from telora.rating.engine import DUPLICATE, ParseFailure
from telora.rating.engine.bounds import CHARGE_MICRO_MAX
from telora.rating.engine.memory import collector_paused
from telora.rating.engine.results import (
    BUNDLE_THRESHOLDS,
    LOW_BALANCE,
    OUT_OF_RANGE,
    PARSE_ERROR,
    ZERO_BALANCE,
)
from telora.rating.engine.results import FailedRecord as EngineFailure
from telora.rating.models import (
    BalanceEvent,
    FailedRecord,
    RatingBatch,
    UsageFile,
    UsageSource,
)
from telora.rating.services.context import load_contexts, rater_for, tariff_changes
from telora.rating.services.limits import usage_bounds
from telora.rating.services.staging import read_payload, unpack_all
from telora.rating.services.storage import (
    claim_keys,
    copy_entries,
    copy_ledger,
    copy_rated,
    release_keys,
    store_balances,
    upsert_counters,
)

logger = logging.getLogger(__name__)
_RECORD_ID, _A_NUMBER, _START_TIME = itemgetter(0), itemgetter(2), itemgetter(4)  # UsageRecord fields
_CHARGE_MICRO = itemgetter(11)  # RatedRecord.charge_micro


def rate_pending(brand=None, *, limit: int | None = None) -> int:
    """Rate pending batches now, oldest first, in this process (`telora rate`, `cdr import --now`)."""
    batches = RatingBatch.objects.filter(status="pending").order_by("id")
    if brand is not None:
        batches = batches.filter(brand=brand)
    done = 0
    for batch_id in batches.values_list("id", flat=True)[:limit]:
        rate_batch(batch_id)
        done += 1
    return done


def rate_batch(batch_id: int) -> RatingBatch:
    """Rate one batch. The partition's advisory lock is held from reading the counters and
    balances to the commit, so whoever rates (a worker, `telora rate`, `cdr import --now`) one
    partition is rated by one process at a time; the lock goes with the session if it dies."""
    brand_id, partition = RatingBatch.objects.filter(pk=batch_id).values_list("brand_id", "partition").get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s::int, %s::int)", [brand_id, partition])
        try:
            return _rate_batch(batch_id)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", [brand_id, partition])


def _rate_batch(batch_id: int) -> RatingBatch:
    """One transaction: claim the records' keys, rate, write. Claiming first (an insert that
    skips ids taken before and reports the new ones) both finds the duplicates and makes the
    claim, in one statement that any plan runs quickly; keys of records that then fail are
    given back before the commit, so a failed record can be rated again later."""
    batch = RatingBatch.objects.select_related("file", "brand").defer("payload").get(pk=batch_id)
    if batch.status == "done":
        return batch
    started = time.perf_counter()
    usage_file = batch.file
    with transaction.atomic(), collector_paused():
        locked = RatingBatch.objects.select_for_update().defer("payload").get(pk=batch_id)
        if locked.status == "done":
            return locked
        with connection.cursor() as cursor:
            # Everything of the batch commits or nothing does, so the commit need not wait for the
            # WAL flush: a database crash in that instant leaves the batch pending, as if never
            # rated, and jobs.requeue_orphans rates it again. Saves a flush of megabytes per batch.
            cursor.execute("SET LOCAL synchronous_commit = off")
        records, unreadable = unpack_all(read_payload(batch_id))
        now = clock.now()
        # Out of the window or bounds: failed alone (OUT_OF_RANGE), before any key is claimed.
        records, outside = usage_bounds(batch.brand_id, usage_file.source, now).split(records)
        ids = set(map(_RECORD_ID, records))
        claimed = claim_keys(batch, ids)
        taken = ids - claimed  # rated before: duplicates
        pre_rated = UsageSource.objects.filter(brand_id=batch.brand_id, code=usage_file.source, pre_rated=True).exists()
        result = _rate(batch, records, set(taken), now, pre_rated)  # the engine adds the batch's ids to its set
        result.failed += [EngineFailure(f, PARSE_ERROR, f.reason) for f in unreadable]
        result.failed += [EngineFailure(r, OUT_OF_RANGE, detail) for r, detail in outside]
        rated_at = time.perf_counter()
        # Only keys this batch claimed are given back: an unreadable or out-of-range line may carry
        # the id of a record rated before, whose key must stay.
        unrated = {f.record_id for f in result.failed if f.reason != DUPLICATE} & claimed
        if unrated:
            release_keys(batch, unrated - {r.record.record_id for r in result.rated})
        copy_rated(batch, result.rated, batch.brand.currency, result.span)
        duplicates = sum(1 for f in result.failed if f.reason == DUPLICATE)
        FailedRecord.objects.bulk_create(_failed_rows(batch, result.failed, now), batch_size=5000)
        locked.payload = b""
        locked.status = "done"
        locked.rated = len(result.rated)
        locked.failed = len(result.failed) - duplicates
        locked.duplicate = duplicates
        locked.done_at = now
        locked.save(update_fields=["status", "rated", "failed", "duplicate", "done_at", "payload"])
        finished = time.perf_counter()
        UsageFile.objects.filter(pk=usage_file.pk).update(
            rated=F("rated") + locked.rated, failed=F("failed") + locked.failed,
            duplicate=F("duplicate") + duplicates, rate_seconds=F("rate_seconds") + (rated_at - started),
            persist_seconds=F("persist_seconds") + (finished - rated_at))
        if not RatingBatch.objects.filter(file_id=usage_file.pk, status="pending").exclude(pk=batch_id).exists():
            UsageFile.objects.filter(pk=usage_file.pk).update(status="rated", rated_at=now)
    return locked


def _rate(batch: RatingBatch, records: list, seen: set[str], now: dt.datetime,
          pre_rated: bool = False) -> SimpleNamespace:
    """Rate the records and write their bundle counters and prepaid balances. Records of a
    pre-rated (OCS) source keep the charge they carry (`Rater.take_rated`). A record is rated
    on the plan in effect at its start and on the tariff of its day: the batch is cut where one
    of its subscriptions changes plan or the catalogue changes, and rated part by part in time
    order, each part seeing the counters and balances the one before left (written in between,
    in the same transaction). Usually there is one part."""
    if not records:
        return SimpleNamespace(rated=[], failed=[], span=None)
    first = min(map(_START_TIME, records))
    last = max(map(_START_TIME, records))
    numbers = set(map(_A_NUMBER, records))
    contexts, _prepaid_ids, plan_changes = load_contexts(batch.brand, numbers, first, last)
    cuts = sorted(set(plan_changes) | set(tariff_changes(batch.brand, first, last)))
    parts = _cut(records, cuts) if cuts else [(first, records)]
    rated, failed = [], []
    for start, part in parts:
        if start != first:
            contexts, _prepaid_ids, _changes = load_contexts(batch.brand, {r.a_number for r in part}, start)
        rater = rater_for(batch.brand, start)
        result = rater.take_rated(part, contexts, seen=seen) if pre_rated else rater.rate(part, contexts, seen=seen)
        if result.rated and max(map(_CHARGE_MICRO, result.rated)) > CHARGE_MICRO_MAX:
            _overflowing(result)
        upsert_counters(result.counters)
        _prepaid(batch, result, now, pre_rated)
        _domain_events(batch, result, now)
        rated += result.rated
        failed += result.failed
    return SimpleNamespace(rated=rated, failed=failed, span=(first, last))


def _overflowing(result) -> None:
    """Rated charges no NUMERIC(18,6) column holds (a price far beyond sense) fail alone."""
    fine = []
    for rated in result.rated:
        if rated.charge_micro > CHARGE_MICRO_MAX:
            result.failed.append(EngineFailure(rated.record, OUT_OF_RANGE,
                                               f"charge: {rated.charge} is more than rated usage can hold"))
        else:
            fine.append(rated)
    result.rated = fine


def _cut(records: list, cuts: list[dt.datetime]) -> list[tuple[dt.datetime, list]]:
    """The records in parts [start, next cut), each with its start moment, in time order."""
    ordered = sorted(records, key=lambda r: r.start_time)
    parts, start, current = [], ordered[0].start_time, []
    cuts = iter(cuts)
    cut = next(cuts, None)
    for record in ordered:
        while cut is not None and record.start_time >= cut:
            if current:
                parts.append((start, current))
            start, current = cut, []
            cut = next(cuts, None)
        current.append(record)
    parts.append((start, current))
    return parts


def _failed_rows(batch: RatingBatch, failed, now: dt.datetime):
    for f in failed:
        record = f.record
        if type(record) is ParseFailure:
            yield FailedRecord.unreadable(record, brand_id=batch.brand_id, file_id=batch.file_id,
                                          source=batch.file.source, at=now)
        else:
            yield FailedRecord.of_record(record, f.reason, f.detail, brand_id=batch.brand_id, file_id=batch.file_id,
                                         source=batch.file.source, at=now)


def _prepaid(batch: RatingBatch, result, now: dt.datetime, pre_rated: bool = False) -> None:
    """The ledger gets one entry per charged prepaid record (binary COPY), or for pre-rated records
    one per change the OCS made (cause "ocs"); the cached balance the final one (one statement for
    all the batch's subscriptions); events as they were raised."""
    if pre_rated:
        copy_entries(batch.file.source, result.ledger, "ocs")
    else:
        copy_ledger(batch.file.source,
                    [r for r in result.rated if r.balance_after_micro is not None and r.charge_micro])
    store_balances(result.balances, now)
    BalanceEvent.objects.bulk_create(
        BalanceEvent(subscription_id=e.subscription_id, kind=e.kind, record_id=e.record_id, at=e.at,
                     balance=e.balance, threshold=e.threshold) for e in result.events)


def _domain_events(batch: RatingBatch, result, now: dt.datetime) -> None:
    """The batch's balance events and bundle thresholds as domain events, in the batch's transaction."""
    for kind, code in ((LOW_BALANCE, "balance.low"), (ZERO_BALANCE, "balance.zero")):
        emit_many(code, brand=batch.brand_id, at=now, subject_type="customers.subscription", items=[
            (e.subscription_id, {"subscription_id": e.subscription_id, "balance": e.balance, "threshold": e.threshold,
                                 "record_id": e.record_id, "record_at": e.at}) for e in result.events if e.kind == kind])
    for percent in BUNDLE_THRESHOLDS:
        emit_many(f"bundle.used_{percent}", brand=batch.brand_id, at=now, subject_type="customers.subscription", items=[
            (t.subscription_id, {"subscription_id": t.subscription_id, "bundle": t.code, "allowance": t.allowance,
                                 "period_start": t.period_start, "period_end": t.period_end, "used": t.used,
                                 "amount": t.amount, "percent": percent})
            for t in result.thresholds if t.percent == percent])
