"""TMF622 create/list/get/cancel, the screens, the customer page's Orders tab, every account action
an order, and rights and brand isolation."""

import datetime as dt

import pytest
from django.urls import reverse

from gui_helpers import login
from telora.core import clock
from telora.orders.models import Order
from telora.orders.services import create_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
BASE = "/tmf-api/productOrderingManagement/v4"
ORDER_PERMS = ["customers.view", "customers.change", "orders.view", "orders.change"]


def plan_change(customer, line, **extra):
    return {"category": "change_plan", "relatedParty": [{"id": str(customer.pk), "role": "customer"}],
            "productOrderItem": [{"id": "1", "action": "modify", "productOffering": {"id": "MOB_POST_10GB"},
                                  "product": {"id": str(line.pk)}}], **extra}


def test_tmf622_create_get_list_cancel(api_for, ann, mobile, shop):
    api = api_for({shop: ORDER_PERMS})
    created = api.post(f"{BASE}/productOrder", plan_change(ann, mobile, externalId="shop-1"))
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["state"], body["category"], body["externalId"]) == ("completed", "change_plan", "shop-1")
    assert created["Location"] == f"{BASE}/productOrder/{body['id']}"
    assert api.get(f"{BASE}/productOrder/{body['id']}").json()["productOrderItem"][0]["state"] == "completed"
    later = (clock.now() + dt.timedelta(days=5)).isoformat()
    waiting = api.post(f"{BASE}/productOrder", {
        "category": "suspend", "requestedStartDate": later,
        "relatedParty": [{"id": str(ann.pk), "role": "customer"}],
        "productOrderItem": [{"id": "1", "action": "modify", "product": {
            "id": str(mobile.pk), "productCharacteristic": [{"name": "reason", "value": "travel"}]}}]}).json()
    assert waiting["state"] == "acknowledged"
    listed = api.get(f"{BASE}/productOrder", state="acknowledged").json()
    assert [o["id"] for o in listed] == [waiting["id"]]
    assert len(api.get(f"{BASE}/productOrder", **{"relatedParty.id": str(ann.pk)}).json()) == 2
    cancelled = api.post(f"{BASE}/cancelProductOrder", {"productOrder": {"id": waiting["id"]},
                                                        "cancellationReason": "no trip"})
    assert cancelled.status_code == 201 and cancelled.json()["cancellationReason"] == "no trip"
    assert api.get(f"{BASE}/productOrder/{waiting['id']}").json()["state"] == "cancelled"
    again = api.post(f"{BASE}/cancelProductOrder", {"productOrder": {"id": body["id"]}})
    assert again.status_code == 400 and "cannot be cancelled" in again.content.decode()


def test_tmf622_bad_input_names_the_field(api_for, ann, mobile, shop):
    api = api_for({shop: ORDER_PERMS})
    answer = api.post(f"{BASE}/productOrder", plan_change(ann, mobile, category="teleport"))
    assert answer.status_code == 400 and "order_type" in answer.content.decode()
    answer = api.post(f"{BASE}/productOrder", {**plan_change(ann, mobile), "relatedParty": []})
    assert answer.status_code == 400 and "relatedParty" in answer.content.decode()
    items = plan_change(ann, mobile)["productOrderItem"] * 51
    assert api.post(f"{BASE}/productOrder", {**plan_change(ann, mobile), "productOrderItem": items}).status_code in (
        400, 422)


def test_tmf622_rights_and_brands(api_for, ann, mobile, shop, bob_line, other_shop, system):
    theirs = create_order(bob_line.customer, actor=system, at=clock.now(), order_type="resume",
                          subscription=bob_line)
    reader = api_for({shop: ["customers.view", "orders.view"]})
    assert reader.post(f"{BASE}/productOrder", plan_change(ann, mobile)).status_code == 403
    assert reader.get(f"{BASE}/productOrder/{theirs.pk}").status_code == 404
    assert reader.get(f"{BASE}/productOrder").json() == []
    writer = api_for({shop: ORDER_PERMS})
    assert writer.post(f"{BASE}/productOrder", plan_change(bob_line.customer, bob_line)).status_code == 404
    assert writer.post(f"{BASE}/cancelProductOrder", {"productOrder": {"id": str(theirs.pk)}}).status_code == 404
    assert api_for({shop: ["customers.view"]}).get(f"{BASE}/productOrder").status_code == 403


def test_every_account_action_creates_an_order(make_user, ann, mobile, shop):
    client = login(make_user("cas", {shop: ["customers.view", "customers.change", "orders.view"]}), shop)
    roaming = mobile.products.get(product__code="ROAM_EU_5GB")
    steps = [
        ("customers:change_plan", [mobile.pk], {"product": "MOB_POST_10GB", "when": "now"}, "change_plan"),
        ("customers:remove_addon", [mobile.pk, roaming.pk], {}, "remove_addon"),
        ("customers:add_addon", [mobile.pk], {"product": "ROAM_EU_5GB"}, "add_addon"),
        ("customers:suspend", [mobile.pk], {"reason": "lost phone"}, "suspend"),
        ("customers:resume", [mobile.pk], {"reason": "found"}, "resume"),
        ("customers:terminate", [mobile.pk], {"reason": "moving", "confirm": "on"}, "terminate"),
    ]
    for name, args, data, order_type in steps:
        response = client.post(reverse(name, args=args), data)
        assert response.status_code == 302, (name, response.content[:500])
        last = Order.objects.filter(customer=ann).order_by("-id").first()
        assert (last.order_type, last.state, last.channel) == (order_type, "completed", "gui")
    mobile.refresh_from_db()
    assert mobile.status == "terminated"
    page = client.get(reverse("customers:customer_detail", args=[ann.pk])).content.decode()
    assert 'data-testid="tab-orders"' in page
    page = client.get(reverse("customers:customer_detail", args=[ann.pk]), {"tab": "orders"}).content.decode()
    assert page.count('data-testid="customer-order"') == 6 and 'data-testid="tab-pane-orders"' in page


def test_the_orders_tab_of_the_customer_page(make_user, ann, mobile, shop, bob_line, system):
    """The tab lists the customer's own orders (a failed one with its reason), counts them on its label,
    loads alone through HTMX, and is not there for a reader without orders.view."""
    create_order(ann, actor=system, at=clock.now(), order_type="suspend", subscription=mobile,
                 items=[{"characteristics": {"reason": "travel"}}])
    create_order(ann, actor=system, at=clock.now(), order_type="change_plan", subscription=mobile,
                 items=[{"product_offering": "MOB_PRE"}])  # a prepaid plan on a postpaid line: refused
    create_order(bob_line.customer, actor=system, at=clock.now(), order_type="suspend", subscription=bob_line)
    url = reverse("customers:customer_detail", args=[ann.pk])
    reader = login(make_user("reader", {shop: ["customers.view", "orders.view"]}), shop)
    page = reader.get(url, {"tab": "orders"}, HTTP_HX_REQUEST="true").content.decode()
    assert page.count('data-testid="customer-order"') == 2
    assert 'data-state="completed"' in page and 'data-state="failed"' in page
    failed = Order.objects.get(customer=ann, state="failed")
    assert failed.state_reason and failed.state_reason[:40] in page
    assert reverse("orders:order_detail", args=[bob_line.customer.orders.get().pk]) not in page
    assert reader.get(url).context["counts"]["orders"] == 2
    outsider = login(make_user("outsider", {shop: ["customers.view"]}), shop)
    assert 'data-testid="tab-orders"' not in outsider.get(url).content.decode()
    assert outsider.get(url, {"tab": "orders"}).status_code == 404


def test_a_sale_and_a_dated_change_from_the_account(make_user, ann, shop):
    client = login(make_user("cas", {shop: ["customers.view", "customers.change", "orders.view"]}), shop)
    response = client.post(reverse("customers:subscription_create", args=[ann.pk]), {
        "service_type": "mobile_postpaid", "billing_account": ann.accounts.get().pk, "plan": "MOB_POST_BASIC",
        "sim_choice": "next", "sim_type": "", "number_choice": "next", "number_group": "", "activate": "on"})
    assert response.status_code == 302
    sale = Order.objects.get(customer=ann, order_type="sign_up")
    assert sale.state == "completed" and sale.subscription.status == "active"
    response = client.post(reverse("customers:change_plan", args=[sale.subscription_id]),
                           {"product": "MOB_POST_10GB", "when": "next_period"})
    assert response.status_code == 302
    dated = Order.objects.get(customer=ann, order_type="change_plan")
    assert dated.state == "acknowledged" and dated.requested_at > clock.now()


def test_order_screens_rights_and_brands(make_user, ann, mobile, shop, bob_line, system):
    mine = create_order(ann, actor=system, at=clock.now(), order_type="suspend", subscription=mobile,
                        request_mode="date", requested_for=clock.now() + dt.timedelta(days=1))
    theirs = create_order(bob_line.customer, actor=system, at=clock.now(), order_type="resume", subscription=bob_line)
    reader = login(make_user("reader", {shop: ["customers.view", "orders.view"]}), shop)
    listing = reader.get(reverse("orders:order_list"))
    assert listing.status_code == 200 and [o.pk for o in listing.context["object_list"]] == [mine.pk]
    assert reader.get(reverse("orders:order_list"), {"state": "completed"}).context["object_list"].count() == 0
    export = reader.get(reverse("orders:order_list"), {"export": "csv"})
    rows = export.content.decode().strip().splitlines()
    assert len(rows) == 2 and rows[1].startswith(mine.number)  # the header and brand A's one order
    assert reader.get(reverse("orders:order_detail", args=[mine.pk])).status_code == 200
    assert reader.get(reverse("orders:order_detail", args=[theirs.pk])).status_code == 404
    assert reader.post(reverse("orders:order_cancel", args=[mine.pk]), {"reason": "x"}).status_code == 403
    outsider = login(make_user("outsider", {shop: ["customers.view"]}), shop)
    assert outsider.get(reverse("orders:order_list")).status_code == 403
    clerk = login(make_user("clerk", {shop: ["customers.view", "orders.view", "orders.change"]}), shop)
    assert clerk.post(reverse("orders:order_cancel", args=[theirs.pk]), {"reason": "x"}).status_code == 404
    clerk.post(reverse("orders:order_note", args=[mine.pk]), {"text": "called the customer"})
    clerk.post(reverse("orders:order_cancel", args=[mine.pk]), {"reason": "asked"})
    mine.refresh_from_db()
    assert mine.state == "cancelled" and mine.notes.get().text == "called the customer"
    page = clerk.get(reverse("orders:order_detail", args=[mine.pk])).content.decode()
    assert "called the customer" in page and 'data-state="cancelled"' in page


def test_a_number_change_from_the_account(make_user, ann, mobile, shop):
    """Without the flows loaded the direct runner changes it at once: the chosen number, the old one to
    quarantine, the number history on the line's page."""
    from telora.inventory.models import PhoneNumber

    client = login(make_user("cas", {shop: ["customers.view", "customers.change", "orders.view"]}), shop)
    page = client.get(reverse("customers:subscription_detail", args=[mobile.pk])).content.decode()
    assert 'data-testid="change-number"' in page
    old = mobile.identifier
    chosen = PhoneNumber.objects.filter(brand=shop, status="available").order_by("-number").first().number
    refused = client.post(reverse("customers:change_number", args=[mobile.pk]), {"number_choice": "chosen"})
    assert refused.status_code == 200 and "Type the number" in refused.content.decode()
    response = client.post(reverse("customers:change_number", args=[mobile.pk]),
                           {"number_choice": "chosen", "number": f"+{chosen}", "reason": "unwanted calls"})
    assert response.status_code == 302, response.content[:500]
    order = Order.objects.filter(customer=ann).order_by("-id").first()
    mobile.refresh_from_db()
    assert (order.order_type, order.state, mobile.identifier) == ("number_change", "completed", chosen)
    assert PhoneNumber.objects.get(brand=shop, number=old).status == "quarantined"
    assert list(mobile.number_history.order_by("valid_from", "id").values_list("number", flat=True)) == [old, chosen]


def test_a_number_change_from_the_account_waits_at_the_network_desk(make_user, ann, mobile, shop, flows_loaded):
    from telora.inventory.models import PhoneNumber
    from telora.workflows.models import HumanTask

    client = login(make_user("cas", {shop: ["customers.view", "customers.change", "orders.view"]}), shop)
    old = mobile.identifier
    response = client.post(reverse("customers:change_number", args=[mobile.pk]), {"number_choice": "next"})
    assert response.status_code == 302, response.content[:500]
    order = Order.objects.filter(customer=ann).order_by("-id").first()
    assert (order.order_type, order.state) == ("number_change", "inProgress")
    task = HumanTask.objects.get(instance_id=order.flow_instance_id, state="open")
    assert task.desk.code == "network"
    reserved = order.items.get().characteristics["number"]
    assert PhoneNumber.objects.get(brand=shop, number=reserved).status == "reserved"
    mobile.refresh_from_db()
    assert mobile.identifier == old
