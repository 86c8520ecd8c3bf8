"""Port-in and port-out through their BPMN flows against the clearing-house simulator running as its own
process: a port-in accepted and completed on its date, rejected, cancelled before its window, left without
an answer until its deadline; a port-out accepted (the line terminated, the number ported out) and rejected
(bad authorisation); a callback with a bad signature."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from porting_helpers import DONOR, OUR_CODE, configure, port_in, wait_for

from telora.core import clock
from telora.customers import services as customers
from telora.customers.models import NumberAssignment, Subscription
from telora.inventory.models import PhoneNumber
from telora.orders.models import Order
from telora.porting.models import ClearingHouse, PortingMessage, PortingRequest

pytestmark = pytest.mark.django_db(transaction=True)
NUMBER = "31620000001"


@pytest.fixture
def house(shop, system, portsim, live_server, flows_loaded):
    made = configure(shop, system, url=portsim.url)
    ClearingHouse.objects.filter(pk=made.pk).update(
        callback_url=live_server.url + reverse("porting:callback", args=[made.pk]))
    made.refresh_from_db()
    return made


def fresh(row):
    row.refresh_from_db()
    return row


def request_of(order) -> PortingRequest:
    return PortingRequest.objects.get(order=order)


def waits_for(order, moment) -> bool:
    """The order's flow waits for its timer at `moment` (the message's run of its steps has ended: each step
    commits on its own, and the test must not move the clock under a run still going)."""
    from telora.workflows.models import FlowInstance

    instance = FlowInstance.objects.get(pk=fresh(order).flow_instance_id)
    return instance.state == "waiting" and instance.wake_at == moment


def wake(at):
    from telora.workflows.services import wake_due

    with time_machine.travel(at, tick=False):
        wake_due(at=clock.now())


def test_a_port_in_is_accepted_by_the_donor_and_completes_on_its_date(ann, system, house, portsim):
    order = port_in(ann, system)
    request = request_of(order)
    assert order.state == "inProgress"
    assert wait_for(lambda: fresh(request).state == "scheduled")  # the donor accepted; the flow waits for the window
    assert wait_for(lambda: waits_for(order, request.window_at))
    assert request.correlation_id.startswith("PX-") and request.window_at is not None
    assert (request.donor_code, request.recipient_code) == (DONOR, OUR_CODE)
    assert request.window_at.date() == request.requested_date
    port = portsim.port(NUMBER)
    assert (port["state"], port["donor"], port["recipient"]) == ("accepted", DONOR, OUR_CODE)
    # the authorisation went to the clearing house, and is neither in the order nor in the message log
    item = order.items.get()
    assert "pin" not in item.characteristics and "account_number" not in item.characteristics
    submit = request.messages.get(direction="out", kind="submit")
    assert submit.state == "sent" and submit.status_code == 202
    assert "4321" not in submit.request_body and "KPN-778899" not in submit.request_body
    assert "test-port-key" not in str(submit.request_headers)
    assert request.messages.filter(direction="in", kind="port_answer", state="done").exists()
    assert not Subscription.objects.filter(identifier=NUMBER).exists()

    wake(request.window_at - dt.timedelta(minutes=1))
    assert fresh(order).state == "inProgress" and fresh(request).state == "scheduled"  # not before the window
    wake(request.window_at + dt.timedelta(minutes=1))
    order = fresh(order)
    request = fresh(request)
    assert order.state == "completed" and request.state == "completed"
    line = Subscription.objects.get(pk=request.subscription_id)
    assert (line.identifier, line.status, line.customer_id) == (NUMBER, "active", ann.pk)
    assert order.subscription_id == line.pk
    number = PhoneNumber.objects.get(brand=ann.brand, number=NUMBER)
    assert (number.status, number.origin) == ("allocated", "ported_in")
    history = NumberAssignment.objects.get(subscription=line)
    assert history.number == NUMBER and history.valid_from == request.window_at + dt.timedelta(minutes=1)
    assert wait_for(lambda: portsim.port(NUMBER)["state"] == "completed")  # the clearing house was told


def test_a_port_in_rejected_by_the_donor_fails_the_order_with_the_reason(ann, system, house, portsim):
    portsim.rules({"pattern": "^3162", "behaviour": "reject", "code": "AUTH_MISMATCH",
                   "message": "account number unknown at the donor"})
    order = port_in(ann, system)
    request = request_of(order)
    assert wait_for(lambda: fresh(order).state == "failed")
    request = fresh(request)
    assert (request.state, request.reason_code) == ("rejected", "AUTH_MISMATCH")
    assert "AUTH_MISMATCH" in order.state_reason and "account number unknown" in order.state_reason
    assert not PhoneNumber.objects.filter(brand=ann.brand, number=NUMBER).exists()
    assert not PortingMessage.objects.filter(request=request, kind="cancel").exists()  # nothing to withdraw


def test_a_port_in_cancelled_before_its_window_is_withdrawn_at_the_clearing_house(ann, system, house, portsim):
    from telora.orders.services import cancel_order

    order = port_in(ann, system)
    request = request_of(order)
    assert wait_for(lambda: fresh(request).state == "scheduled")
    assert wait_for(lambda: waits_for(order, request.window_at))
    cancel_order(order, actor=system, at=clock.now(), reason="the customer stays with the donor")
    assert fresh(order).state == "cancelled"
    request = fresh(request)
    assert (request.state, request.reason_code) == ("cancelled", "CANCELLED")
    assert wait_for(lambda: portsim.port(NUMBER)["state"] == "cancelled")
    wake(request.window_at + dt.timedelta(minutes=1))
    assert not Subscription.objects.filter(identifier=NUMBER).exists()  # the window passes: nothing happens


def test_a_port_in_is_not_cancelled_once_its_window_began(ann, system, house, portsim):
    from telora.core.services import ServiceError
    from telora.porting import services

    order = port_in(ann, system)
    request = request_of(order)
    assert wait_for(lambda: fresh(request).state == "scheduled")
    with pytest.raises(ServiceError, match="window"):
        services.cancel_port(request, actor=system, at=request.window_at + dt.timedelta(seconds=1))
    assert fresh(request).state == "scheduled"


def test_a_donor_that_does_not_answer_lets_the_deadline_fail_the_port_in(ann, system, house, portsim):
    portsim.rules({"pattern": "^3162", "behaviour": "silent"})
    order = port_in(ann, system)
    request = request_of(order)
    assert wait_for(lambda: fresh(request).correlation_id)
    assert request.state == "submitted" and waits_for(order, request.answer_deadline)
    wake(request.answer_deadline + dt.timedelta(minutes=1))
    request, order = fresh(request), fresh(order)
    assert (request.state, request.reason_code) == ("failed", "NO_ANSWER")
    assert order.state == "failed" and "NO_ANSWER" in order.state_reason
    assert wait_for(lambda: portsim.port(NUMBER)["state"] == "cancelled")


def line_of(customer, system):
    return customers.create_subscription(customer, actor=system, at=clock.now(), billing_account=customer.accounts.get(),
                                         service_type="mobile_postpaid", plan="MOB_POST_BASIC")


def test_a_port_out_with_the_right_authorisation_terminates_the_line_on_the_window(ann, system, house, portsim,
                                                                                   live_server):
    line = line_of(ann, system)
    day = (clock.now().date() + dt.timedelta(days=3)).isoformat()
    asked = portsim.port_out(number=line.identifier, recipient="KPN", donor=OUR_CODE, requested_date=day,
                             authorisation={"account_number": ann.number}, callback_url=house.callback_url)
    request = wait_for(lambda: PortingRequest.objects.filter(correlation_id=asked["correlation_id"],
                                                             state="scheduled").first())
    assert (request.direction, request.subscription_id, request.recipient_code) == ("out", line.pk, "KPN")
    order = Order.objects.get(pk=request.order_id)
    assert (order.order_type, order.state, order.subscription_id) == ("port_out", "inProgress", line.pk)
    assert wait_for(lambda: waits_for(order, request.window_at))
    assert wait_for(lambda: portsim.port(line.identifier)["state"] == "accepted")
    assert fresh(line).status == "active"
    wake(request.window_at + dt.timedelta(minutes=1))
    request, order, line = fresh(request), fresh(order), fresh(line)
    assert request.state == "completed" and order.state == "completed"
    assert line.status == "terminated" and "ported out to KPN" in line.status_reason
    number = PhoneNumber.objects.get(brand=ann.brand, number=line.identifier)
    assert number.status == "ported_out" and number.ported_at is not None
    assert wait_for(lambda: portsim.port(line.identifier)["state"] == "completed")


def test_a_port_out_with_a_wrong_account_number_is_rejected(ann, system, house, portsim):
    line = line_of(ann, system)
    day = (clock.now().date() + dt.timedelta(days=3)).isoformat()
    asked = portsim.port_out(number=line.identifier, recipient="KPN", requested_date=day,
                             authorisation={"account_number": "NOT-HERS"}, callback_url=house.callback_url)
    request = wait_for(lambda: PortingRequest.objects.filter(correlation_id=asked["correlation_id"],
                                                             state="rejected").first())
    assert request.reason_code == "AUTH_MISMATCH"
    order = Order.objects.get(pk=request.order_id)
    assert order.state == "failed" and "AUTH_MISMATCH" in order.state_reason
    assert wait_for(lambda: portsim.port(line.identifier)["state"] == "rejected")
    assert fresh(line).status == "active"
    assert PhoneNumber.objects.get(brand=ann.brand, number=line.identifier).status == "allocated"
    answer = request.messages.get(direction="out", kind="answer")
    assert answer.state == "sent" and "AUTH_MISMATCH" in answer.request_body


def test_a_port_out_of_a_number_that_is_not_ours_is_rejected_without_an_order(ann, system, house, portsim):
    day = (clock.now().date() + dt.timedelta(days=3)).isoformat()
    asked = portsim.port_out(number="31699999999", recipient="KPN", requested_date=day,
                             authorisation={"account_number": "X"}, callback_url=house.callback_url)
    request = wait_for(lambda: PortingRequest.objects.filter(correlation_id=asked["correlation_id"]).first())
    assert (request.state, request.reason_code, request.order_id) == ("rejected", "UNKNOWN_NUMBER", None)
    assert wait_for(lambda: portsim.port("31699999999")["state"] == "rejected")


def test_a_callback_with_a_bad_signature_is_refused_and_logged(ann, system, house, live_server, client):
    url = reverse("porting:callback", args=[house.pk])
    body = b'{"event": "port_out_request", "number": "31610000001"}'
    answer = client.post(url, body, content_type="application/json", HTTP_X_PORTSIM_TIMESTAMP=str(int(
        clock.now().timestamp())), HTTP_X_PORTSIM_SIGNATURE="v1=00")
    assert answer.status_code == 401
    assert PortingMessage.objects.filter(direction="in", state="refused", status_code=401).exists()
    assert not PortingRequest.objects.exists()
