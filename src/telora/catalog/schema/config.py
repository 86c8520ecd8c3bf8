"""Cleaning taxes, bill cycles, billing groups, SIM types, customer groups and sales channels."""

from __future__ import annotations

from decimal import Decimal

from telora.catalog.constants import FORM_FACTORS, SALE_INTERFACES
from telora.catalog.schema.context import Context
from telora.catalog.schema.errors import Errors
from telora.catalog.schema.rating import clean_rate_overrides
from telora.catalog.schema.values import Reader


def clean_tax(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "percent", "default"))
    return {
        "code": r.code(),
        "name": r.text(),
        "percent": r.decimal("percent", required=True, what="percent", maximum=Decimal(100)),
        "default": r.boolean("default"),
    }


def check_taxes(specs: dict[str, dict], paths: dict[str, str], errors: Errors) -> None:
    defaults = [code for code, spec in specs.items() if spec["default"]]
    for code in defaults[1:]:
        errors.add(f"{paths[code]}.default", f"only one tax can be the default (also {defaults[0]})")


def clean_bill_cycle(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "anchor_day"))
    return {"code": r.code(), "name": r.text(), "anchor_day": r.integer("anchor_day", required=True, minimum=1,
                                                                       maximum=31)}


def clean_billing_group(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "bill_cycle", "description"))
    return {
        "code": r.code(),
        "name": r.text(),
        "bill_cycle": ctx.ref("bill_cycles", r.get("bill_cycle"), r.at("bill_cycle"), errors),
        "description": r.text("description", required=False, max_length=2000) or "",
    }


def clean_sim_type(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "form_factor", "description"))
    return {
        "code": r.code(),
        "name": r.text(),
        "form_factor": r.choice("form_factor", FORM_FACTORS, what="form factor"),
        "description": r.text("description", required=False, max_length=2000) or "",
    }


def clean_sales_channel(data, path: str, ctx: Context, errors: Errors) -> dict:
    """A code, a name, and the interfaces whose sales default to it (`default_for`)."""
    r = Reader(data, path, errors, ("code", "name", "default_for"))
    spec = {"code": r.code(), "name": r.text(), "default_for": []}
    if r.get("default_for") is not None:
        for item, at in r.items("default_for"):
            if item not in SALE_INTERFACES:
                errors.add(at, f"unknown interface {item!r} (known: {', '.join(SALE_INTERFACES)})")
            elif item in spec["default_for"]:
                errors.add(at, f"{item!r} is listed twice")
            else:
                spec["default_for"].append(item)
    spec["default_for"].sort()
    return spec


def check_sales_channels(specs: dict[str, dict], paths: dict[str, str], errors: Errors) -> None:
    """Each interface defaults to one channel at most, or a sale would not know which."""
    seen: dict[str, str] = {}
    for code, spec in specs.items():
        for interface in spec["default_for"]:
            if interface in seen:
                errors.add(f"{paths[code]}.default_for", f"{interface} is already the default of {seen[interface]}")
            else:
                seen[interface] = code


def clean_customer_group(data, path: str, ctx: Context, errors: Errors) -> dict:
    """A code, a name, and the group's rate overrides (found before the rate plans' own rates)."""
    r = Reader(data, path, errors, ("code", "name", "rate_overrides"))
    return {"code": r.code(), "name": r.text(), "rate_overrides": clean_rate_overrides(r, ctx, errors)}
