"""A flow that loops back to a message wait it has already passed waits again for a new message: the
first message is caught by the wait that is waiting, not by the wait Spiff predicts on the loop's branch."""

from __future__ import annotations

import pytest
from workflow_samples import CALLS, PING_LOOP_FLOW

from telora.core import clock
from telora.workflows.models import FlowInstance, FlowStep
from telora.workflows.services import deliver_message, publish_flow, start_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def ping_loop(frozen, system):
    return publish_flow("ping_loop", PING_LOOP_FLOW, actor=system, at=clock.now())


def _start(brand, system):
    return start_instance("ping_loop", brand=brand, data={"n": 0, "order": "O-7"}, subject_type="tests.thing",
                          subject_id="T-1", actor=system, at=clock.now())


def test_a_loop_back_to_a_message_wait_waits_for_the_next_message(ping_loop, brand_a, system):
    instance = _start(brand_a, system)
    assert instance.state == FlowInstance.WAITING and instance.waiting_messages == ["ping"]
    assert CALLS == []

    assert deliver_message("ping", "T-1", {"seen": 1}, at=clock.now()) == 1
    instance.refresh_from_db()
    assert [(c[0], c[2]) for c in CALLS] == [("example.count", {"n": 0})]
    assert instance.state == FlowInstance.WAITING and instance.waiting_messages == ["ping"]
    assert instance.data == {"n": 1, "order": "O-7", "seen": 1}

    assert deliver_message("ping", "T-1", {"seen": 2}, at=clock.now()) == 1
    instance.refresh_from_db()
    assert [(c[0], c[2]) for c in CALLS] == [("example.count", {"n": 0}), ("example.count", {"n": 1})]
    assert instance.state == FlowInstance.COMPLETED and instance.waiting_messages == []
    assert instance.data == {"n": 2, "order": "O-7", "seen": 2}
    kinds = list(FlowStep.objects.filter(instance=instance).values_list("kind", flat=True))
    assert kinds == ["start", "message", "service", "message", "service", "end"]


def test_a_message_nobody_waits_for_after_the_loop_ends_resumes_nothing(ping_loop, brand_a, system):
    instance = _start(brand_a, system)
    deliver_message("ping", "T-1", {}, at=clock.now())
    deliver_message("ping", "T-1", {}, at=clock.now())
    assert deliver_message("ping", "T-1", {}, at=clock.now()) == 0
    instance.refresh_from_db()
    assert instance.state == FlowInstance.COMPLETED and len(CALLS) == 2


EVENT_GATEWAY_FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="https://telora.org/flows">
  <bpmn:message id="msg_ping" name="ping"/>
  <bpmn:message id="msg_pong" name="pong"/>
  <bpmn:process id="first_answer" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:eventBasedGateway id="which"/>
    <bpmn:intermediateCatchEvent id="got_ping"><bpmn:messageEventDefinition messageRef="msg_ping"/></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="got_pong"><bpmn:messageEventDefinition messageRef="msg_pong"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end_ping"/>
    <bpmn:endEvent id="end_pong"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="which"/>
    <bpmn:sequenceFlow id="f2" sourceRef="which" targetRef="got_ping"/>
    <bpmn:sequenceFlow id="f3" sourceRef="which" targetRef="got_pong"/>
    <bpmn:sequenceFlow id="f4" sourceRef="got_ping" targetRef="end_ping"/>
    <bpmn:sequenceFlow id="f5" sourceRef="got_pong" targetRef="end_pong"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_events_after_a_waiting_event_gateway_still_catch_their_message():
    from SpiffWorkflow.util.task import TaskState

    from telora.workflows.engine import spiff

    workflow = spiff.new_workflow(spiff.parse_flow(EVENT_GATEWAY_FLOW))
    workflow.do_engine_steps()
    assert spiff.catch_message(workflow, "pong", {"answer": "late"}) == 2  # the gateway and its pong branch
    workflow.do_engine_steps()
    done = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}
    assert workflow.is_completed() and {"got_pong", "end_pong"} <= done and "got_ping" not in done
