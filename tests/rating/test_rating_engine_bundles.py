"""Bundles: drawn down by the charged quantity; partly covered records pay the price alone; the
bundle expiring first is used first (an add-on's before the plan's at the same moment); counters
renew per period (bill_cycle from the anchor day, month from the 1st, once never)."""

import datetime as dt
from decimal import Decimal

from rating_helpers import SUB, at, bundle, data, product, rate, rater_for, voice

from telora.rating.engine import BundleInstance, BundleUse, SubscriberContext

VOICE = [rate("voice", "DK", "0.30", 60, (60, 1), setup="0.20", minimum="1.00"), rate("voice", "EU", "1.49", 60, (30, 6))]
TALK = bundle("TALK", "bill_cycle", ("voice", ["DK"], 300))


def ctx(bundles=None, anchor=1, **kwargs):
    return [SubscriberContext(1, "P", numbers=(SUB,), bundles=bundles, bill_cycle_anchor=anchor, **kwargs)]


def test_a_covered_record_costs_nothing_and_uses_q_units():
    rater = rater_for(VOICE, bundles=[TALK], products=[product("P", bundles=["TALK"])])
    result = rater.rate([voice("a", "4533123456", "2026-10-05 09:00", 61)], ctx())
    record = result.rated[0]
    assert (record.quantity, record.covered, record.charge) == (61, 61, Decimal("0.000000"))
    assert record.bundle_use == (BundleUse("P:TALK", "TALK", 0, dt.date(2026, 10, 1), 61),)
    assert [(c.bundle, c.used, c.amount, c.period_start, c.period_end) for c in result.counters] == [
        ("P:TALK", 61, 300, dt.date(2026, 10, 1), dt.date(2026, 11, 1))]


def test_partly_covered_pays_the_price_for_the_rest_without_setup_or_minimum():
    rater = rater_for(VOICE, bundles=[TALK], products=[product("P", bundles=["TALK"])])
    used = {(0, dt.date(2026, 10, 1)): 280}  # 20 seconds left
    instance = BundleInstance("talk-1", "TALK", used=used)
    result = rater.rate([voice("a", "4533123456", "2026-10-05 09:00", 125)], ctx(bundles=(instance,)))
    record = result.rated[0]
    # q = 125, covered 20, the rest 105 s at 0.30/60 = 0.525 (no 0.20 setup, no 1.00 minimum)
    assert (record.quantity, record.covered, record.charge) == (125, 20, Decimal("0.525000"))
    assert result.counters[0].used == 300


def test_an_exhausted_bundle_leaves_the_full_charge_with_setup_and_minimum():
    rater = rater_for(VOICE, bundles=[TALK])
    instance = BundleInstance("talk-1", "TALK", used={(0, dt.date(2026, 10, 1)): 300})
    record = rater.rate([voice("a", "4533123456", "2026-10-05 09:00", 10)], ctx(bundles=(instance,))).rated[0]
    assert (record.covered, record.charge) == (0, Decimal("1.000000"))  # 0.20 + 0.30 = 0.50 -> minimum 1.00


def test_records_draw_in_start_time_order_within_a_batch():
    rater = rater_for(VOICE, bundles=[TALK], products=[product("P", bundles=["TALK"])])
    late = voice("late", "4533123456", "2026-10-05 11:00", 200)
    early = voice("early", "4533123456", "2026-10-05 09:00", 200)
    result = rater.rate([late, early], ctx())  # given late first
    by_id = result.by_id()
    assert (by_id["early"].covered, by_id["early"].charge) == (200, Decimal("0.000000"))
    assert (by_id["late"].covered, by_id["late"].charge) == (100, Decimal("0.500000"))  # 100 s at 0.30/60
    assert [r.record.record_id for r in result.rated] == ["early", "late"]


def test_only_matching_service_and_zone_draw():
    rater = rater_for(VOICE, bundles=[TALK], products=[product("P", bundles=["TALK"])])
    record = rater.rate([voice("eu", "46812345678", "2026-10-05 09:00", 45)], ctx()).rated[0]
    assert (record.covered, record.charge) == (0, Decimal("1.192000"))  # q = 48: 1.49 * 48 / 60


def test_an_allowance_without_zones_covers_every_zone():
    anywhere = bundle("ANY", "month", ("voice", [], 1000))
    rater = rater_for(VOICE, bundles=[anywhere], products=[product("P", bundles=["ANY"])])
    record = rater.rate([voice("eu", "46812345678", "2026-10-05 09:00", 45)], ctx()).rated[0]
    assert record.covered == 48


class TestOrder:
    def test_the_bundle_expiring_first_is_used_first(self):
        # plan bundle on the bill cycle from the 15th (ends 15 Nov), add-on bundle by calendar month (ends 1 Nov)
        plan = bundle("PLAN_TALK", "bill_cycle", ("voice", ["DK"], 100))
        month = bundle("MONTH_TALK", "month", ("voice", ["DK"], 100))
        rater = rater_for(VOICE, bundles=[plan, month])
        instances = (BundleInstance("plan", "PLAN_TALK"), BundleInstance("addon", "MONTH_TALK", addon=True))
        record = rater.rate([voice("a", "4533123456", "2026-10-20 09:00", 150)], ctx(instances, anchor=15)).rated[0]
        assert [(u.bundle, u.units, u.period_start) for u in record.bundle_use] == [
            ("addon", 100, dt.date(2026, 10, 1)), ("plan", 50, dt.date(2026, 10, 15))]

    def test_a_plan_bundle_expiring_first_goes_before_an_add_on(self):
        # the plan's bill cycle from the 25th ends 25 Oct, before the add-on's calendar month
        plan = bundle("PLAN_TALK", "bill_cycle", ("voice", ["DK"], 100))
        addon = bundle("ADDON_TALK", "month", ("voice", ["DK"], 100))
        rater = rater_for(VOICE, bundles=[plan, addon])
        instances = (BundleInstance("plan", "PLAN_TALK"), BundleInstance("addon", "ADDON_TALK", addon=True))
        record = rater.rate([voice("a", "4533123456", "2026-10-20 09:00", 150)], ctx(instances, anchor=25)).rated[0]
        assert [(u.bundle, u.units) for u in record.bundle_use] == [("plan", 100), ("addon", 50)]

    def test_at_the_same_moment_the_add_on_goes_first(self):
        plan = bundle("PLAN_TALK", "bill_cycle", ("voice", ["DK"], 100))
        addon = bundle("ADDON_TALK", "month", ("voice", ["DK"], 100))
        rater = rater_for(VOICE, bundles=[plan, addon], products=[product("P", bundles=["PLAN_TALK"]),
                                                                  product("A", None, ["ADDON_TALK"], "addon")])
        contexts = [SubscriberContext(1, "P", numbers=(SUB,), addons=("A",))]  # bundles from the tariff
        record = rater.rate([voice("a", "4533123456", "2026-10-20 09:00", 150)], contexts).rated[0]
        assert [(u.bundle, u.units) for u in record.bundle_use] == [("A:ADDON_TALK", 100), ("P:PLAN_TALK", 50)]

    def test_an_add_on_that_ends_earlier_expires_first(self):
        plan = bundle("PLAN_TALK", "month", ("voice", ["DK"], 100))
        rater = rater_for(VOICE, bundles=[plan])
        ends = at("2026-10-25 00:00")
        instances = (BundleInstance("plan", "PLAN_TALK", addon=True),
                     BundleInstance("ending", "PLAN_TALK", valid_to=ends))
        first, after = rater.rate([voice("a", "4533123456", "2026-10-20 09:00", 150),
                                   voice("b", "4533123456", "2026-10-26 09:00", 60)], ctx(instances)).rated
        assert [(u.bundle, u.units) for u in first.bundle_use] == [("ending", 100), ("plan", 50)]
        assert [(u.bundle, u.units) for u in after.bundle_use] == [("plan", 50)]  # the ended one is gone
        assert after.charge == Decimal("0.050000")  # 10 s of the first 60 uncovered: 0.30 * 10 / 60

    def test_a_bundle_not_yet_held_is_not_used(self):
        rater = rater_for(VOICE, bundles=[TALK])
        instances = (BundleInstance("later", "TALK", valid_from=at("2026-10-10 00:00")),)
        record = rater.rate([voice("a", "4533123456", "2026-10-05 09:00", 60)], ctx(instances)).rated[0]
        assert record.covered == 0


class TestRenewal:
    def test_bill_cycle_from_the_15th_renews_on_the_15th_across_february(self):
        rater = rater_for(VOICE, bundles=[TALK])
        records = [voice("jan", "4533123456", "2027-01-20 09:00", 250),
                   voice("feb14", "4533123456", "2027-02-14 23:30", 100),  # same period: 50 left, 50 paid
                   voice("feb15", "4533123456", "2027-02-15 00:30", 100)]  # a new period
        result = rater.rate(records, ctx((BundleInstance("talk", "TALK"),), anchor=15))
        jan, feb14, feb15 = result.rated
        assert (jan.covered, feb14.covered, feb15.covered) == (250, 50, 100)
        assert feb14.charge == Decimal("0.250000")  # 50 s at 0.30/60, no setup
        assert [(c.period_start, c.period_end, c.used) for c in result.counters] == [
            (dt.date(2027, 1, 15), dt.date(2027, 2, 15), 300), (dt.date(2027, 2, 15), dt.date(2027, 3, 15), 100)]

    def test_the_period_turns_at_local_midnight(self):
        rater = rater_for(VOICE, bundles=[TALK])
        moment = dt.datetime(2027, 2, 14, 23, 30, tzinfo=dt.UTC)  # 00:30 on the 15th in Copenhagen
        record = rater.rate([voice("x", "4533123456", moment, 60)],
                            ctx((BundleInstance("talk", "TALK", used={(0, dt.date(2027, 1, 15)): 300}),),
                                anchor=15)).rated[0]
        assert record.bundle_use[0].period_start == dt.date(2027, 2, 15)

    def test_an_anchor_past_a_short_month_uses_its_last_day(self):
        rater = rater_for(VOICE, bundles=[TALK])
        records = [voice("a", "4533123456", "2027-02-27 12:00", 60), voice("b", "4533123456", "2027-02-28 12:00", 60)]
        result = rater.rate(records, ctx((BundleInstance("talk", "TALK"),), anchor=31))
        assert [r.bundle_use[0].period_start for r in result.rated] == [dt.date(2027, 1, 31), dt.date(2027, 2, 28)]

    def test_month_bundles_renew_on_the_first(self):
        roam = bundle("ROAM", "month", ("data", ["EU_ROAM"], 1048576))
        rater = rater_for([rate("data", "EU_ROAM", "0.10", 1048576, (1024, 1024))], bundles=[roam])
        records = [data("oct", "2026-10-31 23:00", 1048576, "SE"), data("nov", "2026-11-01 01:00", 1048576, "SE")]
        result = rater.rate(records, ctx((BundleInstance("roam", "ROAM"),), anchor=15))
        assert [(r.covered, r.bundle_use[0].period_start) for r in result.rated] == [
            (1048576, dt.date(2026, 10, 1)), (1048576, dt.date(2026, 11, 1))]

    def test_once_bundles_never_renew(self):
        once = bundle("WELCOME", "once", ("voice", ["DK"], 100))
        rater = rater_for(VOICE, bundles=[once])
        records = [voice("a", "4533123456", "2026-10-05 09:00", 60), voice("b", "4533123456", "2026-12-05 09:00", 60)]
        result = rater.rate(records, ctx((BundleInstance("welcome", "WELCOME"),)))
        assert [r.covered for r in result.rated] == [60, 40]
        assert [(c.period_start, c.period_end, c.used) for c in result.counters] == [(None, None, 100)]

    def test_earlier_use_in_the_record_period_counts_and_other_periods_do_not(self):
        rater = rater_for(VOICE, bundles=[TALK])
        used = {(0, dt.date(2026, 9, 1)): 300, (0, dt.date(2026, 10, 1)): 250}
        record = rater.rate([voice("a", "4533123456", "2026-10-05 09:00", 100)],
                            ctx((BundleInstance("talk", "TALK", used=used),))).rated[0]
        assert record.covered == 50

    def test_a_late_record_draws_from_its_own_period(self):
        rater = rater_for(VOICE, bundles=[TALK])
        used = {(0, dt.date(2026, 10, 1)): 300}  # October is used up
        record = rater.rate([voice("late", "4533123456", "2026-09-30 09:00", 100)],
                            ctx((BundleInstance("talk", "TALK", used=used),))).rated[0]
        assert (record.covered, record.bundle_use[0].period_start) == (100, dt.date(2026, 9, 1))


def test_several_allowances_of_one_bundle_count_separately():
    combo = bundle("COMBO", "month", ("voice", ["DK"], 60), ("data", ["HOME"], 10240))
    rater = rater_for(VOICE + [rate("data", "HOME", "0.10", 1048576, (10240, 10240))], bundles=[combo])
    result = rater.rate([voice("v", "4533123456", "2026-10-05 09:00", 60), data("d", "2026-10-05 09:01", 100, "DK")],
                        ctx((BundleInstance("combo", "COMBO"),)))
    assert [r.covered for r in result.rated] == [60, 10240]
    assert sorted((c.allowance, c.used, c.amount) for c in result.counters) == [(0, 60, 60), (1, 10240, 10240)]


def test_the_inputs_are_not_changed():
    rater = rater_for(VOICE, bundles=[TALK])
    used = {(0, dt.date(2026, 10, 1)): 10}
    contexts = ctx((BundleInstance("talk", "TALK", used=used),), balance=Decimal("10"))
    rater.rate([voice("a", "4533123456", "2026-10-05 09:00", 100)], contexts)
    assert used == {(0, dt.date(2026, 10, 1)): 10} and contexts[0].balance == Decimal("10")
