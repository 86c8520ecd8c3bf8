"""Loading one billing account's snapshot for the engine: its subscriptions and products with
prices and discounts, what production runs have billed already (the charge marks), pending
one-time charges and adjustments, and the period's rated usage grouped by service and zone.

A `Loader` serves one run: catalogue reads (prices, discounts, taxes) are cached in it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from telora.billing import engine
from telora.billing.models import Adjustment, ChargeMark
from telora.catalog import models as cm
from telora.catalog.billcycles import anchor_date, bill_period
from telora.catalog.selectors import catalogue_owners, effective_price
from telora.core.money import minor_unit
from telora.core.services.actors import ServiceError
from telora.customers.models import ProductInstance, Subscription
from telora.rating.models import RatedUsage

UNITS = {"voice": "s", "sms": "msg", "mms": "msg", "data": "B", "content": "item"}
RECURRING_KINDS = ("plan", "addon")
ONE_TIME_KINDS = ("one_time", "device")


def period_of(cycle, month: str) -> tuple[dt.date, dt.date]:
    """The period of `cycle` starting in `month` (YYYY-MM)."""
    try:
        year, mon = (int(part) for part in month.split("-"))
        start = anchor_date(year, mon, cycle.anchor_day)
    except (ValueError, TypeError):
        raise ServiceError(f"period: {month!r} is not YYYY-MM", field="period") from None
    return bill_period(cycle.anchor_day, start)


def moment(day: dt.date, brand) -> dt.datetime:
    """The start of a business day of the brand, as an aware moment."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(brand.timezone))


class Loader:
    def __init__(self, brand, cycle, period: tuple[dt.date, dt.date]):
        self.brand = brand
        self.period = period
        self.next_period = bill_period(cycle.anchor_day, period[1])
        self.since, self.until = moment(period[0], brand), moment(period[1], brand)
        self.zone = ZoneInfo(brand.timezone)
        owners = catalogue_owners(brand)
        taxes = list(cm.Tax.objects.filter(brand_id__in=owners).at(period[0]))
        self.taxes = {t.code: t.percent for t in taxes}
        default = next((t for t in taxes if t.is_default and t.brand_id == brand.pk), None) or next(
            (t for t in taxes if t.is_default), None)
        self.default_tax = default.code if default else ""
        self._prices: dict = {}
        self._discounts: dict = {}
        self._one_time_codes: dict = {}
        self._products: dict = {}

    def day(self, at: dt.datetime | None) -> dt.date | None:
        return None if at is None else at.astimezone(self.zone).date()

    def price(self, product, charge: str, day: dt.date, group) -> Decimal | None:
        key = (product.pk, charge, day, group)
        if key not in self._prices:
            self._prices[key] = effective_price(product, charge, day, customer_group=group)
        return self._prices[key]

    def discounts(self, product) -> tuple[engine.Discount, ...]:
        if product.pk not in self._discounts:
            rows = cm.Discount.objects.at(self.period[0]).filter(applies_to="recurring", products=product)
            self._discounts[product.pk] = tuple(engine.Discount(d.code, d.percent, d.months)
                                                for d in rows.order_by("code"))
        return self._discounts[product.pk]

    def one_time_codes(self, product) -> list[tuple[str, str]]:
        if product.pk not in self._one_time_codes:
            rows = cm.ProductCharge.objects.filter(product=product, kind="one_time").order_by("code")
            codes = [(c.code, c.name or c.code) for c in rows]
            if product.kind in ONE_TIME_KINDS:
                codes = [("price", product.name)] + [c for c in codes if c[0] != "price"]
            self._one_time_codes[product.pk] = codes
        return self._one_time_codes[product.pk]

    def tax_code(self, product) -> str:
        return product.tax.code if product.tax_id else self.default_tax

    # ---- the period's usage, once for a run -----------------------------------------------------
    _usage_table: str | None = None

    def aggregate_usage(self, account_ids) -> None:
        """The period's rated usage of the accounts' subscriptions, summed per subscription, service
        and zone in one query into a temporary table of this connection (read per batch by
        subscription): one pass over the period's records instead of one scattered read per batch."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem TO '64MB'")  # the groups hashed in memory, not spilled to disk
            cursor.execute("DROP TABLE IF EXISTS pg_temp.billing_run_usage")
            cursor.execute(
                "CREATE TEMPORARY TABLE billing_run_usage AS SELECT u.subscription_id, u.service, u.zone, "
                "COUNT(*) AS n, SUM(u.quantity) AS q, SUM(u.charge) AS amount FROM rating_ratedusage u "
                "WHERE u.start_time >= %s AND u.start_time < %s AND u.subscription_id IN "
                "(SELECT id FROM customers_subscription WHERE billing_account_id = ANY(%s)) "
                "GROUP BY u.subscription_id, u.service, u.zone", [self.since, self.until, list(account_ids)])
            cursor.execute("CREATE INDEX ON pg_temp.billing_run_usage (subscription_id)")
            cursor.execute("ANALYZE pg_temp.billing_run_usage")
        self._usage_table = "pg_temp.billing_run_usage"

    def close(self) -> None:
        """Drop the temporary usage table (the connection's end drops it too)."""
        if self._usage_table:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self._usage_table}")
            self._usage_table = None

    # ---- accounts, a batch at a time ------------------------------------------------------------
    def prefetch(self, account_ids) -> None:
        """Read what the accounts' snapshots need with a few queries for the whole batch (the marks
        read here are checked again by the database: a charge marked meanwhile is refused)."""
        ids = list(account_ids)
        data = {pk: {"subs": [], "instances": defaultdict(list), "adjustments": []} for pk in ids}
        subs = list(Subscription.objects.filter(billing_account_id__in=ids).select_related("billing_address")
                    .order_by("id"))
        by_sub = {}
        for sub in subs:
            data[sub.billing_account_id]["subs"].append(sub)
            by_sub[sub.pk] = data[sub.billing_account_id]
        horizon = self.until - dt.timedelta(days=400)
        instances = list(ProductInstance.objects.filter(subscription_id__in=list(by_sub), start_at__lt=self.until)
                         .filter(Q(end_at__isnull=True) | Q(end_at__gte=horizon))
                         .order_by("start_at", "id"))
        missing = {inst.product_id for inst in instances} - self._products.keys()
        if missing:
            self._products.update((p.pk, p) for p in cm.Product.objects.filter(pk__in=missing).select_related("tax"))
        for inst in instances:
            inst.product = self._products[inst.product_id]  # one object per product for the whole run
            by_sub[inst.subscription_id]["instances"][inst.subscription_id].append(inst)
        billed, credited = defaultdict(list), defaultdict(set)
        one_time_done, usage_done = set(), set()
        # by subscription (an integer array: quick to send), each mark's kind and key sorted out here
        for kind, key, start, end, price, covered_to in ChargeMark.objects.filter(
                subscription_id__in=list(by_sub), kind__in=("recurring", "credit", "one_time", "usage")).values_list(
                "kind", "key", "period_start", "period_end", "price", "covered_to"):
            if kind == "recurring":
                billed[key].append(engine.Billed(start, end, price, covered_to))
            elif kind == "credit":
                credited[key].add(start)
            elif kind == "one_time":
                one_time_done.add(key)
            elif start == self.period[0]:
                usage_done.add(key)
        usage = defaultdict(list)
        if by_sub and self._usage_table:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT subscription_id, service, zone, n, q, amount FROM {self._usage_table} "
                               "WHERE subscription_id = ANY(%s) ORDER BY subscription_id, service, zone",
                               [list(by_sub)])
                for sub_id, service, zone, n, q, amount in cursor.fetchall():
                    usage[sub_id].append(engine.Usage(service, zone, n, int(q or 0), UNITS.get(service, ""), amount))
        elif by_sub:
            for row in (RatedUsage.objects.filter(subscription_id__in=list(by_sub), start_time__gte=self.since,
                                                  start_time__lt=self.until)
                        .values("subscription_id", "service", "zone")
                        .annotate(n=Count("id"), q=Sum("quantity"), amount=Sum("charge"))
                        .order_by("subscription_id", "service", "zone")):
                usage[row["subscription_id"]].append(engine.Usage(
                    row["service"], row["zone"], row["n"], row["q"] or 0, UNITS.get(row["service"], ""),
                    row["amount"]))
        for adj in Adjustment.objects.filter(account_id__in=ids, invoice__isnull=True).order_by("id"):
            data[adj.account_id]["adjustments"].append(adj)
        for entry in data.values():
            entry.update(billed=billed, credited=credited, one_time_done=one_time_done, usage_done=usage_done,
                         usage=usage)
        self._batch = data

    def snapshot(self, account) -> tuple[engine.AccountSnapshot, dict]:
        """The engine's input, and what the pipeline needs besides (subscriptions by id)."""
        batch = getattr(self, "_batch", {})
        if account.pk not in batch:
            self.prefetch([account.pk])
            batch = self._batch
        data = batch.pop(account.pk)
        pe, ne = self.period[1], self.next_period[1]
        group = account.customer.customer_group_id and account.customer.customer_group
        billed, credited = data["billed"], data["credited"]
        snaps = []
        for sub in data["subs"]:
            rows = data["instances"].get(sub.pk, [])
            plans = [i for i in rows if i.kind == "plan"]
            on = [p for p in plans if p.end_at is None or p.end_at >= self.until]
            plan = (on or plans or [None])[-1]
            prepaid = plan is not None and (plan.product.service_type or "").endswith("prepaid")
            engine_instances, one_time = [], []
            for inst in rows:
                start, end = self.day(inst.start_at), self.day(inst.end_at)
                if inst.kind in RECURRING_KINDS:
                    on_day = max(start, pe) if end is None or end > pe else max(start, self.period[0])
                    price = self.price(inst.product, "recurring", min(on_day, ne), group)
                    if price is not None:
                        engine_instances.append(engine.Instance(
                            inst.pk, inst.product.code, inst.product.name, inst.kind, price, start, end,
                            self.tax_code(inst.product), self.discounts(inst.product),
                            tuple(sorted(billed.get(str(inst.pk), []), key=lambda b: b.start)),
                            frozenset(credited.get(str(inst.pk), set()))))
                for code, name in self.one_time_codes(inst.product):
                    if f"{inst.pk}:{code}" in data["one_time_done"] or start >= pe:
                        continue
                    amount = self.price(inst.product, code, start, group)
                    if amount:
                        one_time.append(engine.OneTime(inst.pk, code, name, amount, self.tax_code(inst.product),
                                                       start))
            snaps.append(engine.SubscriptionSnapshot(
                sub.pk, sub.identifier, plan.product.code if plan else "", prepaid,
                self.tax_code(plan.product) if plan else self.default_tax, tuple(engine_instances),
                tuple(one_time), tuple(data["usage"].get(sub.pk, ())), str(sub.pk) not in data["usage_done"]))
        adjustments = tuple(engine.Adjustment(a.pk, a.subscription_id, a.reason, a.amount, a.tax_code)
                            for a in data["adjustments"])
        snap = engine.AccountSnapshot(account.pk, account.currency, minor_unit(account.currency), self.period,
                                      self.next_period, self.taxes, tuple(snaps), adjustments, self.default_tax)
        return snap, {"subs": {s.pk: s for s in data["subs"]}}
