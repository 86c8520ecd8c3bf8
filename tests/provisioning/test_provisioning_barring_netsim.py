"""Barring against the network simulator running as its own process: a prepaid line rated to zero is
barred at the network for its outgoing chargeable services and a top-up unbars it; the automatic suspend
and resume flows bar and unbar for the order's reason, overlapping with the balance's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from barring_helpers import consume, prepaid_line, rate_usage
from django.urls import reverse
from provisioning_helpers import configure

from telora.core import clock
from telora.provisioning import barring, services
from telora.provisioning.models import LineBar, NetworkTarget, ProvisioningRequest
from telora.provisioning.tasks import payload_for

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def wait_for(condition, seconds: float = 30.0):
    """Poll until the other processes got there (a deadline, not a timing assertion)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached in time")


@pytest.fixture
def target(ann, system, netsim, live_server):
    made = configure(ann.brand, system, url=netsim.url)
    NetworkTarget.objects.filter(pk=made.pk).update(
        callback_url=live_server.url + reverse("provisioning:callback", args=[made.pk]))
    return made


@pytest.fixture
def line(ann, system, target, netsim):
    """A prepaid line with 2.00 on it, known at the network."""
    made = prepaid_line(ann, system, balance="2.00")
    create = services.create_request(ann.brand, operation="create", payload=payload_for(made, "create"),
                                     subscription=made, idempotency_key=f"create:{made.pk}", actor=system,
                                     at=clock.now())
    services.send_due(at=clock.now())
    wait_for(lambda: ProvisioningRequest.objects.get(pk=create.pk).state == "completed")
    return made


def at_network(netsim, line):
    return next(s for s in netsim.subscribers() if s["msisdn"] == line.identifier)


def done(request_id):
    return ProvisioningRequest.objects.get(pk=request_id).state == "completed"


def test_rated_to_zero_the_line_is_barred_at_the_network_and_a_top_up_unbars_it(line, system, netsim):
    from telora.rating.services.balances import top_up

    assert at_network(netsim, line)["barred"] is False
    rate_usage(line, system, "1.20", "1.20")  # the batch commits a balance of -0.40
    consume()
    bar = LineBar.objects.get(subscription=line, reason="balance")
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    wait_for(lambda: done(bar.bar_request_id))
    state = at_network(netsim, line)
    assert state["barred"] is True and state["barring"] == ["data", "premium", "roaming", "sms_out", "voice_out"]

    top_up(line, D("0.30"), actor=system, at=clock.now(), reference="too little")  # -0.10: stays barred
    consume()
    assert services.send_due(at=clock.now()) == {} and at_network(netsim, line)["barred"] is True
    top_up(line, D("10.00"), actor=system, at=clock.now(), reference="voucher")
    consume()
    bar.refresh_from_db()
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    wait_for(lambda: done(bar.end_request_id))
    assert (at_network(netsim, line)["barred"], at_network(netsim, line)["barring"]) == (False, [])
    taken = [r["operation"] for r in netsim.requests()["requests"]]
    assert taken == ["create", "bar", "unbar"]  # one bar per crossing, one unbar


def _order(line, system, kind):
    from telora.orders.models import Order
    from telora.orders.services import create_order

    order = create_order(line.customer, actor=system, at=clock.now(), order_type=kind, subscription=line,
                         items=[{"characteristics": {"reason": "travel"}}])
    return Order.objects.get(pk=order.pk)


def test_suspend_and_resume_orders_bar_and_unbar_with_the_balance_reason_overlapping(line, system, netsim, ann,
                                                                                    flows_loaded):
    from telora.orders.models import Order
    from telora.provisioning.flows import install_automatic_flows
    from telora.rating.services.balances import top_up

    assert {"suspend", "resume"} <= set(install_automatic_flows(ann.brand, actor=system, at=clock.now()))
    rate_usage(line, system, "3.00")  # out of balance: barred for outgoing chargeable services
    consume()
    services.send_due(at=clock.now())
    wait_for(lambda: at_network(netsim, line)["barred"])

    suspend = _order(line, system, "suspend")  # the order's reason bars everything
    # a dated order's flow runs at its requested moment, a little after this test's clock read
    assert wait_for(lambda: services.send_due(at=clock.now())) == {"accepted": 1}
    wait_for(lambda: Order.objects.get(pk=suspend.pk).state == "completed")
    line.refresh_from_db()
    assert line.status == "suspended" and at_network(netsim, line)["barring"] == ["all"]

    top_up(line, D("20.00"), actor=system, at=clock.now(), reference="voucher")  # the balance reason ends
    consume()
    assert services.send_due(at=clock.now()) == {}  # the order still bars everything: nothing to ask
    assert [b.reason for b in barring.open_bars(line)] == ["order"]
    assert at_network(netsim, line)["barring"] == ["all"]

    resume = _order(line, system, "resume")  # the last reason ends: unbarred
    assert wait_for(lambda: services.send_due(at=clock.now())) == {"accepted": 1}
    wait_for(lambda: Order.objects.get(pk=resume.pk).state == "completed")
    line.refresh_from_db()
    assert line.status == "active" and at_network(netsim, line)["barred"] is False
    assert barring.open_bars(line) == []
    assert [r["operation"] for r in netsim.requests()["requests"]] == ["create", "bar", "bar", "unbar"]


def test_a_cancellation_deletes_the_subscriber_at_the_network_and_closes_its_bars(line, system, netsim, ann,
                                                                                 flows_loaded):
    from telora.orders.models import Order
    from telora.provisioning.flows import install_automatic_flows

    assert "cancellation" in install_automatic_flows(ann.brand, actor=system, at=clock.now())
    rate_usage(line, system, "3.00")
    consume()
    services.send_due(at=clock.now())
    wait_for(lambda: at_network(netsim, line)["barred"])
    order = _order(line, system, "terminate")
    # a dated order's flow runs at its requested moment, a little after this test's clock read
    assert wait_for(lambda: services.send_due(at=clock.now())) == {"accepted": 1}
    wait_for(lambda: Order.objects.get(pk=order.pk).state == "completed")
    line.refresh_from_db()
    assert line.status == "terminated" and line.identifier not in [s["msisdn"] for s in netsim.subscribers()]
    consume()  # subscription.terminated: the balance bar is closed without an unbar
    assert barring.open_bars(line) == []
    assert [r["operation"] for r in netsim.requests()["requests"]] == ["create", "bar", "delete"]
