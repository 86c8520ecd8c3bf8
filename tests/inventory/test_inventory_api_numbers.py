"""/api/v1/inventory/numbers and number-groups: filters, reserve and release, rights."""

import datetime as dt

import pytest
import time_machine

from telora.core import clock
from telora.core.models import AuditEvent

from .inventory_api_helpers import CHANGE, INV, READ, client_for, stock

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def numbers(brand_a, brand_b, system):
    stock(brand_a, system, sims=0)
    stock(brand_b, system, sims=0, numbers=("+44 7400 100001",))


@pytest.fixture
def viewer(numbers, brand_a, system, make_user):
    return client_for(system, make_user, "vic", {brand_a: READ})


@pytest.fixture
def clerk(numbers, brand_a, system, make_user):
    return client_for(system, make_user, "cleo", {brand_a: CHANGE})


def ids(response):
    return [n["number"] for n in response.json()]


def test_numbers_list_with_their_group(viewer):
    response = viewer.get(f"{INV}/numbers")
    assert response.status_code == 200 and response["X-Total-Count"] == "3"
    first, _, gold = response.json()
    assert first["number"] == "31610000001" and first["e164"] == "+31610000001"
    assert first["display"] == "+31 6 10000001" and first["group"] is None and first["brand"] == "alpha"
    assert gold["group"] == {"code": "gold", "name": "Gold"}
    assert viewer.get(f"{INV}/numbers/{gold['id']}").json() == gold


def test_filters_by_status_group_and_prefix(viewer):
    assert ids(viewer.get(f"{INV}/numbers", group="gold")) == ["31620000003"]
    assert ids(viewer.get(f"{INV}/numbers", number="+31 61")) == ["31610000001", "31610000002"]
    assert ids(viewer.get(f"{INV}/numbers", number="0031 620")) == ["31620000003"]
    assert ids(viewer.get(f"{INV}/numbers", status="reserved")) == []
    page = viewer.get(f"{INV}/numbers", limit=1, offset=1)
    assert ids(page) == ["31610000002"] and (page["X-Total-Count"], page["X-Result-Count"]) == ("3", "1")


def test_reserve_and_release(clerk, viewer):
    number = viewer.get(f"{INV}/numbers", group="gold").json()[0]
    url = f"{INV}/numbers/{number['id']}"
    with time_machine.travel(NOW, tick=False):
        reserved = clerk.post(f"{url}/reserve", {"reference": "ORDER-1", "ttl_minutes": 15})
    assert reserved.status_code == 200, reserved.content
    body = reserved.json()
    assert (body["status"], body["reserved_for"]) == ("reserved", "ORDER-1")
    assert dt.datetime.fromisoformat(body["reserved_until"]) == NOW + dt.timedelta(minutes=15)
    with time_machine.travel(NOW, tick=False):
        taken = clerk.post(f"{url}/reserve", {"reference": "ORDER-2"})
    assert taken.status_code == 400 and "ORDER-1" in taken.json()["message"]
    with time_machine.travel(NOW, tick=False):
        wrong = clerk.post(f"{url}/release", {"reference": "ORDER-2"})
        assert wrong.status_code == 400
        released = clerk.post(f"{url}/release", {"reference": "ORDER-1"})
    assert released.status_code == 200 and released.json()["status"] == "available"
    assert released.json()["reserved_until"] is None
    assert list(AuditEvent.objects.filter(object_type="inventory.phonenumber", action__in=["reserve", "cancel_reservation"])
                .values_list("action", flat=True).order_by("id")) == ["reserve", "cancel_reservation"]
    not_reserved = clerk.post(f"{url}/release")
    assert not_reserved.status_code == 400 and "not reserved" in not_reserved.json()["message"]
    assert clerk.post(f"{url}/reserve", {"ttl_minutes": 0}).json()["field"] == "ttl_minutes"


def test_a_reservation_without_a_body_uses_the_defaults(clerk, viewer):
    number = viewer.get(f"{INV}/numbers").json()[0]
    response = clerk.client.post(f"{INV}/numbers/{number['id']}/reserve", b"", content_type="application/json",
                                 headers=clerk.headers)  # as curl -X POST sends it
    assert response.status_code == 200, response.content
    until = dt.datetime.fromisoformat(response.json()["reserved_until"])
    assert dt.timedelta(minutes=29) < until - clock.now() <= dt.timedelta(minutes=30)


def test_rights_and_brands(numbers, viewer, brand_b, system, make_user):
    number = viewer.get(f"{INV}/numbers").json()[0]
    assert viewer.post(f"{INV}/numbers/{number['id']}/reserve").status_code == 403
    bravo = client_for(system, make_user, "bo", {brand_b: CHANGE})
    assert ids(bravo.get(f"{INV}/numbers")) == ["447400100001"]
    assert bravo.get(f"{INV}/numbers/{number['id']}").status_code == 404
    assert bravo.post(f"{INV}/numbers/{number['id']}/reserve").status_code == 404
    assert [g["brand"] for g in bravo.get(f"{INV}/number-groups").json()] == ["bravo"]


def test_number_groups(viewer):
    response = viewer.get(f"{INV}/number-groups")
    assert response.status_code == 200 and response["X-Total-Count"] == "1"
    (group,) = response.json()
    assert group == {"id": group["id"], "brand": "alpha", "code": "gold", "name": "Gold", "one_time_price": "49.00",
                     "currency": "EUR", "quarantine_days": None, "is_active": True}
    assert viewer.get(f"{INV}/number-groups", is_active="false").json() == []
