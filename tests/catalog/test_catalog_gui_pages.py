"""Catalogue pages: a product's whole price structure and where it is used, dated rates, history,
every section's page, the search box and the where-used hook other apps fill."""

import datetime as dt

import pytest
from catalog_gui_helpers import EDIT
from django.urls import reverse

from gui_helpers import login
from telora.catalog import models as m
from telora.catalog import services as s
from telora.catalog.selectors.usage import _PROVIDERS, Usage, register_usage
from telora.core import clock
from telora.core.services import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


@pytest.fixture
def petra(make_user, nord):
    return make_user("petra", {nord: EDIT})


@pytest.fixture
def client(petra, nord):
    return login(petra, nord)


def test_product_page_shows_its_price_structure(client, nord, petra):
    s.save_customer_group(nord, {"code": "STAFF", "name": "Staff"}, actor=Actor(user=petra), at=clock.now())
    s.save_price_list(nord, {"code": "STAFF", "name": "Staff prices", "customer_group": "STAFF", "priority": 5,
                             "items": [{"product": "MOB_POST_10GB", "charge": "recurring", "price": "49.00"}]},
                      actor=Actor(user=petra), at=clock.now())
    product = m.Product.objects.get(brand=nord, code="MOB_POST_10GB")
    response = client.get(reverse("catalog:product_detail", args=[product.pk]))
    assert response.status_code == 200
    context = response.context
    charges = {c["charge"].code: c for c in context["charges"]}
    assert charges["recurring"]["current_amount"] == "149.00" and charges["recurring"]["gross"] == "186.25"
    assert charges["ACTIVATION"]["current_amount"] == "99.00"
    assert [(o["item"].price_list.code, o["amount"]) for o in context["overrides"]] == [("STAFF", "49.00")]
    assert [d["discount"].code for d in context["discounts"]] == ["EU_CALLS_HALF"]
    assert [b["bundle"].code for b in context["bundles"]] == ["DATA_10GB", "DK_TALK_500", "SMS_FREE"]
    assert context["tax"].code == "VAT" and context["tax_is_default"]
    html = response.content.decode()
    assert 'data-testid="price-structure"' in html and "186.25" in html


def test_product_page_shows_where_it_is_used(client, nord):
    product = m.Product.objects.get(brand=nord, code="MOB_POST_10GB")
    used = {str(u.title): [item.label for item in u.items] for u in
            client.get(reverse("catalog:product_detail", args=[product.pk])).context["used_by"]}
    assert used == {"Rules of other products": ["ROAM_EU_5GB"], "Discounts": ["EU_CALLS_HALF"]}


def test_where_used_of_the_rating_pieces(client, nord):
    def used(section, code):
        row = section.objects.get(brand=nord, code=code)
        name = {m.Zone: "zone", m.RatePlan: "rate_plan", m.Bundle: "bundle", m.TimeBandSet: "time_band_set",
                m.Tax: "tax"}[section]
        context = client.get(reverse(f"catalog:{name}_detail", args=[row.pk])).context
        return {str(u.title): [(i.label, i.detail) for i in u.items] for u in context["used_by"]}

    assert used(m.Zone, "EU") == {
        "Rate plans": [("POST_STD", "voice, sms"), ("PRE_STD", "voice, sms")],
        "Discounts": [("EU_CALLS_HALF", "Half price on calls to the EU")],
    }
    assert [label for label, _ in used(m.RatePlan, "PRE_STD")["Products"]] == ["MOB_PRE"]
    assert [label for label, _ in used(m.Bundle, "EU_ROAM_5GB")["Products"]] == ["ROAM_EU_5GB"]
    assert [label for label, _ in used(m.TimeBandSet, "WEEK")["Rate plans"]] == ["POST_STD", "PRE_STD"]
    assert len(used(m.Tax, "VAT")) == 0  # products use the default tax without naming it


def test_every_section_has_a_page(client, nord):
    from telora.catalog.views.sections import SECTION_LIST

    for section in SECTION_LIST:
        for row in section.model.objects.filter(brand=nord):
            response = client.get(reverse(f"catalog:{section.name}_detail", args=[row.pk]))
            assert response.status_code == 200, (section.key, row.code)
            assert 'data-testid="history"' in response.content.decode()


def test_rate_plan_shows_current_and_future_rates_and_past_on_request(client, nord, petra):
    later = clock.today(nord) + dt.timedelta(days=20)
    s.save_rate(nord, "PRE_STD", {"service": "sms", "zone": "DK", "price": "0.45", "unit": 1, "increments": [1, 1]},
                actor=Actor(user=petra), at=clock.now(), effective_from=later)
    plan = m.RatePlan.objects.get(brand=nord, code="PRE_STD")
    rows = client.get(reverse("catalog:rate_plan_detail", args=[plan.pk])).context["rates"]
    sms = [(r["price"], r["state"]) for r in rows if r["row"].service == "sms" and r["row"].zone.code == "DK"]
    assert sms == [("0.39", "current"), ("0.45", "future")]
    s.save_rate(nord, "PRE_STD", {"service": "sms", "zone": "DK", "price": "0.29", "unit": 1, "increments": [1, 1]},
                actor=Actor(user=petra), at=clock.now(), effective_from=dt.date(2026, 6, 1))
    current = client.get(reverse("catalog:rate_plan_detail", args=[plan.pk])).context
    everything = client.get(reverse("catalog:rate_plan_detail", args=[plan.pk]), {"versions": "all"}).context
    assert len(everything["rates"]) == len(current["rates"]) + 1
    assert everything["rate_counts"]["ended"] == 1


def test_history_panel_gathers_an_entitys_dated_rows(client, nord, petra):
    product = m.Product.objects.get(brand=nord, code="MOB_POST_10GB")
    s.set_price(nord, "MOB_POST_10GB", "recurring", "155.00", actor=Actor(user=petra), at=clock.now(),
                effective_from=clock.today(nord) + dt.timedelta(days=3))
    html = client.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert "update price MOB_POST_10GB recurring" in html and "petra" in html


def test_list_filters(client, nord):
    url = reverse("catalog:product_list")
    codes = lambda **params: [row["obj"].code for row in client.get(url, params).context["rows"]]  # noqa: E731
    assert codes(kind="addon") == ["ROAM_EU_5GB"]
    assert codes(q="mobil basis") == ["MOB_POST_BASIC"]
    assert "SIM_REPLACEMENT" in codes()
    s.close_entity(nord, "products", "SIM_REPLACEMENT", actor=Actor.system("tests"), at=clock.now())
    assert "SIM_REPLACEMENT" not in codes()
    assert codes(state="ended") == ["SIM_REPLACEMENT"]
    partial = client.get(url, {"q": "fiber"}, headers={"HX-Request": "true"})
    assert partial.templates[0].name == "catalog/_list_table.html"


def test_search_finds_products_and_zones_of_the_active_brand(client, nord, make_user, brand_b):
    results = client.get(reverse("ui:search"), {"q": "fiber"}).context["results"]
    assert [r.label for r in results if r.icon == "package"] == ["Fiber 500/500"]
    assert [r.detail for r in client.get(reverse("ui:search"), {"q": "4590"}).context["results"]] == ["DK_PREMIUM"]
    other = login(make_user("bob", {brand_b: EDIT}), brand_b)
    assert other.get(reverse("ui:search"), {"q": "fiber"}).context["results"] == []


def test_other_apps_add_to_where_used(client, nord):
    def subscriptions(product, principal):
        return Usage("Subscriptions", count=42) if product.code == "MOB_PRE" else None

    register_usage("catalog.product", subscriptions)
    try:
        product = m.Product.objects.get(brand=nord, code="MOB_PRE")
        used = client.get(reverse("catalog:product_detail", args=[product.pk])).context["used_by"]
        assert [(u.title, u.total) for u in used] == [("Subscriptions", 42)]
    finally:
        _PROVIDERS["catalog.product"].pop(f"{subscriptions.__module__}.{subscriptions.__qualname__}")


def test_audit_log_links_to_catalogue_pages(nord):
    from telora.ui.links import object_url

    zone = m.Zone.objects.get(brand=nord, code="DK")
    assert object_url("catalog.zone", zone.pk) == reverse("catalog:zone_detail", args=[zone.pk])
