"""Customer groups' rate overrides in the catalogue file: validated with their YAML paths, applied
as dated versions (a change from a day ends the old version there), exported canonically so a file
round-trips byte for byte, and compiled into the day's tariff for rating."""

import datetime as dt
from decimal import Decimal

import pytest
from catalog_helpers import DAY0, wipe

from telora.catalog import models as m
from telora.catalog import yamlio
from telora.catalog.export import export_yaml
from telora.catalog.selectors import compile_tariff
from telora.catalog.services import CatalogError
from telora.core.models import AuditEvent, Brand

pytestmark = pytest.mark.django_db

OVERRIDES = [
    {"rate_plan": "POST_STD", "service": "voice", "zone": "EU", "price": "0.50", "unit": 60, "increments": [1, 1]},
    {"service": "voice", "zone": "DK", "band": "PEAK", "price": "0.20", "unit": 60, "increments": [60, 1],
     "setup": "0.05", "minimum": "0.10"},
    {"service": "data", "zone": "EU_ROAM", "discount": "25"},
]


def with_groups(reference, overrides=OVERRIDES):
    reference["customer_groups"] = [{"code": "BIZ", "name": "Business", "rate_overrides": [dict(o) for o in overrides]},
                                    {"code": "STAFF", "name": "Staff"}]
    return reference


def test_overrides_are_stored_and_compiled_into_the_tariff(apply, reference):
    apply(with_groups(reference), effective_from=DAY0)
    brand = Brand.objects.get(code="NORD")
    rows = m.RateOverride.objects.filter(customer_group__code="BIZ").order_by("service", "zone__code")
    assert [(r.service, r.zone.code, r.rate_plan and r.rate_plan.code, r.band, r.price, r.percent) for r in rows] == [
        ("data", "EU_ROAM", None, "", None, Decimal("25")),
        ("voice", "DK", None, "PEAK", Decimal("0.20"), None),
        ("voice", "EU", "POST_STD", "", Decimal("0.50"), None)]
    tariff = compile_tariff(brand, DAY0)
    assert set(tariff.group_overrides) == {"BIZ"}
    by_zone = {o.zone: o for o in tariff.group_overrides["BIZ"]}
    assert (by_zone["DK"].key, by_zone["DK"].band, by_zone["DK"].first, by_zone["DK"].setup) == (
        "group:BIZ", "PEAK", 60, Decimal("0.05"))
    assert (by_zone["EU_ROAM"].price, by_zone["EU_ROAM"].percent) == (None, Decimal("25"))
    assert by_zone["EU"].rate_plan == "POST_STD"


def test_the_file_round_trips_byte_for_byte(apply, reference):
    apply(with_groups(reference), effective_from=DAY0)
    first = export_yaml(Brand.objects.get(code="NORD"), DAY0)
    assert "rate_overrides:" in first and 'discount: "25"' in first
    wipe()
    apply(yamlio.load(first), effective_from=DAY0)
    second = export_yaml(Brand.objects.get(code="NORD"), DAY0)
    assert second == first
    assert apply(yamlio.load(second), effective_from=DAY0).changes == []


def test_a_change_from_a_day_is_a_new_version(apply, reference):
    apply(with_groups(reference), effective_from=DAY0)
    later = DAY0 + dt.timedelta(days=31)
    changed = [dict(OVERRIDES[0], price="0.40"), OVERRIDES[1]]  # EU cheaper, the data discount gone
    result = apply(with_groups(reference, changed), effective_from=later)
    assert sorted((c.action, c.entity) for c in result.changes) == [("close", "rate override"),
                                                                    ("update", "rate override")]
    brand = Brand.objects.get(code="NORD")
    eu = m.RateOverride.objects.filter(zone__code="EU").order_by("valid_from")
    assert [(r.price, r.valid_from, r.valid_to) for r in eu] == [(Decimal("0.50"), DAY0, later),
                                                                  (Decimal("0.40"), later, None)]
    before, after = compile_tariff(brand, later - dt.timedelta(days=1)), compile_tariff(brand, later)
    assert {o.zone: o.price for o in before.group_overrides["BIZ"]} == {"EU": Decimal("0.50"), "DK": Decimal("0.20"),
                                                                       "EU_ROAM": None}
    assert {o.zone: o.price for o in after.group_overrides["BIZ"]} == {"EU": Decimal("0.40"), "DK": Decimal("0.20")}
    eu_line = '{rate_plan: POST_STD, service: voice, zone: EU, price: "%s"'
    assert eu_line % "0.50" in export_yaml(brand, DAY0) and eu_line % "0.40" in export_yaml(brand, later)
    assert AuditEvent.objects.filter(object_type="catalog.rateoverride").count() == 2


def test_removing_the_group_ends_its_overrides(apply, reference):
    apply(with_groups(reference), effective_from=DAY0)
    later = DAY0 + dt.timedelta(days=10)
    reference["customer_groups"] = [{"code": "STAFF", "name": "Staff"}]
    apply(reference, effective_from=later)
    assert not m.RateOverride.objects.at(later).exists()
    assert m.RateOverride.objects.at(DAY0).count() == 3
    assert compile_tariff(Brand.objects.get(code="NORD"), later).group_overrides == {}


def bad(index, **changes):
    override = dict(OVERRIDES[index])
    for key, value in changes.items():
        if value is None:
            override.pop(key, None)
        else:
            override[key] = value
    return override


CASES = [
    ("unknown zone", bad(0, zone="MARS"), "customer_groups[0].rate_overrides[0].zone: unknown zone 'MARS'"),
    ("unknown rate plan", bad(0, rate_plan="NOPE"), "customer_groups[0].rate_overrides[0].rate_plan: unknown rate plan"),
    ("zone of the wrong kind", bad(0, zone="HOME"),
     "customer_groups[0].rate_overrides[0].zone: zone HOME has no prefixes: voice is rated by destination"),
    ("band the plan lacks", bad(0, band="NIGHT"),
     "customer_groups[0].rate_overrides[0].band: unknown band 'NIGHT': rate plan POST_STD has bands OFFPEAK, PEAK"),
    ("band no set has", bad(1, band="NIGHT"),
     "customer_groups[0].rate_overrides[0].band: unknown band 'NIGHT': no time band set has it"),
    ("price and discount", bad(0, discount="10"),
     "customer_groups[0].rate_overrides[0].price: give a replacement rate (price, unit, increments) or a discount"),
    ("neither", bad(0, price=None, unit=None, increments=None),
     "customer_groups[0].rate_overrides[0]: give a replacement rate (price, unit, increments) or a discount percent"),
    ("discount over 100", bad(2, discount="101"),
     "customer_groups[0].rate_overrides[0].discount: must not be more than 100"),
    ("float price", bad(0, price=0.5), "customer_groups[0].rate_overrides[0].price: write the amount as a string"),
    ("missing unit", bad(0, unit=None), "customer_groups[0].rate_overrides[0].unit: required"),
    ("bad increments", bad(0, increments=[1]), "customer_groups[0].rate_overrides[0].increments: bad increments"),
    ("unknown field", bad(2, percent="3"), "customer_groups[0].rate_overrides[0].percent: unknown field"),
]


@pytest.mark.parametrize("override, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_errors_name_the_yaml_path(apply, reference, override, expected):
    with pytest.raises(CatalogError) as err:
        apply(with_groups(reference, [override]))
    assert any(line.startswith(expected) for line in err.value.lines()), err.value.lines()
    assert not m.RateOverride.objects.exists()


def test_two_overrides_for_the_same_thing_are_refused(apply, reference):
    with pytest.raises(CatalogError) as err:
        apply(with_groups(reference, [OVERRIDES[0], dict(OVERRIDES[0], price="0.10")]))
    assert err.value.lines() == ["customer_groups[0].rate_overrides[1]: a second override for voice in zone EU on "
                                 "rate plan POST_STD"]
