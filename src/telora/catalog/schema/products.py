"""Cleaning products (with charges, bundles, attributes and rules), discounts and price lists."""

from __future__ import annotations

import math
from decimal import Decimal

from telora.catalog.constants import (
    DISCOUNT_TARGETS,
    PRICED_KINDS,
    PRODUCT_KINDS,
    RECURRING,
    RECURRING_KINDS,
    RESERVED_CHARGES,
    SERVICE_TYPES,
    SERVICES,
)
from telora.catalog.schema.context import Context
from telora.catalog.schema.errors import Errors, join
from telora.catalog.schema.values import Reader, as_choice, type_name

PRODUCT_FIELDS = ("code", "name", "kind", "service_type", "sellable", "rate_plan", "tax", "recurring", "price",
                  "one_time", "bundles", "commitment_months", "low_balance_threshold", "attributes", "rules")


def _one_time(r: Reader, errors: Errors) -> list[dict]:
    charges: dict[str, dict] = {}
    for item, at in r.items("one_time"):
        c = Reader(item, at, errors, ("code", "name", "price"))
        code = c.code()
        if code in RESERVED_CHARGES:
            errors.add(c.at("code"), f"{code!r} is reserved: use the product's `{code}` field")
        elif code in charges:
            errors.add(c.at("code"), f"duplicate code {code!r}")
        charge = {"code": code, "name": c.text(), "price": c.decimal("price", required=True)}
        if code is not None and code not in charges:
            charges[code] = charge
    return [charges[code] for code in sorted(charges)]


def _json_ok(value, path: str, errors: Errors) -> None:
    """Attributes are free JSON: text, whole or finite numbers, true/false, null, lists, mappings."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                errors.add(path, f"attribute names are text, got {type_name(key)}")
            _json_ok(item, join(path, str(key)), errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_ok(item, join(path, index), errors)
    elif isinstance(value, float) and not math.isfinite(value):
        errors.add(path, "not a finite number")
    elif value is not None and not isinstance(value, str | int | float | bool):
        errors.add(path, f"unsupported value {type_name(value)}")


def _rules(r: Reader, code: str | None, ctx: Context, errors: Errors) -> dict:
    rules = {"requires_any": [], "excludes": [], "at_most": []}
    if r.get("rules") is None:
        return rules
    g = Reader(r.get("rules"), r.at("rules"), errors, tuple(rules))
    for kind in ("requires_any", "excludes"):
        rules[kind] = ctx.refs("products", g.get(kind, []), g.at(kind), errors)
        if code in rules[kind]:
            errors.add(g.at(kind), f"a product cannot {'require' if kind == 'requires_any' else 'exclude'} itself")
        if kind == "requires_any" and g.get(kind) == []:
            errors.add(g.at(kind), "give at least one product")
    limits = g.get("at_most", [])
    for item, at in [(limits, g.at("at_most"))] if isinstance(limits, dict) else g.items("at_most"):
        m = Reader(item, at, errors, ("count", "of"))
        limit = {"count": m.integer("count", required=True, minimum=0),
                 "of": ctx.refs("products", m.get("of", required=True), m.at("of"), errors)}
        if m.ok and not limit["of"] and isinstance(m.get("of"), list):
            errors.add(m.at("of"), "give at least one product")
        rules["at_most"].append(limit)
    rules["at_most"].sort(key=lambda limit: (limit["count"] or 0, limit["of"]))
    return rules


def _threshold(r: Reader, kind: str | None, service_type: str | None, errors: Errors) -> Decimal | None:
    """A prepaid plan's own low-balance threshold (empty: the brand's, from its rating settings)."""
    threshold = r.decimal("low_balance_threshold", what="threshold", maximum=Decimal("999999999999.999999"))
    if threshold is not None and kind is not None and (kind != "plan" or not (service_type or "").endswith("prepaid")):
        errors.add(r.at("low_balance_threshold"), "only a prepaid plan has a low-balance threshold")
    return threshold


def clean_product(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, PRODUCT_FIELDS)
    code, kind = r.code(), r.choice("kind", PRODUCT_KINDS, what="kind")
    service_type = r.choice("service_type", SERVICE_TYPES, what="service type", required=False)
    if kind == "plan" and r.get("service_type") is None and r.ok:
        errors.add(r.at("service_type"), f"required for a plan (one of: {', '.join(SERVICE_TYPES)})")
    recurring, price = r.decimal("recurring"), r.decimal("price")
    if recurring is not None and kind is not None and kind not in RECURRING_KINDS:
        errors.add(r.at("recurring"), f"a {kind} product has no recurring price (use price)")
    if price is not None and kind is not None and kind not in PRICED_KINDS:
        errors.add(r.at("price"), f"a {kind} product has no single price (use recurring or one_time)")
    attributes = r.get("attributes", {})
    if not isinstance(attributes, dict):
        errors.add(r.at("attributes"), f"expected a mapping, got {type_name(attributes)}")
        attributes = {}
    _json_ok(attributes, r.at("attributes"), errors)
    return {
        "code": code,
        "name": r.text(),
        "kind": kind,
        "service_type": service_type,
        "sellable": r.boolean("sellable", True),
        "rate_plan": ctx.ref("rate_plans", r.get("rate_plan"), r.at("rate_plan"), errors),
        "tax": ctx.ref("taxes", r.get("tax"), r.at("tax"), errors),
        "recurring": recurring,
        "price": price,
        "one_time": _one_time(r, errors),
        "bundles": ctx.refs("bundles", r.get("bundles", []), r.at("bundles"), errors),
        "commitment_months": r.integer("commitment_months", 0, minimum=0, maximum=120) or 0,
        "low_balance_threshold": _threshold(r, kind, service_type, errors),
        "attributes": attributes,
        "rules": _rules(r, code, ctx, errors),
    }


def clean_discount(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "applies_to", "percent", "services", "zones", "products",
                                    "months"))
    applies_to = r.choice("applies_to", DISCOUNT_TARGETS, what="target")
    percent = r.decimal("percent", required=True, what="percent", maximum=Decimal(100))
    if percent == 0:
        errors.add(r.at("percent"), "must be more than 0")
    services: list[str] = []
    for item, at in r.items("services"):
        if as_choice(item, at, errors, SERVICES, what="service") and item in services:
            errors.add(at, f"{item!r} is listed twice")
        elif item in SERVICES:
            services.append(item)
    products = ctx.refs("products", r.get("products", required=True), r.at("products"), errors)
    if r.ok and isinstance(r.get("products"), list) and not r.get("products"):
        errors.add(r.at("products"), "give at least one product")
    spec = {
        "code": r.code(),
        "name": r.text(),
        "applies_to": applies_to,
        "percent": percent,
        "services": sorted(services, key=SERVICES.index),
        "zones": ctx.refs("zones", r.get("zones", []), r.at("zones"), errors),
        "products": products,
        "months": r.integer("months", minimum=1, maximum=1200),
    }
    if applies_to == "usage":
        if r.ok and not r.data.get("services"):
            errors.add(r.at("services"), "required for a usage discount")
        if spec["months"] is not None:
            errors.add(r.at("months"), "only recurring discounts run for a number of months")
    elif applies_to == "recurring":
        for key in ("services", "zones"):
            if r.data.get(key):
                errors.add(r.at(key), "only usage discounts name services and zones")
        for index, product in enumerate(products):
            if RECURRING not in ctx.info("products", product).get("charges", [RECURRING]):
                errors.add(join(r.at("products"), index), f"product {product} has no recurring price")
    return spec


def clean_price_list(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "channel", "customer_group", "priority", "items"))
    items: dict[tuple, dict] = {}
    for item, at in r.items("items"):
        i = Reader(item, at, errors, ("product", "charge", "price"))
        product = ctx.ref("products", i.get("product", required=True), i.at("product"), errors)
        charge = i.code("charge")
        charges = ctx.info("products", product).get("charges")
        if product is not None and charge is not None and charges is not None and charge not in charges:
            errors.add(i.at("charge"), f"product {product} has no charge {charge!r} (it has: "
                                       f"{', '.join(charges) or 'none'})")
        entry = {"product": product, "charge": charge, "price": i.decimal("price", required=True)}
        if (product, charge) in items:
            errors.add(at, f"a second price for {product} {charge}")
        elif product is not None and charge is not None:
            items[(product, charge)] = entry
    return {
        "code": r.code(),
        "name": r.text(),
        "channel": ctx.ref("sales_channels", r.get("channel"), r.at("channel"), errors),
        "customer_group": ctx.ref("customer_groups", r.get("customer_group"), r.at("customer_group"), errors),
        "priority": r.integer("priority", 0, minimum=None) or 0,
        "items": [items[key] for key in sorted(items)],
    }
