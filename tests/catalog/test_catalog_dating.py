"""Prices and rates are versioned by date: a change applies from a date and never rewrites
what was in effect before it."""

import datetime as dt
from decimal import Decimal

import pytest
from catalog_helpers import DAY0

from telora.catalog import models as m
from telora.catalog import yamlio
from telora.catalog.export import export_yaml
from telora.catalog.selectors import effective_price

pytestmark = pytest.mark.usefixtures("nord_kept")

MARCH, JUNE = dt.date(2026, 3, 1), dt.date(2026, 6, 1)


def dk_peak(data):
    return data["rate_plans"][0]["rates"][0]


def rates(service="voice", zone="DK", band="PEAK"):
    return list(m.Rate.objects.filter(rate_plan__code="POST_STD", service=service, zone__code=zone, band=band)
                .order_by("valid_from").values_list("price", "valid_from", "valid_to"))


def test_a_price_change_keeps_the_old_price_for_old_dates(apply, reference, nord):
    reference["products"][0]["recurring"] = "159.00"
    result = apply(reference, effective_from=MARCH)
    assert [(c.action, c.key) for c in result.changes] == [("update", "MOB_POST_10GB recurring")]
    product = m.Product.objects.get(code="MOB_POST_10GB")
    assert effective_price(product, "recurring", MARCH - dt.timedelta(days=1)) == Decimal("149.00")
    assert effective_price(product, "recurring", MARCH) == Decimal("159.00")
    assert effective_price(product, "recurring", DAY0 - dt.timedelta(days=1)) is None
    assert 'recurring: "149.00"' in export_yaml(nord, dt.date(2026, 2, 15))
    assert 'recurring: "159.00"' in export_yaml(nord, MARCH)


def test_a_rate_change_closes_the_current_row_and_leaves_the_others_alone(apply, reference, nord):
    untouched = {r.pk: (r.valid_from, r.valid_to) for r in m.Rate.objects.exclude(zone__code="DK", band="PEAK")}
    dk_peak(reference)["price"] = "0.32"
    result = apply(reference, effective_from=MARCH)
    assert [(c.action, c.entity, c.key, c.details) for c in result.changes] == [
        ("update", "rate", "POST_STD voice DK PEAK", ["price 0.3 → 0.32"])]
    assert rates() == [(Decimal("0.30"), DAY0, MARCH), (Decimal("0.32"), MARCH, None)]
    assert {r.pk: (r.valid_from, r.valid_to) for r in m.Rate.objects.exclude(zone__code="DK", band="PEAK")} == untouched


def test_a_scheduled_change_stays_when_an_earlier_one_is_applied(apply, reference, nord):
    dk_peak(reference)["price"] = "0.40"
    apply(reference, effective_from=JUNE)
    dk_peak(reference)["price"] = "0.35"
    apply(reference, effective_from=MARCH)
    assert rates() == [(Decimal("0.30"), DAY0, MARCH), (Decimal("0.35"), MARCH, JUNE), (Decimal("0.40"), JUNE, None)]
    assert apply(reference, effective_from=MARCH).changes == []


def test_changing_twice_on_the_same_day_changes_that_version_in_place(apply, reference, nord):
    dk_peak(reference)["price"] = "0.32"
    apply(reference, effective_from=MARCH)
    dk_peak(reference)["price"] = "0.33"
    apply(reference, effective_from=MARCH)
    assert rates() == [(Decimal("0.30"), DAY0, MARCH), (Decimal("0.33"), MARCH, None)]


def test_a_rate_left_out_is_closed_and_a_new_one_starts_fresh(apply, reference, nord):
    removed = reference["rate_plans"][0]["rates"].pop(0)
    result = apply(reference, effective_from=MARCH)
    assert [(c.action, c.key) for c in result.changes] == [("close", "POST_STD voice DK PEAK")]
    assert rates() == [(Decimal("0.30"), DAY0, MARCH)]
    reference["rate_plans"][0]["rates"].append(removed)
    apply(reference, effective_from=JUNE)
    assert rates() == [(Decimal("0.30"), DAY0, MARCH), (Decimal("0.30"), JUNE, None)]
    march_export = yamlio.load(export_yaml(nord, dt.date(2026, 4, 1)))
    assert all(r.get("band") != "PEAK" for r in march_export["rate_plans"][0]["rates"])


def test_a_product_closed_on_its_first_day_never_existed(apply, reference, nord):
    reference["products"].append({"code": "TRIAL", "name": "Trial", "kind": "addon", "recurring": "1.00"})
    apply(reference, effective_from=MARCH)
    reference["products"].pop()
    apply(reference, effective_from=MARCH)
    trial = m.Product.objects.get(code="TRIAL")
    assert (trial.valid_from, trial.valid_to) == (MARCH, MARCH)
    assert not m.ProductPrice.objects.filter(charge__product=trial).exists()
    assert not m.Product.objects.at(MARCH).filter(code="TRIAL").exists()


@pytest.mark.parametrize("day, expected", [
    (dt.date(2026, 2, 28), "0.30"), (MARCH, "0.32"), (dt.date(2027, 1, 1), "0.32")])
def test_export_shows_the_state_on_a_date(apply, reference, nord, day, expected):
    dk_peak(reference)["price"] = "0.32"
    apply(reference, effective_from=MARCH)
    exported = yamlio.load(export_yaml(nord, day))
    assert exported["rate_plans"][0]["rates"][1] == {
        "service": "voice", "zone": "DK", "band": "PEAK", "price": expected, "unit": 60, "increments": [60, 1]}
