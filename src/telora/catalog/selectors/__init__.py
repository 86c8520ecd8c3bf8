"""Reads of the catalogue shared with the GUI, the API, customers, rating and billing."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from telora.catalog import models as m
from telora.catalog.selectors.pricing import PriceQuote, effective_price, pick_override, resolve_price
from telora.catalog.selectors.state import brand_spec, read_section, read_state
from telora.catalog.selectors.tariff import compile_tariff, product_rules
from telora.core import clock


def catalogue_owners(brand) -> list[int]:
    """Ids of the brands whose catalogue `brand` may sell: its own and those shared with it."""
    shared = m.CatalogShare.objects.filter(shared_with=brand).values_list("brand_id", flat=True)
    return [brand.pk, *sorted(shared)]


def default_channel(brand, interface: str, at: dt.date | None = None, *, owners: list[int] | None = None):
    """The sales channel a sale entered through `interface` (gui, api, …) is recorded in when it
    names none: the brand's own catalogue first, then the ones shared with it. None: no default.
    `owners`: the brand's `catalogue_owners`, when the caller has them already."""
    day = at or clock.today(brand)
    owners = catalogue_owners(brand) if owners is None else owners
    rows = {c.brand_id: c for c in m.SalesChannel.objects.at(day).filter(
        brand_id__in=owners, default_for__contains=[interface]).order_by("code")}
    return next((rows[b] for b in owners if b in rows), None)


def sales_channels(brand, at: dt.date | None = None) -> list:
    """The sales channels a brand may record sales in on a date: its own and shared ones, by code."""
    day = at or clock.today(brand)
    return list(m.SalesChannel.objects.at(day).filter(brand_id__in=catalogue_owners(brand)).order_by("code", "brand_id"))


def sim_type_codes(brand, at: dt.date | None = None) -> frozenset[str]:
    """Codes of the SIM types a brand's catalogue (own or shared) offers on a date."""
    day = at or clock.today(brand)
    return frozenset(m.SimType.objects.at(day).filter(brand_id__in=catalogue_owners(brand))
                     .values_list("code", flat=True))


def sellable_products(brand, at: dt.date | None = None):
    """Products a brand may sell on a date: its own and shared ones, in effect and sellable."""
    day = at or clock.today(brand)
    return (m.Product.objects.at(day).filter(Q(brand_id__in=catalogue_owners(brand)), sellable=True)
            .select_related("brand").order_by("brand__code", "code"))


__all__ = [
    "PriceQuote", "brand_spec", "catalogue_owners", "compile_tariff", "effective_price", "pick_override",
    "product_rules", "read_section", "read_state", "resolve_price", "sellable_products",
]
