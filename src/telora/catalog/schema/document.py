"""Cleaning a whole catalogue file: version, brand, then every section in dependency order.

A section the file leaves out is left as it is in the database (its codes still resolve
references); a section that is present, even empty, is the complete list for the brand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from telora.catalog.schema import config, products, rating
from telora.catalog.schema.context import ENTITIES, SECTIONS, Context
from telora.catalog.schema.errors import Errors, join
from telora.catalog.schema.values import MISSING, Reader, as_list, type_name
from telora.core.models.brands import (
    validate_country,
    validate_currency,
    validate_language,
    validate_timezone,
)

VERSION = 1
BRAND_CODE = re.compile(r"[-a-zA-Z0-9_]{1,32}")
BRAND_FIELDS = ("code", "name", "currency", "timezone", "country", "language", "shared_with")
BRAND_VALIDATORS = {"currency": validate_currency, "timezone": validate_timezone, "country": validate_country,
                    "language": validate_language}

CLEANERS: dict[str, Callable] = {
    "taxes": config.clean_tax,
    "bill_cycles": config.clean_bill_cycle,
    "billing_groups": config.clean_billing_group,
    "zones": rating.clean_zone,
    "time_bands": rating.clean_time_band_set,
    "rate_plans": rating.clean_rate_plan,
    "bundles": rating.clean_bundle,
    "products": products.clean_product,
    "discounts": products.clean_discount,
    "customer_groups": config.clean_customer_group,
    "sales_channels": config.clean_sales_channel,
    "price_lists": products.clean_price_list,
    "sim_types": config.clean_sim_type,
}
SECTION_CHECKS = {"taxes": config.check_taxes, "sales_channels": config.check_sales_channels}


@dataclass
class Baseline:
    """What the database holds for the file's brand: its fields (None if it does not exist yet),
    its catalogue in the file's shape (to check what the file leaves out against what it
    changes), the other brands' codes, and whether it already has prices."""

    brand: dict | None = None
    sections: dict[str, list] = field(default_factory=dict)
    other_brands: set[str] = field(default_factory=set)
    has_prices: bool = False


@dataclass
class Document:
    brand: dict
    sections: dict[str, dict[str, dict] | None]  # None: not in the file, left as it is


def _clean_brand(data, load: Callable[[str], Baseline], errors: Errors) -> tuple[dict, Baseline]:
    r = Reader(data, "brand", errors, BRAND_FIELDS)
    code = r.get("code", required=True)
    if code is not MISSING and not (isinstance(code, str) and BRAND_CODE.fullmatch(code)):
        errors.add("brand.code", f"bad brand code {code!r} (letters, digits, '-', '_'; at most 32)")
        code = MISSING
    baseline = load(code) if isinstance(code, str) else Baseline()
    creating = baseline.brand is None
    spec: dict = {"code": code if isinstance(code, str) else None}
    for key in BRAND_FIELDS[1:-1]:
        value = r.get(key, required=creating and r.ok and spec["code"] is not None)
        if value is MISSING or value is None:
            spec[key] = None
            continue
        if not isinstance(value, str) or not value.strip():
            errors.add(r.at(key), f"expected text, got {type_name(value)}")
            value = None
        elif key in BRAND_VALIDATORS:
            try:
                BRAND_VALIDATORS[key](value)
            except ValidationError as exc:
                errors.add(r.at(key), exc.messages[0])
                value = None
        spec[key] = value
    existing = baseline.brand or {}
    if spec["currency"] and existing.get("currency") not in (None, spec["currency"]) and baseline.has_prices:
        errors.add("brand.currency", f"cannot change {existing['currency']} to {spec['currency']}: the catalogue "
                                     f"already has prices in {existing['currency']}")
    spec["shared_with"] = None
    if r.get("shared_with") is not None:
        shared: list[str] = []
        for item, at in r.items("shared_with"):
            if item == spec["code"]:
                errors.add(at, "a brand does not share with itself")
            elif item not in baseline.other_brands:
                errors.add(at, f"unknown brand {item!r}")
            elif item in shared:
                errors.add(at, f"{item!r} is listed twice")
            else:
                shared.append(item)
        spec["shared_with"] = sorted(shared)
    return spec, baseline


def clean_document(data, load: Callable[[str], Baseline]) -> tuple[Document | None, Errors]:
    """Validate a parsed catalogue file. `load(brand_code)` tells what the database holds."""
    errors = Errors()
    if not isinstance(data, dict):
        errors.add("", f"a catalogue file is a mapping with version, brand and sections, got {type_name(data)}")
        return None, errors
    for key in data:
        if key not in ("version", "brand", *SECTIONS):
            errors.add(str(key), f"unknown section (known: version, brand, {', '.join(SECTIONS)})")
    if data.get("version") != VERSION:
        errors.add("version", f"required: {VERSION}" if "version" not in data else
                   f"unsupported version {data['version']!r} (this Telora reads version {VERSION})")
    if data.get("brand") is None:
        errors.add("brand", "required: the brand this catalogue belongs to")
        return None, errors
    brand, baseline = _clean_brand(data["brand"], load, errors)
    ctx = Context()
    present, kept = {}, set()
    for section in SECTIONS:
        if section in data:
            present[section] = as_list(data[section] if data[section] is not None else [], section, errors) or []
        else:  # left as it is, but checked: what the file changes must not break it
            present[section] = baseline.sections.get(section, [])
            kept.add(section)
        ctx.known[section] = {item["code"]: {} for item in present[section]
                              if isinstance(item, dict) and isinstance(item.get("code"), str)}
    sections: dict[str, dict[str, dict] | None] = {section: None for section in SECTIONS}
    for section, items in present.items():
        before = len(errors)
        if section == "zones":
            ctx.prefix_owner, ctx.country_owner = {}, {}
        specs, paths = {}, {}
        for index, item in enumerate(items):
            path = join(section, index)
            spec = CLEANERS[section](item, path, ctx, errors)
            code = spec.get("code") if spec else None
            if code is None:
                continue
            if code in specs:
                errors.add(join(path, "code"), f"duplicate code {code!r} (also at {paths[code]})")
                continue
            specs[code], paths[code] = spec, path
            ctx.register(section, spec)
        if section in SECTION_CHECKS:
            SECTION_CHECKS[section](specs, paths, errors)
        if section in kept:
            errors.items[before:] = [(path, f"{message} (the file has no {section}: this is the database's)")
                                     for path, message in errors.items[before:]]
        else:
            sections[section] = specs
    return Document(brand=brand, sections=sections), errors


__all__ = ["Baseline", "CLEANERS", "Document", "ENTITIES", "SECTIONS", "clean_document"]
