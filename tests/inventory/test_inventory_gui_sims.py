"""SIM card screens: filters, masked PIN/PUK codes shown (and audited) only with inventory.secrets,
block, unblock and retire, and a card entered by hand."""

import pytest
from django.urls import reverse

from gui_helpers import login
from telora.core.models import AuditEvent
from telora.inventory.models import SimCard

from .factories import make_iccid, make_imsi
from .inventory_gui_helpers import CHANGE, EVERYTHING, make_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(brand_a, system):
    return make_stock(brand_a, system)


def iccids(client, **params):
    return [row["sim"].iccid for row in client.get(reverse("inventory:sim_list"), params).context["rows"]]


def test_filters(make_user, brand_a, stock):
    client = login(make_user("cleo", {brand_a: CHANGE}), brand_a)
    first, second, third = (s.iccid for s in stock["sims"])
    assert iccids(client) == [first, second, third]
    assert iccids(client, sim_type="esim") == [third]
    assert iccids(client, batch="B2") == [second, third]
    assert iccids(client, q=second[-6:]) == [second]
    assert iccids(client, q=stock["sims"][0].imsi) == [first]
    client.post(reverse("inventory:sim_block", args=[stock["sims"][0].pk]))
    assert iccids(client, status="blocked") == [first]
    partial = client.get(reverse("inventory:sim_list"), {"batch": "B1"}, headers={"HX-Request": "true"})
    assert partial.templates[0].name == "inventory/sims/_table.html"


def test_codes_are_masked_without_the_secrets_right(make_user, brand_a, stock):
    sim = stock["sims"][0]
    client = login(make_user("cleo", {brand_a: CHANGE}), brand_a)
    html = client.get(reverse("inventory:sim_detail", args=[sim.pk])).content.decode()
    assert "12345678" not in html and "87654321" not in html
    assert "••••••••" in html and 'data-testid="show-codes"' not in html
    assert client.post(reverse("inventory:sim_secrets", args=[sim.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="view_secrets").exists()


def test_showing_the_codes_is_audited(make_user, brand_a, stock):
    sim = stock["sims"][0]
    sam = make_user("sam", {brand_a: EVERYTHING})
    client = login(sam, brand_a)
    page = client.get(reverse("inventory:sim_detail", args=[sim.pk])).content.decode()
    assert 'data-testid="show-codes"' in page and "12345678" not in page
    shown = client.post(reverse("inventory:sim_secrets", args=[sim.pk]), headers={"HX-Request": "true"})
    html = shown.content.decode()
    assert shown.templates[0].name == "inventory/sims/_secrets.html"
    assert 'data-secret="puk1">12345678<' in html and 'data-secret="pin2">5678<' in html
    event = AuditEvent.objects.get(action="view_secrets")
    assert event.actor_user == sam and event.object_id == str(sim.pk) and event.brand == brand_a
    assert "12345678" not in str(event.changes) + event.message
    assert client.get(reverse("inventory:sim_secrets", args=[sim.pk])).status_code == 405
    full = client.post(reverse("inventory:sim_secrets", args=[sim.pk]))  # without HTMX: the whole page
    assert full.templates[0].name == "inventory/sims/detail.html" and "87654321" in full.content.decode()
    assert AuditEvent.objects.filter(action="view_secrets").count() == 2


def test_block_unblock_and_retire(make_user, brand_a, stock):
    sim = stock["sims"][1]
    client = login(make_user("cleo", {brand_a: CHANGE}), brand_a)
    response = client.post(reverse("inventory:sim_block", args=[sim.pk]), {"reason": "lost in the post"})
    assert response.url == reverse("inventory:sim_detail", args=[sim.pk])
    sim.refresh_from_db()
    assert sim.status == "blocked"
    event = AuditEvent.objects.get(object_id=str(sim.pk), object_type="inventory.simcard", action="block")
    assert event.message == "lost in the post" and event.actor_user.username == "cleo"
    page = client.get(sim_url := reverse("inventory:sim_detail", args=[sim.pk])).content.decode()
    assert 'data-testid="unblock"' in page and 'data-testid="block"' not in page
    client.post(reverse("inventory:sim_unblock", args=[sim.pk]))
    sim.refresh_from_db()
    assert sim.status == "available"
    client.post(reverse("inventory:sim_retire", args=[sim.pk]), {"reason": "damaged"})
    sim.refresh_from_db()
    assert sim.status == "retired"
    refused = client.post(reverse("inventory:sim_block", args=[sim.pk]), follow=True)
    assert f"iccid: {sim.iccid} is retired and cannot become blocked" in refused.content.decode()
    html = client.get(sim_url).content.decode()
    assert 'data-testid="retire"' not in html and 'data-testid="block"' not in html


def test_a_card_by_hand_and_its_errors(make_user, brand_a, stock):
    client = login(make_user("cleo", {brand_a: CHANGE}), brand_a)
    bad = make_iccid(9)[:-1] + str((int(make_iccid(9)[-1]) + 1) % 10)
    response = client.post(reverse("inventory:sim_create"), {"iccid": bad, "imsi": make_imsi(9)})
    assert "iccid" in response.context["form"].errors
    response = client.post(reverse("inventory:sim_create"), {"iccid": stock["sims"][0].iccid, "imsi": make_imsi(9)})
    assert response.context["form"].errors["iccid"] == [f"{stock['sims'][0].iccid} is in the inventory already"]
    response = client.post(reverse("inventory:sim_create"), {"iccid": make_iccid(9), "imsi": make_imsi(9),
                                                             "pin1": "0000", "sim_type": "esim"})
    sim = SimCard.objects.get(iccid=make_iccid(9))
    assert response.url == reverse("inventory:sim_detail", args=[sim.pk]) and sim.sealed_secrets
