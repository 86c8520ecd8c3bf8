"""Re-rating a subscription for a period that is not yet billed: its rated usage in the period is
reversed exactly (bundle units given back to their counters, prepaid charges back to the
balance with one ledger entry, the record keys freed, the rows deleted) and the same records are
taken in again, to be rated on today's catalogue and subscription data. Usage of a pre-rated
(OCS) source is left as it is: its charges are the OCS's, not the catalogue's, so there is
nothing to price again (a failed record of such a source taken in again is checked again).

Billing says which periods are billed: it registers a check with `register_billed_check(fn)`,
`fn(subscription_id, since, until) -> str | None` returning the reason when any of the period
is billed. A period any check calls billed is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q, Sum

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.rating.engine import UsageRecord
from telora.rating.models import (
    BalanceEvent,
    PrepaidBalance,
    PrepaidBalanceEntry,
    RatedUsage,
    UsageFile,
    UsageSource,
)
from telora.rating.services.failed import rate_files_now
from telora.rating.services.intake import import_usage_records, partition_of, require
from telora.rating.services.storage import id_list

BilledCheck = Callable[[int, dt.datetime, dt.datetime], "str | None"]
_billed_checks: list[BilledCheck] = []

_RETURNED = ("id", "source", "record_id", "service", "a_number", "b_number", "start_time", "usage", "location",
             "direction", "record_charge", "bundle_use", "charge", "balance_after")


def register_billed_check(fn: BilledCheck) -> BilledCheck:
    """Add a check `fn(subscription_id, since, until) -> reason | None` (usable as a decorator)."""
    if fn not in _billed_checks:
        _billed_checks.append(fn)
    return fn


def unregister_billed_check(fn: BilledCheck) -> None:
    if fn in _billed_checks:
        _billed_checks.remove(fn)


def billed_reason(subscription_id: int, since: dt.datetime, until: dt.datetime) -> str | None:
    """Why [since, until) of the subscription may not be re-rated (a billed period), or None."""
    for check in list(_billed_checks):
        reason = check(subscription_id, since, until)
        if reason:
            return str(reason)
    return None


def _check_period(since, until) -> None:
    for name, value in (("since", since), ("until", until)):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ServiceError(f"{name}: must be a timezone-aware date and time", field=name)
    if since >= until:
        raise ServiceError(f"until: {until:%Y-%m-%d %H:%M} is not after since ({since:%Y-%m-%d %H:%M})",
                           field="until")


def _numbers(subscription, since: dt.datetime, until: dt.datetime) -> set[str]:
    """The numbers the subscription held in [since, until), and those its rated rows there carry."""
    from telora.customers.models import NumberAssignment

    held = set(NumberAssignment.objects.filter(subscription_id=subscription.pk, valid_from__lt=until)
               .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=since)).values_list("number", flat=True))
    held |= set(RatedUsage.objects.filter(brand_id=subscription.brand_id, subscription_id=subscription.pk,
                                          start_time__gte=since, start_time__lt=until)
                .values_list("a_number", flat=True).distinct())
    return held


def _lock_partitions(brand_id: int, numbers: set[str]) -> list[int]:
    """The partitions' advisory locks, in order, until the transaction ends: no batch of them is
    rated meanwhile (rate_batch holds the same lock while it rates)."""
    partitions = sorted({partition_of(n) for n in numbers})
    with connection.cursor() as cursor:
        for partition in partitions:
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)", [brand_id, partition])
    return partitions


def _take_rows(subscription, since: dt.datetime, until: dt.datetime) -> list[dict]:
    """Delete and return the rated rows of the period, but those of pre-rated sources."""
    pre_rated = list(UsageSource.objects.filter(brand_id=subscription.brand_id, pre_rated=True)
                     .values_list("code", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM rating_ratedusage WHERE brand_id = %s AND subscription_id = %s "
                       f"AND start_time >= %s AND start_time < %s AND NOT (source = ANY(%s::varchar[])) "
                       f"RETURNING {', '.join(_RETURNED)}",
                       [subscription.brand_id, subscription.pk, since, until, pre_rated])
        rows = [dict(zip(_RETURNED, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if isinstance(row["bundle_use"], str):
            row["bundle_use"] = json.loads(row["bundle_use"])
    rows.sort(key=lambda r: (r["start_time"], r["id"]))
    return rows


def _give_back_bundles(subscription_id: int, rows: list[dict]) -> int:
    """Subtract the rows' bundle units from their counters; a counter left at zero goes."""
    units: dict[tuple, int] = defaultdict(int)
    for row in rows:
        for holding, _code, allowance, period_start, used in row["bundle_use"] or ():
            start = dt.date.fromisoformat(period_start) if period_start else None
            units[(holding, int(allowance), start)] += int(used)
    with connection.cursor() as cursor:
        for (holding, allowance, start), used in sorted(units.items(), key=lambda item: (item[0][0], item[0][1],
                                                                                         item[0][2] or dt.date.min)):
            cursor.execute("UPDATE rating_bundlecounter SET used = used - %s WHERE subscription_id = %s "
                           "AND bundle = %s AND allowance = %s AND period_start IS NOT DISTINCT FROM %s",
                           [used, subscription_id, holding, allowance, start])
            cursor.execute("DELETE FROM rating_bundlecounter WHERE subscription_id = %s AND bundle = %s "
                           "AND allowance = %s AND period_start IS NOT DISTINCT FROM %s AND used <= 0",
                           [subscription_id, holding, allowance, start])
    return sum(units.values())


def _give_back_prepaid(subscription_id: int, rows: list[dict], *, reference: str, at: dt.datetime) -> Decimal:
    """The prepaid rows' charges back on the balance, as one "rerate" ledger entry."""
    refund = sum((row["charge"] for row in rows if row["balance_after"] is not None), Decimal(0))
    if not refund:
        return refund
    balance, _made = PrepaidBalance.objects.select_for_update().get_or_create(
        subscription_id=subscription_id, defaults={"balance": Decimal(0), "updated_at": at})
    balance.balance += refund
    balance.updated_at = at
    balance.save(update_fields=["balance", "updated_at"])
    PrepaidBalanceEntry.objects.create(subscription_id=subscription_id, amount=refund, balance_after=balance.balance,
                                       cause="rerate", reference=reference[:200], at=at)
    return refund


def _free_keys(brand_id: int, rows: list[dict]) -> None:
    by_source: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_source[row["source"]].append(row["record_id"])
    with connection.cursor() as cursor:
        for source, record_ids in by_source.items():
            expression, param = id_list(record_ids)
            cursor.execute("DELETE FROM rating_usagekey WHERE brand_id = %s AND source = %s "
                           f"AND record_id IN (SELECT {expression})", [brand_id, source, param])


def record_of(row: dict) -> UsageRecord:
    """The usage record a rated row was rated from."""
    service, usage = row["service"], row["usage"]
    return UsageRecord(
        record_id=row["record_id"], service=service, a_number=row["a_number"], b_number=row["b_number"],
        start_time=row["start_time"], duration=usage if service == "voice" else 0,
        volume=usage if service == "data" else 0, quantity=usage if service not in ("voice", "data") else 1,
        location=row["location"] or "", charge=row["record_charge"], direction=row["direction"] or "out")


def rerate_subscription(subscription, *, since: dt.datetime, until: dt.datetime, actor: Actor, at: dt.datetime,
                        defer: bool = True) -> dict:
    """Reverse the subscription's rated usage with since <= start_time < until (but that of
    pre-rated sources, kept as the OCS rated it) and take the same records in again (one file per source, action "rerate"). Needs rating.rerate (and
    rating.change, as every intake). Refused when since >= until or a billed check says the
    period is billed.

    Returns {"reversed": rows, "old_total": Decimal, "files": [usage file ids]}; with defer=False
    the new batches are rated before it returns and "new_total", "rated" and "failed" say how."""
    from telora.customers.models import Subscription

    subscription = Subscription.objects.select_related("brand").get(pk=getattr(subscription, "pk", subscription))
    brand = subscription.brand
    require(actor, brand, "rating.rerate")
    require(actor, brand, "rating.change")
    _check_period(since, until)
    span = f"{since:%Y-%m-%d}..{until:%Y-%m-%d}"
    files: list[UsageFile] = []
    with transaction.atomic():
        partitions = _lock_partitions(brand.pk, _numbers(subscription, since, until))
        reason = billed_reason(subscription.pk, since, until)
        if reason:
            raise ServiceError(f"since: {span} of {subscription} is billed ({reason}); correct it by a credit "
                               "note, not by re-rating", field="since", code="billed")
        rows = _take_rows(subscription, since, until)
        old_total = sum((row["charge"] for row in rows), Decimal(0))
        units = _give_back_bundles(subscription.pk, rows)
        refund = _give_back_prepaid(subscription.pk, rows, reference=f"re-rate {span}", at=at)
        _free_keys(brand.pk, rows)
        events = 0
        if rows:
            events, _ = BalanceEvent.objects.filter(
                subscription_id=subscription.pk, consumed_at__isnull=True, at__gte=since, at__lt=until,
                record_id__in=[row["record_id"] for row in rows]).delete()
        by_source: dict[str, list[UsageRecord]] = defaultdict(list)
        for row in rows:
            by_source[row["source"]].append(record_of(row))
        for source in sorted(by_source):
            files.append(import_usage_records(brand, by_source[source], source=source, actor=actor, at=at,
                                              name=f"re-rate {subscription} {span}", defer=defer, action="rerate"))
        record_event(actor=actor, at=at, action="rerate", obj=subscription, brand=brand,
                     old={"count": len(rows), "total": old_total, "bundle_units": units, "prepaid": refund},
                     new={"since": since, "until": until, "files": [f.pk for f in files], "partitions": partitions,
                          "balance_events_dropped": events},
                     message=f"re-rated {len(rows)} records of {span} (were {old_total} {brand.currency})")
    result = {"reversed": len(rows), "old_total": old_total, "files": [f.pk for f in files]}
    if not defer:
        rate_files_now(files)
        done = UsageFile.objects.filter(pk__in=result["files"])
        result["rated"] = sum(f.rated for f in done)
        result["failed"] = sum(f.failed for f in done)
        result["new_total"] = (RatedUsage.objects.filter(file_id__in=result["files"]).aggregate(t=Sum("charge"))["t"]
                               or Decimal(0))
    return result
