"""What the engine gives back: rated records that keep how they were rated, failed records with
their reason, the bundle counters and balances after the batch, and balance events.

Amounts are integers in micro-units inside (fields ending in `_micro`); the properties without the
suffix give Decimals with 6 decimals for everyone outside the engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from telora.rating.engine.money import from_micro
from telora.rating.engine.records import UsageRecord

PARSE_ERROR = "PARSE_ERROR"
UNKNOWN_SUBSCRIBER = "UNKNOWN_SUBSCRIBER"
INACTIVE_SUBSCRIPTION = "INACTIVE_SUBSCRIPTION"
NO_RATE = "NO_RATE"
DUPLICATE = "DUPLICATE"
OUT_OF_RANGE = "OUT_OF_RANGE"  # a value outside the usage window or bounds (engine.bounds)
RATING_ERROR = "RATING_ERROR"  # rating this one record raised; the rest of the batch went on
NO_CHARGE = "NO_CHARGE"  # a record of a pre-rated (OCS) source without its charge
FAILURE_REASONS = (PARSE_ERROR, UNKNOWN_SUBSCRIBER, INACTIVE_SUBSCRIPTION, NO_RATE, DUPLICATE, OUT_OF_RANGE,
                   RATING_ERROR, NO_CHARGE)

LOW_BALANCE = "LOW_BALANCE"
ZERO_BALANCE = "ZERO_BALANCE"


class BundleUse(NamedTuple):
    """Units of one bundle allowance a record used, in the bundle's period starting `period_start`."""

    bundle: str  # the BundleInstance key
    code: str
    allowance: int
    period_start: dt.date | None
    units: int


class RatedRecord(NamedTuple):
    """A record and how it was rated.

    `rate` is the tariff's Rate (price, unit, increments, setup, minimum), None for content priced
    by its source, incoming usage, or nothing used where nothing is priced; `quantity` is the
    charged quantity q after increments; `bundle_use` the allowances drawn; `discounts` the codes
    applied and `discount_micro` what they took off; `charge_micro` what the subscriber pays;
    `balance_after_micro` the prepaid balance after this record (None when postpaid); `override`
    the keys of the rate overrides that applied ("customer:17", "group:BUSINESS"), else None. A
    discount override's amount is counted in `discount_micro`.
    """

    record: UsageRecord
    subscription_id: int | str
    rate_plan: str | None
    zone: str | None
    band: str | None
    rate: object
    usage: int
    quantity: int
    bundle_use: tuple[BundleUse, ...]
    discounts: tuple[str, ...]
    discount_micro: int
    charge_micro: int
    balance_after_micro: int | None
    override: str | None = None

    @property
    def record_id(self) -> str:
        return self.record.record_id

    @property
    def charge(self) -> Decimal:
        return from_micro(self.charge_micro)

    @property
    def discount(self) -> Decimal:
        return from_micro(self.discount_micro)

    @property
    def balance_after(self) -> Decimal | None:
        return None if self.balance_after_micro is None else from_micro(self.balance_after_micro)

    @property
    def covered(self) -> int:
        """Units of q that bundles paid for."""
        return sum(use.units for use in self.bundle_use)

    def __repr__(self):
        return (f"RatedRecord({self.record.record_id!r}, sub={self.subscription_id}, {self.zone}/{self.band}, "
                f"q={self.quantity}, covered={self.covered}, charge={self.charge})")


_new_tuple = tuple.__new__


def make_rated(*fields) -> RatedRecord:
    return _new_tuple(RatedRecord, fields)


class FailedRecord:
    """A record (or unreadable line) that was not rated, with its reason and what to show a person."""

    __slots__ = ("record", "reason", "detail")

    def __init__(self, record, reason: str, detail: str = ""):
        self.record = record  # UsageRecord, or the ParseFailure for PARSE_ERROR
        self.reason = reason
        self.detail = detail

    @property
    def record_id(self) -> str:
        return self.record.record_id

    def __repr__(self):
        return f"FailedRecord({self.record_id!r}, {self.reason}: {self.detail})"


@dataclass(frozen=True)
class CounterUpdate:
    """A bundle allowance's counter after the batch: `used` units of `amount` in the period."""

    subscription_id: int | str
    bundle: str
    code: str
    allowance: int
    period_start: dt.date | None
    period_end: dt.date | None
    used: int
    amount: int


BUNDLE_THRESHOLDS = (80, 100)  # percent of an allowance whose crossing a batch reports


@dataclass(frozen=True)
class BundleThreshold:
    """A bundle allowance's counter crossed `percent` of its amount in this batch."""

    subscription_id: int | str
    bundle: str
    code: str
    allowance: int
    period_start: dt.date | None
    period_end: dt.date | None
    percent: int
    used: int
    amount: int


@dataclass(frozen=True)
class BalanceEvent:
    """The prepaid balance crossed the low-balance threshold, or reached zero, with this record."""

    subscription_id: int | str
    kind: str  # LOW_BALANCE or ZERO_BALANCE
    record_id: str
    at: dt.datetime
    balance: Decimal
    threshold: Decimal


@dataclass
class BatchResult:
    rated: list[RatedRecord] = field(default_factory=list)
    failed: list[FailedRecord] = field(default_factory=list)
    counters: list[CounterUpdate] = field(default_factory=list)
    balances: dict[int | str, Decimal] = field(default_factory=dict)  # prepaid subscriptions touched
    events: list[BalanceEvent] = field(default_factory=list)
    thresholds: list[BundleThreshold] = field(default_factory=list)  # bundle allowances crossing 80 % / 100 %
    ignored: list = field(default_factory=list)  # parser's Ignored records passed through
    # pre-rated records only: each change of a prepaid balance, (subscription, amount_micro,
    # balance_after_micro, record); rated records' entries are their charges (RatedRecord)
    ledger: list[tuple] = field(default_factory=list)

    def by_id(self) -> dict[str, RatedRecord]:
        return {r.record.record_id: r for r in self.rated}

    def failures_by_id(self) -> dict[str, FailedRecord]:
        return {f.record_id: f for f in self.failed}
