"""The catalogue in the database as canonical specs: the same plain dicts the validation layer
makes from YAML. Export writes them, apply compares against them, and the GUI and API can list
them. Entities are those existing on the given day; prices and rates are those in effect then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from telora.catalog import models as m
from telora.catalog.constants import PRICE, RECURRING
from telora.catalog.models import in_effect
from telora.catalog.schema.context import SECTIONS
from telora.catalog.schema.rating import override_key, rate_key


def _code(row) -> str | None:
    return row.code if row is not None else None


def _codes(rows) -> list[str]:
    return sorted(row.code for row in rows)


def tax_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "percent": row.percent, "default": row.is_default}


def bill_cycle_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "anchor_day": row.anchor_day}


def billing_group_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "bill_cycle": _code(row.bill_cycle), "description": row.description}


def sim_type_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "form_factor": row.form_factor, "description": row.description}


def named_fields(row) -> dict:
    return {"code": row.code, "name": row.name}


def sales_channel_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "default_for": sorted(row.default_for)}


def zone_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "prefixes": sorted(row.prefixes), "countries": sorted(row.countries)}


def band_spec(band) -> dict:
    return {"band": band.band, "days": list(band.days), "from": band.start_minute, "to": band.end_minute,
            "default": band.is_default}


def time_band_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "bands": [band_spec(band) for band in row.bands.all()]}


def rate_plan_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "time_bands": _code(row.time_band_set)}


def rate_values(rate) -> dict:
    return {"price": rate.price, "unit": rate.unit, "increments": [rate.first_increment, rate.next_increment],
            "setup": rate.setup, "minimum": rate.minimum}


def rate_spec(rate) -> dict:
    return {"service": rate.service, "zone": rate.zone.code, "band": rate.band or None, **rate_values(rate)}


def rate_plan_dated(row, day) -> dict:
    return {"rates": sorted((rate_spec(r) for r in row.rates.all() if in_effect(r, day)), key=rate_key)}


def allowance_spec(allowance) -> dict:
    return {"service": allowance.service, "zones": _codes(allowance.zones.all()), "amount": allowance.amount}


def bundle_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "period": row.period,
            "allowances": [allowance_spec(a) for a in row.allowances.all()]}


def rules_spec(rules) -> dict:
    spec = {"requires_any": [], "excludes": [], "at_most": []}
    for rule in rules:
        targets = _codes(rule.targets.all())
        if rule.kind == "at_most":
            spec["at_most"].append({"count": rule.count, "of": targets})
        else:
            spec[rule.kind] = sorted(set(spec[rule.kind]) | set(targets))
    spec["at_most"].sort(key=lambda limit: (limit["count"], limit["of"]))
    return spec


def product_fields(row) -> dict:
    return {
        "code": row.code, "name": row.name, "kind": row.kind, "service_type": row.service_type or None,
        "sellable": row.sellable, "rate_plan": _code(row.rate_plan), "tax": _code(row.tax),
        "bundles": _codes(row.bundles.all()), "commitment_months": row.commitment_months,
        "low_balance_threshold": row.low_balance_threshold, "attributes": row.attributes,
        "rules": rules_spec(row.rules.all()),
    }


def price_at(charge, day):
    return next((p for p in charge.prices.all() if in_effect(p, day)), None)


def product_dated(row, day) -> dict:
    spec = {"recurring": None, "price": None, "one_time": []}
    for charge in row.charges.all():
        price = price_at(charge, day)
        if price is None:
            continue
        if charge.code in (RECURRING, PRICE):
            spec[charge.code] = price.amount
        else:
            spec["one_time"].append({"code": charge.code, "name": charge.name, "price": price.amount})
    spec["one_time"].sort(key=lambda charge: charge["code"])
    return spec


def discount_fields(row) -> dict:
    return {
        "code": row.code, "name": row.name, "applies_to": row.applies_to, "percent": row.percent,
        "services": list(row.services), "zones": _codes(row.zones.all()), "products": _codes(row.products.all()),
        "months": row.months,
    }


def override_values(row) -> dict:
    """What a rate override gives: a replacement rate or a percent (the other parts None/0)."""
    priced = row.price is not None
    return {"price": row.price, "unit": row.unit,
            "increments": [row.first_increment, row.next_increment] if priced else None,
            "setup": row.setup if priced else Decimal(0), "minimum": row.minimum if priced else Decimal(0),
            "percent": None if priced else row.percent}


def override_spec(row) -> dict:
    return {"rate_plan": _code(row.rate_plan), "service": row.service, "zone": row.zone.code,
            "band": row.band or None, **override_values(row)}


def customer_group_dated(row, day) -> dict:
    return {"rate_overrides": sorted((override_spec(o) for o in row.rate_overrides.all() if in_effect(o, day)),
                                     key=override_key)}


def price_list_fields(row) -> dict:
    return {"code": row.code, "name": row.name, "channel": _code(row.channel),
            "customer_group": _code(row.customer_group), "priority": row.priority}


def price_list_dated(row, day) -> dict:
    items = [{"product": i.charge.product.code, "charge": i.charge.code, "price": i.amount}
             for i in row.items.all() if in_effect(i, day)]
    return {"items": sorted(items, key=lambda item: (item["product"], item["charge"]))}


@dataclass(frozen=True)
class SectionShape:
    """How one section's rows are loaded and turned into specs."""

    model: type
    fields: Callable[[object], dict]
    dated: Callable[[object, dt.date], dict] | None = None
    related: tuple[str, ...] = ()
    prefetch: tuple = ()

    def queryset(self, brand):
        return (self.model.objects.filter(brand=brand).select_related(*self.related)
                .prefetch_related(*self.prefetch).order_by("code"))

    def spec(self, row, day) -> dict:
        return {**self.fields(row), **(self.dated(row, day) if self.dated else {})}


SHAPES: dict[str, SectionShape] = {
    "taxes": SectionShape(m.Tax, tax_fields),
    "bill_cycles": SectionShape(m.BillCycle, bill_cycle_fields),
    "billing_groups": SectionShape(m.BillingGroup, billing_group_fields, related=("bill_cycle",)),
    "zones": SectionShape(m.Zone, zone_fields),
    "time_bands": SectionShape(m.TimeBandSet, time_band_fields, prefetch=("bands",)),
    "rate_plans": SectionShape(m.RatePlan, rate_plan_fields, rate_plan_dated, related=("time_band_set",),
                               prefetch=(Prefetch("rates", m.Rate.objects.select_related("zone")),)),
    "bundles": SectionShape(m.Bundle, bundle_fields, prefetch=("allowances__zones",)),
    "products": SectionShape(m.Product, product_fields, product_dated, related=("rate_plan", "tax"),
                             prefetch=("bundles", "rules__targets", "charges__prices")),
    "discounts": SectionShape(m.Discount, discount_fields, prefetch=("zones", "products")),
    "customer_groups": SectionShape(m.CustomerGroup, named_fields, customer_group_dated, prefetch=(
        Prefetch("rate_overrides", m.RateOverride.objects.select_related("zone", "rate_plan")),)),
    "sales_channels": SectionShape(m.SalesChannel, sales_channel_fields),
    "price_lists": SectionShape(m.PriceList, price_list_fields, price_list_dated,
                                related=("channel", "customer_group"),
                                prefetch=(Prefetch("items", m.PriceListItem.objects.select_related(
                                    "charge__product")),)),
    "sim_types": SectionShape(m.SimType, sim_type_fields),
}
assert tuple(SHAPES) == SECTIONS


def read_section(brand, section: str, day: dt.date) -> dict[str, dict]:
    shape = SHAPES[section]
    return {row.code: shape.spec(row, day) for row in shape.queryset(brand).at(day)}


def read_state(brand, day: dt.date, sections=SECTIONS) -> dict[str, dict[str, dict]]:
    """Every section's specs for the brand on `day`, keyed by code."""
    return {section: read_section(brand, section, day) for section in sections}


def shared_with(brand) -> list[str]:
    return sorted(m.CatalogShare.objects.filter(brand=brand).values_list("shared_with__code", flat=True))


def brand_spec(brand) -> dict:
    return {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
            "country": brand.country, "language": brand.language, "shared_with": shared_with(brand)}
