"""Export and apply are inverse: reference → apply → export → apply (empty database) → export
gives the same bytes, and the export means the same catalogue as the reference file."""

import datetime as dt

from catalog_helpers import DAY0, wipe

from telora.catalog import yamlio
from telora.catalog.export import export_yaml, format_amount, format_percent
from telora.catalog.schema.document import Baseline, clean_document
from telora.core.models import Brand


def _specs(data):
    others = set(Brand.objects.values_list("code", flat=True))
    document, errors = clean_document(data, lambda code: Baseline(other_brands=others - {code}))
    assert not errors, errors.lines()
    return document.brand, {k: v for k, v in document.sections.items() if v}


def test_export_applied_to_an_empty_database_exports_identically(apply, reference, nord):
    day = dt.date(2026, 2, 1)
    first = export_yaml(nord, day)
    wipe()
    assert not Brand.objects.exists()
    result = apply(yamlio.load(first), effective_from=day)
    assert result.counts()["create"] == 28
    second = export_yaml(Brand.objects.get(code="NORD"), day)
    assert second == first
    assert apply(yamlio.load(second), effective_from=day).changes == []


def test_the_export_means_the_same_catalogue_as_the_reference(reference, nord):
    exported = yamlio.load(export_yaml(nord, DAY0))
    brand, sections = _specs(exported)
    ref_brand, ref_sections = _specs(reference)
    assert sections == ref_sections
    assert {k: v for k, v in brand.items() if v is not None} == {k: v for k, v in ref_brand.items() if v is not None}


def test_amounts_keep_the_places_they_were_written_with(nord):
    text = export_yaml(nord, DAY0)
    for written in ('recurring: "149.00"', 'price: "0.30"', 'setup: "0.10"', 'minimum: "4.95"', 'percent: "25"',
                    'countries: [DE, ES, FI, FR, IT, NL, "NO", PL, SE]', 'from: "08:00"'):
        assert written in text


def test_amount_formatting_is_canonical():
    from decimal import Decimal

    assert format_amount(Decimal("149.000000"), 2) == "149.00"
    assert format_amount(Decimal("0.035"), 2) == "0.035"
    assert format_amount(Decimal("100"), 0) == "100"
    assert format_amount(Decimal("0.1"), 2) == "0.10"
    assert format_percent(Decimal("12.500000")) == "12.5"
    assert format_percent(Decimal("100")) == "100"


def test_export_at_a_date_before_the_catalogue_is_empty(nord):
    data = yamlio.load(export_yaml(nord, DAY0 - dt.timedelta(days=1)))
    assert data["products"] == [] and data["brand"]["code"] == "NORD"


EVERYTHING = {
    "taxes": [{"code": "LOW", "name": "Reduced", "percent": "12.5"}],
    "billing_groups": [{"code": "BIZ", "name": "Business", "bill_cycle": "M15", "description": "Firms, "
                                                                                             "invoiced on the 15th"}],
    "time_bands": [{"code": "NIGHTS", "name": "Nights", "bands": [
        {"band": "NIGHT", "days": ["mon", "sun"], "from": "22:00", "to": "24:00"},
        {"band": "NIGHT", "days": ["tue"], "from": "00:00", "to": "06:00"},
        {"band": "WEEKEND", "days": ["sat", "sun"]}]}],
    "zones": [{"code": "BOTH", "name": "Iceland", "prefixes": ["354"], "countries": ["IS"]}],
    "rate_plans": [{"code": "NIGHTLY", "name": "Night owl", "time_bands": "NIGHTS", "rates": [
        {"service": "voice", "zone": "BOTH", "band": "NIGHT", "price": "0.035", "unit": 60, "increments": [0, 1]},
        {"service": "voice", "zone": "BOTH", "price": "1", "unit": 60, "increments": [60, 60], "setup": "0.5",
         "minimum": "1.25"},
        {"service": "data", "zone": "BOTH", "price": "12", "unit": 1048576, "increments": [1, 1]},
        {"service": "content", "zone": "BOTH", "price": "2.00", "unit": 1, "increments": [1, 1]}]}],
    "bundles": [{"code": "ANY", "name": "Anywhere SMS", "period": "once", "allowances": [
        {"service": "sms", "amount": 50}, {"service": "voice", "zones": ["BOTH", "DK"], "amount": 600}]}],
    "products": [
        {"code": "NIGHT_PLAN", "name": "Nights \"plus\" – Ø", "kind": "plan", "service_type": "mobile_prepaid",
         "sellable": False, "rate_plan": "NIGHTLY", "tax": "LOW", "recurring": "10", "bundles": ["ANY"],
         "one_time": [{"code": "B", "name": "Bee", "price": "1"}, {"code": "A", "name": "Ay", "price": "2.5"}],
         "attributes": {"speeds": {"down": 100, "up": 2.5}, "tags": ["x", "NO", "18:00"], "note": "500", "on": True,
                        "none": None},
         "rules": {"excludes": ["MOB_PRE"], "at_most": [{"count": 2, "of": ["ROUTER", "NIGHT_PLAN"]},
                                                       {"count": 1, "of": ["ROUTER"]}]}},
        {"code": "ROUTER", "name": "Router", "kind": "device", "price": "999.95", "service_type": "broadband"},
    ],
    "discounts": [{"code": "NIGHT_DATA", "name": "Cheap night data", "applies_to": "usage", "percent": "33.333333",
                   "services": ["data", "voice"], "products": ["NIGHT_PLAN", "MOB_PRE"]}],
    "customer_groups": [{"code": "STAFF", "name": "Employees"}],
    "sales_channels": [{"code": "WEB", "name": "Web shop"}, {"code": "SHOP", "name": "Shops"}],
    "price_lists": [{"code": "STAFF_WEB", "name": "Staff on the web", "channel": "WEB", "customer_group": "STAFF",
                     "priority": -3, "items": [{"product": "ROUTER", "charge": "price", "price": "0"},
                                               {"product": "NIGHT_PLAN", "charge": "A", "price": "1.5"}]}],
    "sim_types": [{"code": "ESIM", "name": "eSIM", "form_factor": "eSIM"},
                  {"code": "TRIO", "name": "Triple-cut SIM", "form_factor": "triple-cut", "description": "2FF/3FF/4FF"}],
}


def test_every_feature_survives_the_round_trip(apply, reference, make_brand):
    make_brand("partner")
    full = {**reference, "brand": {**reference["brand"], "shared_with": ["partner"]}}
    for section, entries in EVERYTHING.items():
        full[section] = list(full.get(section, [])) + entries
    day = dt.date(2026, 2, 1)
    apply(full, effective_from=day)
    brand = Brand.objects.get(code="NORD")
    first = export_yaml(brand, day)
    assert apply(yamlio.load(first), effective_from=day).changes == []
    assert _specs(yamlio.load(first))[1] == _specs(full)[1]
    wipe()
    make_brand("partner")
    apply(yamlio.load(first), effective_from=day)
    assert export_yaml(Brand.objects.get(code="NORD"), day) == first
    assert 'name: "Nights \\"plus\\" – Ø"' in first
    assert 'tags: [x, "NO", "18:00"]' in first
