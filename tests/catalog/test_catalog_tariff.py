"""The compiled tariff the rating engine gets: plain data only, with the file's semantics."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from catalog_helpers import DAY0

from telora.billperiods import anchor_date, bill_period
from telora.catalog import tariff as t
from telora.catalog.selectors import compile_tariff

pytestmark = pytest.mark.usefixtures("nord_kept")

PLAIN = (str, int, bool, Decimal, dt.date, type(None))


def assert_plain(value, path="tariff"):
    if dataclasses.is_dataclass(value):
        assert type(value).__module__ == "telora.catalog.tariff", path
        for f in dataclasses.fields(value):
            assert_plain(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), path
            assert_plain(item, f"{path}[{key}]")
    elif isinstance(value, tuple | list | frozenset):
        for item in value:
            assert_plain(item, path)
    else:
        assert isinstance(value, PLAIN), f"{path}: {type(value)}"


@pytest.fixture
def tariff(nord):
    return compile_tariff(nord, DAY0)


def test_the_snapshot_holds_no_django_objects(tariff):
    assert_plain(tariff)
    assert (tariff.brand, tariff.currency, tariff.timezone, tariff.at) == ("NORD", "DKK", "Europe/Copenhagen", DAY0)
    assert set(tariff.zones) == {"DK", "DK_MOBILE", "DK_PREMIUM", "EU", "WORLD", "HOME", "EU_ROAM", "WORLD_ROAM"}
    assert len(tariff.rate_plans["POST_STD"].rates) == 13
    assert tariff.rate_plans["POST_STD"].rates[0] == t.Rate("voice", "DK", "OFFPEAK", Decimal("0.15"), 60, 60, 1)
    assert tariff.bundles["DATA_10GB"].allowances == (t.Allowance("data", frozenset({"HOME", "EU_ROAM"}), 10737418240),)
    product = tariff.products["MOB_POST_10GB"]
    assert (product.recurring, product.one_time, product.rate_plan) == (Decimal("149.00"), {"ACTIVATION": Decimal("99.00")},
                                                                      "POST_STD")
    assert tariff.discounts["EU_CALLS_HALF"] == t.Discount("EU_CALLS_HALF", "usage", Decimal(50), frozenset({"voice"}),
                                                           frozenset({"EU"}), frozenset({"MOB_POST_10GB"}), None)
    assert tariff.taxes["VAT"].default and tariff.taxes["VAT"].percent == 25


def test_before_the_catalogue_starts_the_tariff_is_empty(nord):
    assert compile_tariff(nord, DAY0 - dt.timedelta(days=1)).rate_plans == {}


@pytest.mark.parametrize("number, zones", [
    ("4530123456", ["DK_MOBILE", "DK", "WORLD"]),
    ("+4590123456", ["DK_PREMIUM", "DK", "WORLD"]),
    ("004533123456", ["DK", "WORLD"]),
    ("46701234567", ["EU", "WORLD"]),
    ("12125550100", ["WORLD"]),
])
def test_longest_prefix_first_then_shorter(tariff, number, zones):
    assert tariff.destination_zones(number) == zones


def test_a_zone_without_a_rate_falls_back_to_the_next_shorter_prefix(tariff):
    zones = tariff.destination_zones("4530123456")
    assert tariff.find_rate("PRE_STD", "voice", zones, None).zone == "DK"  # PRE_STD has no DK_MOBILE rate
    assert tariff.find_rate("POST_STD", "voice", zones, "PEAK").zone == "DK_MOBILE"
    assert tariff.find_rate("PRE_STD", "mms", zones, None) is None


def test_data_zones_come_from_the_country(tariff):
    assert [tariff.data_zone(c) for c in ("DK", "NO", "US")] == ["HOME", "EU_ROAM", "WORLD_ROAM"]


@pytest.mark.parametrize("moment, band", [
    (dt.datetime(2026, 1, 5, 8, 0), "PEAK"),  # Monday 08:00
    (dt.datetime(2026, 1, 5, 17, 59), "PEAK"),
    (dt.datetime(2026, 1, 5, 18, 0), "OFFPEAK"),
    (dt.datetime(2026, 1, 10, 12, 0), "OFFPEAK"),  # Saturday
])
def test_the_first_matching_band_wins_and_the_default_takes_the_rest(tariff, moment, band):
    bands = tariff.time_bands["WEEK"]
    assert bands.band_at(moment.weekday(), moment.hour * 60 + moment.minute) == band
    rate = tariff.rate_plans["POST_STD"].rate_for("voice", "DK", band)
    assert rate.band == band


@pytest.mark.parametrize("anchor, on, period", [
    (1, dt.date(2026, 3, 15), (dt.date(2026, 3, 1), dt.date(2026, 4, 1))),
    (15, dt.date(2026, 3, 14), (dt.date(2026, 2, 15), dt.date(2026, 3, 15))),
    (15, dt.date(2026, 12, 20), (dt.date(2026, 12, 15), dt.date(2027, 1, 15))),
    (31, dt.date(2026, 2, 28), (dt.date(2026, 2, 28), dt.date(2026, 3, 31))),
    (31, dt.date(2026, 3, 30), (dt.date(2026, 2, 28), dt.date(2026, 3, 31))),
    (30, dt.date(2028, 2, 29), (dt.date(2028, 2, 29), dt.date(2028, 3, 30))),
])
def test_bill_periods_use_the_last_day_of_a_short_month(anchor, on, period):
    assert bill_period(anchor, on) == period


def test_anchor_date():
    assert anchor_date(2026, 4, 31) == dt.date(2026, 4, 30)
