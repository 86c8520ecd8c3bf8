"""Compiling a brand's catalogue on a date into the rating engine's plain snapshot."""

from __future__ import annotations

import datetime as dt

from telora.catalog import tariff as t
from telora.catalog.constants import DAYS
from telora.catalog.models import Product
from telora.catalog.rules import ProductRules
from telora.catalog.selectors.state import read_state, rules_spec
from telora.core import clock


def _day(at, brand) -> dt.date:
    if at is None:
        return clock.today(brand)
    return clock.localtime(at, brand).date() if isinstance(at, dt.datetime) else at


def compile_tariff(brand, at=None) -> t.Tariff:
    """The brand's own catalogue in effect on `at` (a date, a moment, or None for today)."""
    day = _day(at, brand)
    state = read_state(brand, day, ("taxes", "zones", "time_bands", "rate_plans", "bundles", "products",
                                    "discounts", "customer_groups"))
    zones = {code: t.Zone(code, s["name"], tuple(s["prefixes"]), tuple(s["countries"]))
             for code, s in state["zones"].items()}
    return t.Tariff(
        brand=brand.code, currency=brand.currency, timezone=brand.timezone, at=day, zones=zones,
        prefixes={prefix: z.code for z in zones.values() for prefix in z.prefixes},
        countries={country: z.code for z in zones.values() for country in z.countries},
        time_bands={code: t.TimeBands(code, tuple(
            t.Band(b["band"], frozenset(DAYS.index(d) for d in b["days"]), b["from"], b["to"], b["default"])
            for b in s["bands"])) for code, s in state["time_bands"].items()},
        rate_plans={code: t.RatePlan(code, s["time_bands"], tuple(
            t.Rate(r["service"], r["zone"], r["band"], r["price"], r["unit"], r["increments"][0], r["increments"][1],
                   r["setup"], r["minimum"]) for r in s["rates"] if r["zone"] in zones))
            for code, s in state["rate_plans"].items()},
        bundles={code: t.Bundle(code, s["period"], tuple(
            t.Allowance(a["service"], frozenset(a["zones"]), a["amount"]) for a in s["allowances"]))
            for code, s in state["bundles"].items()},
        products={code: t.Product(
            code, s["kind"], s["service_type"], s["rate_plan"], tuple(s["bundles"]), s["recurring"], s["price"],
            {c["code"]: c["price"] for c in s["one_time"]}, s["commitment_months"],
            s["tax"], s["sellable"], dict(s["attributes"]), s.get("low_balance_threshold"))
            for code, s in state["products"].items()},
        discounts={code: t.Discount(code, s["applies_to"], s["percent"], frozenset(s["services"]),
                                    frozenset(s["zones"]), frozenset(s["products"]), s["months"])
                   for code, s in state["discounts"].items()},
        taxes={code: t.Tax(code, s["percent"], s["default"]) for code, s in state["taxes"].items()},
        group_overrides={code: tuple(group_override(code, o) for o in s["rate_overrides"])
                         for code, s in state["customer_groups"].items() if s["rate_overrides"]},
    )


def group_override(group: str, o: dict) -> t.RateOverride:
    """One of a customer group's overrides as the engine reads it."""
    first, following = o["increments"] or (1, 1)
    return t.RateOverride(key=f"group:{group}", service=o["service"], zone=o["zone"], rate_plan=o["rate_plan"],
                          band=o["band"], price=o["price"], unit=o["unit"] or 1, first=first, next=following,
                          setup=o["setup"], minimum=o["minimum"], percent=o["percent"])


def product_rules(brand, at=None, codes=None) -> dict[str, ProductRules]:
    """Each product's kind and combination rules on `at`, for `telora.catalog.rules.check_product_set`.

    `codes`: only those products' (a set is checked against the rules of its own products; reading just
    them and their rules takes three queries, not the whole catalogue's six)."""
    day = _day(at, brand)
    if codes is None:
        products = read_state(brand, day, ("products",))["products"]
        return {code: _rules(code, s["kind"], s["rules"]) for code, s in products.items()}
    rows = Product.objects.filter(brand=brand, code__in=sorted(set(codes))).at(day).prefetch_related("rules__targets")
    return {row.code: _rules(row.code, row.kind, rules_spec(row.rules.all())) for row in rows}


def _rules(code: str, kind: str, rules: dict) -> ProductRules:
    return ProductRules(code=code, kind=kind, requires_any=tuple(rules["requires_any"]),
                        excludes=tuple(rules["excludes"]),
                        at_most=tuple((limit["count"], tuple(limit["of"])) for limit in rules["at_most"]))
