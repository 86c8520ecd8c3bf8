"""The standard flows: every shipped BPMN file parses and names only registered service tasks;
scenario tests run them on the workflow engine (skipped where `telora.workflows` is absent)."""

import xml.etree.ElementTree as ET

import pytest
from django.apps import apps

from telora.orders.constants import SIGNUP_FLOWS, TYPE_FLOWS
from telora.orders.flows import standard_flows

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
TELORA = "{https://telora.org/bpmn}"
engine = pytest.mark.skipif(not apps.is_installed("telora.workflows"), reason="needs the telora.workflows engine")
TASKS = {"customers.create_subscription", "customers.activate_subscription", "customers.change_plan",
         "customers.add_addon", "customers.add_one_time", "customers.remove_addon", "customers.swap_sim",
         "customers.suspend_subscription", "customers.resume_subscription", "customers.terminate_subscription",
         "inventory.allocate_sim", "inventory.allocate_number", "inventory.block_sim", "billing.charge_one_time",
         "letters.send"}


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
    ids = {e.get("id") for e in process.iter() if e.get("id")}
    for flow in process.iter(f"{BPMN}sequenceFlow"):
        assert {flow.get("sourceRef"), flow.get("targetRef")} <= ids, (key, flow.get("id"))


@engine
@pytest.mark.django_db
def test_scenario_plan_change_through_the_engine(ann, mobile, system):
    from telora.workflows.services import publish_flow  # noqa: F401 (the engine's loader publishes the standard flows)

    from telora.core import clock
    from telora.orders.services import create_order

    order = create_order(ann, actor=system, at=clock.now(), order_type="change_plan", subscription=mobile,
                         items=[{"product_offering": "MOB_POST_10GB"}])
    assert order.state == "completed" and order.flow_instance_id is not None
