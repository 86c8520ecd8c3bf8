"""Changing one entity at a time, for forms and the API, with the file's exact validation.

Each service takes the brand's catalogue as it is on the effective date (the same tree an
export writes), puts the one change in it and applies that, so a form is checked by the same
code and in the same words as `telora config apply`, and references from other entities are
checked too. Errors of the entity itself come back with paths relative to it (`rates[2].zone`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from telora.catalog.constants import PRICE, RECURRING
from telora.catalog.export import export_tree
from telora.catalog.schema.context import ENTITIES
from telora.catalog.schema.errors import CatalogError
from telora.catalog.services.apply import ApplyResult, apply_catalog
from telora.catalog.services.common import MODELS, require
from telora.core import clock
from telora.core.services import Actor, ServiceError


def _relative(errors, prefix: str) -> list[tuple[str, str]]:
    out = []
    for path, message in errors:
        if path == prefix:
            out.append(("", message))
        elif path.startswith(prefix + ".") or path.startswith(prefix + "["):
            out.append((path[len(prefix):].lstrip("."), message))
        else:
            out.append((path, message))
    return out


def _apply(tree: dict, brand, *, actor: Actor, at: dt.datetime, day: dt.date, prefix: str) -> ApplyResult:
    try:
        return apply_catalog(tree, actor=actor, at=at, effective_from=day, perm="catalog.change",
                             summary_event=False)
    except CatalogError as exc:
        raise CatalogError(_relative(exc.errors, prefix)) from None


def _start(brand, actor: Actor, effective_from: dt.date | None) -> tuple[dt.date, dict]:
    require(actor, brand, "catalog.change")
    day = effective_from or clock.today(brand)
    return day, export_tree(brand, day)


def _find(items: list, code, section: str) -> int:
    index = next((i for i, item in enumerate(items) if item.get("code") == code), None)
    if index is None:
        raise ServiceError(f"code: unknown {ENTITIES[section]} {code!r}", field="code", code="not_found")
    return index


def save_entity(brand, section: str, data: dict, *, actor: Actor, at: dt.datetime,
                effective_from: dt.date | None = None):
    """Create or update one entity of `section` from YAML-shaped `data`; returns its row."""
    if section not in ENTITIES:
        raise ServiceError(f"unknown catalogue section {section!r}")
    day, tree = _start(brand, actor, effective_from)
    code = data.get("code") if isinstance(data, dict) else None
    items = tree[section]
    index = next((i for i, item in enumerate(items) if item.get("code") == code), len(items))
    items[index:index + 1] = [data]
    _apply(tree, brand, actor=actor, at=at, day=day, prefix=f"{section}[{index}]")
    return MODELS[section].objects.get(brand=brand, code=code)


def close_entity(brand, section: str, code: str, *, actor: Actor, at: dt.datetime,
                 effective_from: dt.date | None = None) -> ApplyResult:
    """End an entity (and its prices or rates) from the effective date; refused while others use it."""
    day, tree = _start(brand, actor, effective_from)
    del tree[section][_find(tree[section], code, section)]
    return _apply(tree, brand, actor=actor, at=at, day=day, prefix="")


def _amount(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    return value  # ints pass; floats are refused by validation with a clear message


def set_price(brand, product: str, charge: str, amount, *, actor: Actor, at: dt.datetime,
              effective_from: dt.date | None = None) -> ApplyResult:
    """Give a product's charge ("recurring", "price" or a one-time code) a new amount from the
    effective date (None ends the price). Earlier prices stay as they were."""
    day, tree = _start(brand, actor, effective_from)
    index = _find(tree["products"], product, "products")
    item = dict(tree["products"][index])
    if charge in (RECURRING, PRICE):
        item[charge] = _amount(amount)
    else:
        charges = [dict(c) for c in item.get("one_time", [])]
        found = next((c for c in charges if c["code"] == charge), None)
        if found is None:
            raise ServiceError(f"charge: product {product} has no charge {charge!r}", field="charge")
        found["price"] = _amount(amount)
        item["one_time"] = charges
    tree["products"][index] = item
    return _apply(tree, brand, actor=actor, at=at, day=day, prefix=f"products[{index}]")


def save_rate(brand, rate_plan: str, data: dict, *, actor: Actor, at: dt.datetime,
              effective_from: dt.date | None = None) -> ApplyResult:
    """Add or change one rate of a rate plan (matched on service, zone and band) from a date."""
    day, tree = _start(brand, actor, effective_from)
    index = _find(tree["rate_plans"], rate_plan, "rate_plans")
    plan = dict(tree["rate_plans"][index])
    rates = list(plan.get("rates", []))
    key = (data.get("service"), data.get("zone"), data.get("band")) if isinstance(data, dict) else None
    position = next((i for i, r in enumerate(rates) if (r["service"], r["zone"], r.get("band")) == key), len(rates))
    rates[position:position + 1] = [data]
    plan["rates"] = rates
    tree["rate_plans"][index] = plan
    return _apply(tree, brand, actor=actor, at=at, day=day, prefix=f"rate_plans[{index}].rates[{position}]")


def remove_rate(brand, rate_plan: str, service: str, zone: str, band: str | None = None, *, actor: Actor,
                at: dt.datetime, effective_from: dt.date | None = None) -> ApplyResult:
    day, tree = _start(brand, actor, effective_from)
    index = _find(tree["rate_plans"], rate_plan, "rate_plans")
    plan = dict(tree["rate_plans"][index])
    rates = [r for r in plan.get("rates", []) if (r["service"], r["zone"], r.get("band")) != (service, zone, band)]
    if len(rates) == len(plan.get("rates", [])):
        raise ServiceError(f"rates: {rate_plan} has no {service} rate for {zone}" + (f" {band}" if band else ""))
    plan["rates"] = rates
    tree["rate_plans"][index] = plan
    return _apply(tree, brand, actor=actor, at=at, day=day, prefix=f"rate_plans[{index}]")


def _override_key(item) -> tuple:
    return (item.get("rate_plan"), item.get("service"), item.get("zone"), item.get("band"))


def save_rate_override(brand, customer_group: str, data: dict, *, actor: Actor, at: dt.datetime,
                       effective_from: dt.date | None = None) -> ApplyResult:
    """Add or change one rate override of a customer group (matched on rate plan, service, zone
    and band) from a date; `data` is YAML-shaped (price, unit, increments… or discount)."""
    day, tree = _start(brand, actor, effective_from)
    index = _find(tree["customer_groups"], customer_group, "customer_groups")
    group = dict(tree["customer_groups"][index])
    overrides = list(group.get("rate_overrides", []))
    key = _override_key(data) if isinstance(data, dict) else None
    position = next((i for i, o in enumerate(overrides) if _override_key(o) == key), len(overrides))
    overrides[position:position + 1] = [data]
    group["rate_overrides"] = overrides
    tree["customer_groups"][index] = group
    return _apply(tree, brand, actor=actor, at=at, day=day,
                  prefix=f"customer_groups[{index}].rate_overrides[{position}]")


def remove_rate_override(brand, customer_group: str, rate_plan: str | None, service: str, zone: str,
                         band: str | None = None, *, actor: Actor, at: dt.datetime,
                         effective_from: dt.date | None = None) -> ApplyResult:
    """End one of a customer group's rate overrides from a date (earlier versions stay)."""
    day, tree = _start(brand, actor, effective_from)
    index = _find(tree["customer_groups"], customer_group, "customer_groups")
    group = dict(tree["customer_groups"][index])
    overrides = [o for o in group.get("rate_overrides", []) if _override_key(o) != (rate_plan, service, zone, band)]
    if len(overrides) == len(group.get("rate_overrides", [])):
        raise ServiceError(f"rate_overrides: {customer_group} has no {service} override for {zone}"
                           + (f" {band}" if band else "") + (f" on {rate_plan}" if rate_plan else ""))
    group["rate_overrides"] = overrides
    tree["customer_groups"][index] = group
    return _apply(tree, brand, actor=actor, at=at, day=day, prefix=f"customer_groups[{index}]")


def set_shares(brand, shared_with: list[str], *, actor: Actor, at: dt.datetime) -> ApplyResult:
    """Share the brand's catalogue with exactly these brands (codes)."""
    day, tree = _start(brand, actor, None)
    tree["brand"]["shared_with"] = list(shared_with)
    return _apply(tree, brand, actor=actor, at=at, day=day, prefix="brand")


def _saver(section: str):
    def save(brand, data: dict, *, actor: Actor, at: dt.datetime, effective_from: dt.date | None = None):
        return save_entity(brand, section, data, actor=actor, at=at, effective_from=effective_from)

    save.__name__ = f"save_{section}"
    save.__doc__ = f"Create or update one {ENTITIES[section]} (YAML-shaped `data`); returns its row."
    return save


save_tax = _saver("taxes")
save_bill_cycle = _saver("bill_cycles")
save_billing_group = _saver("billing_groups")
save_zone = _saver("zones")
save_time_band_set = _saver("time_bands")
save_rate_plan = _saver("rate_plans")
save_bundle = _saver("bundles")
save_product = _saver("products")
save_discount = _saver("discounts")
save_customer_group = _saver("customer_groups")
save_sales_channel = _saver("sales_channels")
save_price_list = _saver("price_lists")
save_sim_type = _saver("sim_types")
