"""The tariff, compiled once for fast rating.

The engine is handed a `telora.catalog.tariff.Tariff` (or any object of the same shape: it only
reads attributes, and imports nothing from the catalogue). Compiling turns it into lookups that
cost a dict access per record:

- destination zones: prefixes by length, longest first; a record only needs the first
  `max_prefix` digits of its B-number, so the rate found for those digits is cached per plan,
  service and band;
- time bands: a table of 7 x 1440 minutes per band set; the local weekday and minute of a record
  are cached per UTC minute;
- rates: price as an exact fraction, setup and minimum in micro-units, so a charge is integer
  arithmetic.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from telora.rating.engine.money import MICRO, ratio, to_micro
from telora.rating.engine.records import DESTINATION_SERVICES

ANY_COUNTRY = "*"
MINUTES_PER_WEEK = 7 * 1440
PERIODS = ("bill_cycle", "month", "once")


class RateEntry:
    """One tariff rate, ready for integer arithmetic: charge = setup + num * q / den micro-units,
    rounded half-up as (2 * num * q + den) // (2 * den) when the price is not negative."""

    __slots__ = ("rate", "zone", "first", "next", "setup", "minimum", "num", "den", "num2", "den2", "negative")

    def __init__(self, rate):
        self.rate = rate
        self.zone: str = rate.zone
        self.first: int = rate.first
        self.next: int = rate.next
        self.setup: int = to_micro(rate.setup)
        self.minimum: int = to_micro(rate.minimum)
        numerator, denominator = ratio(rate.price)
        self.num: int = numerator * MICRO
        self.den: int = denominator * rate.unit
        self.num2, self.den2 = 2 * self.num, 2 * self.den
        self.negative: bool = self.num < 0


class PlanTables:
    """A rate plan's rates by (service, zone) and band, and its band table."""

    def __init__(self, plan, band_table: list[str | None] | None):
        self.code: str = plan.code
        self.band_table = band_table
        self.rates: dict[tuple[str, str], dict[str | None, RateEntry]] = {}
        for rate in plan.rates:
            self.rates.setdefault((rate.service, rate.zone), {})[rate.band] = RateEntry(rate)
        bands = set(band_table or ()) | {None}
        # rate found per service, band and leading B-number digits; per band and country for data
        self.destination_cache: dict[str, dict[str | None, dict[str, RateEntry | None]]] = {
            service: {band: {} for band in bands} for service in DESTINATION_SERVICES}
        self.data_cache: dict[str | None, dict[str, RateEntry | None]] = {band: {} for band in bands}
        # per minute of the week: (band, its destination caches by service); a plan without bands has one
        by_band = {band: (band, {service: self.destination_cache[service][band] for service in DESTINATION_SERVICES})
                   for band in bands}
        self.by_slot = [by_band[band] for band in (band_table or [None] * MINUTES_PER_WEEK)]

    def rate(self, service: str, zone: str, band: str | None) -> RateEntry | None:
        """A rate for the band wins over a rate for every band (band None)."""
        by_band = self.rates.get((service, zone))
        if by_band is None:
            return None
        entry = by_band.get(band)
        return entry if entry is not None else by_band.get(None)


class BundleTables:
    __slots__ = ("code", "period", "allowances")

    def __init__(self, bundle):
        if bundle.period not in PERIODS:
            raise ValueError(f"bundle {bundle.code}: unknown period {bundle.period!r}")
        self.code: str = bundle.code
        self.period: str = bundle.period
        # (index, service, zones or None for every zone, amount)
        self.allowances = tuple((index, a.service, frozenset(a.zones) or None, a.amount)
                                for index, a in enumerate(bundle.allowances))


class DiscountEntry:
    __slots__ = ("code", "num", "den", "services", "zones", "products")

    def __init__(self, discount):
        self.code: str = discount.code
        numerator, denominator = ratio(discount.percent)
        self.num, self.den = numerator, denominator * 100
        self.services = frozenset(discount.services) or None  # None: every service
        self.zones = frozenset(discount.zones) or None  # None: every zone
        self.products = frozenset(discount.products)

    def applies(self, service: str, zone: str | None) -> bool:
        return ((self.services is None or service in self.services)
                and (self.zones is None or zone in self.zones))


class Tables:
    """A compiled tariff. `home_country` is the brand's country: a data record with no location
    was used at home."""

    def __init__(self, tariff, *, home_country: str):
        self.tariff = tariff
        self.currency: str = tariff.currency
        self.tz = ZoneInfo(tariff.timezone)
        self.home_country = home_country.upper()
        self.prefixes: dict[str, str] = dict(tariff.prefixes)
        self.prefix_lengths = sorted({len(p) for p in self.prefixes}, reverse=True)
        self.max_prefix = self.prefix_lengths[0] if self.prefix_lengths else 0
        self.countries: dict[str, str] = dict(tariff.countries)
        band_tables = {code: self._band_table(bands) for code, bands in tariff.time_bands.items()}
        self.plans = {code: PlanTables(plan, band_tables.get(plan.time_bands))
                      for code, plan in tariff.rate_plans.items()}
        self.bundles = {code: BundleTables(bundle) for code, bundle in tariff.bundles.items()}
        self.products = tariff.products
        self.usage_discounts = {code: DiscountEntry(d) for code, d in tariff.discounts.items()
                                if d.applies_to == "usage"}
        # customer group -> its rate overrides in effect on the tariff's day (engine.overrides)
        self.group_overrides: dict[str, tuple] = dict(getattr(tariff, "group_overrides", None) or {})
        self._slots: dict[int, tuple[int, dt.date]] = {}

    @staticmethod
    def _band_table(bands) -> list[str | None]:
        return [bands.band_at(day, minute) for day in range(7) for minute in range(1440)]

    def local_slot(self, ts: float) -> tuple[int, dt.date]:
        """(weekday * 1440 + minute of the day, local date) of epoch seconds `ts` in the brand's
        timezone, cached per UTC minute (every UTC offset in use is a whole number of minutes)."""
        minute = ts // 60
        slot = self._slots.get(minute)
        if slot is None:
            local = dt.datetime.fromtimestamp(minute * 60, self.tz)
            slot = (local.weekday() * 1440 + local.hour * 60 + local.minute, local.date())
            self._slots[minute] = slot
        return slot

    def destination_zones(self, digits: str) -> list[str]:
        """Zones of the prefixes matching `digits`, longest prefix first."""
        found = []
        for length in self.prefix_lengths:
            if length <= len(digits):
                zone = self.prefixes.get(digits[:length])
                if zone is not None and zone not in found:
                    found.append(zone)
        return found

    def destination_rate(self, plan: PlanTables, service: str, band: str | None, digits: str) -> RateEntry | None:
        """The rate of the longest matching prefix whose zone has one (shorter prefixes follow)."""
        cache = plan.destination_cache[service][band]
        key = digits[:self.max_prefix]
        try:
            return cache[key]
        except KeyError:
            pass
        entry = None
        for zone in self.destination_zones(key):
            entry = plan.rate(service, zone, band)
            if entry is not None:
                break
        cache[key] = entry
        return entry

    def data_zones(self, country: str) -> list[str]:
        zones = []
        for code in (country or self.home_country, ANY_COUNTRY):
            zone = self.countries.get(code)
            if zone is not None and zone not in zones:
                zones.append(zone)
        return zones

    def data_rate(self, plan: PlanTables, band: str | None, country: str) -> RateEntry | None:
        """The country's zone; when it has no rate in the plan, the catch-all "*" zone."""
        cache = plan.data_cache[band]
        try:
            return cache[country]
        except KeyError:
            pass
        entry = None
        for zone in self.data_zones(country):
            entry = plan.rate("data", zone, band)
            if entry is not None:
                break
        cache[country] = entry
        return entry
