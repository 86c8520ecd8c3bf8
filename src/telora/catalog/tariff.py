"""The compiled tariff: what the rating engine is handed. Standard library only (dataclasses,
Decimal), so the engine never touches Django. Built by `telora.catalog.selectors.compile_tariff`.

The helpers encode the file's rating semantics: the longest matching prefix gives the first
zone to try and shorter ones follow; data zones come from the subscriber's country, "*"
catching any other; the first band whose days and hours match wins, the default band the rest;
a rate for the record's band wins over a rate for every band.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Zone:
    code: str
    name: str
    prefixes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Band:
    band: str
    days: frozenset[int]  # 0 = Monday, as date.weekday()
    start: int  # minutes from midnight, inclusive
    end: int  # minutes from midnight, exclusive (1440 = midnight)
    default: bool = False

    def matches(self, weekday: int, minute: int) -> bool:
        return not self.default and weekday in self.days and self.start <= minute < self.end


@dataclass(frozen=True)
class TimeBands:
    code: str
    bands: tuple[Band, ...]

    def band_at(self, weekday: int, minute: int) -> str | None:
        """The band of a record starting at `minute` of a day (local time of the brand)."""
        for band in self.bands:
            if band.matches(weekday, minute):
                return band.band
        return next((band.band for band in self.bands if band.default), None)


@dataclass(frozen=True)
class Rate:
    service: str
    zone: str
    band: str | None  # None: every band
    price: Decimal
    unit: int
    first: int
    next: int
    setup: Decimal = Decimal(0)
    minimum: Decimal = Decimal(0)


@dataclass(frozen=True)
class RatePlan:
    code: str
    time_bands: str | None
    rates: tuple[Rate, ...]

    def rate_for(self, service: str, zone: str, band: str | None) -> Rate | None:
        fallback = None
        for rate in self.rates:
            if rate.service == service and rate.zone == zone:
                if rate.band is not None and rate.band == band:
                    return rate
                if rate.band is None:
                    fallback = rate
        return fallback


@dataclass(frozen=True)
class Allowance:
    service: str
    zones: frozenset[str]  # empty: every zone
    amount: int  # seconds, messages or bytes


@dataclass(frozen=True)
class Bundle:
    code: str
    period: str  # bill_cycle, month, once
    allowances: tuple[Allowance, ...]


@dataclass(frozen=True)
class Product:
    code: str
    kind: str
    service_type: str | None
    rate_plan: str | None
    bundles: tuple[str, ...]
    recurring: Decimal | None
    price: Decimal | None
    one_time: dict[str, Decimal]
    commitment_months: int
    tax: str | None
    sellable: bool
    attributes: dict
    low_balance_threshold: Decimal | None = None  # a prepaid plan's own; None: the brand's


@dataclass(frozen=True)
class Discount:
    code: str
    applies_to: str  # usage, recurring
    percent: Decimal
    services: frozenset[str]
    zones: frozenset[str]  # empty: every zone
    products: frozenset[str]
    months: int | None


@dataclass(frozen=True)
class RateOverride:
    """A customer group's override in effect on the tariff's day, as the engine reads it
    (`telora.rating.engine.overrides`): `key` names it in rated records ("group:BUSINESS");
    `price` (with unit and increments) replaces the rate, else `percent` comes off the charge."""

    key: str
    service: str
    zone: str
    rate_plan: str | None = None
    band: str | None = None
    price: Decimal | None = None
    unit: int = 1
    first: int = 1
    next: int = 1
    setup: Decimal = Decimal(0)
    minimum: Decimal = Decimal(0)
    percent: Decimal | None = None


@dataclass(frozen=True)
class Tax:
    code: str
    percent: Decimal
    default: bool


@dataclass(frozen=True)
class Tariff:
    brand: str
    currency: str
    timezone: str
    at: dt.date
    zones: dict[str, Zone] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)  # prefix -> zone code
    countries: dict[str, str] = field(default_factory=dict)  # country ("*" too) -> zone code
    time_bands: dict[str, TimeBands] = field(default_factory=dict)
    rate_plans: dict[str, RatePlan] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    discounts: dict[str, Discount] = field(default_factory=dict)
    taxes: dict[str, Tax] = field(default_factory=dict)
    group_overrides: dict[str, tuple[RateOverride, ...]] = field(default_factory=dict)  # customer group -> its own

    def destination_zones(self, number: str) -> list[str]:
        """Zones of the prefixes matching an E.164 number (digits only), longest prefix first."""
        digits = number.lstrip("+")
        if digits.startswith("00"):
            digits = digits[2:]
        return [self.prefixes[digits[:n]] for n in range(len(digits), 0, -1) if digits[:n] in self.prefixes]

    def data_zone(self, country: str) -> str | None:
        return self.countries.get(country) or self.countries.get("*")

    def find_rate(self, plan: str, service: str, zones: list[str], band: str | None) -> Rate | None:
        """The first zone (in the order given) that has a rate in the plan decides."""
        rate_plan = self.rate_plans.get(plan)
        for zone in zones if rate_plan else ():
            rate = rate_plan.rate_for(service, zone, band)
            if rate is not None:
                return rate
        return None
