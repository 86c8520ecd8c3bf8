"""Rating a batch of usage records against a compiled tariff. Pure: plain data in, plain data out.

For each record, in start-time order: the subscription holding its A-number then; the rate plan's
band at the local start time; the zone (destinations by the longest B-number prefix whose zone has
a rate, data by country); the charged quantity after increments; bundles drawn down (the one
expiring first first, an add-on's before the plan's at the same moment); the charge for what
bundles left, with usage discounts; the prepaid balance after it. See docs/rating.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from itertools import islice
from operator import itemgetter, le, methodcaller

from telora.rating.engine.memory import collector_paused
from telora.rating.engine.money import div_half_up, from_micro, to_micro
from telora.rating.engine.overrides import Overrides
from telora.rating.engine.records import DESTINATION_SERVICES, Ignored, ParseFailure, UsageRecord
from telora.rating.engine.results import (
    BUNDLE_THRESHOLDS,
    DUPLICATE,
    LOW_BALANCE,
    NO_CHARGE,
    NO_RATE,
    OUT_OF_RANGE,
    PARSE_ERROR,
    RATING_ERROR,
    ZERO_BALANCE,
    BalanceEvent,
    BatchResult,
    BundleThreshold,
    BundleUse,
    CounterUpdate,
    FailedRecord,
    RatedRecord,
)
from telora.rating.engine.state import Periods, Profile, SubscriberState
from telora.rating.engine.subscribers import SubscriberContext, SubscriberDirectory
from telora.rating.engine.tables import Tables

NO_BUNDLES: tuple = ()
NO_DISCOUNTS: tuple = ()
MISSING = object()
_new = tuple.__new__  # builds the named tuples without their keyword machinery
_start_time = itemgetter(4)  # UsageRecord.start_time, read in C
_timestamp = methodcaller("timestamp")
BALANCE_LIMIT = Decimal(10**12)  # a NUMERIC(18,6) holds less than this either way
BALANCE_MICRO_LIMIT = 10**18


def charged_quantity(usage: int, first: int, step: int) -> int:
    """q = 0 for no usage, else first + ceil(max(0, usage - first) / next) * next."""
    if usage <= 0:
        return 0
    over = usage - first
    return first if over <= 0 else first - (-over // step) * step


class Rater:
    """Rates batches against one compiled tariff. Build one per tariff snapshot and reuse it: the
    lookups it caches (zones by prefix, bands by minute, bundle periods) serve every batch."""

    def __init__(self, tariff, *, home_country: str, low_balance_threshold: Decimal | int | str = Decimal(5)):
        self.tables = Tables(tariff, home_country=home_country)
        self.periods = Periods(self.tables)
        self.low_balance_threshold = to_micro(low_balance_threshold)
        self._profiles: dict[tuple, Profile] = {}
        self._signatures: dict[tuple, int] = {}
        self._draws: dict[tuple, list] = {}
        self._overrides: dict[tuple, Overrides | None] = {}

    def rate(self, records: Iterable[UsageRecord | ParseFailure | Ignored],
             subscribers: SubscriberDirectory | Iterable[SubscriberContext], *,
             seen: set[str] | None = None) -> BatchResult:
        """Rate one batch. `records` may come straight from a parser (failures and ignored records
        pass through to the result). `seen` holds the record ids already taken from this source;
        it is updated, so a later batch of the same source finds this batch's ids in it.

        The cyclic garbage collector is paused while the batch is rated: the batch allocates
        millions of small objects and no cycles, and the collector's passes over them cost more
        than the rating itself. It is switched back on (if it was on) before returning.
        """
        if not isinstance(subscribers, SubscriberDirectory):
            subscribers = SubscriberDirectory(subscribers)
        with collector_paused():
            result = BatchResult()
            records_in = self._admit(records, result, set() if seen is None else seen)
            stamps = list(map(_timestamp, map(_start_time, records_in)))
            if not all(map(le, stamps, islice(stamps, 1, None))):  # a switch writes them in order; others may not
                order = sorted(range(len(records_in)), key=stamps.__getitem__)
                records_in = [records_in[i] for i in order]
                stamps = [stamps[i] for i in order]
            states: dict = {}
            self._rate_sorted(records_in, stamps, subscribers, states, result)
            self._finish(states, result)
            return result

    @staticmethod
    def _admit(records, result: BatchResult, seen: set[str]) -> list[UsageRecord]:
        """Parse failures and ignored records to the result; a record id seen before is a duplicate."""
        admitted = []
        failed = result.failed
        for record in records:
            if type(record) is not UsageRecord:
                if isinstance(record, ParseFailure):
                    failed.append(FailedRecord(record, PARSE_ERROR, record.reason))
                    continue
                if isinstance(record, Ignored):
                    result.ignored.append(record)
                    continue
            record_id = record.record_id
            if record_id in seen:
                failed.append(FailedRecord(record, DUPLICATE, f"record {record_id} was already taken"))
                continue
            seen.add(record_id)
            admitted.append(record)
        return admitted

    def _state(self, ctx: SubscriberContext, states: dict) -> SubscriberState:
        key = Profile.key(ctx)
        profile = self._profiles.get(key)
        if profile is None:
            profile = self._profiles[key] = Profile(ctx, self.tables)
        overrides = None
        group = self.tables.group_overrides.get(ctx.customer_group, ()) if ctx.customer_group else ()
        if ctx.overrides or group:
            key = (ctx.overrides, ctx.customer_group, profile.rate_plan)
            if key not in self._overrides:
                self._overrides[key] = Overrides(ctx.overrides, group, profile.rate_plan) or None
            overrides = self._overrides[key]
        state = states[ctx.subscription_id] = SubscriberState(ctx, self.tables, profile, self.low_balance_threshold,
                                                              self._signatures, overrides)
        return state

    def _rate_sorted(self, records, stamps, directory, states, result) -> None:
        """The hot loop, records in start-time order. Written for speed: locals for everything, the
        plain postpaid case (no bundles, discounts or balance) kept inline."""
        tables = self.tables
        slots_get = tables._slots.get
        local_slot = tables.local_slot
        destination_rate = tables.destination_rate
        data_rate = tables.data_rate
        max_prefix = tables.max_prefix
        lookup = directory.lookup
        by_number: dict[str, tuple[float, SubscriberState]] = {}  # the state a number led to, and until when
        by_number_get = by_number.get
        states_get = states.get
        rated_append = result.rated.append
        failed_append = result.failed.append
        new = _new
        destination = DESTINATION_SERVICES
        for record, ts in zip(records, stamps, strict=True):
            try:  # one record that raises fails alone (RATING_ERROR); a try costs nothing until it does
                rid, service, a_number, b_number, start_time, duration, volume, quantity, location, charge_given, \
                    direction, _line, _balance = record
                held = by_number_get(a_number)
                if held is not None and ts < held[0]:  # records come in time order: ts is past its start
                    state = held[1]
                else:
                    ctx, reason, _held_from, held_to = lookup(a_number, ts)
                    if ctx is None:
                        failed_append(FailedRecord(record, reason, f"no active subscription holds {a_number} "
                                                                   f"at {start_time.isoformat()}"))
                        continue
                    state = states_get(ctx.subscription_id)
                    if state is None:
                        state = self._state(ctx, states)
                    by_number[a_number] = (held_to, state)
                plan = state.plan
                slot = slots_get(ts // 60)
                if slot is None:
                    slot = local_slot(ts)
                if plan is None:
                    band, caches = None, None
                else:
                    band, caches = plan.by_slot[slot[0]]
                usage = duration if service == "voice" else volume if service == "data" else quantity

                if direction == "in" or (charge_given is not None and service == "content"):
                    self._unrated(record, state, band, usage, result)
                    continue
                if caches is None:
                    entry = None
                elif service in destination:
                    entry = caches[service].get(b_number[:max_prefix], MISSING)
                    if entry is MISSING:
                        entry = destination_rate(plan, service, band, b_number)
                else:
                    entry = data_rate(plan, band, location)
                if state.overrides is not None:  # a price agreement or a group override may come first
                    entry, overridden = self._overridden(state, service, band, b_number, location, ts, entry)
                else:
                    overridden = None
                if entry is None:
                    if usage <= 0:  # nothing used costs nothing, even where nothing is priced
                        self._append(record, state, None, band, None, usage, 0, NO_BUNDLES, 0, result)
                        continue
                    failed_append(FailedRecord(record, NO_RATE, self._no_rate(state, service, band, record)))
                    continue

                if usage <= 0:
                    rated_append(new(RatedRecord, (record, state.subscription_id, state.rate_plan, entry.zone,
                                                   band, entry.rate, usage, 0, NO_BUNDLES, NO_DISCOUNTS, 0, 0,
                                                   state.balance, overridden and overridden[1])))
                    continue
                first = entry.first
                over = usage - first
                q = first if over <= 0 else first - (-over // entry.next) * entry.next
                if state.plain:
                    if entry.negative:
                        charge = entry.setup + div_half_up(entry.num * q, entry.den)
                    else:
                        charge = entry.setup + (entry.num2 * q + entry.den) // entry.den2
                    if charge < entry.minimum:
                        charge = entry.minimum
                    rated_append(new(RatedRecord, (record, state.subscription_id, state.rate_plan, entry.zone, band,
                                                   entry.rate, usage, q, NO_BUNDLES, NO_DISCOUNTS, 0, charge, None,
                                                   None)))
                    continue
                if state.holdings:
                    covered, bundle_use = self._draw(state, service, entry.zone, q, ts, slot[1])
                else:
                    covered, bundle_use = 0, NO_BUNDLES
                if covered == 0:
                    charge = entry.setup + div_half_up(entry.num * q, entry.den)
                    if charge < entry.minimum:
                        charge = entry.minimum
                elif covered < q:  # the rest pays the price alone: no setup, no minimum
                    charge = div_half_up(entry.num * (q - covered), entry.den)
                else:
                    charge = 0
                self._append(record, state, entry.rate, band, entry.zone, usage, q, bundle_use, charge, result,
                             overridden)
            except Exception as exc:  # noqa: BLE001 - whatever it is, it is this record's alone
                failed_append(FailedRecord(record, RATING_ERROR, f"rating this record failed: "
                                                                 f"{type(exc).__name__}: {exc}"))

    def _unrated(self, record, state, band, usage, result) -> None:
        """Content priced by its source, and incoming usage (no charge: the catalogue has no
        incoming rates; the zone of the calling number is kept)."""
        if record.direction == "in":
            zones = self.tables.destination_zones(record.b_number) if record.b_number else []
            zone, charge = (zones[0] if zones else None), 0
        else:
            zone, charge = None, to_micro(record.charge) if usage > 0 else 0
        self._append(record, state, None, band, zone, usage, usage if usage > 0 else 0, NO_BUNDLES, charge, result)

    def _overridden(self, state: SubscriberState, service: str, band, b_number: str, location: str, ts: float,
                    entry) -> tuple:
        """The rate a customer's or group's override gives (see engine.overrides), and (discount
        override or None, the applied overrides' keys joined) when one applied, else None."""
        tables = self.tables
        if service in DESTINATION_SERVICES:
            zones = tables.destination_zones(b_number[:tables.max_prefix])
        else:
            zones = tables.data_zones(location)
        found, discount, keys = state.overrides.resolve(state.plan, service, zones, band, ts)
        if not keys:
            return entry, None
        return found, (discount, " ".join(keys))

    def _append(self, record, state, rate, band, zone, usage, q, bundle_use, charge, result,
                overridden=None) -> None:
        """The slower tail: a discount override, usage discounts, then the prepaid balance and its
        events."""
        applied = NO_DISCOUNTS
        discount = 0
        override = None
        if overridden is not None:
            by_override, override = overridden
            if by_override is not None and charge > 0:
                discount = div_half_up(charge * by_override.num, by_override.den)
                charge -= discount
        if charge > 0 and state.discounts:
            codes = []
            for entry in state.discounts:
                if entry.applies(record.service, zone):
                    off = div_half_up(charge * entry.num, entry.den)
                    charge -= off
                    discount += off
                    codes.append(entry.code)
            applied = tuple(codes)
        balance = state.balance
        if balance is not None and charge:
            after = balance - charge
            threshold = state.threshold
            if balance > threshold >= after:
                result.events.append(BalanceEvent(state.subscription_id, LOW_BALANCE, record.record_id,
                                                  record.start_time, from_micro(after), from_micro(threshold)))
            if balance > 0 >= after:
                result.events.append(BalanceEvent(state.subscription_id, ZERO_BALANCE, record.record_id,
                                                  record.start_time, from_micro(after), from_micro(threshold)))
            balance = state.balance = after
        result.rated.append(_new(RatedRecord, (record, state.subscription_id, state.rate_plan, zone, band, rate, usage,
                                               q, bundle_use, applied, discount, charge, balance, override)))

    def _draw(self, state: SubscriberState, service: str, zone: str, q: int, ts: float, day) -> tuple[int, tuple]:
        """Draw q from the bundles held then, the one expiring first first; returns the units
        covered and what was drawn from each."""
        draws = state.draws(service, zone, day, self.periods, self._draws)
        if not draws:
            return 0, NO_BUNDLES
        used = state.used
        remaining = q
        uses = []
        for _expires, _rank, index, holding, key, end, amount in draws:
            if holding.from_ts <= ts < holding.to_ts:
                before = used.get(key, 0)
                left = amount - before
                if left > 0:
                    take = left if left < remaining else remaining
                    used[key] = before + take
                    if key not in state.touched:  # the counter as the batch found it, for the thresholds
                        state.touched[key] = (holding, end, amount, before)
                    uses.append(_new(BundleUse, (holding.key, holding.code, index, key[2], take)))
                    remaining -= take
                    if remaining == 0:
                        break
        return q - remaining, tuple(uses)

    def _no_rate(self, state: SubscriberState, service: str, band, record: UsageRecord) -> str:
        if state.plan is None:
            return f"plan {state.ctx.plan} has no rate plan {state.rate_plan or ''}".rstrip()
        if service in DESTINATION_SERVICES:
            zones = self.tables.destination_zones(record.b_number)
            where = f"zones {', '.join(zones)}" if zones else f"no zone for {record.b_number!r}"
        else:
            zones = self.tables.data_zones(record.location)
            where = f"zones {', '.join(zones)}" if zones else f"no zone for country {record.location or 'home'}"
        return f"rate plan {state.rate_plan} has no {service} rate for {where}" + (f" in band {band}" if band else "")

    def take_rated(self, records: Iterable[UsageRecord | ParseFailure | Ignored],
                   subscribers: SubscriberDirectory | Iterable[SubscriberContext], *,
                   seen: set[str] | None = None) -> BatchResult:
        """Records an OCS has rated (a pre-rated source): each keeps the charge it carries, with no
        rate, bundle or discount applied. They pass the same admission (duplicates by `seen`) and
        subscriber lookup as `rate`. The zone is the one rating would use (the plan's rate for the
        B-number or the data country, else the tariff's first zone), the band the plan's at the
        local start, so bills and consumption group them like rated usage.

        For a prepaid subscription the OCS is authoritative: the balance becomes the record's
        `balance_after` (the charge taken off when it gives none), and low and zero balance events
        fire as for rated usage; each change is in `result.ledger`. A record without a charge fails
        (NO_CHARGE), one whose charge or balance has more than 6 decimals or a balance no column
        holds fails (OUT_OF_RANGE), each detail naming the field."""
        if not isinstance(subscribers, SubscriberDirectory):
            subscribers = SubscriberDirectory(subscribers)
        with collector_paused():
            result = BatchResult()
            admitted = sorted(self._admit(records, result, set() if seen is None else seen), key=_start_time)
            states: dict = {}
            by_number: dict[str, tuple[float, SubscriberState]] = {}  # as in `_rate_sorted`
            failed_append = result.failed.append
            for record in admitted:
                charge = _micro(record.charge)
                if charge is None or charge < 0:
                    failed_append(FailedRecord(record, *_given_problem(record)))
                    continue
                balance_after = record.balance_after
                if balance_after is not None:
                    balance_after = _micro(balance_after)
                    if balance_after is None or not -BALANCE_MICRO_LIMIT < balance_after < BALANCE_MICRO_LIMIT:
                        failed_append(FailedRecord(record, *_given_problem(record)))
                        continue
                ts = record.start_time.timestamp()
                a_number = record.a_number
                held = by_number.get(a_number)
                if held is not None and ts < held[0]:
                    state = held[1]
                else:
                    ctx, reason, _held_from, held_to = subscribers.lookup(a_number, ts)
                    if ctx is None:
                        failed_append(FailedRecord(record, reason, f"no active subscription holds {a_number} at "
                                                                   f"{record.start_time.isoformat()}"))
                        continue
                    state = states.get(ctx.subscription_id) or self._state(ctx, states)
                    by_number[a_number] = (held_to, state)
                self._take(record, ts, charge, balance_after, state, result)
            self._finish(states, result)
            return result

    def _take(self, record: UsageRecord, ts: float, charge: int, balance_after: int | None, state: SubscriberState,
              result: BatchResult) -> None:
        """One pre-rated record: its zone and band, its charge as given, the prepaid balance it leaves."""
        tables, plan, service = self.tables, state.plan, record.service
        slot = tables._slots.get(ts // 60) or tables.local_slot(ts)
        band = None if plan is None else plan.by_slot[slot[0]][0]
        if service in DESTINATION_SERVICES:
            entry = tables.destination_rate(plan, service, band, record.b_number) if plan else None
            zones = () if entry is not None or not record.b_number else tables.destination_zones(record.b_number)
        else:
            entry = tables.data_rate(plan, band, record.location) if plan else None
            zones = () if entry is not None else tables.data_zones(record.location)
        zone = entry.zone if entry is not None else (zones[0] if zones else None)
        usage = record.usage
        balance = state.balance
        if balance is not None:
            after = balance - charge if balance_after is None else balance_after
            threshold = state.threshold
            if balance > threshold >= after:
                result.events.append(BalanceEvent(state.subscription_id, LOW_BALANCE, record.record_id,
                                                  record.start_time, from_micro(after), from_micro(threshold)))
            if balance > 0 >= after:
                result.events.append(BalanceEvent(state.subscription_id, ZERO_BALANCE, record.record_id,
                                                  record.start_time, from_micro(after), from_micro(threshold)))
            if after != balance:
                result.ledger.append((state.subscription_id, after - balance, after, record))
            balance = state.balance = after
        result.rated.append(_new(RatedRecord, (record, state.subscription_id, state.rate_plan, zone, band, None,
                                               usage, usage if usage > 0 else 0, NO_BUNDLES, NO_DISCOUNTS, 0, charge,
                                               balance, None)))  # the OCS priced it: no override applies

    def _finish(self, states: dict, result: BatchResult) -> None:
        for state in states.values():
            if state.balance is not None:
                result.balances[state.subscription_id] = from_micro(state.balance)
            for key, (holding, end, amount, before) in state.touched.items():
                used = state.used[key]
                result.counters.append(CounterUpdate(state.subscription_id, holding.key, holding.code, key[1], key[2],
                                                     end, used, amount))
                for percent in BUNDLE_THRESHOLDS:  # crossed in this batch: below before, at or above after
                    if before * 100 < amount * percent <= used * 100:
                        result.thresholds.append(BundleThreshold(state.subscription_id, holding.key, holding.code,
                                                                 key[1], key[2], end, percent, used, amount))


def _micro(amount: Decimal | None) -> int | None:
    """An amount in whole micro-units, or None when it has none or more than 6 decimals (shifting
    the exponent is exact, unlike a multiplication that rounds)."""
    if amount is None:
        return None
    scaled = amount.scaleb(6)
    micro = int(scaled)
    return micro if micro == scaled else None


def _given_problem(record: UsageRecord) -> tuple[str, str]:
    """(reason, detail) of a pre-rated record whose amounts cannot be kept as they are. Negative
    and too large charges were refused before, by the usage bounds."""
    charge = record.charge
    if charge is None:
        return NO_CHARGE, "charge: required (a record of a pre-rated source carries the charge its OCS rated)"
    if _micro(charge) is None:
        return OUT_OF_RANGE, f"charge: {charge} has more than 6 decimals"
    if charge < 0:
        return OUT_OF_RANGE, f"charge: {charge} is negative"
    balance = record.balance_after
    if abs(balance) >= BALANCE_LIMIT:
        return OUT_OF_RANGE, f"balance_after: {balance} is beyond what a balance holds (under 10^12)"
    return OUT_OF_RANGE, f"balance_after: {balance} has more than 6 decimals"
