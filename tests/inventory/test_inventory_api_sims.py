"""/api/v1/inventory/sims: listing without secrets, the audited secrets endpoint, block/unblock/retire, rights."""

import pytest

from telora.core.models import AuditEvent
from telora.inventory.models import SimCard

from .factories import make_iccid
from .inventory_api_helpers import CHANGE, INV, READ, ApiClient, client_for, stock

pytestmark = pytest.mark.django_db

SIM_KEYS = {"id", "brand", "iccid", "imsi", "sim_type", "partner", "batch", "status", "reserved_until",
            "reserved_for", "allocated_at", "has_secrets", "import_batch", "created_at", "updated_at"}


@pytest.fixture
def cards(brand_a, brand_b, system):
    made = stock(brand_a, system, sims=5)
    stock(brand_b, system, first=50, sims=2)
    return made


@pytest.fixture
def viewer(cards, brand_a, system, make_user):
    return client_for(system, make_user, "vic", {brand_a: READ})


def test_a_sim_card_never_shows_its_codes(viewer, cards):
    response = viewer.get(f"{INV}/sims")
    assert response.status_code == 200
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("5", "5")
    first = response.json()[0]
    assert set(first) == SIM_KEYS
    assert first["iccid"] == cards[0].iccid and first["brand"] == "alpha" and first["has_secrets"] is True
    assert first["status"] == "available"
    text = response.content.decode()
    assert "pin" not in text and "puk" not in text and "87654321" not in text and "secret" not in text.replace(
        "has_secrets", "")
    one = viewer.get(f"{INV}/sims/{cards[0].pk}")
    assert one.status_code == 200 and one.json() == first


def test_filters_and_paging(viewer, cards):
    def iccids(**params):
        return [s["iccid"] for s in viewer.get(f"{INV}/sims", **params).json()]

    assert iccids(sim_type="esim") == [cards[1].iccid, cards[3].iccid]
    assert iccids(batch="B1") == [cards[0].iccid, cards[1].iccid]
    assert iccids(iccid=cards[2].iccid[:-1]) == [cards[2].iccid]
    assert iccids(status="available", limit=2, offset=3) == [cards[3].iccid, cards[4].iccid]
    page = viewer.get(f"{INV}/sims", limit=2)
    assert (page["X-Total-Count"], page["X-Result-Count"]) == ("5", "2")
    assert viewer.get(f"{INV}/sims", status="lost").json()["field"] == "status"


def test_secrets_need_the_right_and_every_reading_is_audited(cards, brand_a, system, make_user, viewer):
    sim = cards[0]
    refused = viewer.get(f"{INV}/sims/{sim.pk}/secrets")
    assert refused.status_code == 403 and "inventory.secrets" in refused.json()["message"]
    assert not AuditEvent.objects.filter(action="view_secrets").exists()
    keeper = client_for(system, make_user, "kim", {brand_a: ["inventory.view", "inventory.secrets"]})
    response = keeper.get(f"{INV}/sims/{sim.pk}/secrets")
    assert response.status_code == 200
    assert response.json() == {"iccid": sim.iccid, "pin1": "1234", "puk1": "00000001", "pin2": "5678",
                               "puk2": "87654321"}
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="view_secrets")
    assert event.object_id == str(sim.pk) and event.actor_label.startswith("api-key:")
    assert "1234" not in str(event.changes) and "1234" not in event.message


def test_block_unblock_and_retire(cards, brand_a, system, make_user, viewer):
    clerk = client_for(system, make_user, "cleo", {brand_a: CHANGE})
    url = f"{INV}/sims/{cards[0].pk}"
    blocked = clerk.post(f"{url}/block", {"reason": "stolen"})
    assert blocked.status_code == 200 and blocked.json()["status"] == "blocked"
    assert set(blocked.json()) == SIM_KEYS
    event = AuditEvent.objects.filter(action="block").get()
    assert event.message == "stolen" and event.actor_label.startswith("api-key:")
    assert clerk.post(f"{url}/unblock").json()["status"] == "available"
    assert clerk.post(f"{url}/retire", {"reason": "damaged"}).json()["status"] == "retired"
    again = clerk.post(f"{url}/block")
    assert again.status_code == 400 and again.json()["field"] == "iccid"
    assert "retired" in again.json()["message"]
    refused = viewer.post(f"{INV}/sims/{cards[1].pk}/block")
    assert refused.status_code == 403
    assert SimCard.objects.get(pk=cards[1].pk).status == "available"


def test_another_brands_cards_are_not_found(cards, brand_b, system, make_user):
    bravo = client_for(system, make_user, "bo", {brand_b: ["inventory.view", "inventory.change",
                                                           "inventory.secrets"]})
    listed = bravo.get(f"{INV}/sims").json()
    assert {s["brand"] for s in listed} == {"bravo"} and len(listed) == 2
    for path in ("", "/secrets"):
        response = bravo.get(f"{INV}/sims/{cards[0].pk}{path}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert bravo.post(f"{INV}/sims/{cards[0].pk}/block").status_code == 404
    assert bravo.get(f"{INV}/sims", iccid=make_iccid(1)).json() == []


def test_no_inventory_area_is_a_403(cards, brand_a, system, make_user):
    outsider = client_for(system, make_user, "oz", {brand_a: ["customers.view"]})
    for path in ("/sims", f"/sims/{cards[0].pk}", f"/sims/{cards[0].pk}/secrets", "/numbers", "/number-groups",
                 "/uploads"):
        assert outsider.get(f"{INV}{path}").status_code == 403, path
    assert ApiClient().get(f"{INV}/sims").status_code == 401
