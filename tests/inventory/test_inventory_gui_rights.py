"""Inventory screens and rights: the area in the menu, 403 without it (or without the import
right for uploads), and 404 for another brand's SIM cards, numbers, groups and uploads."""

import pytest
from django.urls import reverse

from gui_helpers import login
from telora.core import clock
from telora.inventory.services import import_numbers, start_import

from .inventory_gui_helpers import CHANGE, EVERYTHING, VIEW, make_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(brand_a, system):
    return make_stock(brand_a, system)


def test_the_inventory_is_in_the_menu(make_user, brand_a):
    response = login(make_user("ivy", {brand_a: VIEW}), brand_a).get(reverse("ui:home"))
    assert [area.code for area in response.context["menu"]] == ["inventory"]


@pytest.mark.parametrize("url_name", ["inventory:home", "inventory:sim_list", "inventory:number_list",
                                      "inventory:group_list", "inventory:import_list", "inventory:upload",
                                      "inventory:sim_create", "inventory:group_create"])
def test_without_the_area_every_screen_is_forbidden(make_user, brand_a, url_name):
    assert login(make_user("uma", {brand_a: ["users.view"]}), brand_a).get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", ["inventory:upload", "inventory:sim_create", "inventory:number_create",
                                      "inventory:group_create"])
def test_viewers_cannot_open_forms(make_user, brand_a, url_name):
    assert login(make_user("ivy", {brand_a: VIEW}), brand_a).get(reverse(url_name)).status_code == 403


def test_another_brands_rows_are_not_found(make_user, brand_a, brand_b, stock, system, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    batch = import_numbers(brand_a, b"number\n+31610000099\n", actor=system, at=clock.now()).batch
    job = start_import(brand_a, "numbers", b"number\n", actor=system, at=clock.now())
    client = login(make_user("bob", {brand_b: EVERYTHING}), brand_b)
    sim, number, gold = stock["sims"][0], stock["numbers"][0], stock["gold"]
    for url_name, pk in [("inventory:sim_detail", sim.pk), ("inventory:sim_block", sim.pk),
                         ("inventory:sim_secrets", sim.pk), ("inventory:number_detail", number.pk),
                         ("inventory:number_reserve", number.pk), ("inventory:group_detail", gold.pk),
                         ("inventory:group_edit", gold.pk), ("inventory:import_detail", batch.pk),
                         ("inventory:import_errors", batch.pk), ("inventory:import_job", job.pk),
                         ("inventory:import_progress", job.pk)]:
        assert client.get(reverse(url_name, args=[pk])).status_code == 404, url_name
        assert client.post(reverse(url_name, args=[pk]), {"reason": "x"}).status_code in (404, 405), url_name
    sim.refresh_from_db()
    assert sim.status == "available"


def test_lists_show_the_active_brand_only(make_user, brand_a, brand_b, stock):
    both = make_user("bo", {brand_a: VIEW, brand_b: VIEW})
    assert login(both, brand_b).get(reverse("inventory:sim_list")).context["rows"] == []
    assert len(login(both, brand_a).get(reverse("inventory:sim_list")).context["rows"]) == 3


def test_viewers_get_no_buttons_and_their_posts_are_refused(make_user, brand_a, stock):
    sim, number = stock["sims"][0], stock["numbers"][0]
    client = login(make_user("ivy", {brand_a: VIEW}), brand_a)
    html = client.get(reverse("inventory:sim_detail", args=[sim.pk])).content.decode()
    assert 'data-testid="block"' not in html and 'data-testid="show-codes"' not in html
    assert client.post(reverse("inventory:sim_block", args=[sim.pk])).status_code == 403
    assert client.post(reverse("inventory:number_reserve", args=[number.pk])).status_code == 403
    assert client.post(reverse("inventory:sim_secrets", args=[sim.pk])).status_code == 403
    clerk = login(make_user("cleo", {brand_a: CHANGE}), brand_a)
    assert 'data-testid="block"' in clerk.get(reverse("inventory:sim_detail", args=[sim.pk])).content.decode()
