"""The port-in's checks (each refusal names its field), the authorisation sealed and masked, the porting
screens and API with rights and brand isolation, and a port-in through TMF622. No simulator here: the
outgoing messages wait for their commit, which these tests (one transaction each) never reach."""

from __future__ import annotations

import datetime as dt

import pytest
from porting_helpers import DONOR, configure, make_customer, make_shop, port_in

from gui_helpers import login
from telora.core import clock
from telora.core.services import ServiceError
from telora.orders.models import Order
from telora.porting import services
from telora.porting.models import PortingMessage, PortingRequest

pytestmark = pytest.mark.django_db
PERMS = ["porting.view", "porting.change", "customers.view", "customers.change", "orders.view", "orders.change"]
BASE = "/tmf-api/productOrderingManagement/v4"


@pytest.fixture
def house(shop, system, flows_loaded):
    return configure(shop, system, url="http://127.0.0.1:9/")


@pytest.fixture
def theirs(brand_b, system):
    """Brand B (GB) with a clearing house and a port-in of its own."""
    from porting_helpers import DESKS

    from telora.orders.flows import FLOW_DIR
    from telora.workflows.services.flows import create_desk, load_flows

    make_shop(brand_b, system, ("+44 7400 100001",), "8944100000", 100)
    bob = make_customer(brand_b, system, "Bob")
    for code in DESKS:
        create_desk(brand_b, code, code.title(), actor=system, at=clock.now())
    load_flows(FLOW_DIR, actor=system, at=clock.now())
    services.configure_clearing_house(brand_b, name="UK hub", url="http://127.0.0.1:9/", operator_code="BWV",
                                      actor=system, at=clock.now())
    order = port_in(bob, system, "+44 7400 123456", donor="VOD")
    return PortingRequest.objects.get(order=order)


@pytest.mark.parametrize(("values", "field", "text"), [
    ({"donor": "NOPE"}, "donor", "not an operator of NL"),
    ({"donor": "ALP"}, "donor", "ours already"),
    ({"number": "12"}, "number", ""),
    ({"requested_date": "yesterday"}, "requested_date", "YYYY-MM-DD"),
    ({"account_number": "", "pin": ""}, "account_number", "authorisation"),
])
def test_a_port_in_with_bad_input_is_refused_naming_the_field(ann, system, house, values, field, text):
    with pytest.raises(ServiceError) as caught:
        port_in(ann, system, **values)
    assert caught.value.field == field and text in caught.value.message
    assert not Order.objects.filter(order_type="port_in").exists()  # refused: no order, no number taken
    assert not PortingRequest.objects.exists()


def test_a_porting_date_must_be_ahead_and_within_90_days(ann, system, house):
    for days in (0, 91):
        with pytest.raises(ServiceError, match="requested_date"):
            port_in(ann, system, days=days)


def test_a_port_in_without_a_clearing_house_is_refused(ann, system, flows_loaded):
    with pytest.raises(ServiceError) as caught:
        port_in(ann, system)
    assert caught.value.field == "clearing_house"


def test_the_authorisation_is_sealed_and_shown_masked(ann, system, house):
    order = port_in(ann, system)
    request = PortingRequest.objects.get(order=order)
    assert request.state == "submitted" and order.state == "inProgress"
    assert services.authorisation(request) == {"account_number": "KPN-778899", "pin": "4321"}
    assert b"4321" not in bytes(request.sealed_authorisation)
    assert request.authorisation_hint == "account number …99, pin …21"
    assert "4321" not in str(order.items.get().characteristics)
    message = PortingMessage.objects.get(request=request, kind="submit")
    assert message.state == "pending" and "4321" not in str(message.payload)  # sealed apart until it is sent
    with pytest.raises(ServiceError, match="in progress"):
        port_in(ann, system)  # one open port-in per number


def test_a_port_out_order_is_only_made_for_the_clearing_houses_request(ann, system, house):
    from telora.customers import services as customers
    from telora.orders.services import create_order

    line = customers.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                         service_type="mobile_postpaid", plan="MOB_POST_BASIC")
    with pytest.raises(ServiceError) as caught:
        create_order(ann, actor=system, at=clock.now(), order_type="port_out", subscription=line)
    assert caught.value.field == "porting_request"


def test_the_list_and_the_page_show_the_brands_requests_only(make_user, ann, system, house, theirs, shop):
    mine = PortingRequest.objects.get(order=port_in(ann, system))
    client = login(make_user("pia", {shop: ["porting.view"]}), shop)
    page = client.get("/porting/")
    assert page.status_code == 200
    assert f"/porting/{mine.pk}/" in page.content.decode() and f"/porting/{theirs.pk}/" not in page.content.decode()
    detail = client.get(f"/porting/{mine.pk}/").content.decode()
    assert "+31620000001" in detail and DONOR in detail and "4321" not in detail and "KPN-778899" not in detail
    assert mine.order.number in detail
    assert client.get(f"/porting/{theirs.pk}/").status_code == 404
    assert client.get("/porting/", {"direction": "out"}).context["object_list"].count() == 0
    assert client.get("/porting/", {"state": "submitted", "operator": DONOR}).context["object_list"].count() == 1
    later = (clock.now().date() + dt.timedelta(days=30)).isoformat()
    assert client.get("/porting/", {"date_from": later}).context["object_list"].count() == 0


def test_the_screens_need_the_porting_rights(make_user, ann, system, house, shop):
    mine = PortingRequest.objects.get(order=port_in(ann, system))
    client = login(make_user("cid", {shop: ["customers.view"]}), shop)
    assert client.get("/porting/").status_code == 403
    assert client.get(f"/porting/{mine.pk}/").status_code == 404
    assert client.get(f"/porting/port-in/{ann.pk}/").status_code == 403


def test_a_port_in_is_started_from_the_customer_as_an_order(make_user, ann, system, house, shop):
    client = login(make_user("csr", {shop: PERMS}), shop)
    tab = client.get(f"/customers/{ann.pk}/", {"tab": "porting"})
    form = client.get(f"/porting/port-in/{ann.pk}/")
    assert form.status_code == 200 and "KPN" in form.content.decode()
    day = (clock.now().date() + dt.timedelta(days=4)).isoformat()
    bad = client.post(f"/porting/port-in/{ann.pk}/", {"number": "+31 6 20000002", "donor": DONOR,
                                                       "requested_date": day, "plan": "MOB_POST_BASIC"})
    assert bad.status_code == 200 and "account_number" in bad.context["form"].errors
    sent = client.post(f"/porting/port-in/{ann.pk}/", {"number": "+31 6 20000002", "donor": DONOR,
                                                        "requested_date": day, "plan": "MOB_POST_BASIC",
                                                        "account_number": "KPN-1", "pin": "9999"})
    order = Order.objects.get(order_type="port_in", customer=ann)
    assert sent.status_code == 302 and sent["Location"] == f"/orders/{order.pk}/"
    request = PortingRequest.objects.get(order=order)
    assert (request.number, request.state, request.customer_id) == ("31620000002", "submitted", ann.pk)
    assert tab.status_code == 200


def test_another_brands_customer_cannot_get_a_port_in(make_user, ann, system, house, shop, theirs):
    client = login(make_user("csr2", {shop: PERMS}), shop)
    assert client.get(f"/porting/port-in/{theirs.customer_id}/").status_code == 404


def test_the_api_lists_and_gets_the_callers_brand_only(api_for, ann, system, house, theirs, shop):
    mine = PortingRequest.objects.get(order=port_in(ann, system))
    api = api_for({shop: ["porting.view"]})
    rows = api.get("/api/v1/porting/requests").json()
    assert [r["id"] for r in rows] == [mine.pk]
    assert rows[0]["number"] == "31620000001" and rows[0]["donor"] == DONOR and "4321" not in str(rows[0])
    assert api.get(f"/api/v1/porting/requests/{mine.pk}").json()["state"] == "submitted"
    assert api.get(f"/api/v1/porting/requests/{theirs.pk}").status_code == 404
    assert api.get("/api/v1/porting/requests", direction="out").json() == []
    assert api.get("/api/v1/porting/requests", state="nonsense").status_code == 400
    assert {o["code"] for o in api.get("/api/v1/porting/operators", country="NL").json()} >= {"KPN", "ALP"}
    assert api_for({shop: ["orders.view"]}).get("/api/v1/porting/requests").status_code == 403


def test_a_port_in_through_tmf622_keeps_the_authorisation_out_of_the_order(api_for, ann, system, house, shop):
    api = api_for({shop: ["customers.view", "customers.change", "orders.view", "orders.change", "porting.view"]})
    day = (clock.now().date() + dt.timedelta(days=6)).isoformat()
    created = api.post(f"{BASE}/productOrder", {
        "category": "port_in", "relatedParty": [{"id": str(ann.pk), "role": "customer"}],
        "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "MOB_POST_BASIC"},
                              "product": {"productCharacteristic": [
                                  {"name": "number", "value": "+31 6 20000003"}, {"name": "donor", "value": DONOR},
                                  {"name": "requested_date", "value": day},
                                  {"name": "account_number", "value": "KPN-42"}]}}]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["category"], body["state"]) == ("port_in", "inProgress")
    request = PortingRequest.objects.get(order_id=int(body["id"]))
    assert services.authorisation(request) == {"account_number": "KPN-42"}
    assert "KPN-42" not in str(Order.objects.get(pk=int(body["id"])).items.get().characteristics)
    assert api.get("/api/v1/porting/requests", number="20000003").json()[0]["order_id"] == int(body["id"])
    refused = api.post(f"{BASE}/productOrder", {
        "category": "port_in", "relatedParty": [{"id": str(ann.pk), "role": "customer"}],
        "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "MOB_POST_BASIC"},
                              "product": {"productCharacteristic": [{"name": "number", "value": "+31 6 20000004"},
                                                                    {"name": "donor", "value": "XXX"}]}}]})
    assert refused.status_code == 400 and "donor" in refused.content.decode()


def test_clearing_house_secrets_are_sealed_and_kept(shop, system):
    house = configure(shop, system, url="http://127.0.0.1:9/")
    assert services.credentials(house) == {"api_key": "test-port-key", "callback_secret": "test-port-secret"}
    services.configure_clearing_house(shop, name="CH", url="http://127.0.0.1:9/", operator_code="ALP",
                                      secrets={"api_key": "new"}, actor=system, at=clock.now())
    house.refresh_from_db()
    assert services.credentials(house) == {"api_key": "new", "callback_secret": "test-port-secret"}
    with pytest.raises(ServiceError) as caught:
        services.configure_clearing_house(shop, name="CH", url="http://x/", operator_code="ZZZ", actor=system,
                                          at=clock.now())
    assert caught.value.field == "operator_code"
