"""Usage discounts apply to the charge after bundles; prepaid balances fall after each record, and
crossing the low-balance threshold and reaching zero each raise one event."""

from decimal import Decimal

from rating_helpers import SUB, at, bundle, product, rate, rater_for, voice

from telora.catalog import tariff as t
from telora.rating.engine import LOW_BALANCE, ZERO_BALANCE, BundleInstance, SubscriberContext, UsageRecord

RATES = [rate("voice", "DK", "0.30", 60, (60, 1)), rate("voice", "EU", "1.49", 60, (30, 6), setup="0.11")]


def discount(code, percent, services=("voice",), zones=("EU",), products=("P",)):
    return t.Discount(code, "usage", Decimal(percent), frozenset(services), frozenset(zones), frozenset(products),
                      None)


class TestDiscounts:
    def test_percent_off_the_charge_for_the_listed_product(self):
        rater = rater_for(RATES, discounts=[discount("EU_HALF", "50")])
        record = rater.rate([voice("a", "46812345678", "2026-10-05 19:02", 45)],
                            [SubscriberContext(1, "P", numbers=(SUB,))]).rated[0]
        # 0.11 + 1.49 * 48 / 60 = 1.302; half off: 0.651
        assert (record.charge, record.discount, record.discounts) == (Decimal("0.651000"), Decimal("0.651000"),
                                                                      ("EU_HALF",))

    def test_only_the_discounts_service_and_zones(self):
        rater = rater_for(RATES, discounts=[discount("EU_HALF", "50")])
        record = rater.rate([voice("a", "4533123456", "2026-10-05 19:02", 60)],
                            [SubscriberContext(1, "P", numbers=(SUB,))]).rated[0]
        assert (record.charge, record.discounts) == (Decimal("0.300000"), ())

    def test_not_for_other_products(self):
        rater = rater_for(RATES, discounts=[discount("EU_HALF", "50", products=("OTHER",))])
        record = rater.rate([voice("a", "46812345678", "2026-10-05 19:02", 45)],
                            [SubscriberContext(1, "P", numbers=(SUB,))]).rated[0]
        assert record.charge == Decimal("1.302000")

    def test_an_add_on_listed_by_the_discount_brings_it(self):
        rater = rater_for(RATES, discounts=[discount("EU_HALF", "50", products=("A",))],
                          products=[product("P"), product("A", None, (), "addon")])
        record = rater.rate([voice("a", "46812345678", "2026-10-05 19:02", 45)],
                            [SubscriberContext(1, "P", numbers=(SUB,), addons=("A",))]).rated[0]
        assert record.charge == Decimal("0.651000")

    def test_the_context_can_name_its_discounts(self):
        rater = rater_for(RATES, discounts=[discount("EU_HALF", "50", products=("OTHER",))])
        record = rater.rate([voice("a", "46812345678", "2026-10-05 19:02", 45)],
                            [SubscriberContext(1, "P", numbers=(SUB,), discounts=("EU_HALF",))]).rated[0]
        assert record.charge == Decimal("0.651000")

    def test_applies_after_bundles_to_what_is_left(self):
        talk = bundle("EU_TALK", "month", ("voice", ["EU"], 30))
        rater = rater_for(RATES, bundles=[talk], discounts=[discount("EU_QUARTER", "25")])
        instance = BundleInstance("t", "EU_TALK")
        record = rater.rate([voice("a", "46812345678", "2026-10-05 19:02", 45)],
                            [SubscriberContext(1, "P", numbers=(SUB,), bundles=(instance,))]).rated[0]
        # q = 48, 30 covered, 18 s at 1.49/60 = 0.447 (no setup); 25 % off: 0.447 - 0.11175 = 0.33525
        assert (record.covered, record.discount, record.charge) == (30, Decimal("0.111750"), Decimal("0.335250"))

    def test_the_discount_rounds_half_up_and_the_parts_add_up(self):
        rater = rater_for([rate("voice", "DK", "0.000003", 1)], discounts=[discount("HALF", "50", zones=())])
        record = rater.rate([voice("a", "4533123456", "2026-10-05 10:00", 1)],
                            [SubscriberContext(1, "P", numbers=(SUB,))]).rated[0]
        # 0.000003 * 50 % = 0.0000015 -> 0.000002 off, 0.000001 left
        assert (record.discount, record.charge) == (Decimal("0.000002"), Decimal("0.000001"))


class TestPrepaid:
    def test_the_balance_after_each_record_and_each_event_once(self):
        rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 60))], low_balance_threshold=Decimal("0.50"))
        records = [voice(f"r{i}", "4533123456", f"2026-10-05 10:0{i}", 60) for i in range(5)]
        result = rater.rate(records, [SubscriberContext(7, "P", numbers=(SUB,), balance=Decimal("1.00"))])
        assert [r.balance_after for r in result.rated] == [Decimal(x) for x in
                                                           ("0.700000", "0.400000", "0.100000", "-0.200000",
                                                            "-0.500000")]
        assert [(e.kind, e.record_id, e.balance) for e in result.events] == [
            (LOW_BALANCE, "r1", Decimal("0.400000")), (ZERO_BALANCE, "r3", Decimal("-0.200000"))]
        assert result.balances == {7: Decimal("-0.500000")}

    def test_one_record_can_cross_both(self):
        rater = rater_for([rate("voice", "DK", "6.00", 60, (60, 60))])  # threshold 5 by default
        result = rater.rate([voice("big", "4533123456", "2026-10-05 10:00", 60)],
                            [SubscriberContext(7, "P", numbers=(SUB,), balance=Decimal("5.50"))])
        assert [e.kind for e in result.events] == [LOW_BALANCE, ZERO_BALANCE]
        assert result.rated[0].balance_after == Decimal("-0.500000")

    def test_already_below_the_threshold_raises_nothing_again(self):
        rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 60))])
        result = rater.rate([voice("a", "4533123456", "2026-10-05 10:00", 60)],
                            [SubscriberContext(7, "P", numbers=(SUB,), balance=Decimal("3.00"))])
        assert result.events == [] and result.rated[0].balance_after == Decimal("2.700000")

    def test_the_context_sets_its_own_threshold(self):
        rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 60))])
        result = rater.rate([voice("a", "4533123456", "2026-10-05 10:00", 60)],
                            [SubscriberContext(7, "P", numbers=(SUB,), balance=Decimal("20.10"),
                                               low_balance_threshold=Decimal("20"))])
        assert [e.kind for e in result.events] == [LOW_BALANCE]

    def test_bundles_and_free_records_leave_the_balance(self):
        talk = bundle("TALK", "month", ("voice", ["DK"], 60))
        rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 60))], bundles=[talk])
        result = rater.rate([voice("a", "4533123456", "2026-10-05 10:00", 60),
                             voice("b", "4533123456", "2026-10-05 11:00", 0),
                             voice("c", "4533123456", "2026-10-05 12:00", 60)],
                            [SubscriberContext(7, "P", numbers=(SUB,), balance=Decimal("10"),
                                               bundles=(BundleInstance("t", "TALK"),))])
        assert [r.balance_after for r in result.rated] == [Decimal("10.000000"), Decimal("10.000000"),
                                                           Decimal("9.700000")]

    def test_postpaid_records_have_no_balance(self):
        rater = rater_for([rate("voice", "DK", "0.30")])
        result = rater.rate([voice("a", "4533123456", "2026-10-05 10:00", 60)], [SubscriberContext(1, "P", numbers=(SUB,))])
        assert result.rated[0].balance_after is None and result.balances == {}

    def test_prepaid_content_is_deducted(self):
        rater = rater_for([rate("voice", "DK", "0.30")])
        content = UsageRecord("c", "content", SUB, "1999", at("2026-10-07 16:00"), charge=Decimal("19.00"))
        result = rater.rate([content], [SubscriberContext(7, "P", numbers=(SUB,), balance=Decimal("25"))])
        assert result.rated[0].balance_after == Decimal("6.000000")


def test_balances_are_kept_per_subscription():
    rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 60))])
    other = "4520000002"
    result = rater.rate([voice("a", "4533123456", "2026-10-05 10:00", 60),
                         voice("b", "4533123456", "2026-10-05 10:01", 60, a_number=other)],
                        [SubscriberContext(1, "P", numbers=(SUB,), balance=Decimal("1")),
                         SubscriberContext(2, "P", numbers=(other,), balance=Decimal("2"))])
    assert result.balances == {1: Decimal("0.700000"), 2: Decimal("1.700000")}
