"""Catalogue screens and rights: the area in the menu, 403 without it, 404 for another brand's
rows, and a shared catalogue that the brands it is shared with can read but never change."""

import pytest
from catalog_gui_helpers import ALL, EDIT, VIEW
from django.urls import reverse

from gui_helpers import login
from telora.catalog import models as m

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


@pytest.fixture
def product(nord):
    return m.Product.objects.get(brand=nord, code="MOB_POST_10GB")


@pytest.fixture
def zone(nord):
    return m.Zone.objects.get(brand=nord, code="DK")


def test_the_catalogue_is_in_the_menu_of_those_holding_it(make_user, nord):
    response = login(make_user("vera", {nord: VIEW}), nord).get(reverse("ui:home"))
    assert [area.code for area in response.context["menu"]] == ["catalog"]
    assert f'href="{reverse("catalog:home")}"' in response.content.decode()


@pytest.mark.parametrize("url_name", ["catalog:home", "catalog:product_list", "catalog:zone_list",
                                      "catalog:product_create", "catalog:config", "catalog:export"])
def test_without_the_area_every_screen_is_forbidden(make_user, nord, url_name):
    clerk = make_user("uma", {nord: ["users.view"]})
    assert login(clerk, nord).get(reverse(url_name)).status_code == 403


def test_viewers_cannot_open_forms(make_user, nord, product):
    client = login(make_user("vera", {nord: VIEW}), nord)
    assert client.get(reverse("catalog:product_create")).status_code == 403
    assert client.get(reverse("catalog:product_edit", args=[product.pk])).status_code == 403
    page = client.get(reverse("catalog:product_detail", args=[product.pk]))
    assert page.status_code == 200
    assert 'data-testid="edit-entity"' not in page.content.decode()
    assert 'data-testid="read-only"' in page.content.decode()


@pytest.mark.parametrize("url_name", ["catalog:product_detail", "catalog:product_edit", "catalog:product_close",
                                      "catalog:price_change"])
def test_another_brands_product_is_not_found(make_user, brand_b, product, url_name):
    bob = make_user("bob", {brand_b: ALL})
    client = login(bob, brand_b)
    assert client.get(reverse(url_name, args=[product.pk])).status_code == 404
    assert client.post(reverse(url_name, args=[product.pk]), {"name": "Taken"}).status_code == 404
    product.refresh_from_db()
    assert product.name == "Mobil 10 GB"


@pytest.mark.parametrize("url_name", ["catalog:zone_detail", "catalog:zone_edit", "catalog:zone_close"])
def test_another_brands_zone_is_not_found(make_user, brand_b, zone, url_name):
    client = login(make_user("bob", {brand_b: ALL}), brand_b)
    assert client.get(reverse(url_name, args=[zone.pk])).status_code == 404


def test_lists_show_only_the_active_brands_catalogue(make_user, nord, brand_b):
    bob = make_user("bob", {brand_b: ALL})
    response = login(bob, brand_b).get(reverse("catalog:product_list"))
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    assert "MOB_POST_10GB" not in response.content.decode()


@pytest.fixture
def shared(apply, reference, nord, brand_b):
    reference["brand"]["shared_with"] = [brand_b.code]
    apply(reference)
    return nord


def test_a_shared_catalogue_is_read_only(make_user, shared, brand_b, product, zone):
    bob = make_user("bob", {brand_b: ALL})
    client = login(bob, brand_b)
    listing = client.get(reverse("catalog:product_list"))
    assert {row["obj"].code for row in listing.context["rows"]} >= {"MOB_POST_10GB", "FIBER_500"}
    assert all(row["shared"] for row in listing.context["rows"])
    page = client.get(reverse("catalog:product_detail", args=[product.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["shared_from"] == shared
    assert 'data-testid="shared-badge"' in html
    for button in ("edit-entity", "close-entity", "change-price"):
        assert f'data-testid="{button}"' not in html
    home = client.get(reverse("catalog:home")).content.decode()
    assert 'data-testid="shared-from"' in home


@pytest.mark.parametrize("url_name, data", [
    ("catalog:product_edit", {"name": "Stolen"}),
    ("catalog:product_close", {"effective_from": "2026-12-01"}),
    ("catalog:price_change", {"charge": "recurring", "amount": "1"}),
])
def test_posts_to_a_shared_catalogue_are_refused(make_user, shared, brand_b, product, url_name, data):
    client = login(make_user("bob", {brand_b: ALL}), brand_b)
    assert client.get(reverse(url_name, args=[product.pk])).status_code == 403
    assert client.post(reverse(url_name, args=[product.pk]), data).status_code == 403
    product.refresh_from_db()
    assert product.name == "Mobil 10 GB" and product.valid_to is None


def test_rates_of_a_shared_rate_plan_are_refused_too(make_user, shared, brand_b):
    plan = m.RatePlan.objects.get(brand=shared, code="POST_STD")
    client = login(make_user("bob", {brand_b: ALL}), brand_b)
    rate = {"service": "mms", "zone": "EU", "price": "1", "unit": "1", "first_increment": "1",
            "next_increment": "1"}
    assert client.post(reverse("catalog:rate_form", args=[plan.pk]), rate).status_code == 403
    assert not m.Rate.objects.filter(rate_plan=plan, service="mms", zone__code="EU").exists()


def test_editors_see_their_buttons(make_user, nord, product):
    page = login(make_user("petra", {nord: EDIT}), nord).get(reverse("catalog:product_detail", args=[product.pk]))
    html = page.content.decode()
    assert 'data-testid="edit-entity"' in html and 'data-testid="change-price"' in html
