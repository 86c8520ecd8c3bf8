"""What a product costs: price-list overrides first, then the product's own price.

Same product, different prices: a price list targets a sales channel, a customer group, both,
or everyone. Of the lists in effect that apply and price the charge, the highest priority
wins; at equal priority the more specific list (channel and group > one of them > none), then
the lower code. With none, the product's base price applies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from telora.catalog import models as m
from telora.core import clock


@dataclass(frozen=True)
class Candidate:
    price_list: str
    priority: int
    channel: str | None
    customer_group: str | None
    amount: Decimal


@dataclass(frozen=True)
class PriceQuote:
    amount: Decimal
    currency: str
    price_list: str | None  # None: the product's own price
    charge: str


def pick_override(candidates, channel: str | None, customer_group: str | None) -> Candidate | None:
    """The winning price-list candidate for a sale in `channel` to `customer_group`. Pure."""
    applicable = [c for c in candidates if c.channel in (None, channel) and c.customer_group in (None, customer_group)]
    if not applicable:
        return None

    def rank(c: Candidate):
        return (-c.priority, -((c.channel is not None) + (c.customer_group is not None)), c.price_list)

    return min(applicable, key=rank)


def _code(value) -> str | None:
    return getattr(value, "code", value)


def _day(at, brand) -> dt.date:
    return clock.localtime(at, brand).date() if isinstance(at, dt.datetime) else at


def resolve_price(product: m.Product, charge: str, at_date, channel=None, customer_group=None) -> PriceQuote | None:
    """The price of `charge` ("recurring", "price" or a one-time code) of `product` on a date,
    with where it came from. `channel` and `customer_group` are rows or codes. None: no price."""
    day = _day(at_date, product.brand)
    charge_row = m.ProductCharge.objects.filter(product=product, code=charge).first()
    if charge_row is None:
        return None
    in_effect = Q(price_list__valid_to__isnull=True) | Q(price_list__valid_to__gt=day)
    items = (m.PriceListItem.objects.at(day).filter(in_effect, charge=charge_row, price_list__valid_from__lte=day)
             .select_related("price_list__channel", "price_list__customer_group"))
    candidates = [Candidate(i.price_list.code, i.price_list.priority, _code(i.price_list.channel),
                            _code(i.price_list.customer_group), i.amount) for i in items]
    chosen = pick_override(candidates, _code(channel), _code(customer_group))
    if chosen is not None:
        return PriceQuote(chosen.amount, product.brand.currency, chosen.price_list, charge)
    base = m.ProductPrice.objects.at(day).filter(charge=charge_row).first()
    return None if base is None else PriceQuote(base.amount, product.brand.currency, None, charge)


def effective_price(product: m.Product, charge: str, at_date, channel=None, customer_group=None) -> Decimal | None:
    """The amount of `resolve_price`, or None when the product has no such price on that date."""
    quote = resolve_price(product, charge, at_date, channel, customer_group)
    return None if quote is None else quote.amount
