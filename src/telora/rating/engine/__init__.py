"""The pure rating engine: standard library only, no Django, no database.

It is handed a compiled tariff snapshot (a `telora.catalog.tariff.Tariff`, read by attribute only),
plain `SubscriberContext`s and normalised `UsageRecord`s, and gives back a `BatchResult`:

    rater = Rater(tariff, home_country="DK")
    result = rater.rate(records, [SubscriberContext(...), ...])
    result.rated, result.failed, result.counters, result.balances, result.events

Money is exact: integer micro-units inside, Decimal with 6 decimals at the edge. The only import
outside the standard library is `telora.billperiods` (itself standard library only, and in no app), so a
bundle's bill-cycle period is the same rule billing uses.
"""

from telora.rating.engine.money import div_half_up, from_micro, to_micro
from telora.rating.engine.overrides import RateOverride
from telora.rating.engine.rater import Rater, charged_quantity
from telora.rating.engine.records import SERVICES, Ignored, ParseFailure, UsageRecord
from telora.rating.engine.results import (
    DUPLICATE,
    FAILURE_REASONS,
    INACTIVE_SUBSCRIPTION,
    LOW_BALANCE,
    NO_CHARGE,
    NO_RATE,
    OUT_OF_RANGE,
    PARSE_ERROR,
    RATING_ERROR,
    UNKNOWN_SUBSCRIBER,
    ZERO_BALANCE,
    BalanceEvent,
    BatchResult,
    BundleUse,
    CounterUpdate,
    FailedRecord,
    RatedRecord,
)
from telora.rating.engine.subscribers import (
    BundleInstance,
    NumberSpan,
    SubscriberContext,
    SubscriberDirectory,
)

__all__ = [
    "DUPLICATE", "FAILURE_REASONS", "INACTIVE_SUBSCRIPTION", "LOW_BALANCE", "NO_CHARGE", "NO_RATE", "OUT_OF_RANGE",
    "PARSE_ERROR", "RATING_ERROR", "SERVICES",
    "UNKNOWN_SUBSCRIBER", "ZERO_BALANCE", "BalanceEvent", "BatchResult", "BundleInstance", "BundleUse",
    "CounterUpdate", "FailedRecord", "Ignored", "NumberSpan", "ParseFailure", "RateOverride", "RatedRecord", "Rater",
    "SubscriberContext", "SubscriberDirectory", "UsageRecord", "charged_quantity", "div_half_up", "from_micro",
    "to_micro",
]
