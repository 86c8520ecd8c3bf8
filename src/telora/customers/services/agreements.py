"""Business price agreements: a customer's own usage rates, added and ended with
`customers.price_agreement` (a pricing decision, not a CSR's everyday change) and audited.

An agreement starting in the past needs `customers.backdate` as well: usage already rated keeps
its charge until it is re-rated. Ending one never deletes it (rated usage names it); an end before
its start leaves it never in effect.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction

from telora.catalog.constants import COUNTRY_SERVICES, DESTINATION_SERVICES, SERVICES
from telora.catalog.models import RatePlan, TimeBand, Zone
from telora.catalog.selectors import catalogue_owners
from telora.core.services.actors import Actor
from telora.core.services.audit import record_event, snapshot
from telora.customers.models import Customer, PriceAgreement
from telora.customers.services.common import catalog_row, fail, require
from telora.customers.services.dating import CLOCK_SKEW, max_backdate

RIGHT = "customers.price_agreement"
FIELDS = ["customer", "rate_plan", "service", "zone", "band", "price", "unit", "first_increment", "next_increment",
          "setup", "minimum", "percent", "valid_from", "valid_to", "note"]
MAX_AMOUNT = Decimal(10) ** 12  # NUMERIC(18, 6) holds 12 integer digits
MAX_UNITS = 10**12  # a unit or increment beyond this is no unit anyone sells


def _amount(field: str, value, *, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    if isinstance(value, float):
        raise fail(field, "give an exact decimal as text (\"0.30\"), not a float")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise fail(field, f"{value!r} is not a decimal number") from None
    if not amount.is_finite() or amount < 0:
        raise fail(field, "must be a number of at least 0")
    if amount >= maximum:
        raise fail(field, f"must be less than {maximum}")
    if amount.as_tuple().exponent < -6 and amount != amount.quantize(Decimal("0.000001")):
        raise fail(field, "at most 6 decimal places")
    return amount


def _count(field: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise fail(field, f"{value!r} is not a whole number") from None
    if not minimum <= value <= MAX_UNITS:
        raise fail(field, f"must be from {minimum} to {MAX_UNITS}")
    return value


def _band(brand, band: str, plan: RatePlan | None) -> str:
    band = (band or "").strip()
    if not band:
        return ""
    if plan is not None:
        known = (sorted(set(TimeBand.objects.filter(band_set_id=plan.time_band_set_id).values_list("band", flat=True)))
                 if plan.time_band_set_id else [])
        if band not in known:
            raise fail("band", f"rate plan {plan.code} has no band {band!r}"
                               + (f" (it has: {', '.join(known)})" if known else " (it has no time bands)"))
    elif not TimeBand.objects.filter(brand_id__in=catalogue_owners(brand), band=band).exists():
        raise fail("band", f"no time band set of the catalogue has a band {band!r}")
    return band


def _terms(customer: Customer, values: dict, at: dt.datetime) -> dict:
    """The agreement's fields checked: where, what, when."""
    brand = customer.brand
    service = values.get("service")
    if service not in SERVICES:
        raise fail("service", f"unknown service {service!r} (one of: {', '.join(SERVICES)})")
    zone = catalog_row(Zone, brand, values.get("zone") or None, "zone", at=at)
    if zone is None:
        raise fail("zone", "is required")
    if service in DESTINATION_SERVICES and not zone.prefixes:
        raise fail("zone", f"zone {zone.code} has no prefixes: {service} is rated by destination")
    if service in COUNTRY_SERVICES and not zone.countries:
        raise fail("zone", f"zone {zone.code} has no countries: {service} is rated by the country the subscriber "
                           "is in")
    plan = catalog_row(RatePlan, brand, values.get("rate_plan") or None, "rate_plan", at=at)
    terms = {"service": service, "zone": zone.code, "rate_plan": plan.code if plan else "",
             "band": _band(brand, values.get("band"), plan), "price": None, "unit": None, "first_increment": None,
             "next_increment": None, "setup": Decimal(0), "minimum": Decimal(0), "percent": None}
    priced = values.get("price") not in (None, "")
    discounted = values.get("percent") not in (None, "")
    if priced == discounted:
        raise fail("price", "give a replacement price (with unit and increments) or a discount percent, not both"
                   if priced else "give a replacement price (with unit and increments) or a discount percent")
    if discounted:
        percent = _amount("percent", values["percent"])
        if not 0 < percent <= 100:
            raise fail("percent", "must be more than 0 and at most 100")
        terms["percent"] = percent
        return terms
    terms["price"] = _amount("price", values["price"])
    terms["unit"] = _count("unit", values.get("unit") or 0, 1)
    terms["first_increment"] = _count("first_increment", values.get("first_increment", 1), 0)
    terms["next_increment"] = _count("next_increment", values.get("next_increment", 1), 1)
    terms["setup"] = _amount("setup", values.get("setup") or 0)
    terms["minimum"] = _amount("minimum", values.get("minimum") or 0)
    return terms


def _moment(field: str, value) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise fail(field, "give a date and time")
    if value.tzinfo is None:
        raise fail(field, "give a time zone offset (2026-03-01T00:00:00+01:00)")
    return value


@transaction.atomic
def add_price_agreement(customer: Customer, *, actor: Actor, at: dt.datetime, valid_from: dt.datetime | None = None,
                        valid_to: dt.datetime | None = None, note: str = "", **values) -> PriceAgreement:
    """A new agreement for the customer from `valid_from` (default: now). `values`: service, zone,
    rate_plan, band, and price, unit, first_increment, next_increment, setup, minimum, or percent."""
    require(actor, customer.brand, RIGHT)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise fail(sorted(unknown)[0], "is not a field of a price agreement")
    start = at if valid_from is None else _moment("valid_from", valid_from)
    if start < at - CLOCK_SKEW:
        require(actor, customer.brand, "customers.backdate")
        if at - start > max_backdate():
            raise fail("valid_from", f"at most {max_backdate().days} days back")
    end = None if valid_to is None else _moment("valid_to", valid_to)
    if end is not None and end <= start:
        raise fail("valid_to", "must be after valid_from")
    note = (note or "").strip()
    if len(note) > 200:
        raise fail("note", "is longer than 200 characters")
    if customer.closed_at is not None:
        raise fail("customer", f"customer {customer.number} is closed")
    agreement = PriceAgreement(brand=customer.brand, customer=customer, valid_from=start, valid_to=end, note=note,
                               created_at=at, **_terms(customer, values, at))
    agreement.save()
    agreement.refresh_from_db()  # amounts as stored (6 places), as every later read gives them
    record_event(actor=actor, at=at, action="create", obj=agreement, brand=customer.brand,
                 new=snapshot(agreement, FIELDS), message=f"price agreement for customer {customer.number}")
    return agreement


@transaction.atomic
def end_price_agreement(agreement: PriceAgreement, *, actor: Actor, at: dt.datetime,
                        end_at: dt.datetime | None = None) -> PriceAgreement:
    """The agreement stops at `end_at` (default: now); one not started by then is never in effect."""
    require(actor, agreement.brand, RIGHT)
    agreement = PriceAgreement.objects.select_for_update().get(pk=agreement.pk)
    end = at if end_at is None else _moment("end_at", end_at)
    if agreement.valid_to is not None and agreement.valid_to <= end:
        raise fail("end_at", f"the agreement already ends at {agreement.valid_to.isoformat()}")
    if end < at - CLOCK_SKEW:
        require(actor, agreement.brand, "customers.backdate")
    old = {"valid_to": agreement.valid_to}
    agreement.valid_to = max(end, agreement.valid_from)
    agreement.save(update_fields=["valid_to"])
    record_event(actor=actor, at=at, action="update", obj=agreement, brand=agreement.brand, old=old,
                 new={"valid_to": agreement.valid_to}, message=f"price agreement {agreement.pk} ended")
    return agreement
