"""Applying the reference file: everything created, idempotent, audited, dry run changes nothing."""

from decimal import Decimal

import pytest
from catalog_helpers import DAY0

from telora.catalog import models as m
from telora.catalog.services import CatalogError
from telora.core.models import AuditEvent, Brand


def test_the_reference_file_applies_as_it_is(apply, reference):
    result = apply(reference, effective_from=DAY0)
    assert result.counts()["create"] == 28  # the brand and 27 entities
    brand = Brand.objects.get(code="NORD")
    assert (brand.name, brand.currency, brand.timezone, brand.country, brand.language) == (
        "Nordmobil", "DKK", "Europe/Copenhagen", "DK", "da")
    assert m.Zone.objects.filter(brand=brand).count() == 8
    assert m.Rate.objects.filter(brand=brand).count() == 19
    product = m.Product.objects.get(brand=brand, code="MOB_POST_10GB")
    assert product.rate_plan.code == "POST_STD"
    assert product.commitment_months == 6
    assert sorted(product.bundles.values_list("code", flat=True)) == ["DATA_10GB", "DK_TALK_500", "SMS_FREE"]
    prices = {p.charge.code: p.amount for p in m.ProductPrice.objects.filter(charge__product=product)}
    assert prices == {"recurring": Decimal("149.00"), "ACTIVATION": Decimal("99.00")}
    assert m.Product.objects.get(code="FIBER_500").attributes == {"download_mbit": 500, "upload_mbit": 500}
    eu_roam = m.Zone.objects.get(code="EU_ROAM")
    assert "NO" in eu_roam.countries  # a bare NO in YAML stays Norway, not false
    rate = m.Rate.objects.get(rate_plan__code="POST_STD", service="voice", zone__code="DK_PREMIUM")
    assert (rate.price, rate.first_increment, rate.next_increment, rate.minimum) == (
        Decimal("4.95"), 60, 60, Decimal("4.95"))
    assert rate.valid_from == DAY0 and rate.valid_to is None


def test_a_second_apply_changes_nothing_and_records_nothing(apply, reference, nord):
    events = AuditEvent.objects.count()
    result = apply(reference, effective_from=DAY0)
    assert result.changes == [] and result.summary() == "no changes"
    assert AuditEvent.objects.count() == events
    later = apply(reference)  # another day, same file: still nothing
    assert later.changes == []


def test_every_change_is_audited_with_a_summary_event(apply, reference):
    apply(reference, effective_from=DAY0)
    brand = Brand.objects.get(code="NORD")
    catalog_events = AuditEvent.objects.filter(object_type__startswith="catalog.")
    assert catalog_events.count() == 27
    zone_event = catalog_events.get(object_type="catalog.zone", object_repr="DK")
    assert zone_event.action == "create" and zone_event.changes["prefixes"] == [None, ["45"]]
    summary = AuditEvent.objects.get(action="config_apply")
    assert summary.brand == brand and "28 created" in summary.message
    assert AuditEvent.objects.filter(object_type="core.brand", action="create").count() == 1


def test_an_update_records_old_and_new_values(apply, reference, nord):
    reference["zones"][0]["name"] = "Danmark"
    reference["products"][0]["recurring"] = "159.00"
    result = apply(reference, effective_from=DAY0.replace(month=3))
    assert [(c.action, c.entity, c.key) for c in result.changes] == [
        ("update", "zone", "DK"), ("update", "price", "MOB_POST_10GB recurring")]
    assert result.changes[0].details == ["name Denmark → Danmark"]
    event = AuditEvent.objects.get(object_type="catalog.productprice", action="update")
    assert event.changes == {"amount": ["149", "159"]}


def test_check_reports_the_changes_and_changes_nothing(apply, reference, nord):
    reference["taxes"][0]["percent"] = "20"
    reference["zones"].pop()  # WORLD_ROAM goes: it and its rates close
    reference["rate_plans"][0]["rates"].pop()
    before = AuditEvent.objects.count()
    result = apply(reference, check=True, effective_from=DAY0.replace(month=6))
    assert not result.applied
    assert [(c.action, c.key) for c in result.changes] == [
        ("update", "VAT"), ("close", "POST_STD data WORLD_ROAM"), ("close", "WORLD_ROAM")]
    assert result.lines()[0] == "would be updated tax VAT: percent 25 → 20"
    assert m.Tax.objects.get(code="VAT").percent == 25
    assert m.Zone.objects.get(code="WORLD_ROAM").valid_to is None
    assert AuditEvent.objects.count() == before


def test_a_check_on_a_new_brand_creates_nothing(apply, reference):
    result = apply(reference, check=True, effective_from=DAY0)
    assert result.counts()["create"] == 28
    assert not Brand.objects.filter(code="NORD").exists()
    assert not m.Zone.objects.exists()


def test_brand_fields_are_checked_and_updated(apply, reference, nord):
    reference["brand"]["name"] = "Nordmobil A/S"
    result = apply(reference)
    assert [(c.action, c.entity, c.details) for c in result.changes] == [
        ("update", "brand", ["name Nordmobil → Nordmobil A/S"])]
    assert Brand.objects.get(code="NORD").name == "Nordmobil A/S"


def test_a_partial_file_leaves_other_sections_alone(apply, nord):
    partial = {"version": 1, "brand": {"code": "NORD"},
               "sales_channels": [{"code": "WEB", "name": "Web shop"}],
               "price_lists": [{"code": "WEB", "name": "Web prices", "channel": "WEB",
                                "items": [{"product": "MOB_POST_10GB", "charge": "recurring", "price": "139.00"}]}]}
    result = apply(partial, effective_from=DAY0)
    assert [(c.action, c.entity) for c in result.changes] == [("create", "sales channel"), ("create", "price list")]
    assert m.Product.objects.filter(brand=nord).count() == 7


def test_an_entity_left_out_is_closed_and_comes_back_when_listed_again(apply, reference, nord):
    dropped = reference["products"].pop()  # SIM_REPLACEMENT
    apply(reference, effective_from=DAY0.replace(month=5))
    product = m.Product.objects.get(code="SIM_REPLACEMENT")
    assert product.valid_to == DAY0.replace(month=5)
    assert m.ProductPrice.objects.get(charge__product=product).valid_to == DAY0.replace(month=5)
    reference["products"].append(dropped)
    result = apply(reference, effective_from=DAY0.replace(month=7))
    assert [(c.action, c.entity) for c in result.changes] == [("reopen", "product"), ("create", "price")]
    product.refresh_from_db()
    assert product.valid_to is None


def test_a_partial_file_cannot_break_what_it_leaves_out(apply, nord):
    zones_without_eu = {"version": 1, "brand": {"code": "NORD"}, "zones": [
        {"code": "DK", "name": "Denmark", "prefixes": ["45"]}]}
    with pytest.raises(CatalogError) as err:
        apply(zones_without_eu)
    assert "rate_plans[0].rates[2].zone: unknown zone 'DK_MOBILE' (the file has no rate_plans: this is the " \
           "database's)" in err.value.lines()
    assert m.Zone.objects.at(DAY0).count() == 8
