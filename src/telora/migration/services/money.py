"""Prepaid balances, bundle usage so far in the current period, and opening receivables.

A balance becomes the subscription's prepaid balance with one ledger entry (cause adjustment,
"opening balance"); usage becomes the bundle counter rating reads for the current period; an
open invoice of the old system becomes a receivables ledger entry (cause invoice) that billing
and payments see, with its number and dates kept in `OpeningReceivable`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection

from telora.billing.models import ARLedgerEntry, Invoice
from telora.billperiods import bill_period
from telora.catalog.models import Bundle, ProductBundle
from telora.catalog.selectors import catalogue_owners
from telora.core.bulk import copy_objects, new_object
from telora.customers.models import BillingAccount
from telora.migration.models import OpeningReceivable
from telora.migration.services.base import Bad, Context, Ref, amount, day, moment, text
from telora.migration.services.kinds import Kind
from telora.rating.models import BundleCounter, PrepaidBalance, PrepaidBalanceEntry
from telora.rating.services.intake import partition_of


def lock_partitions(ctx: Context, subscription_ids: list[int]) -> None:
    """Rating's advisory locks of the partitions of these lines' numbers, in order, until the
    transaction ends: balances and counters of lines imported earlier may be rated meanwhile."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT number FROM customers_numberassignment WHERE subscription_id = ANY(%s)",
                       [subscription_ids])
        for partition in sorted({partition_of(number) for (number,) in cursor.fetchall()}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)", [ctx.brand.pk, partition])


class BalanceKind(Kind):
    entity = "balance"
    model = PrepaidBalanceEntry
    required = ("source_id", "subscription_id", "balance")
    optional = ("currency", "at")
    refs = {"subscription_id": "subscription"}

    def prepare(self, ctx, rows):
        loaded = [r.id for r in ctx.refs["subscription"].values() if r.id is not None]
        ctx.cache["balanced"] = set(PrepaidBalance.objects.filter(subscription_id__in=loaded)
                                    .values_list("subscription_id", flat=True))
        ctx.cache.setdefault("balanced_now", set())

    def check(self, ctx, row):
        sub = ctx.ref("subscription", row, "subscription_id")
        if not sub.prepaid:
            raise Bad("subscription_id", f"{row['subscription_id']} is not prepaid (its plan is not a prepaid product)")
        if sub.status == "terminated":
            raise Bad("subscription_id", f"{row['subscription_id']} is terminated")
        if id(sub) in ctx.cache["balanced_now"] or sub.id in ctx.cache["balanced"]:
            raise Bad("subscription_id", f"{row['subscription_id']} has a prepaid balance already")
        ctx.cache["balanced_now"].add(id(sub))
        value = amount(row, "balance", required=True)
        currency = text(row, "currency", 3) or ctx.brand.currency
        if currency != ctx.brand.currency:
            raise Bad("currency", f"{currency} is not the brand's currency {ctx.brand.currency}")
        at = moment(row, "at", ctx.brand) or ctx.at
        entry = new_object(PrepaidBalanceEntry, amount=value, balance_after=value, cause="adjustment",
                                    reference=f"opening balance from {ctx.source_system} {row['source_id']}"[:200],
                                    at=at)
        return entry, Ref(id=None, subscription=sub)

    def write(self, ctx, planned):
        balances = []
        for entry, ref in planned:
            entry.subscription_id = ref.subscription.id
        lock_partitions(ctx, [e.subscription_id for e, _ref in planned])
        for entry, _ref in planned:
            balances.append(PrepaidBalance(subscription_id=entry.subscription_id, balance=entry.amount,
                                           updated_at=entry.at))
        PrepaidBalance.objects.bulk_create(balances, batch_size=2000)
        copy_objects(PrepaidBalanceEntry, [e for e, _ref in planned], with_ids=True)
        for entry, ref in planned:
            ref.id = entry.pk

    def load(self, ctx, ids):
        return {pk: Ref(id=pk) for pk in ids}


def bundles(ctx: Context) -> dict[str, dict]:
    """Bundle code → {"period", "allowances": [(index, service, amount)], "products": {codes}}."""
    if "bundles" not in ctx.cache:
        owners = catalogue_owners(ctx.brand)
        found: dict[str, dict] = {}
        for bundle in Bundle.objects.filter(brand_id__in=owners).prefetch_related("allowances"):
            if bundle.code in found and bundle.brand_id != ctx.brand.pk:
                continue
            allowances = sorted(bundle.allowances.all(), key=lambda a: a.position)
            found[bundle.code] = {"period": bundle.period, "products": set(),
                                  "allowances": [(i, a.service, a.amount) for i, a in enumerate(allowances)]}
        for product_code, bundle_code in ProductBundle.objects.filter(brand_id__in=owners).values_list(
                "product__code", "bundle__code"):
            if bundle_code in found:
                found[bundle_code]["products"].add(product_code)
        ctx.cache["bundles"] = found
    return ctx.cache["bundles"]


def period_of(kind: str, anchor_day: int, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The bundle period holding today, as rating counts it (see rating.engine.state.Periods)."""
    if kind == "bill_cycle":
        return bill_period(anchor_day, today)
    if kind == "month":
        start = today.replace(day=1)
        return start, (start + dt.timedelta(days=32)).replace(day=1)
    return None, None


class UsageKind(Kind):
    """Units already drawn from a bundle allowance in the current period (rating's counter)."""

    entity = "usage"
    model = BundleCounter
    required = ("source_id", "subscription_id", "product", "bundle", "service", "used")
    optional = ("period_start",)
    refs = {"subscription_id": "subscription"}

    def prepare(self, ctx, rows):
        subs = [r for r in ctx.refs["subscription"].values() if r.id is not None and getattr(r, "anchor_day", 0) is None]
        if subs:
            anchors = dict(BillingAccount.objects.filter(subscriptions__id__in=[r.id for r in subs])
                           .values_list("subscriptions__id", "bill_cycle__anchor_day"))
            for ref in subs:
                ref.anchor_day = anchors.get(ref.id) or 1
        loaded = [r.id for r in ctx.refs["subscription"].values() if r.id is not None]
        ctx.cache["counters"] = set(BundleCounter.objects.filter(subscription_id__in=loaded).values_list(
            "subscription_id", "bundle", "allowance", "period_start"))
        bundles(ctx)

    def check(self, ctx, row):
        sub = ctx.ref("subscription", row, "subscription_id")
        if sub.status == "terminated":
            raise Bad("subscription_id", f"{row['subscription_id']} is terminated")
        code = text(row, "product", 40, required=True)
        held = sub.products.get(code)
        if held is None or (held.end is not None and held.end <= ctx.at):
            raise Bad("product", f"{row['subscription_id']} does not hold {code} now")
        bundle_code = text(row, "bundle", 40, required=True)
        bundle = bundles(ctx).get(bundle_code)
        if bundle is None or code not in bundle["products"]:
            raise Bad("bundle", f"{code} has no bundle {bundle_code!r}")
        service = text(row, "service", 16, required=True)
        allowance = next((a for a in bundle["allowances"] if a[1] == service), None)
        if allowance is None:
            raise Bad("service", f"bundle {bundle_code} has no {service} allowance")
        try:
            used = int(text(row, "used", 20, required=True))
        except ValueError:
            raise Bad("used", f"{row['used']!r} is not a whole number of units (seconds, messages, bytes)") from None
        if not 0 <= used <= allowance[2]:
            raise Bad("used", f"must be between 0 and the allowance's {allowance[2]}")
        anchor = getattr(sub, "anchor_day", None) or getattr(sub.account, "anchor_day", None) or 1
        start, end = period_of(bundle["period"], anchor, ctx.today)
        given = day(row, "period_start")
        if given is not None and given != start:
            raise Bad("period_start", f"the current {bundle['period']} period starts on {start}, not {given}")
        key = (id(held), bundle_code, allowance[0])
        seen = ctx.cache.setdefault("counted", set())
        if key in seen or (sub.id, f"{held.id}:{bundle_code}", allowance[0], start) in ctx.cache["counters"]:
            raise Bad("bundle", f"{row['subscription_id']} has a {bundle_code} {service} counter for this period "
                                "already")
        seen.add(key)
        counter = new_object(BundleCounter, code=bundle_code, allowance=allowance[0], period_start=start, period_end=end,
                                amount=allowance[2], used=used)
        return counter, Ref(id=None, subscription=sub, instance=held)

    def write(self, ctx, planned):
        for counter, ref in planned:
            counter.subscription_id = ref.subscription.id
            counter.bundle = f"{ref.instance.id}:{counter.code}"
        lock_partitions(ctx, [c.subscription_id for c, _ref in planned])
        copy_objects(BundleCounter, [c for c, _ref in planned], with_ids=True)
        for counter, ref in planned:
            ref.id = counter.pk

    def load(self, ctx, ids):
        return {pk: Ref(id=pk) for pk in ids}


class ReceivableKind(Kind):
    entity = "receivable"
    model = OpeningReceivable
    required = ("source_id", "account_id", "number", "due_date", "amount")
    optional = ("issue_date", "currency")
    refs = {"account_id": "account"}

    def prepare(self, ctx, rows):
        numbers = {(r.get("number") or "").strip() for _line, r in rows}
        ctx.cache["invoice_numbers"] = (
            set(OpeningReceivable.objects.filter(brand=ctx.brand, number__in=numbers).values_list("number", flat=True))
            | set(Invoice.objects.filter(brand=ctx.brand, number__in=numbers).values_list("number", flat=True)))

    def check(self, ctx, row):
        account = ctx.ref("account", row, "account_id")
        number = text(row, "number", 40, required=True)
        if number in ctx.cache["invoice_numbers"]:
            raise Bad("number", f"invoice {number} exists already in {ctx.brand.code}")
        ctx.cache["invoice_numbers"].add(number)
        value = amount(row, "amount", required=True)
        if value == 0:
            raise Bad("amount", "must not be 0")
        currency = text(row, "currency", 3) or account.currency
        if currency != account.currency:
            raise Bad("currency", f"{currency} is not the account's currency {account.currency}")
        issued = day(row, "issue_date")
        due = day(row, "due_date", required=True)
        if issued is not None and due < issued:
            raise Bad("due_date", "is before issue_date")
        at = (dt.datetime.combine(issued, dt.time(), tzinfo=ZoneInfo(ctx.brand.timezone)) if issued else ctx.at)
        entry = new_object(ARLedgerEntry, brand_id=ctx.brand.pk, amount=value, currency=currency, cause="invoice",
                              reference=f"opening invoice {number} due {due}"[:200], at=min(at, ctx.at))
        receivable = new_object(OpeningReceivable, brand_id=ctx.brand.pk, number=number, issue_date=issued, due_date=due,
                                       amount=value, currency=currency, created_at=ctx.at)
        return (entry, receivable), Ref(id=None, account=account)

    def write(self, ctx, planned):
        entries = []
        for (entry, _receivable), ref in planned:
            entry.account_id = ref.account.id
            entries.append(entry)
        copy_objects(ARLedgerEntry, entries, with_ids=True)
        receivables = []
        for (entry, receivable), _ref in planned:
            receivable.account_id, receivable.ledger_entry_id = entry.account_id, entry.pk
            receivables.append(receivable)
        copy_objects(OpeningReceivable, receivables, with_ids=True)
        for (_entry, receivable), ref in planned:
            ref.id = receivable.pk

    def load(self, ctx, ids):
        return {pk: Ref(id=pk) for pk in ids}
