"""Rate overrides: a customer's price agreement or its customer group's rate, found before the
rate plan's own rate.

An override names a service and a zone, optionally a rate plan (None: every plan) and a band
(None: every band), and gives either a replacement rate (price per unit, increments, setup and
minimum, the shape of a plan rate) or a percent off the usage charge. For a record the engine
tries the record's zones in their usual order (longest prefix first; the country's zone, then
"*"); in each zone:

1. the customer's override in effect at the record's start, else the group's (a band's own
   override before one for every band);
2. a replacement rate decides; a discount override takes its percent off the charge at the rate
   the next level gives (the group's replacement, else the plan's rate) and no further discount
   override is added under it;
3. with no override the plan's rate, as always; a zone with neither is skipped.

Group overrides come with the tariff (the day's catalogue); customer overrides with the
subscriber's context, each with its own start and end. Subscriptions with neither never reach
this module: the hot loop checks one attribute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from telora.rating.engine.money import ratio
from telora.rating.engine.tables import RateEntry

FOREVER = float("inf")
NEVER = float("-inf")


@dataclass(frozen=True)
class RateOverride:
    """One override as the pipeline hands it in (a customer's agreement; the tariff's group
    overrides have the same attributes without the times). `key` names it in rated records, e.g.
    "customer:17" or "group:BUSINESS". Exactly one of `price` (with `unit`) and `percent` is set."""

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
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


class OverrideEntry:
    """An override compiled: its window in epoch seconds and a RateEntry or a discount fraction."""

    __slots__ = ("key", "band", "from_ts", "to_ts", "entry", "num", "den")

    def __init__(self, override):
        self.key: str = override.key
        self.band: str | None = override.band or None
        start, end = getattr(override, "valid_from", None), getattr(override, "valid_to", None)
        self.from_ts = NEVER if start is None else start.timestamp()
        self.to_ts = FOREVER if end is None else end.timestamp()
        self.entry: RateEntry | None = None
        self.num = self.den = 0
        if override.price is not None:
            self.entry = RateEntry(override)
        else:
            numerator, denominator = ratio(override.percent)
            self.num, self.den = numerator, denominator * 100


def _pick(candidates: list[OverrideEntry], band: str | None, ts: float) -> OverrideEntry | None:
    """The override in effect at `ts` for the band: the band's own first, else one for every band."""
    general = None
    for candidate in candidates:
        if candidate.from_ts <= ts < candidate.to_ts:
            if candidate.band is None:
                if general is None:
                    general = candidate
            elif candidate.band == band:
                return candidate
    return general


class Overrides:
    """A subscription's overrides for its rate plan, by (service, zone): one list per level,
    the customer's first, then the group's."""

    __slots__ = ("levels",)

    def __init__(self, customer, group, rate_plan: str | None):
        self.levels: list[dict[tuple[str, str], list[OverrideEntry]]] = []
        for overrides in (customer, group):
            level: dict[tuple[str, str], list[OverrideEntry]] = {}
            for override in overrides:
                if override.rate_plan is None or override.rate_plan == rate_plan:
                    level.setdefault((override.service, override.zone), []).append(OverrideEntry(override))
            if level:
                self.levels.append(level)

    def __bool__(self) -> bool:
        return bool(self.levels)

    def resolve(self, plan, service: str, zones, band: str | None, ts: float):
        """(rate entry, discount override or None, keys of the overrides applied) for the first of
        `zones` with an override or a plan rate; (None, None, ()) when none has either."""
        for zone in zones:
            key = (service, zone)
            rate = discount = None
            applied: list[str] = []
            for level in self.levels:
                candidates = level.get(key)
                found = _pick(candidates, band, ts) if candidates else None
                if found is None:
                    continue
                if found.entry is not None:
                    rate = found.entry
                    applied.append(found.key)
                    break
                if discount is None:
                    discount = found
                    applied.append(found.key)
            if rate is None:
                rate = plan.rate(service, zone, band) if plan is not None else None
                if rate is None:
                    continue  # a discount with nothing to take it off; the next zone may have a rate
            return rate, discount, tuple(applied)
        return None, None, ()
