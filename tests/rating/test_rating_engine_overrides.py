"""Rate overrides in the engine: a customer's agreement, then its group's override, then the plan's
rate; only overrides in effect at the record's start; the rated record names what applied. Checked
by hand on small cases and against the independent reference (reference_overrides.py) on many."""

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from rating_helpers import CPH, SUB, at, data, make_tariff, rate, sms, voice
from reference_overrides import reference_rate

from telora.catalog import tariff as t
from telora.rating.engine import NO_RATE, RateOverride, Rater, SubscriberContext

D = Decimal
RATES = [rate("voice", "DK", "0.30", 60, (60, 1)), rate("voice", "EU", "1.49", 60, (30, 6), setup="0.11"),
         rate("voice", "WORLD", "2.00", 60, (60, 60)), rate("sms", "DK", "0.20", 1),
         rate("data", "HOME", "0.10", 1048576, (10240, 10240)), rate("data", "WORLD_ROAM", "9.00", 1048576)]


def group(key="group:BIZ", **fields):
    return t.RateOverride(key=key, **fields)


def rater(group_overrides=None, rates=RATES, discounts=()):
    tariff = make_tariff(rates, discounts=discounts)
    tariff = dataclasses.replace(tariff, group_overrides={"BIZ": tuple(group_overrides or ())})
    return Rater(tariff, home_country="DK")


def ctx(customer=(), customer_group=None, **extra):
    return SubscriberContext(1, "P", numbers=(SUB,), customer_group=customer_group, overrides=tuple(customer),
                             **extra)


def one(result):
    assert not result.failed, result.failed
    return result.rated[0]


class TestResolution:
    def test_no_override_is_the_plans_rate_and_names_none(self):
        record = one(rater().rate([voice("a", "4533123456", "2026-10-05 10:00", 125)], [ctx()]))
        assert (record.charge, record.override) == (D("0.625000"), None)

    def test_a_group_replacement_price(self):
        r = rater([group(service="voice", zone="EU", price=D("0.60"), unit=60, first=1, next=1)])
        record = one(r.rate([voice("a", "46812345678", "2026-10-05 19:02", 45)], [ctx(customer_group="BIZ")]))
        # 0.60 * 45 / 60, no setup: the override's rate replaces the plan's whole rate
        assert (record.charge, record.zone, record.override) == (D("0.450000"), "EU", "group:BIZ")

    def test_the_group_override_is_for_the_group_only(self):
        r = rater([group(service="voice", zone="EU", price=D("0.60"), unit=60)])
        record = one(r.rate([voice("a", "46812345678", "2026-10-05 19:02", 45)], [ctx()]))
        assert (record.charge, record.override) == (D("1.302000"), None)

    def test_the_customer_agreement_comes_before_the_group(self):
        r = rater([group(service="voice", zone="EU", price=D("0.60"), unit=60)])
        mine = RateOverride("customer:7", "voice", "EU", price=D("0.30"), unit=60)
        record = one(r.rate([voice("a", "46812345678", "2026-10-05 19:02", 60)], [ctx([mine], "BIZ")]))
        assert (record.charge, record.override) == (D("0.300000"), "customer:7")

    def test_a_customer_discount_comes_off_the_groups_price(self):
        r = rater([group(service="voice", zone="EU", price=D("0.60"), unit=60)])
        mine = RateOverride("customer:7", "voice", "EU", percent=D("10"))
        record = one(r.rate([voice("a", "46812345678", "2026-10-05 19:02", 60)], [ctx([mine], "BIZ")]))
        assert (record.charge, record.discount, record.override) == (D("0.540000"), D("0.060000"),
                                                                     "customer:7 group:BIZ")

    def test_a_discount_alone_comes_off_the_plans_rate(self):
        mine = RateOverride("customer:7", "data", "HOME", percent=D("25"))
        record = one(rater().rate([data("d", "2026-10-05 10:00", 10 * 1048576)], [ctx([mine])]))
        assert (record.charge, record.override) == (D("0.750000"), "customer:7")

    def test_a_bands_own_override_wins_over_one_for_every_band(self):
        r = rater([group(service="voice", zone="DK", price=D("0.10"), unit=60),
                   group(key="group:BIZ-peak", service="voice", zone="DK", band="PEAK", price=D("0.20"), unit=60)])
        peak, off = r.rate([voice("a", "4533123456", "2026-10-05 10:00", 60),
                            voice("b", "4533123456", "2026-10-05 20:00", 60)], [ctx(customer_group="BIZ")]).rated
        assert (peak.charge, peak.override, off.charge, off.override) == (
            D("0.200000"), "group:BIZ-peak", D("0.100000"), "group:BIZ")

    def test_an_override_for_another_rate_plan_does_not_apply(self):
        r = rater([group(service="sms", zone="DK", rate_plan="OTHER", price=D("0"), unit=1)])
        record = one(r.rate([sms("s", "4533123456", "2026-10-05 10:00")], [ctx(customer_group="BIZ")]))
        assert (record.charge, record.override) == (D("0.200000"), None)

    def test_an_override_for_its_rate_plan_applies(self):
        r = rater([group(service="sms", zone="DK", rate_plan="PLAN", price=D("0"), unit=1)])
        record = one(r.rate([sms("s", "4533123456", "2026-10-05 10:00")], [ctx(customer_group="BIZ")]))
        assert (record.charge, record.override) == (D("0.000000"), "group:BIZ")

    def test_an_override_prices_a_zone_the_plan_does_not_rate(self):
        # 4599... is zone SPECIAL, which the plan does not rate: DK's rate (45) applies, unless an override
        mine = RateOverride("customer:7", "voice", "SPECIAL", price=D("1.00"), unit=60)
        plain = one(rater().rate([voice("x", "4599123456", "2026-10-05 10:00", 60)], [ctx()]))
        assert (plain.zone, plain.charge) == ("DK", D("0.300000"))
        record = one(rater().rate([voice("x", "4599123456", "2026-10-05 10:00", 60)], [ctx([mine])]))
        assert (record.charge, record.zone) == (D("1.000000"), "SPECIAL")

    def test_the_longer_prefix_zone_with_an_override_wins(self):
        # 4520… is DK_MOBILE (no plan rate) inside DK (45): normally DK's rate; the override names DK_MOBILE
        mine = RateOverride("customer:7", "voice", "DK_MOBILE", price=D("0.12"), unit=60)
        normal = one(rater().rate([voice("a", "4520999999", "2026-10-05 10:00", 60)], [ctx()]))
        record = one(rater().rate([voice("a", "4520999999", "2026-10-05 10:00", 60)], [ctx([mine])]))
        assert (normal.zone, normal.charge) == ("DK", D("0.300000"))
        assert (record.zone, record.charge) == ("DK_MOBILE", D("0.120000"))

    def test_catalogue_usage_discounts_still_apply_after(self):
        half = t.Discount("EU_HALF", "usage", D("50"), frozenset({"voice"}), frozenset({"EU"}), frozenset({"P"}), None)
        mine = RateOverride("customer:7", "voice", "EU", price=D("0.60"), unit=60)
        record = one(rater(discounts=[half]).rate([voice("a", "46812345678", "2026-10-05 19:02", 60)], [ctx([mine])]))
        assert (record.charge, record.discounts, record.override) == (D("0.300000"), ("EU_HALF",), "customer:7")


class TestDates:
    def test_only_in_effect_at_the_records_start(self):
        mine = RateOverride("customer:7", "voice", "DK", price=D("0.06"), unit=60,
                            valid_from=at("2026-10-05 12:00"), valid_to=at("2026-10-06 00:00"))
        records = [voice("before", "4533123456", "2026-10-05 11:59", 60),
                   voice("during", "4533123456", "2026-10-05 12:00", 60),
                   voice("after", "4533123456", "2026-10-06 00:00", 60)]
        rated = rater().rate(records, [ctx([mine])]).by_id()
        assert [(rated[i].charge, rated[i].override) for i in ("before", "during", "after")] == [
            (D("0.300000"), None), (D("0.060000"), "customer:7"), (D("0.300000"), None)]

    def test_a_new_agreement_mid_batch_replaces_the_old_one_from_its_start(self):
        old = RateOverride("customer:1", "voice", "DK", price=D("0.20"), unit=60, valid_to=at("2026-10-05 12:00"))
        new = RateOverride("customer:2", "voice", "DK", price=D("0.10"), unit=60, valid_from=at("2026-10-05 12:00"))
        records = [voice("a", "4533123456", "2026-10-05 11:00", 60), voice("b", "4533123456", "2026-10-05 13:00", 60)]
        rated = rater().rate(records, [ctx([new, old])]).by_id()
        assert (rated["a"].charge, rated["a"].override, rated["b"].charge, rated["b"].override) == (
            D("0.200000"), "customer:1", D("0.100000"), "customer:2")


class TestPrepaidAndBundles:
    def test_the_balance_falls_by_the_overridden_charge(self):
        mine = RateOverride("customer:7", "voice", "DK", price=D("0.06"), unit=60)
        result = rater().rate([voice("a", "4533123456", "2026-10-05 10:00", 120)],
                              [ctx([mine], balance=D("10"))])
        assert (result.rated[0].charge, result.balances[1]) == (D("0.120000"), D("9.880000"))


# ---- cross-check against the independent reference --------------------------------------------

DESTINATIONS = ["4533123456", "4520999999", "46812345678", "4930123456", "12125550100", "4599123456"]
COUNTRIES = ["", "DK", "SE", "US"]
WHERE = [("voice", "DK"), ("voice", "DK_MOBILE"), ("voice", "EU"), ("voice", "WORLD"), ("voice", "SPECIAL"),
         ("sms", "DK"), ("sms", "EU"), ("data", "HOME"), ("data", "EU_ROAM"), ("data", "WORLD_ROAM")]
amounts = st.decimals(min_value=0, max_value=5, places=4, allow_nan=False, allow_infinity=False)
START = at("2026-10-05 00:00")


@st.composite
def overrides(draw, key_prefix):
    found = []
    for index in range(draw(st.integers(0, 4))):
        service, zone = draw(st.sampled_from(WHERE))
        band = draw(st.sampled_from([None, None, "PEAK", "OFFPEAK"]))
        plan = draw(st.sampled_from([None, None, "PLAN", "OTHER"]))
        start = draw(st.sampled_from([None, START + dt.timedelta(hours=8)]))
        end = draw(st.sampled_from([None, START + dt.timedelta(hours=20)]))
        if draw(st.booleans()):
            found.append(t.RateOverride(f"{key_prefix}{index}", service, zone, plan, band,
                                        percent=draw(st.decimals(min_value=1, max_value=100, places=2))))
        else:
            found.append(t.RateOverride(f"{key_prefix}{index}", service, zone, plan, band, price=draw(amounts),
                                        unit=draw(st.sampled_from([1, 60, 1048576])),
                                        first=draw(st.sampled_from([0, 1, 30, 60])), next=draw(st.sampled_from([1, 6, 60])),
                                        setup=draw(st.sampled_from([D(0), D("0.05")])),
                                        minimum=draw(st.sampled_from([D(0), D("0.25")]))))
        if start or end:  # the customer's carry dates; dataclasses.replace keeps the rest
            found[-1] = RateOverride(**{f.name: getattr(found[-1], f.name) for f in dataclasses.fields(found[-1])},
                                     valid_from=start, valid_to=end)
    return found


@st.composite
def records(draw):
    made = []
    for index in range(draw(st.integers(1, 12))):
        moment = START + dt.timedelta(minutes=draw(st.integers(0, 24 * 60 - 1)))
        kind = draw(st.sampled_from(["voice", "sms", "data"]))
        if kind == "voice":
            made.append(voice(f"r{index}", draw(st.sampled_from(DESTINATIONS)), moment, draw(st.integers(0, 900))))
        elif kind == "sms":
            made.append(voice(f"r{index}", draw(st.sampled_from(DESTINATIONS)), moment, 0)._replace(service="sms"))
        else:
            made.append(voice(f"r{index}", "", moment, 0)._replace(
                service="data", volume=draw(st.integers(0, 10**8)), location=draw(st.sampled_from(COUNTRIES))))
    return made


@given(customer=overrides("customer:"), group_overrides=overrides("group:"), batch=records(),
       in_group=st.booleans(), discounted=st.booleans())
@settings(max_examples=300, deadline=None)
def test_the_engine_matches_the_reference_with_overrides(customer, group_overrides, batch, in_group, discounted):
    discounts = [t.Discount("EU10", "usage", D("10"), frozenset(), frozenset({"EU", "EU_ROAM"}), frozenset({"P"}),
                            None)] if discounted else []
    group_overrides = [t.RateOverride(**{**{f.name: getattr(o, f.name) for f in dataclasses.fields(t.RateOverride)}})
                       for o in group_overrides]  # a group's overrides carry no dates
    engine = rater(group_overrides, discounts=discounts)
    tariff = engine.tables.tariff
    result = engine.rate(batch, [ctx(customer, "BIZ" if in_group else None)])
    rated, failed = result.by_id(), result.failures_by_id()
    week = tariff.time_bands["WEEK"]
    for record in batch:
        local = record.start_time.astimezone(CPH)
        band = week.band_at(local.weekday(), local.hour * 60 + local.minute)
        expected = reference_rate(tariff, "P", record, band, customer=customer, group="BIZ" if in_group else None)
        if expected is None:
            usage = record.usage
            if usage <= 0:
                assert rated[record.record_id].charge == 0
            else:
                assert failed[record.record_id].reason == NO_RATE
            continue
        charge, zone, keys = expected
        got = rated[record.record_id]
        assert (got.charge, got.zone, got.override) == (charge, zone, " ".join(keys) or None), record


def test_the_shared_examples_with_a_group_and_an_agreement_match_the_reference():
    """docs/examples/cdrs.csv on the reference catalogue with a customer group written in its YAML
    (compiled by the test helper, not the catalogue's code) and a customer agreement."""
    from rating_helpers import CATALOG, CDRS, tariff_from_document

    from telora.catalog.yamlio import load
    from telora.rating import formats

    doc = load(CATALOG.read_text())
    doc["customer_groups"] = [{"code": "BIZ", "name": "Business", "rate_overrides": [
        {"service": "voice", "zone": "DK", "band": "PEAK", "price": "0.12", "unit": 60, "increments": [1, 1]},
        {"rate_plan": "POST_STD", "service": "voice", "zone": "EU", "discount": "30"},
        {"service": "data", "zone": "EU_ROAM", "price": "0.02", "unit": 1048576, "increments": [1024, 1024]}]}]
    tariff = tariff_from_document(doc)
    mine = (RateOverride("customer:9", "voice", "DK_MOBILE", price=D("0.05"), unit=60, first=1, next=1,
                         setup=D("0.01")),)
    contexts = [SubscriberContext(1, "MOB_POST_BASIC", numbers=("4520000001",), customer_group="BIZ", overrides=mine),
                SubscriberContext(2, "MOB_POST_BASIC", numbers=("4520000002",), customer_group="BIZ")]
    result = Rater(tariff, home_country="DK").rate(formats.parse_path("csv", CDRS), contexts)
    plan = tariff.rate_plans["POST_STD"]
    week = tariff.time_bands[plan.time_bands]
    checked = 0
    for rated in result.rated:
        record = rated.record
        if record.service == "content":
            continue
        local = record.start_time.astimezone(CPH)
        band = week.band_at(local.weekday(), local.hour * 60 + local.minute)
        customer = mine if rated.subscription_id == 1 else ()
        charge, zone, keys = reference_rate(tariff, "MOB_POST_BASIC", record, band, customer=customer, group="BIZ")
        assert (rated.charge, rated.zone, rated.override) == (charge, zone, " ".join(keys) or None), record
        checked += 1
    assert checked >= 7 and sum(1 for r in result.rated if r.override) >= 4
