"""Loading one billing account's snapshot for the engine: its subscriptions and products with
prices and discounts, what production runs have billed already (the charge marks), pending
one-time charges and adjustments, the period's rated usage grouped by service and zone, and the
late usage of earlier billed periods (rated after their run: billed now by difference).

A `Loader` serves one run: catalogue reads (prices, discounts, taxes) are cached in it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Sum

from telora.billing import engine
from telora.billing.models import ChargeMark
from telora.billperiods import anchor_date, bill_period
from telora.catalog import models as cm
from telora.catalog.selectors import catalogue_owners, effective_price
from telora.core.money import minor_unit
from telora.core.services.actors import ServiceError
from telora.customers.models import Address, Subscription
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
        self.anchor_day = cycle.anchor_day
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
        self._groups: dict = {}
        # sales channels by id, as codes: an instance sold through one is priced by its price lists
        self._channels = dict(cm.SalesChannel.objects.filter(brand_id__in=owners).values_list("pk", "code"))

    def day(self, at: dt.datetime | None) -> dt.date | None:
        return None if at is None else at.astimezone(self.zone).date()

    def price(self, product, charge: str, day: dt.date, group, channel: str | None = None) -> Decimal | None:
        key = (product.pk, charge, day, group, channel)
        if key not in self._prices:
            self._prices[key] = effective_price(product, charge, day, channel=channel, customer_group=group)
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

    # ---- late usage of earlier billed periods, once for a run -----------------------------------
    _late_rated: dict | None = None
    late_beyond: dict | None = None

    def periods_before(self, n: int) -> list[tuple[dt.date, dt.date]]:
        """The `n` periods before the run's, newest first."""
        periods, start = [], self.period[0]
        for _ in range(n):
            periods.append(bill_period(self.anchor_day, start - dt.timedelta(days=1)))
            start = periods[-1][0]
        return periods

    def aggregate_late(self, account_ids, todo_ids, lookback: int, report: int) -> None:
        """Find the late usage of the `lookback` periods before the run's: one aggregate query compares,
        per subscription and period, the rated usage's (count, amount) with what the period's usage
        marks billed; only the subscriptions that differ (and are still to bill: `todo_ids`) get their
        usage read per service and zone. The `report` periods before those are compared too, only to
        report what stays unbilled (`late_beyond`). Periods whose marks do not record what they billed
        (written before late usage was billed) are not checked."""
        periods = self.periods_before(lookback + report)
        self._late_periods = {p[0]: p for p in periods[:lookback]}
        self._late_rated = {}
        self.late_beyond = {"count": 0, "amount": Decimal(0), "subscriptions": 0, "periods": report}
        if not periods or not account_ids:
            return
        ascending = periods[::-1]
        bounds = [moment(p[0], self.brand) for p in ascending] + [self.since]
        starts = [p[0] for p in ascending]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem TO '64MB'")
            cursor.execute(
                "WITH marked AS (SELECT m.subscription_id AS sub, m.period_start AS ps, SUM(m.count) AS n, "
                "SUM(m.amount) AS amount FROM billing_chargemark m WHERE m.brand_id = %(brand)s AND m.kind = 'usage' "
                "AND m.period_start = ANY(%(starts)s::date[]) AND m.subscription_id IN (SELECT id FROM "
                "customers_subscription WHERE billing_account_id = ANY(%(accounts)s)) GROUP BY 1, 2 "
                "HAVING bool_and(m.count IS NOT NULL)), "
                "rated AS (SELECT u.subscription_id AS sub, (%(starts)s::date[])[width_bucket(u.start_time, "
                "%(bounds)s::timestamptz[])] AS ps, COUNT(*) AS n, SUM(u.charge) AS amount FROM rating_ratedusage u "
                "WHERE u.start_time >= %(since)s AND u.start_time < %(until)s AND u.subscription_id IN "
                "(SELECT sub FROM marked) GROUP BY 1, 2) "
                "SELECT m.sub, m.ps, COALESCE(r.n, 0) - m.n, COALESCE(r.amount, 0) - m.amount FROM marked m "
                "LEFT JOIN rated r ON r.sub = m.sub AND r.ps = m.ps "
                "WHERE COALESCE(r.n, 0) <> m.n OR COALESCE(r.amount, 0) <> m.amount",
                {"brand": self.brand.pk, "starts": starts, "accounts": list(account_ids), "bounds": bounds,
                 "since": bounds[0], "until": self.since})
            differing = cursor.fetchall()
        candidates, beyond_subs = set(), set()
        for sub_id, start, n, amount in differing:
            if start in self._late_periods:
                candidates.add((sub_id, start))
            else:
                self.late_beyond["count"] += n
                self.late_beyond["amount"] += amount
                beyond_subs.add(sub_id)
        self.late_beyond["subscriptions"] = len(beyond_subs)
        if not candidates:
            return
        todo = set(Subscription.objects.filter(billing_account_id__in=list(todo_ids),
                                               pk__in={sub for sub, _ in candidates}).values_list("pk", flat=True))
        candidates = {pair for pair in candidates if pair[0] in todo}
        if not candidates:
            return
        for pair in candidates:  # a period whose records are all gone still differs from its marks
            self._late_rated[pair] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT u.subscription_id, (%s::date[])[width_bucket(u.start_time, %s::timestamptz[])], u.service, "
                "u.zone, COUNT(*), SUM(u.quantity), SUM(u.charge) FROM rating_ratedusage u WHERE u.subscription_id = "
                "ANY(%s) AND u.start_time >= %s AND u.start_time < %s GROUP BY 1, 2, 3, 4",
                [starts, bounds, sorted({sub for sub, _ in candidates}), moment(periods[lookback - 1][0], self.brand),
                 self.since])
            for sub_id, start, service, zone, n, q, amount in cursor.fetchall():
                if (sub_id, start) in candidates:
                    self._late_rated[(sub_id, start)][(service, zone)] = (n, int(q or 0), amount)

    def late_usage(self, sub_ids) -> tuple[dict, dict]:
        """The late usage of the subscriptions ({sub: [engine.LateUsage]}) and the key of each period's
        next late mark ({(sub, period start): key}), from the marks as they are now (read after the
        account's lock on a retry: a late bill marked meanwhile leaves nothing to bill twice)."""
        sub_ids = set(sub_ids)
        wanted = {pair for pair in (self._late_rated or {}) if pair[0] in sub_ids}
        if not wanted:
            return {}, {}
        billed: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, Decimal(0)]))
        marks, unknown = defaultdict(int), set()
        for sub_id, start, detail in ChargeMark.objects.filter(
                kind="usage", subscription_id__in={sub for sub, _ in wanted},
                period_start__in={start for _, start in wanted}).values_list("subscription_id", "period_start",
                                                                             "detail"):
            marks[(sub_id, start)] += 1
            if detail is None:
                unknown.add((sub_id, start))
                continue
            for service, zone, n, q, amount in detail:
                row = billed[(sub_id, start)][(service, zone)]
                row[0] += n
                row[1] += q
                row[2] += Decimal(amount)
        late, keys = defaultdict(list), {}
        for pair in sorted(wanted):
            if pair in unknown or not marks[pair]:
                continue
            sub_id, start = pair
            rated, done = self._late_rated[pair], billed[pair]
            period = self._late_periods[start]
            for service, zone in sorted(set(rated) | set(done)):
                n, q, amount = rated.get((service, zone), (0, 0, Decimal(0)))
                bn, bq, bamount = done.get((service, zone), (0, 0, Decimal(0)))
                if (n, q, amount) != (bn, bq, bamount):
                    late[sub_id].append(engine.LateUsage(period[0], period[1], service, zone, n - bn, q - bq,
                                                         UNITS.get(service, ""), amount, bamount))
                    keys[pair] = f"{sub_id}:late:{marks[pair]}"
        return late, keys

    def close(self) -> None:
        """Drop the temporary usage table (the connection's end drops it too)."""
        if self._usage_table:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self._usage_table}")
            self._usage_table = None

    # ---- accounts, a batch at a time ------------------------------------------------------------
    def accounts(self, account_ids) -> list[Account]:
        """The accounts (ordered by id) with what their bills read of them, from plain rows: the
        customer's number, name, language and group, the billing address."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.id, a.number, a.name, a.currency, a.billing_address_id, c.number, c.name, c.language, "
                "c.customer_group_id FROM customers_billingaccount a JOIN customers_customer c ON c.id = a.customer_id "
                "WHERE a.id = ANY(%s) ORDER BY a.id", [list(account_ids)])
            rows = cursor.fetchall()
        groups = {row[8] for row in rows if row[8] is not None} - self._groups.keys()
        if groups:
            self._groups.update(cm.CustomerGroup.objects.in_bulk(list(groups)))
        addresses = _addresses({row[4] for row in rows})
        return [Account(pk, number, name, currency, address_id, addresses.get(address_id),
                        Customer(c_number, c_name, language, group_id, self._groups.get(group_id)), self.brand)
                for pk, number, name, currency, address_id, c_number, c_name, language, group_id in rows]

    def prefetch(self, account_ids) -> None:
        """Read what the accounts' snapshots need with a few queries for the whole batch, as plain rows
        (the marks read here are checked again by the database: a charge marked meanwhile is refused)."""
        ids = list(account_ids)
        data = {pk: {"subs": [], "instances": defaultdict(list), "adjustments": []} for pk in ids}
        by_sub = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, billing_account_id, identifier, status, billing_address_id "
                           "FROM customers_subscription WHERE billing_account_id = ANY(%s) ORDER BY id", [ids])
            subs = [Sub(*row) for row in cursor.fetchall()]
            addresses = _addresses({sub.billing_address_id for sub in subs})
            for sub in subs:
                sub.billing_address = addresses.get(sub.billing_address_id)
                data[sub.billing_account_id]["subs"].append(sub)
                by_sub[sub.pk] = data[sub.billing_account_id]
            sub_ids = list(by_sub)
            instances = []
            if sub_ids:
                # the business days of the brand's time zone, and whether each instance is on at the period's end
                cursor.execute(
                    "SELECT id, subscription_id, product_id, kind, (start_at AT TIME ZONE %(tz)s)::date, "
                    "(end_at AT TIME ZONE %(tz)s)::date, end_at IS NULL OR end_at >= %(until)s, channel_id "
                    "FROM customers_productinstance WHERE subscription_id = ANY(%(subs)s) AND start_at < %(until)s "
                    "AND (end_at IS NULL OR end_at >= %(horizon)s) ORDER BY start_at, id",
                    {"tz": self.brand.timezone, "until": self.until, "subs": sub_ids,
                     "horizon": self.until - dt.timedelta(days=400)})
                instances = cursor.fetchall()
            missing = {row[2] for row in instances} - self._products.keys()
            if missing:
                self._products.update((p.pk, p) for p in cm.Product.objects.filter(pk__in=missing)
                                      .select_related("tax"))
            products = self._products
            channels = self._channels
            for pk, sub_id, product_id, kind, start, end, on, channel_id in instances:
                # one object per product for the whole run
                by_sub[sub_id]["instances"][sub_id].append(
                    Inst(pk, products[product_id], kind, start, end, on, channel_id and channels.get(channel_id)))
            billed, credited = defaultdict(list), defaultdict(set)
            one_time_done, usage_done = set(), set()
            if sub_ids:
                # by subscription (an integer array: quick to send), each mark's kind and key sorted out here
                cursor.execute("SELECT kind, key, period_start, period_end, price, covered_to FROM billing_chargemark "
                               "WHERE subscription_id = ANY(%s) AND kind IN ('recurring', 'credit', 'one_time', "
                               "'usage')", [sub_ids])
                for kind, key, start, end, price, covered_to in cursor.fetchall():
                    if kind == "recurring":
                        billed[key].append(engine.Billed(start, end, price, covered_to))
                    elif kind == "credit":
                        credited[key].add(start)
                    elif kind == "one_time":
                        one_time_done.add(key)
                    elif start == self.period[0]:
                        usage_done.add(key)
                # a period a prepaid renewal took (or tried) is not billed again should the line turn
                # postpaid, nor credited: the renewal is the prepaid balance's
                cursor.execute("SELECT instance_id, period_start, period_end, amount FROM rating_prepaidrenewal "
                               "WHERE subscription_id = ANY(%s)", [sub_ids])
                for instance_id, start, end, amount in cursor.fetchall():
                    billed[str(instance_id)].append(engine.Billed(start, end, amount))
                    credited[str(instance_id)].add(start)
            usage = defaultdict(list)
            if sub_ids and self._usage_table:
                cursor.execute(f"SELECT subscription_id, service, zone, n, q, amount FROM {self._usage_table} "
                               "WHERE subscription_id = ANY(%s) ORDER BY subscription_id, service, zone", [sub_ids])
                Usage = engine.Usage
                for sub_id, service, zone, n, q, amount in cursor.fetchall():
                    usage[sub_id].append(Usage(service, zone, n, int(q or 0), UNITS.get(service, ""), amount))
            elif sub_ids:
                for row in (RatedUsage.objects.filter(subscription_id__in=sub_ids, start_time__gte=self.since,
                                                      start_time__lt=self.until)
                            .values("subscription_id", "service", "zone")
                            .annotate(n=Count("id"), q=Sum("quantity"), amount=Sum("charge"))
                            .order_by("subscription_id", "service", "zone")):
                    usage[row["subscription_id"]].append(engine.Usage(
                        row["service"], row["zone"], row["n"], row["q"] or 0, UNITS.get(row["service"], ""),
                        row["amount"]))
            cursor.execute("SELECT id, account_id, subscription_id, reason, amount, tax_code FROM billing_adjustment "
                           "WHERE account_id = ANY(%s) AND invoice_id IS NULL ORDER BY id", [ids])
            for pk, account_id, sub_id, reason, amount, tax_code in cursor.fetchall():
                data[account_id]["adjustments"].append(engine.Adjustment(pk, sub_id, reason, amount, tax_code))
        late, late_keys = self.late_usage(by_sub) if self._late_rated else ({}, {})
        for entry in data.values():
            entry.update(billed=billed, credited=credited, one_time_done=one_time_done, usage_done=usage_done,
                         usage=usage, late=late, late_keys=late_keys)
        self._batch = data

    def snapshot(self, account) -> tuple[engine.AccountSnapshot, dict]:
        """The engine's input, and what the pipeline needs besides (subscriptions by id)."""
        batch = getattr(self, "_batch", {})
        if account.pk not in batch:
            self.prefetch([account.pk])
            batch = self._batch
        data = batch.pop(account.pk)
        pe, ne, ps = self.period[1], self.next_period[1], self.period[0]
        group = account.customer.customer_group_id and account.customer.customer_group
        billed, credited, one_time_done = data["billed"], data["credited"], data["one_time_done"]
        usage, usage_done, late = data["usage"], data["usage_done"], data["late"]
        snaps, subs_here = [], {s.pk for s in data["subs"]}
        for sub in data["subs"]:
            rows = data["instances"].get(sub.pk, [])
            plans = [i for i in rows if i.kind == "plan"]
            on = [p for p in plans if p.on]
            plan = (on or plans or [None])[-1]
            prepaid = plan is not None and (plan.product.service_type or "").endswith("prepaid")
            engine_instances, one_time = [], []
            for inst in rows:
                start, end, product = inst.start, inst.end, inst.product
                if inst.kind in RECURRING_KINDS:
                    on_day = max(start, pe) if end is None or end > pe else max(start, ps)
                    price = self.price(product, "recurring", min(on_day, ne), group, inst.channel)
                    if price is not None:
                        key = str(inst.pk)
                        engine_instances.append(engine.Instance(
                            inst.pk, product.code, product.name, inst.kind, price, start, end,
                            self.tax_code(product), self.discounts(product),
                            tuple(sorted(billed.get(key, []), key=_start)), frozenset(credited.get(key, set()))))
                for code, name in self.one_time_codes(product):
                    if f"{inst.pk}:{code}" in one_time_done or start >= pe:
                        continue
                    amount = self.price(product, code, start, group, inst.channel)
                    if amount:
                        one_time.append(engine.OneTime(inst.pk, code, name, amount, self.tax_code(product), start))
            snaps.append(engine.SubscriptionSnapshot(
                sub.pk, sub.identifier, plan.product.code if plan else "", prepaid,
                self.tax_code(plan.product) if plan else self.default_tax, tuple(engine_instances),
                tuple(one_time), tuple(usage.get(sub.pk, ())), str(sub.pk) not in usage_done,
                tuple(late.get(sub.pk, ()))))
        snap = engine.AccountSnapshot(account.pk, account.currency, minor_unit(account.currency), self.period,
                                      self.next_period, self.taxes, tuple(snaps), tuple(data["adjustments"]),
                                      self.default_tax)
        late_keys = data["late_keys"]
        return snap, {"subs": {s.pk: s for s in data["subs"]},
                      "late_keys": {pair: key for pair, key in late_keys.items() if pair[0] in subs_here}
                      if late_keys else {}}


def _start(billed: engine.Billed) -> dt.date:
    return billed.start


def _addresses(ids) -> dict:
    """{id: Address} of the ids given (None ignored), in one query when there are any."""
    ids = [pk for pk in ids if pk is not None]
    return Address.objects.in_bulk(ids) if ids else {}


class Customer:
    """What a bill reads of an account's customer."""

    __slots__ = ("number", "name", "language", "customer_group_id", "customer_group")

    def __init__(self, number, name, language, customer_group_id, customer_group):
        self.number, self.name, self.language = number, name, language
        self.customer_group_id, self.customer_group = customer_group_id, customer_group


class Account:
    """What a bill reads of a billing account (read as a plain row: a batch of accounts is read
    for each batch of the run; a model object for each costs more than its bill)."""

    __slots__ = ("pk", "id", "number", "name", "currency", "billing_address_id", "billing_address", "customer",
                 "brand")

    def __init__(self, pk, number, name, currency, billing_address_id, billing_address, customer, brand):
        self.pk = self.id = pk
        self.number, self.name, self.currency = number, name, currency
        self.billing_address_id, self.billing_address = billing_address_id, billing_address
        self.customer, self.brand = customer, brand


class Sub:
    """What a bill reads of a subscription (the prepaid debits read the model again)."""

    __slots__ = ("pk", "id", "billing_account_id", "identifier", "status", "billing_address_id", "billing_address")

    def __init__(self, pk, billing_account_id, identifier, status, billing_address_id):
        self.pk = self.id = pk
        self.billing_account_id, self.identifier, self.status = billing_account_id, identifier, status
        self.billing_address_id, self.billing_address = billing_address_id, None


class Inst:
    """A product instance as the snapshot reads it: its start and end as business days of the brand,
    `on`: not ended before the period's end."""

    __slots__ = ("pk", "product", "kind", "start", "end", "on", "channel")

    def __init__(self, pk, product, kind, start, end, on, channel=None):
        self.pk, self.product, self.kind, self.start, self.end, self.on = pk, product, kind, start, end, on
        self.channel = channel  # the code of the sales channel it was sold through, or None
