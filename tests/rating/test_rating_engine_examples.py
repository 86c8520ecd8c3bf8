"""The shared examples rated against the reference catalogue, with the outcomes their README
describes and amounts computed by hand from catalog.yaml.

Subscriber contexts (our choice, said here): 4520000001 and 4520000002 hold MOB_POST_BASIC
(postpaid, rate plan POST_STD, no bundles), so every amount is the rate itself; a second run puts
4520000001 on MOB_POST_10GB with its bundles untouched and its EU-calls discount; and the prepaid
case puts it on MOB_PRE (PRE_STD). 4599999999 holds nothing.
"""

from decimal import Decimal

import pytest
from rating_helpers import ASTERISK, CDRS

from telora.rating import formats
from telora.rating.engine import DUPLICATE, PARSE_ERROR, UNKNOWN_SUBSCRIBER, SubscriberContext

D = Decimal


def rate_file(rater, fmt, path, plan="MOB_POST_BASIC", **options):
    contexts = [SubscriberContext(1, plan, numbers=("4520000001",), balance=options.pop("balance", None)),
                SubscriberContext(2, "MOB_POST_BASIC", numbers=("4520000002",))]
    return rater.rate(formats.parse_path(fmt, path, **options), contexts)


def outcome(result):
    rated = {r.record.record_id: (r.zone, r.band, r.quantity, r.covered, r.charge) for r in result.rated}
    failed = [(f.record_id, f.reason) for f in result.failed]
    return rated, failed


def test_cdrs_csv_on_pay_per_use(reference_rater):
    rated, failed = outcome(rate_file(reference_rater, "csv", CDRS))
    assert rated == {
        # DK (45), Monday 09:15 CEST: PEAK 0.30/60, [60, 1]: q = 125, 0.30 * 125 / 60
        "nord-0001": ("DK", "PEAK", 125, 0, D("0.625000")),
        # DK_MOBILE (452): 0.10 setup + 0.35 * 61 / 60 = 0.4558333…
        "nord-0002": ("DK_MOBILE", "PEAK", 61, 0, D("0.455833")),
        # EU (46), 19:02 OFFPEAK (EU has no band): [30, 6]: q = 30 + ceil(15 / 6) * 6 = 48; 1.49 * 48 / 60
        "nord-0003": ("EU", "OFFPEAK", 48, 0, D("1.192000")),
        # the zero-length call to Germany (EU) on a Saturday costs nothing
        "nord-0004": ("EU", "OFFPEAK", 0, 0, D("0.000000")),
        "nord-0005": ("DK", "PEAK", 1, 0, D("0.250000")),
        # 50 MB at home: q = 52428800 (a whole number of 10240-byte steps); 0.10 * 50
        "nord-0006": ("HOME", "PEAK", 52428800, 0, D("5.000000")),
        # 100 MB in Sweden: EU_ROAM 0.10 per MB
        "nord-0007": ("EU_ROAM", "PEAK", 104857600, 0, D("10.000000")),
        # DK_PREMIUM (4590): [60, 60] makes 30 s a minute, 4.95, which is also the minimum
        "nord-0008": ("DK_PREMIUM", "PEAK", 60, 0, D("4.950000")),
        # content carries its own charge
        "nord-0009": (None, "PEAK", 1, 0, D("19.000000")),
    }
    assert failed == [("nord-0001", DUPLICATE), ("nord-0011", PARSE_ERROR), ("nord-0010", UNKNOWN_SUBSCRIBER)]


def test_cdrs_csv_with_the_10gb_plan_bundles_and_discount(reference_rater):
    result = rate_file(reference_rater, "csv", CDRS, plan="MOB_POST_10GB")
    rated, failed = outcome(result)
    charges = {record_id: (covered, charge) for record_id, (_z, _b, _q, covered, charge) in rated.items()}
    assert charges == {
        "nord-0001": (125, D("0.000000")),  # DK_TALK_500 covers DK and DK_MOBILE calls
        "nord-0002": (61, D("0.000000")),
        "nord-0003": (0, D("0.596000")),  # EU calls: no bundle, EU_CALLS_HALF takes half of 1.192
        "nord-0004": (0, D("0.000000")),
        "nord-0005": (1, D("0.000000")),  # SMS_FREE
        "nord-0006": (52428800, D("0.000000")),  # DATA_10GB at home
        "nord-0007": (104857600, D("0.000000")),  # DATA_10GB covers EU roaming too
        "nord-0008": (0, D("4.950000")),  # premium is in no bundle
        "nord-0009": (0, D("19.000000")),
    }
    assert len(failed) == 3
    counters = {c.code: c.used for c in result.counters}
    assert counters == {"DK_TALK_500": 186, "SMS_FREE": 1, "DATA_10GB": 157286400}
    assert result.by_id()["nord-0003"].discounts == ("EU_CALLS_HALF",)


def test_cdrs_csv_on_prepaid_with_the_balance_after_each_record(reference_rater):
    result = rate_file(reference_rater, "csv", CDRS, plan="MOB_PRE", balance=D("30.00"))
    rated = {r.record.record_id: (r.zone, r.charge, r.balance_after) for r in result.rated}
    failed = {f.record_id: f.reason for f in result.failed}
    # PRE_STD: DK 0.49/60 per second; no DK_MOBILE rate, so 4520999999 falls back to DK; EU 1.99/60
    assert rated["nord-0001"] == ("DK", D("1.020833"), D("28.979167"))  # 0.49 * 125 / 60 = 1.0208333…
    assert rated["nord-0002"] == ("DK", D("0.498167"), D("28.481000"))  # 0.49 * 61 / 60 = 0.4981666…
    assert rated["nord-0005"] == ("DK", D("0.390000"), D("28.091000"))
    assert rated["nord-0006"] == ("HOME", D("10.000000"), D("18.091000"))  # 50 MB at 0.20
    assert rated["nord-0003"] == ("EU", D("1.492500"), D("16.598500"))  # 1.99 * 45 / 60
    # PRE_STD has no DK_PREMIUM rate: 4590… falls back to DK
    assert rated["nord-0008"] == ("DK", D("0.245000"), D("16.353500"))  # 0.49 * 30 / 60
    assert rated["nord-0009"] == (None, D("19.000000"), D("-2.646500"))  # may go negative
    assert rated["nord-0004"] == ("EU", D("0.000000"), D("-2.646500"))
    # SE has no rate in PRE_STD, and WORLD_ROAM neither: no rate anywhere
    assert failed["nord-0007"] == "NO_RATE"
    assert [e.kind for e in result.events] == ["LOW_BALANCE", "ZERO_BALANCE"]
    assert result.balances == {1: D("-2.646500")}


def test_asterisk_master_csv(reference_rater):
    rated, failed = outcome(rate_file(reference_rater, "asterisk", ASTERISK, timezone="Europe/Copenhagen"))
    assert failed == []
    assert rated == {
        # Saturday 09:15 to Sweden (0046…): EU, OFFPEAK; billsec 125: q = 30 + ceil(95 / 6) * 6 = 126
        "1759475700.1": ("EU", "OFFPEAK", 126, 0, D("3.129000")),
        "1759478400.3": ("DK", "OFFPEAK", 0, 0, D("0.000000")),  # NO ANSWER: not charged
        # Sunday to a Danish mobile, 900 s: 0.10 + 0.35 * 900 / 60
        "1759595400.5": ("DK_MOBILE", "OFFPEAK", 900, 0, D("5.350000")),
        "1759597200.7": ("DK", "OFFPEAK", 0, 0, D("0.000000")),  # BUSY: not charged
    }


@pytest.mark.parametrize("fmt, path", [("csv", CDRS), ("asterisk", ASTERISK)])
def test_every_line_is_accounted_for(reference_rater, fmt, path):
    lines = sum(1 for line in path.read_text().splitlines() if line.strip()) - (fmt == "csv")
    result = rate_file(reference_rater, fmt, path)
    assert len(result.rated) + len(result.failed) == lines
