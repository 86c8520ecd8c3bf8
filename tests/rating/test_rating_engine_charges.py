"""Hand-computed charges for each rating rule: increments, setup, minimum, rounding, zero usage,
content, bands (with a DST change), prefix fallback, data by country, no rate."""

from decimal import Decimal

import pytest
from rating_helpers import SUB, at, data, rate, rater_for, sms, voice

from telora.rating.engine import NO_RATE, SubscriberContext, UsageRecord, charged_quantity

CTX = [SubscriberContext(1, "P", numbers=(SUB,))]


def rated(rater, *records, contexts=CTX):
    result = rater.rate(records, contexts)
    assert not result.failed, result.failed
    return result.rated if len(records) > 1 else result.rated[0]


@pytest.mark.parametrize("usage, first, step, q", [
    (0, 60, 1, 0),  # nothing used, nothing charged
    (1, 60, 1, 60),  # the first step is charged whole
    (60, 60, 1, 60),
    (125, 60, 1, 125),  # 60 + ceil(65 / 1) * 1
    (61, 60, 60, 120),  # 60 + ceil(1 / 60) * 60
    (45, 30, 6, 48),  # 30 + ceil(15 / 6) * 6
    (7, 0, 5, 10),  # no first step: ceil(7 / 5) * 5
    (52428801, 10240, 10240, 52439040),  # 10240 + ceil(52418561 / 10240) * 10240
])
def test_charged_quantity_follows_the_increments(usage, first, step, q):
    assert charged_quantity(usage, first, step) == q


def test_per_second_after_the_first_minute():
    rater = rater_for([rate("voice", "DK", "0.30", 60, (60, 1))])
    assert rated(rater, voice("a", "4533123456", "2026-10-05 09:15", 125)).charge == Decimal("0.625000")  # 0.30*125/60
    assert rated(rater, voice("b", "4533123456", "2026-10-05 09:15", 10)).charge == Decimal("0.300000")  # q = 60


def test_setup_fee_is_added_once():
    rater = rater_for([rate("voice", "DK", "0.35", 60, (1, 1), setup="0.10")])
    record = rated(rater, voice("a", "4533123456", "2026-10-05 09:20", 61))
    assert (record.quantity, record.charge) == (61, Decimal("0.455833"))  # 0.10 + 0.35*61/60 = 0.4558333…


def test_minimum_charge_applies_when_the_charge_is_lower():
    rater = rater_for([rate("voice", "DK", "0.60", 60, (1, 1), minimum="0.50")])
    assert rated(rater, voice("a", "4533123456", "2026-10-05 09:00", 10)).charge == Decimal("0.500000")  # 0.10 < 0.50
    assert rated(rater, voice("b", "4533123456", "2026-10-05 09:00", 60)).charge == Decimal("0.600000")


def test_premium_rate_by_the_minute_with_its_minimum():
    rater = rater_for([rate("voice", "DK", "4.95", 60, (60, 60), minimum="4.95")])
    assert rated(rater, voice("a", "4533123456", "2026-10-06 14:00", 30)).charge == Decimal("4.950000")
    assert rated(rater, voice("b", "4533123456", "2026-10-06 14:00", 61)).charge == Decimal("9.900000")  # q = 120


def test_amounts_round_half_up_to_six_decimals():
    rater = rater_for([rate("sms", "DK", "0.000001", 2), rate("voice", "DK", "0.000003", 2)])
    assert rated(rater, sms("a", "4533123456", "2026-10-05 09:00")).charge == Decimal("0.000001")  # 0.0000005
    assert rated(rater, voice("b", "4533123456", "2026-10-05 09:00", 1)).charge == Decimal("0.000002")  # 0.0000015


def test_zero_usage_costs_nothing_even_with_setup_and_minimum():
    rater = rater_for([rate("voice", "DK", "1.00", 60, (60, 1), setup="0.50", minimum="1.00")])
    record = rated(rater, voice("a", "4533123456", "2026-10-10 12:00", 0))
    assert (record.quantity, record.charge, record.zone) == (0, Decimal("0.000000"), "DK")


def test_zero_usage_where_nothing_is_priced_is_rated_at_nothing_not_failed():
    rater = rater_for([rate("voice", "DK", "1.00")])
    record = rated(rater, voice("a", "12125550100", "2026-10-10 12:00", 0))
    assert (record.rate, record.charge) == (None, Decimal("0.000000"))


def test_content_carries_its_own_charge():
    rater = rater_for([rate("voice", "DK", "1.00")])
    record = rated(rater, UsageRecord("c", "content", SUB, "1999", at("2026-10-07 16:00"), charge=Decimal("19.00")))
    assert (record.charge, record.rate, record.zone, record.quantity) == (Decimal("19.000000"), None, None, 1)


def test_content_without_its_own_charge_is_rated_like_a_destination():
    rater = rater_for([rate("content", "WORLD", "2.50", 1)])
    record = rated(rater, UsageRecord("c", "content", SUB, "1999", at("2026-10-07 16:00"), quantity=2))
    assert record.charge == Decimal("5.000000")


def test_incoming_usage_is_kept_at_no_charge():
    rater = rater_for([rate("voice", "DK", "1.00")])
    record = rated(rater, voice("in", "4640000000", "2026-10-05 09:00", 300, direction="in"))
    assert (record.charge, record.zone, record.rate) == (Decimal("0.000000"), "EU", None)


class TestBands:
    """PEAK Monday to Friday 08:00-18:00 in Europe/Copenhagen, OFFPEAK otherwise."""

    RATES = [rate("voice", "DK", "0.30", 60, (60, 1), band="PEAK"), rate("voice", "DK", "0.15", 60, (60, 1),
                                                                          band="OFFPEAK")]

    def band(self, start):
        return rated(rater_for(self.RATES), voice("x", "4533123456", start, 60))

    def test_weekday_peak_and_evening_offpeak(self):
        assert (self.band("2026-10-05 09:15").band, self.band("2026-10-05 09:15").charge) == ("PEAK", Decimal("0.300000"))
        assert (self.band("2026-10-05 19:02").band, self.band("2026-10-05 19:02").charge) == ("OFFPEAK",
                                                                                              Decimal("0.150000"))

    def test_band_edges_are_from_inclusive_to_exclusive(self):
        assert self.band("2026-10-09 07:59").band == "OFFPEAK"
        assert self.band("2026-10-09 08:00").band == "PEAK"
        assert self.band("2026-10-09 17:59").band == "PEAK"
        assert self.band("2026-10-09 18:00").band == "OFFPEAK"
        assert self.band("2026-10-10 12:00").band == "OFFPEAK"  # Saturday

    def test_the_band_follows_local_time_across_the_dst_change(self):
        import datetime as dt

        utc = dt.UTC
        # 06:30 UTC is 08:30 in summer time (CEST, +2) but 07:30 after the clocks go back (CET, +1)
        before = voice("s", "4533123456", dt.datetime(2026, 10, 19, 6, 30, tzinfo=utc), 60)
        after = voice("w", "4533123456", dt.datetime(2026, 10, 26, 6, 30, tzinfo=utc), 60)
        late = voice("l", "4533123456", dt.datetime(2026, 10, 26, 16, 30, tzinfo=utc), 60)  # 17:30 CET
        summer, winter, evening = rated(rater_for(self.RATES), before, after, late)
        assert (summer.band, winter.band, evening.band) == ("PEAK", "OFFPEAK", "PEAK")

    def test_a_record_written_with_another_offset_is_banded_by_the_instant(self):
        import datetime as dt

        moment = dt.datetime.fromisoformat("2026-10-05T06:15:00+00:00")  # 08:15 in Copenhagen
        assert rated(rater_for(self.RATES), voice("o", "4533123456", moment, 60)).band == "PEAK"

    def test_a_rate_without_band_serves_every_band_and_a_band_rate_wins(self):
        rater = rater_for([rate("voice", "DK", "1.00", 60, (60, 1)), rate("voice", "DK", "0.50", 60, (60, 1),
                                                                           band="OFFPEAK")])
        peak, offpeak = rated(rater, voice("p", "4533123456", "2026-10-05 10:00", 60),
                              voice("o", "4533123456", "2026-10-05 20:00", 60))
        assert (peak.charge, offpeak.charge) == (Decimal("1.000000"), Decimal("0.500000"))

    def test_a_plan_without_time_bands_has_no_band(self):
        record = rated(rater_for([rate("voice", "DK", "1.00")], time_bands=False),
                       voice("n", "4533123456", "2026-10-05 10:00", 60))
        assert record.band is None


class TestZones:
    def test_longest_prefix_wins(self):
        rater = rater_for([rate("voice", "DK", "0.30"), rate("voice", "DK_MOBILE", "0.35")])
        mobile, fixed = rated(rater, voice("m", "4520999999", "2026-10-05 10:00", 60),
                              voice("f", "4533123456", "2026-10-05 10:01", 60))
        assert (mobile.zone, fixed.zone) == ("DK_MOBILE", "DK")

    def test_a_zone_without_a_rate_falls_back_to_the_shorter_prefix(self):
        rater = rater_for([rate("voice", "DK", "0.49", 60, (1, 1))])  # no DK_MOBILE rate, no SPECIAL rate
        mobile, special = rated(rater, voice("m", "4520999999", "2026-10-05 10:00", 61),
                                voice("s", "4599123456", "2026-10-05 10:01", 60))
        assert (mobile.zone, mobile.charge) == ("DK", Decimal("0.498167"))  # 0.49 * 61 / 60 = 0.4981666…
        assert special.zone == "DK"

    def test_fallback_goes_on_to_the_shortest_prefix(self):
        rater = rater_for([rate("voice", "WORLD", "6.00", 60, (60, 60), setup="0.50")])
        record = rated(rater, voice("w", "4533123456", "2026-10-05 10:00", 61))  # 45 (DK) has no rate; 4 is WORLD
        assert (record.zone, record.charge) == ("WORLD", Decimal("12.500000"))

    def test_no_rate_anywhere_fails(self):
        rater = rater_for([rate("voice", "DK", "0.30")])
        result = rater.rate([voice("x", "12125550100", "2026-10-05 10:00", 60),
                             sms("y", "4533123456", "2026-10-05 10:00")], [SubscriberContext(1, "P", numbers=(SUB,))])
        assert [(f.record.record_id, f.reason) for f in result.failed] == [("x", NO_RATE), ("y", NO_RATE)]
        assert "no voice rate for zones WORLD" in result.failed[0].detail

    def test_a_number_matching_no_prefix_has_no_rate(self):
        rater = rater_for([rate("voice", "DK", "0.30")])
        result = rater.rate([voice("x", "999", "2026-10-05 10:00", 60)], CTX)
        assert result.failed[0].reason == NO_RATE and "no zone for '999'" in result.failed[0].detail


class TestData:
    RATES = [rate("data", "HOME", "0.10", 1048576, (10240, 10240)), rate("data", "EU_ROAM", "0.20", 1048576,
                                                                          (10240, 10240)),
             rate("data", "WORLD_ROAM", "25.00", 1048576, (1024, 1024))]

    def test_by_country_and_empty_is_home(self):
        home, empty, roaming = rated(rater_for(self.RATES), data("h", "2026-10-05 10:00", 52428800, "DK"),
                                     data("e", "2026-10-05 10:01", 52428800, ""),
                                     data("r", "2026-10-05 10:02", 104857600, "SE"))
        assert (home.zone, home.charge) == ("HOME", Decimal("5.000000"))  # 50 MB at 0.10
        assert (empty.zone, empty.charge) == ("HOME", Decimal("5.000000"))
        assert (roaming.zone, roaming.charge) == ("EU_ROAM", Decimal("20.000000"))  # 100 MB at 0.20

    def test_any_other_country_is_the_catch_all(self):
        record = rated(rater_for(self.RATES), data("u", "2026-10-05 10:00", 1000, "US"))
        assert (record.zone, record.quantity, record.charge) == ("WORLD_ROAM", 1024, Decimal("0.024414"))

    def test_a_country_zone_without_a_rate_falls_back_to_the_catch_all(self):
        record = rated(rater_for([rate("data", "WORLD_ROAM", "1.00", 1024, (1024, 1024))]),
                       data("s", "2026-10-05 10:00", 2048, "SE"))
        assert (record.zone, record.charge) == ("WORLD_ROAM", Decimal("2.000000"))
