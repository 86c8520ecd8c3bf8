"""Creating and editing the catalogue through forms: the single-entity services check them, so a
form refuses what a file refuses, in the same words, on the field (or row) it is about."""

import datetime as dt
from decimal import Decimal

import pytest
from catalog_gui_helpers import EDIT, row_errors, rows
from django.urls import reverse

from gui_helpers import form_errors, login
from telora.catalog import models as m
from telora.catalog.selectors import effective_price
from telora.core import clock
from telora.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


@pytest.fixture
def petra(make_user, nord):
    return make_user("petra", {nord: EDIT})


@pytest.fixture
def client(petra, nord):
    return login(petra, nord)


def product_data(**values) -> dict:
    data = {"code": "MOB_NEW", "name": "Mobil 5 GB", "kind": "plan", "service_type": "mobile_postpaid",
            "sellable": "on", "rate_plan": "POST_STD", "recurring": "99.00", "bundles": ["SMS_FREE"],
            **rows("one_time", [{"code": "ACTIVATION", "name": "Activation fee", "price": "49.00"}]),
            **rows("at_most", [])}
    data.update(values)
    return data


def test_every_section_has_a_form_and_a_list(client, nord):
    from telora.catalog.views.sections import SECTION_LIST

    for section in SECTION_LIST:
        assert client.get(section.create_url).status_code == 200, section.key
        assert client.get(section.list_url).status_code == 200, section.key
        row = section.model.objects.filter(brand=nord).first()
        if row is not None:
            assert client.get(reverse(f"catalog:{section.name}_edit", args=[row.pk])).status_code == 200


def test_create_a_product_with_charges_and_bundles(client, nord, petra):
    response = client.post(reverse("catalog:product_create"), product_data())
    product = m.Product.objects.get(brand=nord, code="MOB_NEW")
    assert response.status_code == 302 and response.url == reverse("catalog:product_detail", args=[product.pk])
    today = clock.today(nord)
    assert effective_price(product, "recurring", today) == Decimal("99.00")
    assert effective_price(product, "ACTIVATION", today) == Decimal("49.00")
    assert [b.code for b in product.bundles.all()] == ["SMS_FREE"]
    assert product.rate_plan.code == "POST_STD" and product.sellable
    event = AuditEvent.objects.get(object_type="catalog.product", object_id=str(product.pk), action="create")
    assert event.actor_user == petra


def test_product_errors_are_the_files_and_land_on_their_fields(client, nord):
    response = client.post(reverse("catalog:product_create"), product_data(
        recurring="9,90", rate_plan="NOPE", service_type="", bundles=["SMS_FREE", "GONE"]))
    assert response.status_code == 200
    errors = form_errors(response)
    assert errors["recurring"] == ["bad decimal '9,90' (write digits with an optional '.', e.g. \"0.30\")"]
    assert errors["rate_plan"] == ["unknown rate plan 'NOPE'"]
    assert errors["service_type"] == ["required for a plan (one of: mobile_prepaid, mobile_postpaid, fixed_line, "
                                      "broadband, voip, fiber, tv, content)"]
    assert errors["bundles"] == ["unknown bundle 'GONE'"]
    assert not m.Product.objects.filter(code="MOB_NEW").exists()


def test_an_error_in_a_row_lands_on_that_row(client, nord):
    data = product_data(**rows("one_time", [{"code": "ACTIVATION", "name": "Activation", "price": "10"},
                                            {"code": "", "name": "", "price": ""},  # blank: left out
                                            {"code": "recurring", "name": "Oops", "price": "-1"}]))
    response = client.post(reverse("catalog:product_create"), data)
    assert response.status_code == 200
    errors = row_errors(response, "one_time")
    assert errors[0] == {} and errors[1] == {}
    assert errors[2] == {"code": ["'recurring' is reserved: use the product's `recurring` field"],
                         "price": ["must not be less than 0"]}


def test_a_kind_mismatch_is_refused_like_in_a_file(client, nord):
    response = client.post(reverse("catalog:product_create"), product_data(kind="device", service_type=""))
    assert form_errors(response)["recurring"] == ["a device product has no recurring price (use price)"]


def test_rules_and_attributes(client, nord):
    data = product_data(code="ADDON_X", name="Add-on", kind="addon", service_type="", rate_plan="", recurring="5",
                        requires_any=["MOB_POST_10GB"], excludes=["MOB_PRE"], attributes="speed_mbit: 100\nnote: x",
                        **rows("one_time", []), **rows("at_most", [{"count": "1", "of": ["ROAM_EU_5GB"]}]))
    response = client.post(reverse("catalog:product_create"), data)
    assert response.status_code == 302, form_errors(response)
    product = m.Product.objects.get(code="ADDON_X")
    assert product.attributes == {"speed_mbit": 100, "note": "x"}
    kinds = {rule.kind: [t.code for t in rule.targets.all()] for rule in product.rules.all()}
    assert kinds == {"requires_any": ["MOB_POST_10GB"], "excludes": ["MOB_PRE"], "at_most": ["ROAM_EU_5GB"]}
    bad = client.post(reverse("catalog:product_create"), {**data, "code": "ADDON_Y", "attributes": "a: [1"})
    assert "attributes" in form_errors(bad)


def test_editing_keeps_the_code_and_what_the_form_does_not_show(client, nord):
    plan = m.RatePlan.objects.get(brand=nord, code="POST_STD")
    rates_before = plan.rates.count()
    response = client.post(reverse("catalog:rate_plan_edit", args=[plan.pk]),
                           {"code": "HIJACK", "name": "Postpaid (2026)", "time_bands": "WEEK"})
    assert response.status_code == 302, form_errors(response)
    plan.refresh_from_db()
    assert plan.code == "POST_STD" and plan.name == "Postpaid (2026)"
    assert plan.rates.count() == rates_before
    event = AuditEvent.objects.get(object_type="catalog.rateplan", object_id=str(plan.pk), action="update")
    assert event.changes == {"name": ["Postpaid standard", "Postpaid (2026)"]}


def test_edit_form_starts_from_the_entity(client, nord):
    product = m.Product.objects.get(brand=nord, code="MOB_POST_10GB")
    form = client.get(reverse("catalog:product_edit", args=[product.pk])).context["form"]
    assert form.initial["recurring"] == "149.00" and form.initial["bundles"] == ["DATA_10GB", "DK_TALK_500",
                                                                                 "SMS_FREE"]
    assert form.fields["code"].disabled
    assert [f.initial for f in form.rowsets["one_time"].initial_forms] == [
        {"code": "ACTIVATION", "name": "Activation fee", "price": "99.00"}]


def test_a_zone_conflict_names_the_other_zone(client, nord):
    response = client.post(reverse("catalog:zone_create"), {"code": "NORDIC", "name": "Nordic",
                                                             "prefixes": "47, 45", "countries": ""})
    assert form_errors(response) == {"prefixes": ["prefix '45' is already in zone DK"]}
    response = client.post(reverse("catalog:zone_create"), {"code": "NORDIC", "name": "Nordic", "prefixes": "",
                                                             "countries": ""})
    assert form_errors(response) == {"__all__": ["give prefixes (destinations) or countries (data), or both"]}
    response = client.post(reverse("catalog:zone_create"), {"code": "NORDIC", "name": "Nordic", "prefixes": "47 354",
                                                             "countries": "IS"})
    zone = m.Zone.objects.get(code="NORDIC")
    assert response.url == reverse("catalog:zone_detail", args=[zone.pk])
    assert zone.prefixes == ["354", "47"] and zone.countries == ["IS"]


def test_simple_sections_and_their_messages(client, nord):
    response = client.post(reverse("catalog:tax_create"), {"code": "LOW", "name": "Reduced", "percent": "101"})
    assert form_errors(response) == {"percent": ["must not be more than 100"]}
    response = client.post(reverse("catalog:tax_create"), {"code": "LOW", "name": "", "percent": "6",
                                                            "default": "on"})
    assert form_errors(response) == {"name": ["required"], "default": ["only one tax can be the default (also VAT)"]}
    response = client.post(reverse("catalog:bill_cycle_create"), {"code": "M32", "name": "x", "anchor_day": "32"})
    assert form_errors(response) == {"anchor_day": ["must be at most 31"]}
    response = client.post(reverse("catalog:bill_cycle_create"), {"code": "M3", "name": "x", "anchor_day": "third"})
    assert form_errors(response) == {"anchor_day": ["expected a whole number, got text"]}
    response = client.post(reverse("catalog:sim_type_create"), {"code": "bad code", "name": "x",
                                                                "form_factor": "nano"})
    assert form_errors(response) == {"code": ["bad code 'bad code' (letters, digits, '_', '.', '-'; at most 40)"]}
    assert client.post(reverse("catalog:billing_group_create"), {"code": "BIZ", "name": "Business",
                                                                 "bill_cycle": "M15"}).status_code == 302
    assert m.BillingGroup.objects.get(code="BIZ").bill_cycle.code == "M15"


def test_time_bands_with_rows(client, nord):
    data = {"code": "NIGHTS", "name": "Nights", **rows("bands", [
        {"band": "DAY", "days": ["mon", "tue"], "start": "08:00", "end": "07:00"},
        {"band": "NIGHT", "default": "on"}])}
    response = client.post(reverse("catalog:time_band_set_create"), data)
    assert row_errors(response, "bands")[0] == {"end": ["must be after from (split a band that crosses midnight in "
                                                        "two)"]}
    data["bands-0-end"] = "20:00"
    assert client.post(reverse("catalog:time_band_set_create"), data).status_code == 302
    bands = m.TimeBandSet.objects.get(code="NIGHTS").bands.all()
    assert [(b.band, b.days, b.start_minute, b.end_minute, b.is_default) for b in bands] == [
        ("DAY", ["mon", "tue"], 480, 1200, False), ("NIGHT", [], 0, 1440, True)]
    empty = client.post(reverse("catalog:time_band_set_create"), {"code": "NONE", "name": "None",
                                                                   **rows("bands", [])})
    assert empty.context["form"].rowsets["bands"].schema_errors == ["give at least one band"]


def test_bundle_allowances_and_zone_fit(client, nord):
    data = {"code": "EU_MIN", "name": "EU minutes", "period": "month", **rows("allowances", [
        {"service": "voice", "zones": ["EU", "HOME"], "amount": "6000"}])}
    response = client.post(reverse("catalog:bundle_create"), data)
    assert row_errors(response, "allowances")[0] == {
        "zones": ["zone HOME has no prefixes: voice is rated by destination"]}
    data["allowances-0-zones"] = ["EU"]
    assert client.post(reverse("catalog:bundle_create"), data).status_code == 302


def test_discount_and_price_list(client, nord):
    response = client.post(reverse("catalog:discount_create"), {
        "code": "D1", "name": "Ten", "applies_to": "recurring", "percent": "10", "products": ["MOB_PRE"]})
    assert form_errors(response) == {"products": ["product MOB_PRE has no recurring price"]}
    assert client.post(reverse("catalog:discount_create"), {
        "code": "D1", "name": "Ten", "applies_to": "recurring", "percent": "10",
        "products": ["MOB_POST_BASIC"], "months": "3"}).status_code == 302
    assert client.post(reverse("catalog:customer_group_create"), {"code": "STAFF", "name": "Staff"}).status_code == 302
    data = {"code": "STAFF", "name": "Staff prices", "customer_group": "STAFF", "priority": "5", **rows("items", [
        {"target": "MOB_POST_10GB recurring", "price": "49.00"}, {"target": "MOB_PRE recurring", "price": "1"}])}
    response = client.post(reverse("catalog:price_list_create"), data)
    assert row_errors(response, "items")[1] == {"target": ["product MOB_PRE has no charge 'recurring' (it has: none)"]}
    data["items-TOTAL_FORMS"] = "1"
    assert client.post(reverse("catalog:price_list_create"), data).status_code == 302
    product = m.Product.objects.get(brand=nord, code="MOB_POST_10GB")
    assert effective_price(product, "recurring", clock.today(nord), customer_group="STAFF") == Decimal("49.00")


def test_a_price_from_a_date_keeps_the_earlier_one(client, nord):
    product = m.Product.objects.get(brand=nord, code="MOB_POST_10GB")
    later = clock.today(nord) + dt.timedelta(days=30)
    response = client.post(reverse("catalog:price_change", args=[product.pk]),
                           {"charge": "recurring", "amount": "159.00", "effective_from": later.isoformat()})
    assert response.status_code == 302, form_errors(response)
    assert effective_price(product, "recurring", clock.today(nord)) == Decimal("149.00")
    assert effective_price(product, "recurring", later) == Decimal("159.00")
    bad = client.post(reverse("catalog:price_change", args=[product.pk]), {"charge": "recurring", "amount": "0.1234567"})
    assert form_errors(bad) == {"amount": ["bad decimal '0.1234567': at most 6 decimal places"]}
    page = client.get(reverse("catalog:product_detail", args=[product.pk]))
    recurring = page.context["charges"][0]
    assert [(v["amount"], v["state"]) for v in recurring["versions"]] == [("159.00", "future"), ("149.00", "current")]


def test_rates_are_added_changed_and_ended_from_dates(client, nord):
    plan = m.RatePlan.objects.get(brand=nord, code="PRE_STD")
    url = reverse("catalog:rate_form", args=[plan.pk])
    rate = {"service": "mms", "zone": "DK", "band": "NIGHT", "price": "0.80", "unit": "1", "first_increment": "1",
            "next_increment": "1"}
    assert form_errors(client.post(url, rate)) == {"band": ["unknown band 'NIGHT' (time bands WEEK has: OFFPEAK, "
                                                            "PEAK)"]}
    assert form_errors(client.post(url, {**rate, "band": "", "next_increment": "0"})) == {
        "next_increment": ["must be at least 1"]}
    assert client.post(url, {**rate, "band": ""}).status_code == 302
    assert m.Rate.objects.get(rate_plan=plan, service="mms").price == Decimal("0.80")
    later = clock.today(nord) + dt.timedelta(days=10)
    change = client.get(url, {"key_service": "mms", "key_zone": "DK"})
    assert change.context["form"].initial["price"] == "0.80" and change.context["form"].fields["zone"].disabled
    response = client.post(url, {"key_service": "mms", "key_zone": "DK", "price": "0.90", "unit": "1",
                                 "first_increment": "1", "next_increment": "1", "effective_from": later.isoformat()})
    assert response.status_code == 302, form_errors(response)
    assert [r.price for r in m.Rate.objects.filter(rate_plan=plan, service="mms").order_by("valid_from")] == [
        Decimal("0.80"), Decimal("0.90")]
    end = client.post(reverse("catalog:rate_end", args=[plan.pk]), {"key_service": "mms", "key_zone": "DK",
                                                                     "effective_from": later.isoformat()})
    assert end.status_code == 302
    assert not m.Rate.objects.filter(rate_plan=plan, service="mms", valid_from=later).exists()
    page = client.get(reverse("catalog:rate_plan_detail", args=[plan.pk]), {"versions": "all"})
    mms = [r for r in page.context["rates"] if r["row"].service == "mms"]
    assert [(r["row"].valid_to, r["state"]) for r in mms] == [(later, "current")]


def test_closing_something_in_use_is_refused_with_the_reason(client, nord):
    plan = m.RatePlan.objects.get(brand=nord, code="PRE_STD")
    response = client.post(reverse("catalog:rate_plan_close", args=[plan.pk]), {})
    assert form_errors(response) == {"__all__": ["products[3].rate_plan: unknown rate plan 'PRE_STD'"]}
    product = m.Product.objects.get(brand=nord, code="SIM_REPLACEMENT")
    day = clock.today(nord) + dt.timedelta(days=1)
    response = client.post(reverse("catalog:product_close", args=[product.pk]), {"effective_from": day.isoformat()})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.valid_to == day


def test_a_prepaid_plans_low_balance_threshold_through_the_form(client, nord):
    response = client.post(reverse("catalog:product_create"), product_data(
        service_type="mobile_postpaid", low_balance_threshold="2.50"))
    assert form_errors(response)["low_balance_threshold"] == ["only a prepaid plan has a low-balance threshold"]
    response = client.post(reverse("catalog:product_create"), product_data(
        service_type="mobile_prepaid", rate_plan="PRE_STD", low_balance_threshold="2.50"))
    product = m.Product.objects.get(brand=nord, code="MOB_NEW")
    assert response.status_code == 302 and product.low_balance_threshold == Decimal("2.50")
    edit = client.get(reverse("catalog:product_edit", args=[product.pk]))
    assert edit.context["form"].initial["low_balance_threshold"] == "2.50"
    detail = client.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert 'data-testid="low-balance-threshold">2.5 DKK' in detail
