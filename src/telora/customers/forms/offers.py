"""What a brand sells on a subscription, as the sale and change screens show it: products with their
monthly and one-time prices (for the customer's group), commitments and catalogue rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from telora.catalog.models import ProductCharge, SimType
from telora.catalog.selectors import effective_price, sellable_products
from telora.core import clock
from telora.customers.forms.common import catalogue_rows
from telora.customers.services.products import rules_for
from telora.inventory.models import NumberGroup


@dataclass
class Offer:
    code: str
    name: str
    kind: str
    currency: str
    recurring: Decimal | None = None
    once: list[tuple[str, Decimal]] = field(default_factory=list)  # (charge name, amount)
    commitment_months: int = 0
    requires_any: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    at_most: tuple = ()

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


def offers(brand, service_type: str, customer=None, at: dt.datetime | None = None) -> list[Offer]:
    """Sellable products for `service_type` (and those for any service), by kind then code."""
    at = at or clock.now()
    day = clock.localtime(at, brand).date()
    group = getattr(customer, "customer_group", None)
    products = [p for p in sellable_products(brand, day) if p.service_type in ("", service_type)]
    charges: dict[int, list[ProductCharge]] = {}
    for charge in ProductCharge.objects.filter(product__in=products).order_by("code"):
        charges.setdefault(charge.product_id, []).append(charge)
    rules = rules_for(brand, at)
    found: dict[str, Offer] = {}
    for product in products:
        if product.code in found:  # the brand's own catalogue comes first over a shared one
            continue
        offer = Offer(code=product.code, name=product.name, kind=product.kind, currency=brand.currency,
                      commitment_months=product.commitment_months)
        for charge in charges.get(product.pk, []):
            amount = effective_price(product, charge.code, day, customer_group=group)
            if amount is None:
                continue
            if charge.kind == ProductCharge.Kind.RECURRING:
                offer.recurring = amount
            else:
                offer.once.append((charge.name or (_("one-time price") if charge.code == "price" else charge.code),
                                   amount))
        rule = rules.get(product.code)
        if rule is not None:
            offer.requires_any, offer.excludes, offer.at_most = rule.requires_any, rule.excludes, rule.at_most
        found[product.code] = offer
    order = {"plan": 0, "addon": 1, "one_time": 2, "device": 3}
    return sorted(found.values(), key=lambda o: (order.get(o.kind, 9), o.code))


def by_kind(items: list[Offer], *kinds: str) -> list[Offer]:
    return [offer for offer in items if offer.kind in kinds]


def service_types_on_sale(brand, at: dt.datetime | None = None) -> list[str]:
    """Service types with at least one sellable plan today, in the catalogue's order."""
    from telora.catalog.constants import SERVICE_TYPES

    day = clock.localtime(at or clock.now(), brand).date()
    present = set(sellable_products(brand, day).filter(kind="plan").values_list("service_type", flat=True))
    return [service_type for service_type in SERVICE_TYPES if service_type in present]


def number_groups(brand):
    return NumberGroup.objects.filter(brand=brand, is_active=True).order_by("one_time_price", "code")


def sim_types(brand):
    return catalogue_rows(SimType, brand)
