"""What rating reads from the catalogue and the customers: the compiled tariff (cached per brand
and day) and `SubscriberContext`s for the numbers of a batch."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
from django.db import connection

from telora.catalog.selectors import compile_tariff
from telora.rating.engine import BundleInstance, NumberSpan, RateOverride, Rater, SubscriberContext
from telora.rating.services.storage import id_list

TARIFF_SECONDS = 60  # a catalogue change reaches running workers within this
_raters: dict[tuple[int, dt.date], tuple[float, Rater]] = {}


def rater_for(brand, moment: dt.datetime) -> Rater:
    """A Rater on the brand's tariff in effect on the (local) day of `moment`, built once a minute."""
    day = moment.astimezone(ZoneInfo(brand.timezone)).date()
    key = (brand.pk, day)
    cached = _raters.get(key)
    if cached is not None and time.monotonic() - cached[0] < TARIFF_SECONDS:
        return cached[1]
    rater = Rater(compile_tariff(brand, day), home_country=brand.country)
    _raters[key] = (time.monotonic(), rater)
    return rater


def forget_tariffs() -> None:
    _raters.clear()
    _change_days.clear()


_change_days: dict[int, tuple[float, list[dt.date]]] = {}


def catalogue_change_days(brand) -> list[dt.date]:
    """Days on which something of the brand's catalogue starts or stops being in effect (dated
    prices and rates, entities' lifetimes), read once a minute like the tariff."""
    cached = _change_days.get(brand.pk)
    if cached is not None and time.monotonic() - cached[0] < TARIFF_SECONDS:
        return cached[1]
    from django.apps import apps

    from telora.catalog.models import CatalogEntity, DatedRow

    days: set[dt.date] = set()
    for model in apps.get_app_config("catalog").get_models():
        if issubclass(model, (CatalogEntity, DatedRow)):
            for valid_from, valid_to in model.objects.filter(brand=brand).values_list("valid_from", "valid_to"):
                days.add(valid_from)
                if valid_to is not None:
                    days.add(valid_to)
    _change_days[brand.pk] = (time.monotonic(), sorted(days))
    return _change_days[brand.pk][1]


def tariff_changes(brand, first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
    """Local midnights after `first` and up to `last` on which the brand's tariff changes."""
    zone = ZoneInfo(brand.timezone)
    first_day, last_day = first.astimezone(zone).date(), last.astimezone(zone).date()
    return [dt.datetime.combine(day, dt.time(), zone) for day in catalogue_change_days(brand)
            if first_day < day <= last_day]


def low_balance_threshold(brand) -> Decimal:
    """The brand's low-balance threshold (its rating settings; 5.00 without a row)."""
    from telora.rating.services.settings import rating_settings

    return rating_settings(brand).low_balance_threshold


def _rows(sql: str, params) -> list[tuple]:
    """Rows in PostgreSQL's binary form: times arrive as datetimes without parsing text (several
    thousand subscriptions' dates per batch)."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()


def load_contexts(brand, numbers: set[str], first: dt.datetime,
                  last: dt.datetime | None = None) -> tuple[list[SubscriberContext], set[int], list[dt.datetime]]:
    """Contexts of the subscriptions that ever held one of `numbers`, which are prepaid, and the
    moments after `first` and up to `last` at which one of them changes plan.

    One context per subscription (the engine's state is per subscription): its plan is the one in
    effect at `first`, the batch's earliest record, or else its latest; add-ons are those ever
    held, each bundle valid only while its product instance was and not over a prepaid renewal's
    unpaid time (one BundleInstance per span held, with the same key and counters). A prepaid one
    gets its plan product's low-balance threshold, else the brand's; each its customer's price
    agreements. Seven queries whatever the batch size, each with its ids as one array parameter.
    """
    spans: dict[int, list[NumberSpan]] = defaultdict(list)
    expression, param = id_list(list(numbers))
    for sub_id, number, valid_from, valid_to in _rows(
            "SELECT subscription_id, number, valid_from, valid_to FROM customers_numberassignment "
            f"WHERE brand_id = %s AND number IN (SELECT {expression})", [brand.pk, param]):
        spans[sub_id].append(NumberSpan(number, valid_from, valid_to))
    if not spans:
        return [], set(), []
    ids = list(spans)
    subscriptions = {row[0]: row for row in _rows(
        "SELECT s.id, COALESCE(s.activated_at, s.created_at), s.terminated_at, c.anchor_day, s.customer_id, g.code "
        "FROM customers_subscription s JOIN customers_billingaccount a ON a.id = s.billing_account_id "
        "JOIN customers_customer cu ON cu.id = s.customer_id "
        "LEFT JOIN catalog_customergroup g ON g.id = cu.customer_group_id "
        "LEFT JOIN catalog_billcycle c ON c.id = a.bill_cycle_id WHERE s.id = ANY(%s)", [ids])}
    agreements = _agreements({row[4] for row in subscriptions.values()}, first, last)
    plans: dict[int, list[tuple]] = defaultdict(list)
    addons: dict[int, list[tuple]] = defaultdict(list)
    for row in _rows(
            "SELECT i.subscription_id, i.id, i.kind, i.start_at, i.end_at, p.code, p.service_type "
            "FROM customers_productinstance i JOIN catalog_product p ON p.id = i.product_id "
            "WHERE i.subscription_id = ANY(%s) AND i.kind IN ('plan', 'addon') ORDER BY i.start_at, i.id", [ids]):
        (plans if row[2] == "plan" else addons)[row[0]].append(row)
    counters: dict[tuple[int, str], dict] = defaultdict(dict)
    for sub_id, key, allowance, period_start, used in _rows(
            "SELECT subscription_id, bundle, allowance, period_start, used FROM rating_bundlecounter "
            "WHERE subscription_id = ANY(%s)", [ids]):
        counters[(sub_id, key)][(allowance, period_start)] = used
    # prepaid renewals not paid (skipped) or paid late: the instance's bundles are not held over
    # [covered from, paid) (services.renewals in billing writes them)
    unpaid: dict[int, list[tuple]] = defaultdict(list)
    for instance_id, gap_from, gap_to in _rows(
            "SELECT instance_id, starts_at, COALESCE(granted_from, ends_at) FROM rating_prepaidrenewal "
            "WHERE subscription_id = ANY(%s) AND (granted_from IS NULL OR granted_from > starts_at)", [ids]):
        unpaid[instance_id].append((gap_from, gap_to))
    changes = sorted({p[3] for held in plans.values() for p in held
                      if last is not None and first < p[3] <= last})
    rater = rater_for(brand, first)
    products = rater.tables.products
    chosen = {}
    for sub_id in ids:
        held = plans.get(sub_id)
        if held:
            chosen[sub_id] = next((p for p in held if p[3] <= first and (p[4] is None or p[4] > first)), held[-1])
    prepaid_ids = {sub_id for sub_id, plan in chosen.items() if (plan[6] or "").endswith("prepaid")}
    balances = dict(_rows("SELECT subscription_id, balance FROM rating_prepaidbalance WHERE subscription_id = ANY(%s)",
                          [list(prepaid_ids)])) if prepaid_ids else {}
    brand_threshold = low_balance_threshold(brand) if prepaid_ids else None
    contexts = []
    for sub_id, plan in chosen.items():
        _id, active_from, terminated_at, anchor, customer_id, group = subscriptions[sub_id]
        plan_product = products.get(plan[5])
        threshold = None
        if sub_id in prepaid_ids:
            threshold = getattr(plan_product, "low_balance_threshold", None)
            threshold = brand_threshold if threshold is None else threshold
        sub_addons = addons.get(sub_id, ())
        bundles = []
        for row, addon in [(plan, False), *((a, True) for a in sub_addons)]:
            product = products.get(row[5])
            held_for = held_spans(row[3], row[4], unpaid.get(row[1], ()))
            for code in (product.bundles if product is not None else ()):
                key = f"{row[1]}:{code}"
                used = counters.get((sub_id, key), {})
                bundles.extend(BundleInstance(key=key, code=code, addon=addon, valid_from=start, valid_to=end,
                                              used=used) for start, end in held_for)
        contexts.append(SubscriberContext(
            subscription_id=sub_id, plan=plan[5], numbers=tuple(spans[sub_id]),
            addons=tuple(sorted({a[5] for a in sub_addons})), bundles=tuple(bundles),
            balance=balances.get(sub_id, Decimal(0)) if sub_id in prepaid_ids else None,
            low_balance_threshold=threshold,
            bill_cycle_anchor=anchor or 1, active_from=active_from, terminated_at=terminated_at,
            customer_group=group, overrides=agreements.get(customer_id, ())))
    return contexts, prepaid_ids, changes


def held_spans(valid_from: dt.datetime, valid_to: dt.datetime | None,
               gaps) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """[valid_from, valid_to) without the `gaps` ([from, to) each): the spans a bundle is held."""
    spans, start = [], valid_from
    for gap_from, gap_to in sorted(gaps):
        if valid_to is not None and gap_from >= valid_to:
            break
        if gap_from > start:
            spans.append((start, gap_from))
        start = max(start, gap_to)
    if valid_to is None or start < valid_to:
        spans.append((start, valid_to))
    return spans


def _agreements(customer_ids: set[int], first: dt.datetime, last: dt.datetime | None) -> dict[int, tuple]:
    """The customers' price agreements in effect at some moment of [first, last], as the engine's
    RateOverrides with their own dates (the engine checks each record's start). Most customers
    have none: one indexed query that finds nothing."""
    found: dict[int, list[RateOverride]] = defaultdict(list)
    for (pk, customer_id, rate_plan, service, zone, band, price, unit, first_step, next_step, setup, minimum,
         percent, valid_from, valid_to) in _rows(
            "SELECT id, customer_id, rate_plan, service, zone, band, price, unit, first_increment, next_increment, "
            "setup, minimum, percent, valid_from, valid_to FROM customers_priceagreement "
            "WHERE customer_id = ANY(%s) AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s) "
            "AND (valid_to IS NULL OR valid_to > valid_from) ORDER BY valid_from DESC, id DESC",
            [list(customer_ids), last or first, first]):
        found[customer_id].append(RateOverride(
            key=f"customer:{pk}", service=service, zone=zone, rate_plan=rate_plan or None, band=band or None,
            price=price, unit=unit or 1, first=first_step if first_step is not None else 1, next=next_step or 1,
            setup=setup, minimum=minimum, percent=percent, valid_from=valid_from, valid_to=valid_to))
    return {customer_id: tuple(overrides) for customer_id, overrides in found.items()}
