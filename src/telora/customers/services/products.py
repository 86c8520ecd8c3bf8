"""Catalogue products on subscriptions: finding them for a brand, and the catalogue's combination rules."""

from __future__ import annotations

import datetime as dt

from telora.catalog.models import Product
from telora.catalog.rules import ProductRules, check_product_set
from telora.catalog.selectors import catalogue_owners, product_rules
from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import ServiceError
from telora.customers.services.common import catalog_row, fail

KIND_NAMES = {"plan": "a plan", "addon": "an add-on", "one_time": "a one-time product", "device": "a device"}


def product_for(brand: Brand, value, *, field: str, kinds: tuple[str, ...], service_type: str, at: dt.datetime,
                selling: bool = True, owners: list[int] | None = None) -> Product:
    """The product (object, id or code) the brand may put on a `service_type` subscription as one of `kinds`.
    `owners`: the brand's `catalogue_owners`, when the caller has them already."""
    product = catalog_row(Product, brand, value, field, at=at, owners=owners)
    if product is None:
        raise fail(field, "give a product code")
    if product.kind not in kinds:
        wanted = " or ".join(KIND_NAMES[k] for k in kinds)
        raise fail(field, f"{product.code} is {KIND_NAMES.get(product.kind, product.kind)}, not {wanted}")
    if product.service_type and product.service_type != service_type:
        raise fail(field, f"{product.code} is for {product.service_type} subscriptions, not {service_type}")
    if selling and not product.sellable:
        raise fail(field, f"{product.code} is no longer sold")
    return product


def rules_for(brand: Brand, at: dt.datetime, codes=None, *, owners: list[int] | None = None) -> dict:
    """Every product's kind and rules the brand sees on the day of `at` (its own catalogue wins); only
    those of `codes` when given. `owners`: the brand's `catalogue_owners`, when the caller has them."""
    day = clock.localtime(at, brand).date()
    rules: dict = {}
    for owner_id in reversed(catalogue_owners(brand) if owners is None else owners):
        owner = brand if owner_id == brand.pk else Brand.objects.get(pk=owner_id)
        rules.update(product_rules(owner, day, codes))
    return rules


def check_rules(brand: Brand, products: list[Product], at: dt.datetime, *, field: str = "products",
                owners: list[int] | None = None) -> None:
    """Refuse a product set the catalogue's rules forbid, naming every broken rule at once.

    A product closed in the catalogue since it was sold keeps its kind and carries no rules.
    """
    rules = rules_for(brand, at, [product.code for product in products], owners=owners)
    for product in products:
        rules.setdefault(product.code, ProductRules(code=product.code, kind=product.kind))
    messages = check_product_set([product.code for product in products], rules)
    if messages:
        raise ServiceError(f"{field}: " + "; ".join(messages), field=field, code="rules")
