"""What each catalogue page shows beyond the entity's own fields: a product's whole price
structure, a rate plan's dated rates, a price list's dated prices, a bundle's allowances..."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from telora.catalog import models as m
from telora.catalog.constants import DAYS, PRICE, RECURRING, SERVICES
from telora.catalog.forms.products import attributes_text
from telora.catalog.schema.values import format_minutes
from telora.catalog.views.common import (
    CURRENT,
    ENDED,
    FUTURE,
    show_amount,
    show_quantity,
    state_of,
    unit_label,
)
from telora.core.money import minor_unit

STATE_ORDER = {CURRENT: 0, FUTURE: 1, ENDED: 2}


def _versions(rows, day: dt.date, show_ended: bool) -> list[dict]:
    out = [{"row": row, "state": state_of(row, day)} for row in rows]
    return [v for v in out if show_ended or v["state"] != ENDED]


def _gross(amount: Decimal, tax: m.Tax | None, currency: str) -> str | None:
    if tax is None or amount is None:
        return None
    places = Decimal(1).scaleb(-minor_unit(currency))
    return show_amount((amount * (1 + tax.percent / 100)).quantize(places, rounding=ROUND_HALF_UP), currency)


def _default_tax(brand, day):
    return m.Tax.objects.filter(brand=brand, is_default=True).at(day).first()


def product(obj: m.Product, day: dt.date, request) -> dict:
    currency = obj.brand.currency
    tax = obj.tax or _default_tax(obj.brand, day)
    charges = []
    order = {RECURRING: 0, PRICE: 1}
    for charge in sorted(obj.charges.prefetch_related("prices"), key=lambda c: (order.get(c.code, 2), c.code)):
        prices = sorted(charge.prices.all(), key=lambda p: p.valid_from)
        current = next((p for p in prices if state_of(p, day) == CURRENT), None)
        charges.append({
            "charge": charge,
            "label": {RECURRING: "recurring", PRICE: "price"}.get(charge.code, charge.name or charge.code),
            "current": current,
            "current_amount": show_amount(current.amount, currency) if current else None,
            "gross": _gross(current.amount, tax, currency) if current else None,
            "versions": [{"row": p, "state": state_of(p, day), "amount": show_amount(p.amount, currency)}
                         for p in reversed(prices)],
        })
    overrides = []
    items = (m.PriceListItem.objects.filter(charge__product=obj)
             .select_related("price_list__channel", "price_list__customer_group", "charge")
             .order_by("-price_list__priority", "price_list__code", "charge__code", "-valid_from"))
    for item in items:
        state = state_of(item, day)
        if state == ENDED or state_of(item.price_list, day) == ENDED:
            continue
        overrides.append({"item": item, "state": state, "amount": show_amount(item.amount, currency)})
    discounts = (m.Discount.objects.filter(pk__in=m.DiscountProduct.objects.filter(product=obj).values("discount_id"))
                 .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day)).prefetch_related("zones").order_by("code"))
    rules = list(obj.rules.prefetch_related("targets").order_by("position"))
    return {
        "tax": tax,
        "tax_is_default": obj.tax_id is None and tax is not None,
        "charges": charges,
        "overrides": overrides,
        "discounts": [{"discount": d, "state": state_of(d, day)} for d in discounts],
        "bundles": [bundle_rows(b) for b in obj.bundles.prefetch_related("allowances__zones").order_by("code")],
        "rules": rules,
        "attributes": sorted((obj.attributes or {}).items()),
        "attributes_text": attributes_text(obj.attributes),
        "charge_codes": [c["charge"].code for c in charges],
    }


def bundle_rows(bundle: m.Bundle) -> dict:
    return {"bundle": bundle, "allowances": [
        {"allowance": a, "quantity": show_quantity(a.service, a.amount), "zones": [z for z in a.zones.all()]}
        for a in bundle.allowances.all()]}


def bundle(obj: m.Bundle, day: dt.date, request) -> dict:
    return bundle_rows(obj)


def rate_plan(obj: m.RatePlan, day: dt.date, request) -> dict:
    show_ended = request.GET.get("versions") == "all"
    rates = sorted(obj.rates.select_related("zone"),
                   key=lambda r: (SERVICES.index(r.service), r.zone.code, r.band, r.valid_from))
    rows = []
    for version in _versions(rates, day, show_ended):
        rate = version["row"]
        rows.append({**version, "price": show_amount(rate.price, obj.brand.currency),
                     "unit": unit_label(rate.service, rate.unit),
                     "setup": show_amount(rate.setup, obj.brand.currency) if rate.setup else "",
                     "minimum": show_amount(rate.minimum, obj.brand.currency) if rate.minimum else ""})
    counts = {state: sum(1 for r in rates if state_of(r, day) == state) for state in (CURRENT, FUTURE, ENDED)}
    return {"rates": rows, "show_ended": show_ended, "rate_counts": counts,
            "bands": list(obj.time_band_set.bands.all()) if obj.time_band_set else []}


def price_list(obj: m.PriceList, day: dt.date, request) -> dict:
    show_ended = request.GET.get("versions") == "all"
    items = obj.items.select_related("charge__product").order_by("charge__product__code", "charge__code",
                                                                  "valid_from")
    rows = [{**v, "amount": show_amount(v["row"].amount, obj.brand.currency)}
            for v in _versions(items, day, show_ended)]
    return {"items": rows, "show_ended": show_ended}


def customer_group(obj: m.CustomerGroup, day: dt.date, request) -> dict:
    """The group's rate overrides, as a rate plan's rates: current and future, or every version."""
    show_ended = request.GET.get("versions") == "all"
    overrides = sorted(obj.rate_overrides.select_related("zone", "rate_plan"),
                       key=lambda o: (o.rate_plan.code if o.rate_plan else "", SERVICES.index(o.service),
                                      o.zone.code, o.band, o.valid_from))
    currency = obj.brand.currency
    rows = []
    for version in _versions(overrides, day, show_ended):
        row = version["row"]
        rows.append({**version, "price": show_amount(row.price, currency) if row.price is not None else "",
                     "unit": unit_label(row.service, row.unit) if row.unit else "",
                     "setup": show_amount(row.setup, currency) if row.price is not None and row.setup else "",
                     "minimum": show_amount(row.minimum, currency) if row.price is not None and row.minimum else "",
                     "percent": format(row.percent.normalize(), "f") if row.percent is not None else ""})
    return {"overrides": rows, "show_ended": show_ended}


def time_band_set(obj: m.TimeBandSet, day: dt.date, request) -> dict:
    bands = []
    for band in obj.bands.all():
        days = [d for d in DAYS if d in band.days]
        bands.append({"band": band, "days": days, "from": format_minutes(band.start_minute),
                      "to": format_minutes(band.end_minute)})
    return {"bands": bands, "all_days": DAYS}


def discount(obj: m.Discount, day: dt.date, request) -> dict:
    return {"products": list(obj.products.order_by("code")), "zones": list(obj.zones.order_by("code"))}


EXTRA = {"products": product, "bundles": bundle, "rate_plans": rate_plan, "price_lists": price_list,
         "time_bands": time_band_set, "discounts": discount, "customer_groups": customer_group}


def extra(section: str, obj, day: dt.date, request) -> dict:
    builder = EXTRA.get(section)
    return builder(obj, day, request) if builder else {}


__all__ = ["STATE_ORDER", "extra"]
