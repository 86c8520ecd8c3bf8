"""Pure helpers for the rating tests: the reference catalogue as a compiled tariff, built straight
from docs/examples/catalog.yaml (the catalogue's own compile path reads the database), and
builders for small hand-made tariffs and records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from telora.catalog import tariff as t
from telora.catalog.yamlio import load
from telora.rating.engine import Rater, UsageRecord

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"  # the reference files, kept in the repo
CATALOG = EXAMPLES / "catalog.yaml"
CDRS = EXAMPLES / "cdrs.csv"
ASTERISK = EXAMPLES / "asterisk-Master.csv"

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _band(spec: dict) -> t.Band:
    if spec.get("default"):
        return t.Band(spec["band"], frozenset(), 0, 1440, True)
    return t.Band(spec["band"], frozenset(DAYS.index(d) for d in spec["days"]), _minutes(spec.get("from", "00:00")),
                  _minutes(spec.get("to", "24:00")))


def _rate(spec: dict) -> t.Rate:
    first, following = spec["increments"]
    return t.Rate(spec["service"], spec["zone"], spec.get("band"), Decimal(spec["price"]), spec["unit"], first,
                  following, Decimal(spec.get("setup", "0")), Decimal(spec.get("minimum", "0")))


def tariff_from_document(doc: dict, at: dt.date = dt.date(2026, 10, 1)) -> t.Tariff:
    """The same shape `telora.catalog.selectors.compile_tariff` builds, from a YAML document."""
    zones = {z["code"]: t.Zone(z["code"], z["name"], tuple(z.get("prefixes", ())), tuple(z.get("countries", ())))
             for z in doc.get("zones", [])}
    brand = doc["brand"]
    return t.Tariff(
        brand=brand["code"], currency=brand["currency"], timezone=brand["timezone"], at=at, zones=zones,
        prefixes={p: z.code for z in zones.values() for p in z.prefixes},
        countries={c: z.code for z in zones.values() for c in z.countries},
        time_bands={s["code"]: t.TimeBands(s["code"], tuple(_band(b) for b in s["bands"]))
                    for s in doc.get("time_bands", [])},
        rate_plans={p["code"]: t.RatePlan(p["code"], p.get("time_bands"), tuple(_rate(r) for r in p["rates"]))
                    for p in doc.get("rate_plans", [])},
        bundles={b["code"]: t.Bundle(b["code"], b["period"], tuple(
            t.Allowance(a["service"], frozenset(a.get("zones", ())), a["amount"]) for a in b["allowances"]))
            for b in doc.get("bundles", [])},
        products={p["code"]: t.Product(
            p["code"], p["kind"], p.get("service_type"), p.get("rate_plan"), tuple(p.get("bundles", ())),
            Decimal(p["recurring"]) if "recurring" in p else None, Decimal(p["price"]) if "price" in p else None,
            {c["code"]: Decimal(c["price"]) for c in p.get("one_time", ())}, p.get("commitment_months", 0),
            p.get("tax"), True, dict(p.get("attributes", {}))) for p in doc.get("products", [])},
        discounts={d["code"]: t.Discount(d["code"], d["applies_to"], Decimal(d["percent"]),
                                         frozenset(d.get("services", ())), frozenset(d.get("zones", ())),
                                         frozenset(d.get("products", ())), d.get("months"))
                   for d in doc.get("discounts", [])},
        taxes={x["code"]: t.Tax(x["code"], Decimal(x["percent"]), bool(x.get("default"))) for x in doc.get("taxes", [])},
        group_overrides={g["code"]: tuple(_override(g["code"], o) for o in g["rate_overrides"])
                         for g in doc.get("customer_groups", []) if g.get("rate_overrides")},
    )


def _override(group: str, spec: dict) -> t.RateOverride:
    first, following = spec.get("increments", (1, 1))
    price = Decimal(spec["price"]) if "price" in spec else None
    return t.RateOverride(f"group:{group}", spec["service"], spec["zone"], spec.get("rate_plan"), spec.get("band"),
                          price, spec.get("unit", 1), first, following, Decimal(spec.get("setup", "0")),
                          Decimal(spec.get("minimum", "0")),
                          Decimal(spec["discount"]) if "discount" in spec else None)


def reference_tariff() -> t.Tariff:
    return tariff_from_document(load(CATALOG.read_text()))


# ---- builders for hand-made tariffs and records ----------------------------------------------

CPH = ZoneInfo("Europe/Copenhagen")
SUB = "4520000001"


def at(text: str) -> dt.datetime:
    """A Copenhagen wall-clock time: at('2026-10-05 09:15')."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CPH)


def voice(record_id, b_number, start, seconds, a_number=SUB, **extra) -> UsageRecord:
    return UsageRecord(record_id, "voice", a_number, b_number, at(start) if isinstance(start, str) else start,
                       duration=seconds, **extra)


def sms(record_id, b_number, start, count=1, a_number=SUB) -> UsageRecord:
    return UsageRecord(record_id, "sms", a_number, b_number, at(start), quantity=count)


def data(record_id, start, volume, location="", a_number=SUB) -> UsageRecord:
    return UsageRecord(record_id, "data", a_number, "", at(start), volume=volume, location=location)


def rate(service, zone, price, unit=60, increments=(1, 1), band=None, setup="0", minimum="0") -> t.Rate:
    return t.Rate(service, zone, band, Decimal(price), unit, increments[0], increments[1], Decimal(setup),
                  Decimal(minimum))


def product(code, rate_plan="PLAN", bundles=(), kind="plan") -> t.Product:
    return t.Product(code, kind, None, rate_plan, tuple(bundles), None, None, {}, 0, None, True, {})


def bundle(code, period, *allowances) -> t.Bundle:
    return t.Bundle(code, period, tuple(t.Allowance(service, frozenset(zones), amount)
                                        for service, zones, amount in allowances))


WEEK = t.TimeBands("WEEK", (t.Band("PEAK", frozenset(range(5)), 8 * 60, 18 * 60),
                            t.Band("OFFPEAK", frozenset(), 0, 1440, True)))
ZONES = {
    "DK": t.Zone("DK", "Denmark", ("45",)),
    "DK_MOBILE": t.Zone("DK_MOBILE", "Danish mobiles", ("452", "4530")),
    "SPECIAL": t.Zone("SPECIAL", "A zone no plan rates", ("4599",)),
    "EU": t.Zone("EU", "EU", ("46", "49")),
    "WORLD": t.Zone("WORLD", "World", ("1", "4")),
    "HOME": t.Zone("HOME", "Home", (), ("DK",)),
    "EU_ROAM": t.Zone("EU_ROAM", "EU roaming", (), ("SE", "DE")),
    "WORLD_ROAM": t.Zone("WORLD_ROAM", "Elsewhere", (), ("*",)),
}


def make_tariff(rates, *, bundles=(), products=None, discounts=(), time_bands=True) -> t.Tariff:
    """A tariff with one rate plan PLAN holding `rates`, zones as in ZONES, and product P (the
    plan) unless `products` are given."""
    return t.Tariff(
        brand="TEST", currency="DKK", timezone="Europe/Copenhagen", at=dt.date(2026, 1, 1), zones=ZONES,
        prefixes={p: z.code for z in ZONES.values() for p in z.prefixes},
        countries={c: z.code for z in ZONES.values() for c in z.countries},
        time_bands={"WEEK": WEEK},
        rate_plans={"PLAN": t.RatePlan("PLAN", "WEEK" if time_bands else None, tuple(rates))},
        bundles={b.code: b for b in bundles},
        products={p.code: p for p in (products or [product("P")])},
        discounts={d.code: d for d in discounts},
    )


def rater_for(rates, **kwargs) -> Rater:
    threshold = kwargs.pop("low_balance_threshold", Decimal(5))
    return Rater(make_tariff(rates, **kwargs), home_country="DK", low_balance_threshold=threshold)
