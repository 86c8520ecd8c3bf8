"""Single-entity services (for forms and the API) validate exactly as the file does."""

import datetime as dt
from decimal import Decimal

import pytest
from catalog_helpers import DAY0

from telora.catalog import models as m
from telora.catalog import services as s
from telora.catalog.selectors import effective_price
from telora.catalog.services import CatalogError
from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services import Actor, ServiceError
from telora.core.services.actors import PermissionDeniedError

pytestmark = pytest.mark.usefixtures("nord_kept")

MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def editor(make_user, nord):
    return Actor(user=make_user("petra", {nord: ["catalog.view", "catalog.change"]}))


def test_create_and_update_one_zone(nord, editor):
    zone = s.save_zone(nord, {"code": "NORDIC", "name": "Nordic", "prefixes": ["47", "354"]}, actor=editor,
                       at=clock.now())
    assert zone.prefixes == ["354", "47"] and zone.brand == nord
    with pytest.raises(CatalogError) as err:
        s.save_zone(nord, {"code": "NORDIC", "name": "Nordic", "prefixes": ["45"]}, actor=editor, at=clock.now())
    assert err.value.errors == [("prefixes[0]", "prefix '45' is already in zone DK")]
    assert err.value.field == "prefixes[0]"
    s.save_zone(nord, {"code": "NORDIC", "name": "Norden", "prefixes": ["47"]}, actor=editor, at=clock.now())
    event = AuditEvent.objects.filter(object_type="catalog.zone", action="update").get()
    assert event.changes == {"name": ["Nordic", "Norden"], "prefixes": [["354", "47"], ["47"]]}
    assert not AuditEvent.objects.filter(action="config_apply", actor_user=editor.user).exists()


def test_a_form_gets_the_same_messages_as_the_file(nord, editor):
    with pytest.raises(CatalogError) as err:
        s.save_product(nord, {"code": "NEW", "name": "New", "kind": "plan", "service_type": "voip",
                              "rate_plan": "X", "recurring": 0.5}, actor=editor, at=clock.now())
    assert err.value.lines() == [
        'recurring: write the amount as a string in quotes ("0.5"): an unquoted decimal is a YAML float and not exact',
        "rate_plan: unknown rate plan 'X'",
    ]
    assert not m.Product.objects.filter(code="NEW").exists()


def test_closing_something_still_used_is_refused(nord, editor):
    with pytest.raises(CatalogError) as err:
        s.close_entity(nord, "rate_plans", "PRE_STD", actor=editor, at=clock.now())
    assert err.value.lines() == ["products[3].rate_plan: unknown rate plan 'PRE_STD'"]
    result = s.close_entity(nord, "products", "SIM_REPLACEMENT", actor=editor, at=clock.now(), effective_from=MARCH)
    assert [(c.action, c.key) for c in result.changes] == [("close", "SIM_REPLACEMENT")]


def test_set_price_from_a_date(nord, editor):
    s.set_price(nord, "MOB_POST_10GB", "recurring", Decimal("155.00"), actor=editor, at=clock.now(),
                effective_from=MARCH)
    s.set_price(nord, "MOB_POST_10GB", "ACTIVATION", "0", actor=editor, at=clock.now(), effective_from=MARCH)
    product = m.Product.objects.get(code="MOB_POST_10GB")
    assert effective_price(product, "recurring", DAY0) == Decimal("149.00")
    assert effective_price(product, "recurring", MARCH) == Decimal("155.00")
    assert effective_price(product, "ACTIVATION", MARCH) == Decimal("0")
    with pytest.raises(ServiceError, match="has no charge 'NOPE'"):
        s.set_price(nord, "MOB_POST_10GB", "NOPE", "1", actor=editor, at=clock.now())


def test_save_and_remove_one_rate(nord, editor):
    s.save_rate(nord, "PRE_STD", {"service": "mms", "zone": "DK", "price": "0.80", "unit": 1, "increments": [1, 1]},
                actor=editor, at=clock.now(), effective_from=MARCH)
    assert m.Rate.objects.get(rate_plan__code="PRE_STD", service="mms").valid_from == MARCH
    with pytest.raises(CatalogError) as err:
        s.save_rate(nord, "PRE_STD", {"service": "mms", "zone": "DK", "band": "NIGHT", "price": "1", "unit": 1,
                                      "increments": [1, 1]}, actor=editor, at=clock.now())
    assert err.value.errors == [("band", "unknown band 'NIGHT' (time bands WEEK has: OFFPEAK, PEAK)")]
    s.remove_rate(nord, "PRE_STD", "mms", "DK", actor=editor, at=clock.now(), effective_from=dt.date(2026, 4, 1))
    assert m.Rate.objects.get(rate_plan__code="PRE_STD", service="mms").valid_to == dt.date(2026, 4, 1)


def test_every_section_has_a_save_service(nord, editor):
    at = clock.now()
    s.save_tax(nord, {"code": "LOW", "name": "Reduced", "percent": "6"}, actor=editor, at=at)
    s.save_bill_cycle(nord, {"code": "M28", "name": "28th", "anchor_day": 28}, actor=editor, at=at)
    s.save_billing_group(nord, {"code": "BIZ", "name": "Business", "bill_cycle": "M28"}, actor=editor, at=at)
    s.save_sim_type(nord, {"code": "ESIM", "name": "eSIM profile", "form_factor": "eSIM"}, actor=editor, at=at)
    s.save_sim_type(nord, {"code": "TRIO", "name": "Triple-cut", "form_factor": "triple-cut",
                           "description": "2FF/3FF/4FF"}, actor=editor, at=at)
    s.save_customer_group(nord, {"code": "VIP", "name": "VIP"}, actor=editor, at=at)
    s.save_sales_channel(nord, {"code": "SHOP", "name": "Shops"}, actor=editor, at=at)
    s.save_time_band_set(nord, {"code": "FLAT", "name": "Flat", "bands": [{"band": "ALL", "default": True}]},
                         actor=editor, at=at)
    s.save_rate_plan(nord, {"code": "FLAT", "name": "Flat", "time_bands": "FLAT", "rates": [
        {"service": "voice", "zone": "DK", "band": "ALL", "price": "0.10", "unit": 60, "increments": [1, 1]}]},
        actor=editor, at=at)
    s.save_bundle(nord, {"code": "ANY", "name": "Any SMS", "period": "once",
                         "allowances": [{"service": "sms", "amount": 100}]}, actor=editor, at=at)
    s.save_discount(nord, {"code": "VIP10", "name": "10%", "applies_to": "recurring", "percent": "10",
                           "products": ["MOB_POST_BASIC"]}, actor=editor, at=at)
    s.save_price_list(nord, {"code": "VIP", "name": "VIP", "customer_group": "VIP", "items": [
        {"product": "MOB_POST_BASIC", "charge": "recurring", "price": "39.00"}]}, actor=editor, at=at)
    assert m.BillingGroup.objects.get(code="BIZ").bill_cycle.code == "M28"
    assert m.SimType.objects.get(code="TRIO").form_factor == "triple-cut"
    assert m.Allowance.objects.get(bundle__code="ANY").zones.count() == 0
    product = m.Product.objects.get(code="MOB_POST_BASIC")
    assert effective_price(product, "recurring", clock.today(nord), customer_group="VIP") == Decimal("39.00")


def test_rights_are_checked(make_user, nord, brand_b):
    viewer = Actor(user=make_user("vera", {nord: ["catalog.view"]}))
    with pytest.raises(PermissionDeniedError, match="catalog.change"):
        s.save_customer_group(nord, {"code": "X", "name": "X"}, actor=viewer, at=clock.now())
    other = Actor(user=make_user("otto", {brand_b: ["catalog.view", "catalog.change", "catalog.apply"]}))
    with pytest.raises(PermissionDeniedError):
        s.set_price(nord, "MOB_PRE", "recurring", "1", actor=other, at=clock.now())


def test_applying_a_file_needs_the_apply_right(apply, reference, make_user, nord):
    from telora.catalog.services import apply_catalog

    editor = Actor(user=make_user("eddie", {nord: ["catalog.view", "catalog.change"]}))
    with pytest.raises(PermissionDeniedError, match="catalog.apply"):
        apply_catalog(reference, actor=editor, at=clock.now())
    applier = Actor(user=make_user("ada", {nord: ["catalog.apply"]}))
    assert apply_catalog(reference, actor=applier, at=clock.now()).changes == []


def test_shares_can_be_set_one_brand_at_a_time(nord, editor, brand_b):
    s.set_shares(nord, [brand_b.code], actor=editor, at=clock.now())
    assert m.CatalogShare.objects.get().shared_with == brand_b
    s.set_shares(nord, [], actor=editor, at=clock.now())
    assert not m.CatalogShare.objects.exists()
