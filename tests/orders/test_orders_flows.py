"""The standard flows: every shipped BPMN file parses and names only registered service tasks;
scenario tests run them on the workflow engine (skipped where `telora.workflows` is absent)."""

import xml.etree.ElementTree as ET

import pytest
from django.apps import apps

from telora.orders.constants import SIGNUP_FLOWS, TYPE_FLOWS
from telora.orders.flows import standard_flows

pytestmark = pytest.mark.usefixtures("shop_kept")

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
TELORA = "{https://telora.org/bpmn}"
engine = pytest.mark.skipif(not apps.is_installed("telora.workflows"), reason="needs the telora.workflows engine")
TASKS = {"customers.create_subscription", "customers.activate_subscription", "customers.change_plan",
         "customers.add_addon", "customers.add_one_time", "customers.remove_addon", "customers.swap_sim",
         "customers.suspend_subscription", "customers.resume_subscription", "customers.terminate_subscription",
         "inventory.allocate_sim", "inventory.allocate_number", "inventory.block_sim", "billing.charge_one_time",
         "letters.send", "customers.commitment_check", "rating.top_up", "customers.change_number"}
# the porting app's tasks, which the port_in and port_out flows call (docs/porting.md)
TASKS |= {"porting.submit_port_in", "porting.answer", "porting.expire", "porting.activate_port_in",
          "porting.validate_port_out", "porting.answer_port_out", "porting.complete_port_out"}


def test_every_flow_an_order_names_is_shipped():
    assert set(SIGNUP_FLOWS.values()) | set(TYPE_FLOWS.values()) <= set(standard_flows())


@pytest.mark.parametrize("key", sorted(standard_flows()))
def test_a_shipped_flow_parses_and_names_known_tasks(key):
    root = ET.parse(standard_flows()[key]).getroot()
    process = root.find(f"{BPMN}process")
    assert process is not None and process.get("id") == key and process.get("isExecutable") == "true"
    for task in process.iter(f"{BPMN}serviceTask"):
        assert task.get(f"{TELORA}task") in TASKS, (key, task.get("id"))
    for task in process.iter(f"{BPMN}userTask"):
        assert task.get(f"{TELORA}desk"), (key, task.get("id"))
    ids = [e.get("id") for e in process.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), key  # the process id included: the engine finds elements by id
    ids = set(ids)
    for flow in process.iter(f"{BPMN}sequenceFlow"):
        assert {flow.get("sourceRef"), flow.get("targetRef")} <= ids, (key, flow.get("id"))


def open_task(order):
    from telora.workflows.models import HumanTask

    return HumanTask.objects.get(instance_id=order.flow_instance_id, state="open")


@engine
@pytest.mark.django_db
def test_scenario_plan_change_through_the_engine(ann, mobile, system, flows_loaded):
    """A mobile line's plan changes in Telora at once, then waits for "Change at the host operator" at the
    network desk; completing it completes the order."""
    from telora.core import clock
    from telora.customers.models import ProductInstance
    from telora.orders.services import create_order
    from telora.workflows.services import complete_task

    order = create_order(ann, actor=system, at=clock.now(), order_type="change_plan", subscription=mobile,
                         items=[{"product_offering": "MOB_POST_10GB"}])
    order.refresh_from_db()
    assert order.state == "inProgress" and order.flow_instance_id is not None
    assert ProductInstance.objects.get(subscription=mobile, kind="plan", end_at__isnull=True).product.code == \
        "MOB_POST_10GB"
    task = open_task(order)
    assert (task.name, task.desk.code) == ("Change at the host operator", "network")
    complete_task(task, data={}, actor=system, at=clock.now())
    order.refresh_from_db()
    assert order.state == "completed"


@engine
@pytest.mark.django_db
def test_scenario_signup_mobile_postpaid_with_desk_steps(ann, system, flows_loaded):
    import time_machine

    from telora.core import clock
    from telora.orders.models import Order
    from telora.orders.services import create_order
    from telora.workflows.services import complete_task

    with time_machine.travel(clock.now(), tick=False):
        order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
            "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
        order.refresh_from_db()
        assert order.state == "inProgress"
        complete_task(open_task(order), data={"decision": "approved"}, actor=system, at=clock.now())
        task = open_task(order)
        assert task.name == "Activate at the host operator"
        line = Order.objects.get(pk=order.pk).subscription
        assert line.status == "pending" and line.sim is not None
        complete_task(task, data={"host_reference": "HOST-1"}, actor=system, at=clock.now())
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.state, line.status) == ("completed", "active")
    assert order.entries.filter(kind="letter").exists()


@engine
@pytest.mark.django_db
def test_a_desk_user_with_only_the_desks_role_completes_activation(ann, make_role, make_user, system, flows_loaded):
    """The back office holds the network desk's role and nothing of customers: completing "Activate at the
    host operator" lets the flow's automatic steps run as the flow (not as the desk user), so the line is
    activated; the step log and the audit name the desk user for the desk step and the flow for the rest."""
    import time_machine

    from telora.core import clock
    from telora.core.models import AuditEvent
    from telora.core.services.actors import Actor, PermissionDeniedError
    from telora.core.services.users import create_user
    from telora.orders.models import Order
    from telora.orders.services import create_order
    from telora.workflows.models import Desk, FlowStep
    from telora.workflows.services import complete_task

    role = make_role("network-desk", ["workflows.view", "workflows.work"], brand=ann.brand)
    Desk.objects.get(brand=ann.brand, code="network").roles.set([role])
    nina = create_user(actor=system, at=clock.now(), username="nina", password="x-Secret-123456",
                       grants=[(ann.brand, role)], email="nina@example.test")
    outsider = make_user("otto", {ann.brand: ["workflows.view", "workflows.work", "customers.change"]})
    with time_machine.travel(clock.now(), tick=False):
        order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
            "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
        complete_task(open_task(order), data={"decision": "approved"}, actor=system, at=clock.now())
        task = open_task(order)
        assert task.desk.code == "network"
        with pytest.raises(PermissionDeniedError):  # not one of the desk's roles, whatever else it holds
            complete_task(task, data={"host_reference": "HOST-9"}, actor=Actor(user=outsider), at=clock.now())
        complete_task(task, data={"host_reference": "HOST-9"}, actor=Actor(user=nina, request_id="req-9"),
                      at=clock.now())
    order.refresh_from_db()
    line = Order.objects.get(pk=order.pk).subscription
    assert (order.state, line.status) == ("completed", "active")
    flow_label = f"job:flow:signup_mobile_postpaid#{order.flow_instance_id}"
    steps = {s.element: s.actor for s in FlowStep.objects.filter(instance_id=order.flow_instance_id)}
    assert steps["activate_host"] == "nina" and steps["activate_line"] == flow_label
    completed = AuditEvent.objects.get(object_type="workflows.humantask", object_id=str(task.pk), action="complete")
    assert (completed.actor_user, completed.request_id) == (nina, "req-9")
    activated = AuditEvent.objects.get(object_type="customers.subscription", object_id=str(line.pk), action="activate")
    assert (activated.actor_label, activated.actor_user, activated.request_id) == (flow_label, None, "req-9")


@engine
@pytest.mark.django_db
def test_scenario_cancellation_cancelled_at_the_desk(ann, mobile, system, flows_loaded):
    """A line within its commitment waits at the retention desk; cancelling the order there leaves it live."""
    from telora.core import clock
    from telora.customers import services as customers
    from telora.orders.services import cancel_order, create_order

    customers.change_plan(mobile, "MOB_POST_10GB", actor=system, at=clock.now())  # six months' commitment
    order = create_order(ann, actor=system, at=clock.now(), order_type="terminate", subscription=mobile,
                         items=[{"characteristics": {"reason": "moving"}}])
    order.refresh_from_db()
    assert order.state == "inProgress" and open_task(order).desk.code == "retention"
    cancel_order(order, actor=system, at=clock.now(), reason="stays with us")
    order.refresh_from_db()
    mobile.refresh_from_db()
    assert (order.state, mobile.status) == ("cancelled", "active")


@engine
@pytest.mark.django_db
@pytest.mark.parametrize("order_type,items", [
    ("suspend", [{"characteristics": {"reason": "travel"}}]),
    ("add_addon", [{"product_offering": "DATA_S"}]),
])
def test_scenario_simple_changes_complete_through_the_engine(ann, mobile, system, flows_loaded, order_type, items):
    from telora.core import clock
    from telora.orders.services import create_order

    order = create_order(ann, actor=system, at=clock.now(), order_type=order_type, subscription=mobile, items=items)
    order.refresh_from_db()
    assert order.state in ("completed", "failed")
    assert order.state == "completed" or order.state_reason  # a refusal names its reason


@engine
@pytest.mark.django_db
def test_the_orders_list_filters_by_the_desk_an_order_waits_at(make_user, ann, mobile, shop, system, flows_loaded):
    from django.urls import reverse

    from gui_helpers import login
    from telora.core import clock
    from telora.orders.services import create_order

    sale = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    create_order(ann, actor=system, at=clock.now(), order_type="suspend", subscription=mobile,
                 items=[{"characteristics": {"reason": "travel"}}])
    client = login(make_user("reader", {shop: ["customers.view", "orders.view"]}), shop)
    listing = client.get(reverse("orders:order_list"), {"desk": "credit"})
    assert [o.pk for o in listing.context["object_list"]] == [sale.pk]
    assert client.get(reverse("orders:order_list"), {"desk": "network"}).context["object_list"].count() == 0
    export = client.get(reverse("orders:order_list"), {"desk": "credit", "export": "csv"}).content.decode()
    assert len(export.strip().splitlines()) == 2 and sale.number in export


@engine
@pytest.mark.django_db
def test_a_service_task_run_twice_with_one_step_key_does_its_work_once(ann, system, flows_loaded):
    """The orders' tasks keep their outputs per step key: a repeat of the step returns them and reserves
    no second card."""
    from telora.core import clock
    from telora.inventory.models import SimCard
    from telora.orders.services import create_order
    from telora.workflows.registry import StepContext, get_service_task

    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    task = get_service_task("inventory.allocate_sim")
    ctx = StepContext(actor=system, at=clock.now(), brand=ann.brand, instance=None, step_key="test:allocate:1")
    first = task.function(ctx, order_id=order.pk, item=1)
    again = task.function(ctx, order_id=order.pk, item=1)
    assert first == again and first["iccid"]
    assert SimCard.objects.filter(brand=ann.brand, status="reserved").count() == 1


@engine
@pytest.mark.django_db
def test_a_step_key_run_in_another_transaction_is_found_by_the_instances_next_run(ann, system, flows_loaded):
    """The step keys an instance's run reads once hold the TaskRuns of earlier runs: the step repeated with
    the instance in hand (a later `at`, as a retry) returns the first outputs (doing the work again would
    find its TaskRun and fail as a duplicate)."""
    import datetime as dt

    from telora.core import clock
    from telora.orders.services import create_order
    from telora.workflows.models import FlowInstance
    from telora.workflows.registry import StepContext, get_service_task

    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    instance = FlowInstance.objects.get(pk=order.flow_instance_id)
    task = get_service_task("inventory.allocate_sim")
    at = clock.now()
    key = f"{instance.pk}:test-allocate:1"
    first = task.function(StepContext(actor=system, at=at, brand=ann.brand, instance=instance, step_key=key),
                          order_id=order.pk, item=1)
    again = task.function(StepContext(actor=system, at=at, brand=ann.brand, instance=instance, step_key=key),
                          order_id=order.pk, item=1)
    fresh = FlowInstance.objects.get(pk=instance.pk)  # another run: its keys read anew
    later = task.function(StepContext(actor=system, at=at + dt.timedelta(seconds=1), brand=ann.brand,
                                      instance=fresh, step_key=key), order_id=order.pk, item=1)
    assert first == again == later and first["iccid"]


@engine
@pytest.mark.django_db
def test_the_signup_flow_state_names_its_version_and_an_older_state_still_loads(ann, system, flows_loaded):
    """The saved state names the flow version instead of carrying its spec; a state saved with the spec
    (before) is read the same and saved by reference from then on."""
    import json

    from telora.core import clock
    from telora.orders.services import create_order
    from telora.workflows.engine import spiff
    from telora.workflows.models import FlowInstance
    from telora.workflows.services import complete_task

    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    instance = FlowInstance.objects.get(pk=order.flow_instance_id)
    assert json.loads(instance.state_json)["spec"] == {"telora_version": instance.version_id}

    workflow = spiff.load(instance.state_json, instance.version)
    workflow.telora_version = None  # as states were saved before: the whole spec inside
    instance.state_json = spiff.dump(workflow)
    instance.save(update_fields=["state_json"])
    assert json.loads(instance.state_json)["spec"]["typename"] == "BpmnProcessSpec"

    complete_task(open_task(order), data={"decision": "approved"}, actor=system, at=clock.now())
    instance.refresh_from_db()
    assert json.loads(instance.state_json)["spec"] == {"telora_version": instance.version_id}
    assert open_task(order).name == "Activate at the host operator"
