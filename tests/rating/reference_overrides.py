"""An independent reference for rate overrides: slow, plain Decimal, written from the rule in
docs/rating.md and not from the engine's code. It rates one postpaid record of a subscription
with no bundles, given the tariff, the customer's overrides and its group:

  zones in order (the tariff's destination zones, longest prefix first; data: the country's
  zone, then "*"); in each zone the customer's override in effect at the start, else the
  group's (the record's band before every band; among several in effect the first listed); a
  replacement rate decides, a discount takes its percent off the charge at the next level's rate;
  no override: the plan's rate; a zone with no rate is skipped. Then the catalogue's usage
  discounts of the plan product, each off what is left.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SIX = Decimal("0.000001")


def _q(usage: int, first: int, step: int) -> int:
    if usage <= 0:
        return 0
    if usage <= first:
        return first
    over = usage - first
    return first + -(-over // step) * step


def _in_effect(override, moment) -> bool:
    start, end = getattr(override, "valid_from", None), getattr(override, "valid_to", None)
    return (start is None or start <= moment) and (end is None or moment < end)


def _choose(overrides, service, zone, band, plan, moment):
    mine = [o for o in overrides if o.service == service and o.zone == zone
            and o.rate_plan in (None, plan) and _in_effect(o, moment)]
    exact = [o for o in mine if o.band is not None and o.band == band]
    if exact:
        return exact[0]
    general = [o for o in mine if o.band is None]
    return general[0] if general else None


def reference_rate(tariff, plan_product: str, record, band: str | None, *, customer=(), group: str | None = None):
    """(charge as Decimal rounded to 6 places, zone, override keys) or None when nothing rates it."""
    product = tariff.products[plan_product]
    plan = product.rate_plan
    if record.service == "data":
        zones = [z for z in (tariff.countries.get(record.location or "DK"), tariff.countries.get("*")) if z]
        zones = list(dict.fromkeys(zones))
        usage = record.volume
    else:
        zones = tariff.destination_zones(record.b_number)
        zones = list(dict.fromkeys(zones))
        usage = record.duration if record.service == "voice" else record.quantity
    levels = [tuple(customer), tariff.group_overrides.get(group, ()) if group else ()]
    for zone in zones:
        rate, percent, keys = None, None, []
        for level in levels:
            chosen = _choose(level, record.service, zone, band, plan, record.start_time)
            if chosen is None:
                continue
            if chosen.price is not None:
                rate = chosen
                keys.append(chosen.key)
                break
            if percent is None:
                percent = chosen.percent
                keys.append(chosen.key)
        if rate is None:
            rate = tariff.rate_plans[plan].rate_for(record.service, zone, band)
            if rate is None:
                continue
        q = _q(usage, rate.first, rate.next)
        charge = Decimal(0) if q == 0 else max(rate.setup + rate.price * q / rate.unit, rate.minimum)
        charge = charge.quantize(SIX, rounding=ROUND_HALF_UP)
        if percent is not None and charge > 0:
            charge -= (charge * percent / 100).quantize(SIX, rounding=ROUND_HALF_UP)
        for discount in sorted(tariff.discounts.values(), key=lambda d: d.code):
            if (discount.applies_to == "usage" and plan_product in discount.products and charge > 0
                    and (not discount.services or record.service in discount.services)
                    and (not discount.zones or zone in discount.zones)):
                charge -= (charge * discount.percent / 100).quantize(SIX, rounding=ROUND_HALF_UP)
        return charge, zone, tuple(keys)
    return None
