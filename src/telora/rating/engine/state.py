"""A subscription's working state during one batch: its compiled plan, discounts, bundle holdings
with their counters, and prepaid balance. Built on the subscription's first record in the batch;
the inputs (contexts) are never changed."""

from __future__ import annotations

import datetime as dt

from telora.billperiods import bill_period
from telora.rating.engine.money import to_micro
from telora.rating.engine.overrides import Overrides
from telora.rating.engine.subscribers import FOREVER, NEVER, BundleInstance, SubscriberContext, _ts
from telora.rating.engine.tables import BundleTables, PlanTables, Tables

MAX_CACHED_DRAWS = 1_000_000


class Holding:
    """A bundle the subscription holds, compiled: its allowances and validity in epoch seconds.
    `rank` orders holdings that expire at the same moment: add-ons first, then as given."""

    __slots__ = ("key", "code", "bundle", "addon", "rank", "from_ts", "to_ts")

    def __init__(self, instance: BundleInstance, bundle: BundleTables, order: int):
        self.key = instance.key
        self.code = instance.code
        self.bundle = bundle
        self.addon = instance.addon
        self.rank = (0 if instance.addon else 1_000_000) + order
        self.from_ts = _ts(instance.valid_from, NEVER)
        self.to_ts = _ts(instance.valid_to, FOREVER)


def default_bundles(tables: Tables, plan: str, addons: tuple[str, ...]) -> tuple[BundleInstance, ...]:
    """The bundles the tariff gives the plan and its add-ons, held throughout, nothing used yet."""
    found = []
    for product_code, addon in [(plan, False), *((code, True) for code in addons)]:
        product = tables.products.get(product_code)
        for code in product.bundles if product else ():
            found.append(BundleInstance(key=f"{product_code}:{code}", code=code, addon=addon))
    return tuple(found)


def default_discounts(tables: Tables, plan: str, addons: tuple[str, ...]) -> tuple[str, ...]:
    """The usage discounts listing the plan or one of the add-ons."""
    held = {plan, *addons}
    return tuple(sorted(code for code, d in tables.usage_discounts.items() if d.products & held))


class Profile:
    """What subscriptions with the same plan, add-ons and discounts share: the compiled rate plan,
    the discounts, and (when the tariff gives the bundles) the bundle holdings. Built once each."""

    __slots__ = ("rate_plan", "plan", "discounts", "holdings")

    def __init__(self, ctx: SubscriberContext, tables: Tables):
        rate_plan = ctx.rate_plan
        if rate_plan is None:
            product = tables.products.get(ctx.plan)
            rate_plan = product.rate_plan if product is not None else None
        self.rate_plan: str | None = rate_plan
        self.plan: PlanTables | None = tables.plans.get(rate_plan) if rate_plan else None
        codes = ctx.discounts if ctx.discounts is not None else default_discounts(tables, ctx.plan, ctx.addons)
        self.discounts = tuple(tables.usage_discounts[c] for c in codes if c in tables.usage_discounts)
        self.holdings = None if ctx.bundles is not None else holdings(tables, default_bundles(tables, ctx.plan,
                                                                                              ctx.addons))

    @staticmethod
    def key(ctx: SubscriberContext) -> tuple:
        return ctx.plan, ctx.rate_plan, ctx.addons, ctx.discounts, ctx.bundles is None


def holdings(tables: Tables, instances) -> list[Holding]:
    return [Holding(instance, tables.bundles[instance.code], order)
            for order, instance in enumerate(instances) if instance.code in tables.bundles]


class SubscriberState:
    __slots__ = ("ctx", "subscription_id", "plan", "rate_plan", "discounts", "holdings", "signature", "plain",
                 "used", "touched", "balance", "threshold", "anchor", "overrides")

    def __init__(self, ctx: SubscriberContext, tables: Tables, profile: Profile, default_threshold: int,
                 signatures: dict, overrides: Overrides | None = None):
        self.ctx = ctx
        self.subscription_id = ctx.subscription_id
        self.rate_plan = profile.rate_plan
        self.plan = profile.plan
        self.discounts = profile.discounts
        self.holdings = profile.holdings if ctx.bundles is None else holdings(tables, ctx.bundles)
        # holdings alike (same keys, bundles, order, dates) share their draw order: see `draws`
        self.signature = signatures.setdefault(
            tuple((h.key, h.code, h.rank, h.from_ts, h.to_ts) for h in self.holdings), len(signatures))
        self.used: dict[tuple[str, int, dt.date | None], int] = {
            (instance.key, allowance, period_start): units
            for instance in ctx.bundles or () for (allowance, period_start), units in instance.used.items()}
        # key -> (holding, period end, allowance amount, units used before the batch)
        self.touched: dict[tuple[str, int, dt.date | None], tuple[Holding, dt.date | None, int, int]] = {}
        self.balance: int | None = None if ctx.balance is None else to_micro(ctx.balance)
        self.threshold: int = (default_threshold if ctx.low_balance_threshold is None or self.balance is None
                               else to_micro(ctx.low_balance_threshold))
        self.anchor: int = ctx.bill_cycle_anchor
        self.overrides = overrides  # None for nearly everyone: no agreement, no group override
        self.plain = (not self.holdings and not self.discounts and self.balance is None
                      and overrides is None)  # the fast path

    def draws(self, service: str, zone: str | None, day: dt.date, periods: Periods, cache: dict) -> list[tuple]:
        """The allowances a record of this service and zone on this local day may draw from, in
        the order they are used: expiring first (the end of the period or of the holding,
        whichever comes first), then add-ons before the plan, then as given. Each is (expires,
        rank, allowance index, holding, counter key, period end, amount). Cached in `cache` for
        every subscription with the same holdings and anchor day."""
        key = (self.signature, self.anchor, service, zone, day)
        found = cache.get(key)
        if found is None:
            found = []
            for holding in self.holdings:
                for index, a_service, zones, amount in holding.bundle.allowances:
                    if a_service == service and (zones is None or zone in zones):
                        start, end, ends_at = periods.period(holding.bundle.period, self.anchor, day)
                        expires = ends_at if ends_at < holding.to_ts else holding.to_ts
                        found.append((expires, holding.rank, index, holding, (holding.key, index, start), end, amount))
            found.sort(key=lambda item: item[:3])
            if len(cache) > MAX_CACHED_DRAWS:
                cache.clear()
            cache[key] = found
        return found


class Periods:
    """Bundle periods in the brand's timezone, cached: bill_cycle is the subscription's bill period
    from its anchor day (a month too short for the anchor uses its last day), month the calendar
    month, once never renews (one period, start None)."""

    def __init__(self, tables: Tables):
        self.tz = tables.tz
        self._cycles: dict[tuple[int, dt.date], tuple[dt.date, dt.date, float]] = {}
        self._months: dict[dt.date, tuple[dt.date, dt.date, float]] = {}

    def midnight(self, day: dt.date) -> float:
        return dt.datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp()

    def period(self, kind: str, anchor: int, day: dt.date) -> tuple[dt.date | None, dt.date | None, float]:
        """(first day, first day of the next period, the moment it ends) of the period holding `day`."""
        if kind == "bill_cycle":
            key = (anchor, day)
            found = self._cycles.get(key)
            if found is None:
                start, end = bill_period(anchor, day)
                found = self._cycles[key] = (start, end, self.midnight(end))
            return found
        if kind == "month":
            found = self._months.get(day)
            if found is None:
                start = day.replace(day=1)
                end = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
                found = self._months[day] = (start, end, self.midnight(end))
            return found
        return None, None, FOREVER
