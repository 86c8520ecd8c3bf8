"""What the engine knows about a subscription: plain data the pipeline loads and hands in.

A `SubscriberContext` is one subscription as rating sees it: its plan and rate plan, add-ons,
bundles with the units already used in each period, the usage discounts it gets, its prepaid
balance (None for postpaid), its bill-cycle anchor day, and the numbers it holds with their dates.
A `SubscriberDirectory` finds the subscription holding a record's A-number at its start time.

One context describes one plan: when a plan changes, the pipeline splits the work at the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from telora.rating.engine.results import INACTIVE_SUBSCRIPTION, UNKNOWN_SUBSCRIBER

FOREVER = float("inf")
NEVER = float("-inf")


@dataclass(frozen=True)
class NumberSpan:
    """A number held by the subscription from `valid_from` (inclusive) to `valid_to` (exclusive)."""

    number: str
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


@dataclass(frozen=True)
class BundleInstance:
    """A bundle the subscription holds, from its plan (`addon` False) or an add-on (`addon` True).

    `used` gives the units already drawn per (allowance index, period start): the period start is
    the date the bundle's period began (bill_cycle, month) or None for a `once` bundle. Periods the
    map does not name start unused. `key` names this holding in counters and rated records.
    """

    key: str
    code: str
    addon: bool = False
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    used: Mapping[tuple[int, dt.date | None], int] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriberContext:
    """One subscription, as the engine needs it.

    None in `rate_plan`, `bundles` or `discounts` means "as the tariff says": the plan product's
    rate plan; the plan's and add-ons' bundles, held throughout with nothing used; the usage
    discounts that list the plan or an add-on. `balance` is the prepaid balance (None: postpaid).
    `customer_group` picks the tariff's group overrides; `overrides` are the customer's own
    (`engine.overrides.RateOverride`, each with its dates), found before the group's.
    """

    subscription_id: int | str
    plan: str
    numbers: tuple[str | NumberSpan, ...] = ()
    rate_plan: str | None = None
    addons: tuple[str, ...] = ()
    bundles: tuple[BundleInstance, ...] | None = None
    discounts: tuple[str, ...] | None = None
    balance: Decimal | None = None
    low_balance_threshold: Decimal | None = None
    bill_cycle_anchor: int = 1
    active_from: dt.datetime | None = None
    terminated_at: dt.datetime | None = None
    customer_group: str | None = None
    overrides: tuple = ()


def _ts(moment: dt.datetime | None, default: float) -> float:
    if moment is None:
        return default
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone")
    return moment.timestamp()


class SubscriberDirectory:
    """Number -> subscription at a moment, from the contexts' number spans.

    A number held then by an active subscription gives its context. A number held then by a
    subscription not yet active or already terminated, or last held before then by one terminated
    since, gives INACTIVE_SUBSCRIPTION; anything else UNKNOWN_SUBSCRIBER.
    """

    def __init__(self, contexts: Iterable[SubscriberContext]):
        self._spans: dict[str, list[tuple[float, float, SubscriberContext, float, float]]] = {}
        for ctx in contexts:
            active_from = _ts(ctx.active_from, NEVER)
            terminated = _ts(ctx.terminated_at, FOREVER)
            for span in ctx.numbers:
                if isinstance(span, str):
                    span = NumberSpan(span)
                entry = (_ts(span.valid_from, NEVER), _ts(span.valid_to, FOREVER), ctx, active_from, terminated)
                self._spans.setdefault(span.number, []).append(entry)
        for entries in self._spans.values():
            entries.sort(key=lambda entry: entry[0])

    def __len__(self):
        return len(self._spans)

    def resolve(self, number: str, ts: float) -> tuple[SubscriberContext | None, str | None]:
        """(context, None) or (None, failure reason) for `number` at epoch seconds `ts`."""
        ctx, reason, _start, _end = self.lookup(number, ts)
        return ctx, reason

    def lookup(self, number: str, ts: float) -> tuple[SubscriberContext | None, str | None, float, float]:
        """As `resolve`, with the stretch of time around `ts` in which the number leads to the same
        active subscription: the engine reuses the answer for the number's records within it."""
        entries = self._spans.get(number)
        if entries is None:
            return None, UNKNOWN_SUBSCRIBER, ts, ts
        for start, end, ctx, active_from, terminated in entries:
            if start <= ts < end:
                if active_from <= ts < terminated:
                    return ctx, None, max(start, active_from), min(end, terminated)
                return None, INACTIVE_SUBSCRIPTION, ts, ts
        earlier = [entry for entry in entries if entry[1] <= ts]
        if earlier and earlier[-1][4] <= ts:
            return None, INACTIVE_SUBSCRIPTION, ts, ts
        return None, UNKNOWN_SUBSCRIBER, ts, ts
