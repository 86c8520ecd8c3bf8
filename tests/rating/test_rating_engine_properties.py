"""Properties over many generated cases: the charged quantity covers the usage, charges are never
negative and match a plain Decimal computation of the rule, bundles neither lose nor invent units."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from rating_helpers import SUB, at, bundle, rate, rater_for, voice

from telora.billperiods import bill_period
from telora.rating.engine import BundleInstance, SubscriberContext, charged_quantity, from_micro, to_micro
from telora.rating.engine.state import Periods
from telora.rating.engine.tables import Tables

usage = st.integers(min_value=0, max_value=10**7)
first = st.integers(min_value=0, max_value=3600)
step = st.integers(min_value=1, max_value=3600)
amounts = st.decimals(min_value=0, max_value=100, places=6, allow_nan=False, allow_infinity=False)


@given(usage, first, step)
def test_q_covers_the_usage_by_less_than_one_step(used, first_step, next_step):
    q = charged_quantity(used, first_step, next_step)
    if used == 0:
        assert q == 0
    else:
        assert q >= used and q >= first_step
        assert q - max(used, first_step) < next_step
        assert (q - first_step) % next_step == 0


@given(used=usage, first_step=first, next_step=step, price=amounts, unit=st.integers(1, 10**6), setup=amounts,
       minimum=amounts)
@settings(max_examples=300, deadline=None)
def test_the_engine_matches_the_rule_in_decimal(used, first_step, next_step, price, unit, setup, minimum):
    rater = rater_for([rate("voice", "DK", str(price), unit, (first_step, next_step), setup=str(setup),
                            minimum=str(minimum))])
    record = rater.rate([voice("x", "4533123456", "2026-10-05 10:00", used)],
                        [SubscriberContext(1, "P", numbers=(SUB,))]).rated[0]
    q = charged_quantity(used, first_step, next_step)
    expected = Decimal(0) if used == 0 else max(setup + price * q / unit, minimum)
    assert record.charge >= 0
    assert record.charge == expected.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


@given(calls=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=30),
       allowance=st.integers(min_value=1, max_value=5000), already=st.integers(min_value=0, max_value=5000))
@settings(max_examples=200, deadline=None)
def test_bundles_conserve_units(calls, allowance, already):
    talk = bundle("TALK", "month", ("voice", ["DK"], allowance))
    rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 1))], bundles=[talk])
    already = min(already, allowance)
    instance = BundleInstance("t", "TALK", used={(0, dt.date(2026, 10, 1)): already})
    records = [voice(f"r{i}", "4533123456", at("2026-10-05 10:00") + dt.timedelta(minutes=i), s)
               for i, s in enumerate(calls)]
    result = rater.rate(records, [SubscriberContext(1, "P", numbers=(SUB,), bundles=(instance,))])
    total_q = sum(r.quantity for r in result.rated)
    covered = sum(r.covered for r in result.rated)
    assert covered == min(total_q, allowance - already)
    used_after = result.counters[0].used if result.counters else already
    assert used_after == already + covered <= allowance
    for record in result.rated:
        assert 0 <= record.covered <= record.quantity
        assert record.charge >= 0
        if record.covered == record.quantity:
            assert record.charge == 0


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)), st.integers(1, 31))
def test_bill_cycle_periods_hold_the_day(day, anchor):
    periods = Periods(Tables(rater_for([]).tables.tariff, home_country="DK"))
    start, end, _ends_at = periods.period("bill_cycle", anchor, day)
    assert start <= day < end and (start, end) == bill_period(anchor, day)


@given(st.decimals(min_value=-10**6, max_value=10**6, places=6, allow_nan=False, allow_infinity=False))
def test_micro_units_round_trip(amount):
    assert from_micro(to_micro(amount)) == amount


@given(seconds=st.lists(st.integers(min_value=0, max_value=600), min_size=2, max_size=20), seed=st.randoms())
@settings(max_examples=100, deadline=None)
def test_the_order_records_arrive_in_does_not_change_the_outcome(seconds, seed):
    talk = bundle("TALK", "month", ("voice", ["DK"], 900))
    rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 1), setup="0.05")], bundles=[talk])
    records = [voice(f"r{i}", "4533123456", at("2026-10-05 10:00") + dt.timedelta(minutes=i), s)
               for i, s in enumerate(seconds)]
    shuffled = list(records)
    seed.shuffle(shuffled)
    contexts = [SubscriberContext(1, "P", numbers=(SUB,), balance=Decimal("10"),
                                  bundles=(BundleInstance("t", "TALK"),))]
    in_order, mixed = rater.rate(records, contexts), rater.rate(shuffled, contexts)
    assert mixed.rated == in_order.rated and mixed.events == in_order.events and mixed.balances == in_order.balances
