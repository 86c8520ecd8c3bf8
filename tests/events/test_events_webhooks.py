"""TMF630 hubs and webhook deliveries: registration through the API with rights and brand isolation,
deliveries signed and checked by a receiver on a real socket, retries with backoff, the dead letter,
and delivering again by hand from the screen."""

import datetime as dt
import hashlib
import hmac
import json

import pytest
from events_helpers import INTEGRATOR

from gui_helpers import login
from telora.core import clock
from telora.core.models import AuditEvent
from telora.events.models import HubSubscription, WebhookAttempt, WebhookDelivery
from telora.events.outbound import RESPONSE_KEEP
from telora.events.services import emit
from telora.events.services.deliveries import send_due, send_one
from telora.events.services.dispatch import dispatch

pytestmark = pytest.mark.django_db

CUSTOMER_HUB = "/tmf-api/customerManagement/v4/hub"


def register(client, url, query=None, hub=CUSTOMER_HUB, **extra):
    body = {"callback": url, **extra}
    if query is not None:
        body["query"] = query
    return client.post(hub, body)


def test_an_integrator_registers_a_hub_and_gets_signed_tmf_events(brand_a, api_for, receiver):
    client, key = api_for({brand_a: INTEGRATOR})
    answer = register(client, receiver.url, "eventType=CustomerCreateEvent")
    assert answer.status_code == 201, answer.content
    hub = answer.json()
    assert hub["eventTypes"] == ["customer.created"] and hub["brand"] == "alpha"
    secret = hub["secret"]
    assert secret.startswith("whsec_")
    assert client.get(f"{CUSTOMER_HUB}/{hub['id']}").json().get("secret") is None  # shown once

    created = emit("customer.created", brand=brand_a, subject=brand_a, at=clock.now(),
                   payload={"customer_id": 7, "number": "C0000007"})
    emit("customer.changed", brand=brand_a, subject=brand_a, at=clock.now(), payload={"customer_id": 7})
    assert dispatch("webhooks") == 2
    assert WebhookDelivery.objects.count() == 1  # only the type asked for
    assert send_due() == 1

    (got,) = receiver.received
    headers, body = got["headers"], got["body"]
    assert got["path"] == "/hooks/telora"
    expected = hmac.new(secret.encode(), headers["X-Telora-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Telora-Signature"] == f"v1={expected}"
    assert headers["X-Telora-Event-Id"] == str(created.pk)
    envelope = json.loads(body)
    assert envelope["eventId"] == str(created.pk) and envelope["eventType"] == "CustomerCreateEvent"
    assert envelope["title"] == "customer.created"
    assert envelope["event"]["customer"]["number"] == "C0000007"
    assert envelope["event"]["customer"]["@type"] == "Customer"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.tries, delivery.last_status_code) == ("delivered", 1, 200)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and len(attempt.response_body) == RESPONSE_KEEP  # bounded

    # the same event handed to the consumer again (at least once) makes no second delivery
    from telora.events.models import ConsumerPosition

    ConsumerPosition.objects.filter(name="webhooks").update(txid=0, event_id=0)
    assert dispatch("webhooks") == 2
    assert WebhookDelivery.objects.count() == 1


def test_failed_tries_back_off_then_deliver(brand_a, api_for, receiver):
    client, _key = api_for({brand_a: INTEGRATOR})
    assert register(client, receiver.url).status_code == 201  # empty query: the API's own events
    receiver.answers = [500, 503, 200]
    emit("customer.changed", brand=brand_a, at=clock.now(), payload={"customer_id": 1})
    dispatch("webhooks")
    start = WebhookDelivery.objects.get().next_try_at
    first = send_one(at=start)
    assert first.status_code == 500
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.next_try_at == start + dt.timedelta(seconds=30)
    assert send_one(at=start + dt.timedelta(seconds=29)) is None  # not due yet
    assert send_one(at=delivery.next_try_at).status_code == 503
    delivery.refresh_from_db()
    assert delivery.next_try_at == start + dt.timedelta(seconds=30 + 60)  # doubled
    assert send_one(at=delivery.next_try_at).status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.tries) == ("delivered", 3)
    assert len(receiver.received) == 3
    assert len({r["headers"]["X-Telora-Event-Id"] for r in receiver.received}) == 1  # the same event each time


def test_after_the_last_try_the_delivery_is_dead_and_can_be_delivered_again_from_the_screen(
        brand_a, brand_b, api_for, receiver, settings, make_user):
    settings.TELORA_WEBHOOK_MAX_TRIES = 2
    client, _key = api_for({brand_a: INTEGRATOR})
    register(client, receiver.url)
    receiver.answers = [500, 500, 204]
    emit("customer.created", brand=brand_a, at=clock.now(), payload={"customer_id": 1})
    dispatch("webhooks")
    delivery = WebhookDelivery.objects.get()
    send_one(at=delivery.next_try_at)
    delivery.refresh_from_db()
    send_one(at=delivery.next_try_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.tries, delivery.next_try_at) == ("dead", 2, None)
    assert send_due() == 0

    viewer = login(make_user("viewer", {brand_a: ["webhooks.view"]}), brand_a)
    page = viewer.get(f"/events/webhooks/{delivery.pk}/")
    assert page.status_code == 200 and b"dead letter" in page.content and b'data-testid="redeliver"' not in page.content
    assert viewer.post(f"/events/webhooks/{delivery.pk}/redeliver/").status_code == 403
    listing = viewer.get("/events/webhooks/", {"status": "dead"})
    assert f'data-delivery="{delivery.pk}"'.encode() in listing.content

    stranger = login(make_user("stranger", {brand_b: ["webhooks.view", "webhooks.change"]}), brand_b)
    assert stranger.get(f"/events/webhooks/{delivery.pk}/").status_code == 404
    assert stranger.post(f"/events/webhooks/{delivery.pk}/redeliver/").status_code == 404
    assert f'data-delivery="{delivery.pk}"'.encode() not in stranger.get("/events/webhooks/").content

    operator = login(make_user("operator", {brand_a: ["webhooks.view", "webhooks.change"]}), brand_a)
    page = operator.get(f"/events/webhooks/{delivery.pk}/")
    assert b'data-testid="redeliver"' in page.content and b"500" in page.content
    assert operator.post(f"/events/webhooks/{delivery.pk}/redeliver/").status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.tries) == ("pending", 0)
    assert AuditEvent.objects.filter(action="redeliver", object_id=str(delivery.pk), actor_label="operator").exists()
    assert send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("delivered", 204)
    assert delivery.attempts.count() == 3  # the earlier tries stay listed
    assert len(receiver.received) == 3


def test_registration_needs_rights_and_stays_in_its_brand(brand_a, brand_b, api_for, receiver):
    owner, _ = api_for({brand_a: INTEGRATOR})
    reader, _ = api_for({brand_a: ["webhooks.view", "customers.view"]})
    other, _ = api_for({brand_b: INTEGRATOR})
    assert register(reader, receiver.url).status_code == 403
    hub = register(owner, receiver.url).json()
    assert [h["id"] for h in reader.get(CUSTOMER_HUB).json()] == [hub["id"]]
    assert other.get(CUSTOMER_HUB).json() == []
    assert other.get(f"{CUSTOMER_HUB}/{hub['id']}").status_code == 404
    assert other.delete(f"{CUSTOMER_HUB}/{hub['id']}").status_code == 404
    assert reader.delete(f"{CUSTOMER_HUB}/{hub['id']}").status_code == 403
    assert owner.delete(f"{CUSTOMER_HUB}/{hub['id']}").status_code == 204
    assert owner.get(f"{CUSTOMER_HUB}/{hub['id']}").status_code == 404
    assert HubSubscription.objects.get(pk=hub["id"]).deleted_at is not None

    # a deleted hub receives nothing more
    emit("customer.created", brand=brand_a, at=clock.now())
    dispatch("webhooks")
    assert WebhookDelivery.objects.count() == 0
    # brand B's hub does not receive brand A's events
    register(other, receiver.url)
    emit("customer.created", brand=brand_a, at=clock.now())
    dispatch("webhooks")
    assert WebhookDelivery.objects.count() == 0


def test_a_key_without_the_events_area_gets_no_deliveries_of_it(brand_a, api_for, receiver):
    client, _ = api_for({brand_a: ["webhooks.view", "webhooks.change", "customers.view"]})
    answer = register(client, receiver.url, "eventType=CustomerCreateEvent,CustomerBillCreateEvent")
    assert answer.json()["eventTypes"] == ["customer.created", "invoice.issued", "invoice.credit_note_issued"]
    emit("invoice.issued", brand=brand_a, at=clock.now(), payload={"invoice_id": 1})
    emit("customer.created", brand=brand_a, at=clock.now())
    dispatch("webhooks")
    assert list(WebhookDelivery.objects.values_list("event__type", flat=True)) == ["customer.created"]


def test_the_hub_is_mounted_on_every_tmf_api(brand_a, api_for, receiver):
    client, _ = api_for({brand_a: INTEGRATOR})
    for api, expected in [("productInventory", "subscription.activated"), ("customerBillManagement", "invoice.issued"),
                          ("prepayBalanceManagement", "balance.low"), ("accountManagement", None),
                          ("productCatalogManagement", None), ("usageManagement", None), ("privacyManagement", None)]:
        answer = register(client, receiver.url, hub=f"/tmf-api/{api}/v4/hub")
        if expected is None:  # an API without events of its own wants them named
            assert answer.status_code == 400 and answer.json()["field"] == "query"
            assert register(client, receiver.url, "eventType=balance.low",
                            hub=f"/tmf-api/{api}/v4/hub").status_code == 201
        else:
            assert answer.status_code == 201, (api, answer.content)
            assert expected in answer.json()["eventTypes"]


@pytest.mark.parametrize(("callback", "reason"), [
    ("ftp://example.com/x", "http:// or https://"),
    ("https://", "names no host"),
    ("https://user:pw@example.com/", "user name or password"),
    ("https://example.com/" + "a" * 500, "at most 500 characters"),
    ("https://exa mple.com/", "spaces or control characters"),
    ("http://127.0.0.1:8000/hook", "private or reserved"),
    ("http://10.1.2.3/hook", "private or reserved"),
    ("http://[::1]/hook", "private or reserved"),
    ("http://169.254.169.254/latest/meta-data", "private or reserved"),
    ("http://localhost/hook", "localhost is not allowed"),
])
def test_callbacks_are_checked(brand_a, api_for, callback, reason):
    client, _ = api_for({brand_a: INTEGRATOR})
    answer = register(client, callback)
    assert answer.status_code == 400
    assert answer.json()["field"] == "callback" and reason in answer.json()["reason"] + answer.json().get(
        "message", "")


def test_a_bad_query_is_refused_naming_the_field(brand_a, api_for):
    client, _ = api_for({brand_a: INTEGRATOR})
    for query, reason in [("eventType=NoSuchEvent", "unknown eventType"), ("status=active", "only eventType"),
                          ("eventType=", "at least one"), ("x" * 501, "at most 500")]:
        answer = register(client, "https://hooks.example.com/in", query)
        assert answer.status_code == 400, query
        assert answer.json()["field"] == "query" and reason in json.dumps(answer.json())


def test_a_callback_that_now_resolves_to_a_private_address_is_refused_when_sending(brand_a, api_for, receiver,
                                                                                 settings):
    client, _ = api_for({brand_a: INTEGRATOR})
    register(client, receiver.url.replace("127.0.0.1", "localhost"))
    emit("customer.created", brand=brand_a, at=clock.now())
    dispatch("webhooks")
    settings.TELORA_WEBHOOK_ALLOW_PRIVATE = False
    attempt = send_one()
    assert attempt.status_code is None and "localhost is not allowed" in attempt.error
    assert WebhookDelivery.objects.get().status == "pending"  # tried again later (the setting may change back)
    assert receiver.received == []


def test_the_deliveries_api_lists_and_redelivers_within_the_brand(brand_a, brand_b, api_for, receiver):
    client, _ = api_for({brand_a: INTEGRATOR})
    other, _ = api_for({brand_b: INTEGRATOR})
    register(client, receiver.url)
    emit("customer.created", brand=brand_a, at=clock.now())
    dispatch("webhooks")
    send_due()
    (row,) = client.get("/api/v1/webhooks/deliveries").json()
    assert row["status"] == "delivered" and row["event_type"] == "customer.created"
    detail = client.get(f"/api/v1/webhooks/deliveries/{row['id']}").json()
    assert detail["attempts"][0]["status_code"] == 200
    assert other.get("/api/v1/webhooks/deliveries").json() == []
    assert other.post(f"/api/v1/webhooks/deliveries/{row['id']}/redeliver").status_code == 404
    again = client.post(f"/api/v1/webhooks/deliveries/{row['id']}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"
