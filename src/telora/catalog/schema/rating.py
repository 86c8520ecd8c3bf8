"""Cleaning zones, time bands, rate plans with their rates, and bundles."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError

from telora.catalog.constants import (
    ANY_COUNTRY,
    BUNDLE_PERIODS,
    COUNTRY_SERVICES,
    DAYS,
    DESTINATION_SERVICES,
    MINUTES_PER_DAY,
    SERVICES,
)
from telora.catalog.schema.context import Context
from telora.catalog.schema.errors import Errors, join
from telora.catalog.schema.values import MISSING, Reader, as_choice, as_code, as_int, as_minutes
from telora.core.models.brands import validate_country

PREFIX = re.compile(r"[0-9]{1,15}")


def rate_key(rate: dict) -> tuple:
    return (SERVICES.index(rate["service"]), rate["zone"], rate["band"] or "")


def _zone_items(r: Reader, key: str, label: str, code, owners: dict[str, str], check, errors: Errors) -> list[str]:
    found: list[str] = []
    for item, path in r.items(key):
        value = check(item, path)
        if value is None:
            continue
        if value in found:
            errors.add(path, f"{value!r} is listed twice")
            continue
        owner = owners.get(value)
        if owner is not None and owner != code:
            errors.add(path, f"{label} {value!r} is already in zone {owner}")
            continue
        found.append(value)
    for value in found:
        owners[value] = code
    return sorted(found)


def clean_zone(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "prefixes", "countries"))
    code = r.code()

    def prefix(item, at):
        if isinstance(item, str) and PREFIX.fullmatch(item):
            return item
        errors.add(at, f"bad prefix {item!r}: write E.164 digits in quotes, e.g. \"45\"")
        return None

    def country(item, at):
        if item == ANY_COUNTRY:
            return item
        try:
            validate_country(item if isinstance(item, str) else "")
        except ValidationError:
            errors.add(at, f"bad country {item!r}: an ISO 3166 code such as DK, or \"*\" for any other")
            return None
        return item

    spec = {
        "code": code,
        "name": r.text(),
        "prefixes": _zone_items(r, "prefixes", "prefix", code, ctx.prefix_owner, prefix, errors),
        "countries": _zone_items(r, "countries", "country", code, ctx.country_owner, country, errors),
    }
    if r.ok and not r.data.get("prefixes") and not r.data.get("countries"):
        errors.add(path, "give prefixes (destinations) or countries (data), or both")
    return spec


def clean_time_band_set(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "bands"))
    bands = []
    items = r.items("bands")
    if r.ok and not items:
        errors.add(r.at("bands"), "give at least one band")
    for item, at in items:
        b = Reader(item, at, errors, ("band", "days", "from", "to", "default"))
        name, is_default = b.code("band"), b.boolean("default")
        if is_default:
            for key in ("days", "from", "to"):
                if key in b.data:
                    errors.add(b.at(key), "the default band takes no days or hours")
            bands.append({"band": name, "days": [], "from": 0, "to": MINUTES_PER_DAY, "default": True})
            continue
        days: list[str] = []
        for day, day_path in b.items("days"):
            if as_choice(day, day_path, errors, DAYS, what="day") and day in days:
                errors.add(day_path, f"{day!r} is listed twice")
            elif day in DAYS:
                days.append(day)
        if b.ok and not b.data.get("days"):
            errors.add(b.at("days"), "required (or make this the default band)")
        start = as_minutes(b.get("from", "00:00"), b.at("from"), errors)
        end = as_minutes(b.get("to", "24:00"), b.at("to"), errors)
        if start is not None and end is not None and start >= end:
            errors.add(b.at("to"), "must be after from (split a band that crosses midnight in two)")
        bands.append({"band": name, "days": sorted(days, key=DAYS.index), "from": start, "to": end,
                      "default": False})
    if sum(band["default"] for band in bands) > 1:
        errors.add(r.at("bands"), "at most one band can be the default")
    return {"code": r.code(), "name": r.text(), "bands": bands}


def _zone_fits(service: str | None, zone: str | None, ctx: Context, path: str, errors: Errors) -> None:
    info = ctx.info("zones", zone)
    if service in DESTINATION_SERVICES and info.get("prefixes") is False:
        errors.add(path, f"zone {zone} has no prefixes: {service} is rated by destination")
    elif service in COUNTRY_SERVICES and info.get("countries") is False:
        errors.add(path, f"zone {zone} has no countries: {service} is rated by the country the subscriber is in")


def _increments(value, path: str, errors: Errors) -> list[int] | None:
    if value is MISSING:
        return None
    if not isinstance(value, list) or len(value) != 2:
        errors.add(path, "bad increments: write [first, next] in seconds, messages or bytes, e.g. [60, 1]")
        return None
    first = as_int(value[0], join(path, 0), errors, minimum=0)
    following = as_int(value[1], join(path, 1), errors, minimum=1)
    return None if first is None or following is None else [first, following]


def clean_rate(data, path: str, ctx: Context, errors: Errors, *, band_set: str | None) -> dict:
    q = Reader(data, path, errors, ("service", "zone", "band", "price", "unit", "increments", "setup", "minimum"))
    service = q.choice("service", SERVICES, what="service")
    zone = ctx.ref("zones", q.get("zone", required=True), q.at("zone"), errors)
    _zone_fits(service, zone, ctx, q.at("zone"), errors)
    band = q.get("band")
    if band is not None:
        band = as_code(band, q.at("band"), errors)
        known = ctx.info("time_bands", band_set).get("bands", [])
        if band is not None and band_set is None:
            errors.add(q.at("band"), f"unknown band {band!r}: the rate plan has no time_bands")
        elif band is not None and band not in known:
            errors.add(q.at("band"), f"unknown band {band!r} (time bands {band_set} has: {', '.join(known)})")
    return {
        "service": service,
        "zone": zone,
        "band": band,
        "price": q.decimal("price", required=True),
        "unit": q.integer("unit", required=True, minimum=1),
        "increments": _increments(q.get("increments", required=True), q.at("increments"), errors),
        "setup": q.decimal("setup") or Decimal(0),
        "minimum": q.decimal("minimum") or Decimal(0),
    }


def clean_rate_plan(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "time_bands", "rates"))
    band_set = ctx.ref("time_bands", r.get("time_bands"), r.at("time_bands"), errors)
    band_set_failed = r.get("time_bands") is not None and band_set is None
    rates: dict[tuple, dict] = {}
    for item, at in r.items("rates"):
        before = len(errors)
        rate = clean_rate(item, at, ctx, errors, band_set=band_set)
        if band_set_failed:  # the unknown set is reported once, not again for every band
            errors.items[before:] = [e for e in errors.items[before:] if not e[0].endswith(".band")]
        if rate["service"] is None or rate["zone"] is None:
            continue
        key = (rate["service"], rate["zone"], rate["band"])
        if key in rates:
            errors.add(at, f"a second {rate['service']} rate for zone {rate['zone']}"
                           + (f" in band {rate['band']}" if rate["band"] else ""))
            continue
        rates[key] = rate
    return {"code": r.code(), "name": r.text(), "time_bands": band_set,
            "rates": sorted(rates.values(), key=rate_key)}


def clean_bundle(data, path: str, ctx: Context, errors: Errors) -> dict:
    r = Reader(data, path, errors, ("code", "name", "period", "allowances"))
    allowances = []
    for item, at in r.items("allowances"):
        a = Reader(item, at, errors, ("service", "zones", "amount"))
        service = a.choice("service", SERVICES, what="service")
        zones = ctx.refs("zones", a.get("zones", []), a.at("zones"), errors)
        for index, zone in enumerate(zones):
            _zone_fits(service, zone, ctx, join(a.at("zones"), index), errors)
        allowances.append({"service": service, "zones": zones,
                           "amount": a.integer("amount", required=True, minimum=1)})
    if r.ok and not allowances:
        errors.add(r.at("allowances"), "give at least one allowance")
    return {"code": r.code(), "name": r.text(), "period": r.choice("period", BUNDLE_PERIODS, what="period"),
            "allowances": allowances}


OVERRIDE_FIELDS = ("rate_plan", "service", "zone", "band", "price", "unit", "increments", "setup", "minimum",
                   "discount")


def override_key(override: dict) -> tuple:
    return (override["rate_plan"] or "", SERVICES.index(override["service"]), override["zone"],
            override["band"] or "")


def clean_rate_override(data, path: str, ctx: Context, errors: Errors) -> dict:
    """One rate override of a customer group: where (rate plan or every plan, service, zone, band)
    and what (a replacement rate shaped as a plan rate, or a `discount` percent off usage)."""
    q = Reader(data, path, errors, OVERRIDE_FIELDS)
    rate_plan = ctx.ref("rate_plans", q.get("rate_plan"), q.at("rate_plan"), errors)
    service = q.choice("service", SERVICES, what="service")
    zone = ctx.ref("zones", q.get("zone", required=True), q.at("zone"), errors)
    _zone_fits(service, zone, ctx, q.at("zone"), errors)
    band = q.get("band")
    if band is not None:
        band = as_code(band, q.at("band"), errors)
        if rate_plan is not None:
            band_set = ctx.info("rate_plans", rate_plan).get("time_bands")
            known = ctx.info("time_bands", band_set).get("bands", [])
            if band is not None and band not in known:
                errors.add(q.at("band"), f"unknown band {band!r}: rate plan {rate_plan} has "
                                         + (f"bands {', '.join(known)}" if known else "no time bands"))
        elif band is not None and not any(band in info.get("bands", []) for info in ctx.known["time_bands"].values()):
            errors.add(q.at("band"), f"unknown band {band!r}: no time band set has it")
    spec = {"rate_plan": rate_plan, "service": service, "zone": zone, "band": band, "price": None, "unit": None,
            "increments": None, "setup": Decimal(0), "minimum": Decimal(0), "percent": None}
    priced = [key for key in ("price", "unit", "increments", "setup", "minimum") if key in q.data]
    if "discount" in q.data:
        if priced:
            errors.add(q.at(priced[0]), "give a replacement rate (price, unit, increments) or a discount, not both")
        spec["percent"] = q.decimal("discount", what="percent", minimum=Decimal(0), maximum=Decimal(100))
        return spec
    if not priced and q.ok:
        errors.add(path, "give a replacement rate (price, unit, increments) or a discount percent")
        return spec
    spec.update(price=q.decimal("price", required=True), unit=q.integer("unit", required=True, minimum=1),
                increments=_increments(q.get("increments", required=True), q.at("increments"), errors),
                setup=q.decimal("setup") or Decimal(0), minimum=q.decimal("minimum") or Decimal(0))
    return spec


def clean_rate_overrides(r: Reader, ctx: Context, errors: Errors) -> list[dict]:
    """A group's overrides, one per (rate plan, service, zone, band), sorted."""
    found: dict[tuple, dict] = {}
    for item, at in r.items("rate_overrides"):
        override = clean_rate_override(item, at, ctx, errors)
        if override["service"] is None or override["zone"] is None:
            continue
        key = override_key(override)
        if key in found:
            errors.add(at, f"a second override for {override['service']} in zone {override['zone']}"
                           + (f" in band {override['band']}" if override["band"] else "")
                           + (f" on rate plan {override['rate_plan']}" if override["rate_plan"] else " on every plan"))
            continue
        found[key] = override
    return [found[key] for key in sorted(found)]
