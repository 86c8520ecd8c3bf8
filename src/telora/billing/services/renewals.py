"""Prepaid renewals: a prepaid line's recurring plan and add-on fees are taken from its balance on
the first day of each bill period (the brand's local day), not by a bill run after the period.

For every product instance of a prepaid line on a given day, the renewal of the bill period that
holds the day (the account's cycle) is one `rating.PrepaidRenewal` row, unique per instance and
period, so a repeated or crashed run never takes a fee twice. Its fee is the instance's recurring
price (price lists of its channel and the customer's group as on invoices), prorated by days for
a period the instance starts or ends inside (`engine.renewal_fee`). When the balance cannot pay,
the brand's policy (`BillingSettings.prepaid_renewal_policy`) decides:

- `skip_bundles`: the renewal is recorded `skipped`, its bundles are not granted (rating reads the
  renewals, see rating.services.context), a `renewal_skipped` BalanceEvent is kept and the domain
  event `renewal.skipped` tells letters, webhooks and flows (in the same transaction);
- `go_negative`: the fee is taken anyway while the balance after it stays at or above minus
  `prepaid_renewal_grace` (status `negative`); beyond the grace it is skipped as above.

A skipped renewal is tried again on each top-up of the line (a hook in rating's balances) and at
each run of the job while its period lasts. Paid late, it takes the whole fee recorded on the first
try and grants the bundles from the moment of payment to the period's end (full allowances). A
period over with its renewal still skipped stays unpaid: nothing is owed, nothing was granted.

The first period of a new line is renewed like any other: by the next run of the hourly job (or a
top-up), prorated from the activation day. Until a renewal is recorded, rating grants the bundles
(a missing renewal is not a refusal: usage of the first minutes of a period is not penalised for
the job's schedule, and periods from before renewals existed keep their bundles).

A period a production bill run already billed for the instance (a charge mark from before
renewals) is not renewed again, and neither is a period that began before the instance was
recorded in Telora while the instance was on since before it (a line migrated in mid-period: the
old system charged that period); a line sold with a past start date is renewed from its start.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from telora.billing import engine
from telora.billing.models import ChargeMark
from telora.billing.services.runs import require, settings_of
from telora.billperiods import bill_period
from telora.catalog import models as cm
from telora.catalog.selectors import effective_price
from telora.core import clock
from telora.core.money import minor_unit
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.customers.models import Subscription
from telora.events.services import emit
from telora.rating.models import BalanceEvent, PrepaidRenewal
from telora.rating.services import balances

logger = logging.getLogger(__name__)
PAST_DAYS = 62  # how far back a renewal day may be given (a missed job caught up; not history)
OUTCOMES = ("paid", "negative", "skipped", "late", "before", "failed")


@dataclass(frozen=True)
class Due:
    """One product instance's renewal of one period, as computed (not written yet)."""

    instance_id: int
    subscription_id: int
    name: str
    period: tuple[dt.date, dt.date]
    first: dt.date
    last: dt.date
    amount: Decimal


def renew_due(brand, day: dt.date | None = None, *, actor: Actor, at: dt.datetime, subscription=None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Renew every prepaid line's recurring fees due on `day` (the brand's local day; default today):
    each product instance on that day whose period's renewal is not paid yet. Needs billing.change
    (the job and the top-up hook act as the system). Returns how many renewals were paid, went
    negative, were skipped, were paid late (a skipped one now paid), were paid before (nothing
    done) and failed (a line the balance service refused, logged). `subscription` narrows to one
    line."""
    require(actor, brand, "billing.change")
    today = clock.localtime(at, brand).date()
    day = today if day is None else day
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ServiceError(f"date: {day!r} is not a date", field="date")
    if day > today:
        raise ServiceError(f"date: {day:%Y-%m-%d} is after today ({today:%Y-%m-%d}): renewals are not taken ahead",
                           field="date")
    if day < today - dt.timedelta(days=PAST_DAYS):
        raise ServiceError(f"date: {day:%Y-%m-%d} is more than {PAST_DAYS} days ago", field="date")
    settings = settings_of(brand)
    floor = -settings.prepaid_renewal_grace if settings.prepaid_renewal_policy == "go_negative" else Decimal(0)
    due = _due(brand, day, subscription_id=getattr(subscription, "pk", subscription))
    counts = dict.fromkeys(OUTCOMES, 0)
    if progress:
        progress(0, len(due))
    for done, item in enumerate(due, 1):
        try:
            counts[_renew(brand, item, floor, actor=actor, at=at)] += 1
        except ServiceError as exc:  # one line at fault (its plan changed meanwhile...): the others go on
            logger.warning("renewal of instance %s for %s failed: %s", item.instance_id, item.period[0], exc)
            counts["failed"] += 1
        if progress:
            progress(done, len(due))
    return counts


def retry_after_topup(subscription: Subscription, *, actor: Actor, at: dt.datetime) -> dict[str, int] | None:
    """The top-up hook: the line's renewals due today, tried again now that its balance grew."""
    if not PrepaidRenewal.objects.filter(subscription=subscription, status="skipped").exists() and \
            not _missing_today(subscription, at):
        return None
    return renew_due(subscription.brand, None, actor=Actor.system("renewals-after-topup"), at=at,
                     subscription=subscription)


def _missing_today(subscription: Subscription, at: dt.datetime) -> bool:
    """Whether the line has a fee due today without a renewal yet (a top-up before the job's run)."""
    return bool(_due(subscription.brand, clock.localtime(at, subscription.brand).date(),
                     subscription_id=subscription.pk))


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def _due(brand, day: dt.date, *, subscription_id: int | None = None) -> list[Due]:
    """The renewals due on `day` not paid yet: instances of plans and add-ons on that day of the
    brand's active or suspended lines whose plan that day is prepaid, each for the period holding
    the day; skipped renewals come back (retried), paid ones and periods a bill run billed do not."""
    zone = ZoneInfo(brand.timezone)
    since, until = _midnight(day, zone), _midnight(day + dt.timedelta(days=1), zone)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, i.subscription_id, i.product_id, i.channel_id, (i.start_at AT TIME ZONE %(tz)s)::date, "
            "(i.end_at AT TIME ZONE %(tz)s)::date, COALESCE(c.anchor_day, 1), a.currency, cu.customer_group_id, "
            "(i.created_at AT TIME ZONE %(tz)s)::date "
            "FROM customers_productinstance i JOIN customers_subscription s ON s.id = i.subscription_id "
            "JOIN customers_billingaccount a ON a.id = s.billing_account_id "
            "JOIN customers_customer cu ON cu.id = s.customer_id "
            "LEFT JOIN catalog_billcycle c ON c.id = a.bill_cycle_id "
            "WHERE s.brand_id = %(brand)s AND s.status IN ('active', 'suspended') AND i.kind IN ('plan', 'addon') "
            "AND i.start_at < %(until)s AND (i.end_at IS NULL OR i.end_at > %(since)s) "
            "AND (%(sub)s::bigint IS NULL OR s.id = %(sub)s::bigint) "
            "AND EXISTS (SELECT 1 FROM customers_productinstance p JOIN catalog_product pp ON pp.id = p.product_id "
            "WHERE p.subscription_id = s.id AND p.kind = 'plan' AND p.start_at < %(until)s "
            "AND (p.end_at IS NULL OR p.end_at > %(since)s) AND pp.service_type LIKE '%%prepaid') "
            "ORDER BY i.subscription_id, i.id",
            {"tz": brand.timezone, "brand": brand.pk, "since": since, "until": until, "sub": subscription_id})
        rows = cursor.fetchall()
    if not rows:
        return []
    products = cm.Product.objects.in_bulk({row[2] for row in rows})
    channels = dict(cm.SalesChannel.objects.filter(pk__in={row[3] for row in rows if row[3]})
                    .values_list("pk", "code"))
    groups = cm.CustomerGroup.objects.in_bulk({row[8] for row in rows if row[8]})
    ids = [row[0] for row in rows]
    renewed = {(i, start): status for i, start, status in PrepaidRenewal.objects.filter(instance_id__in=ids)
               .values_list("instance_id", "period_start", "status")}
    billed = set(ChargeMark.objects.filter(brand=brand, kind="recurring", key__in=[str(i) for i in ids])
                 .values_list("key", "period_start"))
    prices: dict = {}
    due = []
    for pk, sub_id, product_id, channel_id, start, end, anchor, currency, group_id, created in rows:
        period = bill_period(anchor, day)
        status = renewed.get((pk, period[0]))
        if status in ("paid", "negative") or (str(pk), period[0]) in billed:
            continue
        first = max(start, period[0])
        if first == period[0] < created:
            continue  # on since before a period that began before Telora knew it (migrated): paid there
        product = products[product_id]
        key = (product_id, first, channel_id, group_id)
        if key not in prices:
            prices[key] = effective_price(product, "recurring", first, channel=channels.get(channel_id),
                                          customer_group=groups.get(group_id))
        price = prices[key]
        if not price or price < 0:
            continue  # nothing to renew: a free product's bundles need no fee
        fee = engine.renewal_fee(price, start, end, period, minor_unit(currency))
        if fee is None or fee[2] <= 0:
            continue
        due.append(Due(pk, sub_id, product.name, period, fee[0], fee[1], fee[2]))
    return due


def _renew(brand, item: Due, floor: Decimal, *, actor: Actor, at: dt.datetime) -> str:
    """One renewal in its own transaction, under the line's balance locks (a top-up or rating batch
    of the line waits): paid, negative, late, skipped, or before (another run paid it meanwhile)."""
    zone = ZoneInfo(brand.timezone)
    with transaction.atomic():
        sub = Subscription.objects.select_related("brand").get(pk=item.subscription_id)
        balance = balances.lock_balance(sub)
        renewal = PrepaidRenewal.objects.select_for_update().filter(instance_id=item.instance_id,
                                                                    period_start=item.period[0]).first()
        if renewal is not None and renewal.status != "skipped":
            return "before"
        amount = renewal.amount if renewal is not None else item.amount
        entry = balances.charge_renewal(
            sub, amount, floor=floor, actor=actor, at=at,
            reference=f"{item.name} {item.first:%Y-%m-%d}–{item.last:%Y-%m-%d} (renewal)")
        status = "skipped" if entry is None else ("paid" if entry.balance_after >= 0 else "negative")
        if renewal is None:
            starts_at = _midnight(item.first, zone)
            renewal = PrepaidRenewal.objects.create(
                brand=brand, subscription=sub, instance_id=item.instance_id, period_start=item.period[0],
                period_end=item.period[1], starts_at=starts_at, ends_at=_midnight(item.last, zone), amount=amount,
                status=status, entry=entry, granted_from=starts_at if entry else None, created_at=at,
                paid_at=at if entry else None)
            if entry is None:
                BalanceEvent.objects.create(subscription=sub, kind="renewal_skipped", record_id=f"renewal:{renewal.pk}",
                                            at=at, balance=balance, threshold=amount)
                record_event(actor=actor, at=at, action="prepaid_renewal_skipped", obj=sub, brand=brand,
                             new={"instance": item.instance_id, "period_start": item.period[0], "fee": amount,
                                  "prepaid_balance": balance},
                             message=f"renewal {renewal.pk}: the balance cannot pay the fee")
                emit("renewal.skipped", brand=brand, subject=sub, at=at, actor=actor, payload={
                    "subscription_id": sub.pk, "customer_id": sub.customer_id, "renewal_id": renewal.pk,
                    "instance_id": item.instance_id, "product": item.name, "period_start": item.period[0],
                    "period_end": item.period[1], "fee": amount, "balance": balance})
            return status
        renewal.attempts += 1
        fields = ["attempts"]
        if entry is not None:
            renewal.status, renewal.entry, renewal.paid_at = status, entry, at
            renewal.granted_from = max(at, renewal.starts_at)  # the bundles from the payment on
            fields += ["status", "entry", "paid_at", "granted_from"]
        renewal.save(update_fields=fields)
        return "skipped" if entry is None else "late"
