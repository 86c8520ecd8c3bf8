"""Sequencing against the network simulator running as its own process (with latency, so a callback
comes later than the send): one line's steps reach the network one at a time, each after the one before
completed, even across orders; different lines go in parallel; termination removes the services before
deleting the subscriber (the simulator refuses otherwise); a failed step blocks the rest; a flow waits
for its whole sequence."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from provisioning_helpers import configure

from telora.core import clock
from telora.provisioning import sequencing, services
from telora.provisioning.models import TERMINAL, NetworkTarget, ProvisioningRequest
from telora.provisioning.sequencing_services import apply_sequencing, group_of, group_state, queue_operation
from telora.provisioning.tasks import payload_for

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds: float = 30.0):
    """Poll until the other processes got there (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached in time")


@pytest.fixture
def target(shop, system, netsim, live_server):
    made = configure(shop, system, url=netsim.url)
    NetworkTarget.objects.filter(pk=made.pk).update(
        callback_url=live_server.url + reverse("provisioning:callback", args=[made.pk]))
    netsim.faults(latency=0.3)  # every callback comes well after the send
    made.refresh_from_db()
    return made


@pytest.fixture
def sequenced(shop, system, target):
    from telora.catalog.models import Product

    Product.objects.filter(brand=shop, code="ROAM_EU_5GB").update(attributes={"network_services": ["roaming"]})
    apply_sequencing(shop, sequencing.DEFAULT_FILE.read_text(), actor=system, at=clock.now())
    return target


def make_line(customer, system, plan="MOB_POST_10GB", addons=("ROAM_EU_5GB",)):
    from telora.customers import services as s

    return s.create_subscription(customer, actor=system, at=clock.now(), billing_account=customer.accounts.get(),
                                 service_type="mobile_postpaid", plan=plan, addons=list(addons))


def operate(line, operation, system, key):
    network = sequencing.SINGLE_STEP[operation]
    return queue_operation(line.brand, line, operation, key=key, payload=payload_for(line, network), actor=system,
                           at=clock.now())


def fresh(requests):
    return [ProvisioningRequest.objects.get(pk=r.pk) for r in requests]


def drive(requests, seconds: float = 60.0) -> list[ProvisioningRequest]:
    """Send what is due until every request ended (the worker's periodic job, run by hand)."""
    def ended():
        services.send_due(at=clock.now())
        now = fresh(requests)
        return now if all(r.state in TERMINAL for r in now) else None

    return wait_for(ended, seconds)


def assert_one_after_the_other(requests):
    """Each request was sent only once the one before it had completed."""
    for before, after in zip(requests, requests[1:], strict=False):
        assert before.state == "completed"
        assert after.sent_at >= before.completed_at, (before.step, after.step)


def test_one_lines_steps_are_sent_one_at_a_time_in_order(ann, system, netsim, sequenced):
    line = make_line(ann, system)
    steps = operate(line, "activate", system, "op:activate")
    assert [r.step for r in steps] == ["create_subscriber", "enable_data", "enable_roaming", "set_voicemail"]
    assert services.send_due(at=clock.now()) == {"accepted": 1}  # the create only
    assert services.send_due(at=clock.now()) == {}  # enable_data waits: the create is not done yet
    assert [r.state for r in fresh(steps)] == ["acknowledged", "queued", "queued", "queued"]
    done = drive(steps)
    assert [r.state for r in done] == ["completed"] * 4
    assert_one_after_the_other(done)
    sent = [r["idempotency_key"] for r in netsim.requests()["requests"]]
    assert sent == [f"op:activate:{r.step}" for r in steps]
    [subscriber] = netsim.subscribers()
    assert subscriber["network_services"] == ["data", "roaming", "voicemail"]


def test_a_later_orders_request_waits_for_an_earlier_orders_steps(ann, system, netsim, sequenced):
    line = make_line(ann, system)
    activation = operate(line, "activate", system, "op:activate")
    [bar] = operate(line, "suspend", system, "op:suspend")
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    assert fresh([bar])[0].state == "queued"
    done = drive(activation + [bar])
    assert_one_after_the_other(done)
    assert netsim.subscribers()[0]["barred"] is True


def test_different_lines_go_in_parallel(ann, system, netsim, sequenced):
    first, second = make_line(ann, system), make_line(ann, system, plan="MOB_POST_BASIC", addons=())
    one = operate(first, "activate", system, "op:1")
    two = operate(second, "activate", system, "op:2")
    assert [r.step for r in two] == ["create_subscriber", "set_voicemail"]
    assert services.send_due(at=clock.now()) == {"accepted": 2}  # both lines' creates in one batch
    drive(one + two)
    taken = [r["idempotency_key"] for r in netsim.requests()["requests"]]
    assert set(taken[:2]) == {"op:1:create_subscriber", "op:2:create_subscriber"}
    assert {s["msisdn"]: s["network_services"] for s in netsim.subscribers()} == {
        first.identifier: ["data", "roaming", "voicemail"], second.identifier: ["voicemail"]}


def test_termination_removes_the_services_before_deleting_the_subscriber(ann, system, netsim, sequenced):
    line = make_line(ann, system)
    drive(operate(line, "activate", system, "op:activate"))
    steps = operate(line, "terminate", system, "op:terminate")
    assert [(r.step, r.operation) for r in steps] == [
        ("remove_roaming", "change_services"), ("remove_data", "change_services"),
        ("remove_voicemail", "change_services"), ("delete_subscriber", "delete")]
    done = drive(steps)
    assert_one_after_the_other(done)
    assert netsim.subscribers() == []


def test_the_simulator_refuses_what_comes_out_of_order(ann, system, netsim, target):
    """What the sequencing prevents, sent by hand: services on an unknown subscriber, roaming before data,
    deleting a subscriber whose services are still on."""
    line = make_line(ann, system)

    def send(operation, key, **payload):
        request = services.create_request(ann.brand, operation=operation, payload={"msisdn": line.identifier,
                                                                                  **payload},
                                          idempotency_key=key, actor=system, at=clock.now())
        return drive([request])[0]

    early = send("change_services", "k-1", services={"data": True})
    assert (early.state, early.error_code) == ("failed", "UNKNOWN_SUBSCRIBER")
    assert send("create", "k-2").state == "completed"
    roaming = send("change_services", "k-3", services={"roaming": True})
    assert (roaming.state, roaming.error_code) == ("failed", "DATA_REQUIRED")
    assert send("change_services", "k-4", services={"data": True, "voicemail": True}).state == "completed"
    deleted = send("delete", "k-5")
    assert (deleted.state, deleted.error_code) == ("failed", "SERVICES_ACTIVE")
    assert netsim.subscribers()[0]["network_services"] == ["data", "voicemail"]


def test_a_failed_step_blocks_the_rest_of_its_sequence(ann, system, netsim, sequenced):
    line = make_line(ann, system)
    netsim.faults({"kind": "reject", "operation": "change_services", "code": "APN_MISSING", "times": 1},
                  latency=0.3)
    steps = drive(operate(line, "activate", system, "op:activate"))
    assert [(r.step, r.state, r.error_code) for r in steps] == [
        ("create_subscriber", "completed", ""), ("enable_data", "failed", "APN_MISSING"),
        ("enable_roaming", "cancelled", "blocked"), ("set_voicemail", "cancelled", "blocked")]
    assert steps[2].error == "blocked: step enable_data failed"
    assert group_state(group_of(steps[0])) == ("failed", steps[1])
    assert len(netsim.requests()["requests"]) == 2  # the blocked steps never reached the network


def _sign_up(ann, system):
    from telora.orders.models import Order
    from telora.orders.services import create_order
    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task

    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_10GB", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    task = HumanTask.objects.get(instance_id=order.flow_instance_id, state="open")
    complete_task(task, data={"decision": "approved"}, actor=system, at=clock.now())
    return Order.objects.get(pk=order.pk)


def test_the_sign_up_flow_waits_for_its_whole_sequence(ann, system, netsim, sequenced, flows_loaded):
    from telora.orders.models import Order
    from telora.provisioning.flows import install_automatic_flows

    install_automatic_flows(ann.brand, actor=system, at=clock.now())
    order = _sign_up(ann, system)
    steps = list(ProvisioningRequest.objects.filter(order=order).order_by("position"))
    assert [r.step for r in steps] == ["create_subscriber", "enable_data", "set_voicemail"]
    assert {r.group_key for r in steps} == {steps[0].idempotency_key.rsplit(":", 1)[0]}
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    wait_for(lambda: fresh(steps)[0].notified_at is not None)  # its end was seen: the flow has nothing to hear
    assert Order.objects.get(pk=order.pk).state != "completed"  # two steps to go: the flow still waits
    drive(steps)
    wait_for(lambda: Order.objects.get(pk=order.pk).state == "completed")
    [subscriber] = netsim.subscribers()
    assert subscriber["network_services"] == ["data", "voicemail"]


def test_a_failed_step_sends_the_sign_up_to_the_desk_and_a_retry_sends_the_rest(ann, system, netsim, sequenced,
                                                                                  flows_loaded):
    from telora.orders.models import Order
    from telora.provisioning.flows import install_automatic_flows
    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task

    install_automatic_flows(ann.brand, actor=system, at=clock.now())
    netsim.faults({"kind": "reject", "operation": "change_services", "code": "APN_MISSING", "times": 1},
                  latency=0.3)
    order = _sign_up(ann, system)
    steps = drive(list(ProvisioningRequest.objects.filter(order=order).order_by("position")))
    assert [r.state for r in steps] == ["completed", "failed", "cancelled"]
    failure = wait_for(lambda: HumanTask.objects.filter(instance_id=order.flow_instance_id, state="open",
                                                        kind="failure").first())
    assert "APN_MISSING" in failure.error and "enable_data" in failure.error
    complete_task(failure, data={"action": "retry"}, actor=system, at=clock.now())
    again = fresh(steps)
    assert [(r.state, r.idempotency_key.endswith(":retry1")) for r in again] == [
        ("completed", False), ("queued", True), ("queued", True)]
    drive(again)
    wait_for(lambda: Order.objects.get(pk=order.pk).state == "completed")
    assert netsim.subscribers()[0]["network_services"] == ["data", "voicemail"]
