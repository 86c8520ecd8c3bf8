"""The pure engine's pre-rated path (`Rater.take_rated`): charges kept as given, zones as rating
would find them, no bundles, the prepaid balance following balance_after, and what fails."""

from decimal import Decimal as D

from rating_helpers import SUB, data, sms, voice

from telora.rating.engine import SubscriberContext
from telora.rating.engine.results import (
    DUPLICATE,
    LOW_BALANCE,
    NO_CHARGE,
    OUT_OF_RANGE,
    UNKNOWN_SUBSCRIBER,
    ZERO_BALANCE,
)

POST = SubscriberContext(subscription_id=1, plan="MOB_POST_10GB", numbers=(SUB,))


def test_charges_are_kept_and_no_bundle_is_drawn(reference_rater):
    records = [voice("v1", "4533123456", "2026-10-05 09:15", 125, charge=D("1.5")),
               sms("s1", "46812345678", "2026-10-05 09:16")._replace(charge=D("0.25")),
               data("d1", "2026-10-05 09:17", 1_000_000, location="SE")._replace(charge=D("0"))]
    result = reference_rater.take_rated(records, [POST])
    assert [(r.record_id, r.charge, r.zone, r.rate, r.bundle_use, r.quantity) for r in result.rated] == [
        ("v1", D("1.5"), "DK", None, (), 125), ("s1", D("0.25"), "EU", None, (), 1),
        ("d1", D("0"), "EU_ROAM", None, (), 1_000_000)]
    assert result.rated[0].band == "PEAK" and not result.counters and not result.failed
    # the same records rated by the tariff draw the 10 GB plan's bundles
    assert reference_rater.rate([r._replace(charge=None) for r in records], [POST]).counters


def test_failures_name_their_field(reference_rater):
    seen = {"v0"}
    records = [voice("v0", "4533123456", "2026-10-05 09:14", 60, charge=D("1")),
               voice("v1", "4533123456", "2026-10-05 09:15", 60),
               voice("v2", "4533123456", "2026-10-05 09:16", 60, charge=D("0.1234567")),
               voice("v3", "4533123456", "2026-10-05 09:17", 60, charge=D("1"), balance_after=D("1.0000001")),
               voice("v4", "4533123456", "2026-10-05 09:18", 60, charge=D("1"), balance_after=D("-1E12")),
               voice("v5", "4533123456", "2026-10-05 09:19", 60, charge=D("-1")),
               voice("v6", "4533123456", "2026-10-05 09:20", 60, a_number="4599999999", charge=D("1")),
               voice("v7", "4533123456", "2026-10-05 09:21", 60, charge=D("1.500000000"))]
    result = reference_rater.take_rated(records, [POST], seen=seen)
    failed = {f.record_id: (f.reason, f.detail) for f in result.failed}
    assert failed["v0"][0] == DUPLICATE
    assert failed["v1"][0] == NO_CHARGE and failed["v1"][1].startswith("charge: required")
    assert failed["v2"] == (OUT_OF_RANGE, "charge: 0.1234567 has more than 6 decimals")
    assert failed["v3"] == (OUT_OF_RANGE, "balance_after: 1.0000001 has more than 6 decimals")
    assert failed["v4"][0] == OUT_OF_RANGE and failed["v4"][1].startswith("balance_after: -1E+12 is beyond")
    assert failed["v5"] == (OUT_OF_RANGE, "charge: -1 is negative")
    assert failed["v6"][0] == UNKNOWN_SUBSCRIBER
    assert [r.record_id for r in result.rated] == ["v7"] and result.rated[0].charge_micro == 1_500_000
    assert "v7" in seen


def test_a_prepaid_balance_follows_the_ocs_and_its_threshold(reference_rater):
    pre = SubscriberContext(subscription_id=2, plan="MOB_PRE", numbers=(SUB,), balance=D("10"),
                            low_balance_threshold=D("3"))
    records = [sms("a", "4533123456", "2026-10-05 09:15")._replace(charge=D("1"), balance_after=D("9")),
               sms("b", "4533123456", "2026-10-05 09:16")._replace(charge=D("1"), balance_after=D("2.5")),
               sms("c", "4533123456", "2026-10-05 09:17")._replace(charge=D("0")),
               sms("d", "4533123456", "2026-10-05 09:18")._replace(charge=D("3"))]
    result = reference_rater.take_rated(records, [pre])
    assert [r.balance_after for r in result.rated] == [D("9"), D("2.5"), D("2.5"), D("-0.5")]
    assert [(s, a, b, r.record_id) for s, a, b, r in result.ledger] == [
        (2, -1_000_000, 9_000_000, "a"), (2, -6_500_000, 2_500_000, "b"), (2, -3_000_000, -500_000, "d")]
    assert [(e.kind, e.record_id, e.threshold) for e in result.events] == [
        (LOW_BALANCE, "b", D("3")), (ZERO_BALANCE, "d", D("3"))]
    assert result.balances == {2: D("-0.5")}
