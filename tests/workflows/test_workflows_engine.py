"""The engine end to end on the example flow: service tasks, a desk task with its form, a message, timers,
errors to a boundary or a desk, transient retries with backoff, versions, the step log."""

from __future__ import annotations

import datetime as dt

import pytest
from workflow_samples import BEHAVIOUR, CALLS, FLOW

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services import ServiceError
from telora.workflows.models import FlowInstance, FlowStep, FlowVersion, HumanTask
from telora.workflows.registry import TaskError, register_subject, unregister_subject
from telora.workflows.services import (
    cancel_instance,
    complete_task,
    deliver_message,
    publish_flow,
    save_flow,
    start_instance,
    wake_due,
)

pytestmark = pytest.mark.django_db


def _start(brand, system, amount=150, **kw):
    return start_instance("example_activation", brand=brand, data={"amount": amount}, subject_type="tests.thing",
                          subject_id="T-1", actor=system, at=clock.now(), **kw)


def test_a_large_amount_runs_to_a_desk_then_a_message_then_a_timer(frozen, flow, brand_a, system, desks):
    instance = _start(brand_a, system)
    assert instance.state == FlowInstance.WAITING
    assert CALLS == [("example.reserve", f"{instance.pk}:{CALLS[0][1].split(':')[1]}:1", {"amount": 150})]
    task = HumanTask.objects.get(instance=instance)
    assert (task.desk.code, task.state, task.name) == ("backoffice", "open", "Approve the amount")
    assert task.due_at == clock.now() + dt.timedelta(hours=4)
    assert [f["name"] for f in task.fields] == ["approved", "channel", "note"]

    with pytest.raises(ServiceError) as bad:
        complete_task(task, data={"approved": "on", "channel": "fax"}, actor=system, at=clock.now())
    assert bad.value.field == "channel" and "not one of shop, phone" in str(bad.value)
    task.refresh_from_db()
    assert task.state == "open"

    complete_task(task, data={"approved": "on", "channel": "shop", "note": " ok "}, actor=system, at=clock.now())
    instance.refresh_from_db()
    assert instance.state == FlowInstance.WAITING and instance.waiting_messages == ["network_ack"]
    assert deliver_message("network_ack", "other-correlation", {}, at=clock.now()) == 0
    assert deliver_message("network_ack", "T-1", {"ack": "yes"}, at=clock.now()) == 1
    instance.refresh_from_db()
    assert instance.waiting_messages == [] and instance.wake_at == clock.now() + dt.timedelta(days=1)
    assert [c[0] for c in CALLS] == ["example.reserve"]

    frozen.shift(dt.timedelta(hours=23))
    assert wake_due(at=clock.now()) == 0
    frozen.shift(dt.timedelta(hours=1, seconds=1))
    assert wake_due(at=clock.now()) == 1
    instance.refresh_from_db()
    assert instance.state == FlowInstance.COMPLETED
    assert CALLS[-1] == ("example.activate", CALLS[-1][1], {"reservation": "R-150"})
    assert instance.data["activated_at"] == clock.now().isoformat()
    assert instance.data["channel"] == "shop" and instance.data["note"] == "ok" and instance.data["approved"] is True
    kinds = list(FlowStep.objects.filter(instance=instance).values_list("kind", flat=True))
    assert kinds == ["start", "service", "user", "message", "timer", "service", "end"]


def test_a_small_amount_skips_the_desk_by_the_gateway_condition(frozen, flow, brand_a, system):
    instance = _start(brand_a, system, amount=50)
    assert not HumanTask.objects.filter(instance=instance).exists()
    assert instance.waiting_messages == ["network_ack"]


def test_the_boundary_timer_escalates_the_desk_task(frozen, flow, brand_a, system):
    instance = _start(brand_a, system)
    frozen.shift(dt.timedelta(hours=2, seconds=1))
    wake_due(at=clock.now())
    first, second = HumanTask.objects.filter(instance=instance).order_by("id")
    assert (first.element, first.state) == ("approve", "cancelled")
    assert (second.element, second.desk.code, second.state) == ("supervise", "supervisors", "open")


def test_a_permanent_error_goes_to_the_error_boundary(frozen, flow, brand_a, system):
    BEHAVIOUR["example.reserve"].append(TaskError("refused", "no stock"))
    instance = _start(brand_a, system)
    assert instance.state == FlowInstance.COMPLETED
    steps = list(FlowStep.objects.filter(instance=instance).values_list("kind", "element", "error"))
    assert ("service", "reserve", "refused: no stock") in steps and ("error", "reserve", "no stock") in steps
    # the failed try's effect (an audit row written before the error) was rolled back with it
    assert not AuditEvent.objects.filter(action="reserve").exists()


def test_a_permanent_error_without_a_boundary_goes_to_the_failure_desk(frozen, flow, brand_a, system):
    BEHAVIOUR["example.activate"].append(TaskError("rejected", "the network said no"))
    instance = _start(brand_a, system, amount=50)
    deliver_message("network_ack", "T-1", {}, at=clock.now())
    frozen.shift(dt.timedelta(days=1, seconds=1))
    wake_due(at=clock.now())
    failure = HumanTask.objects.get(instance=instance, kind="failure")
    assert (failure.desk.code, failure.error) == ("backoffice", "rejected: the network said no")
    assert wake_due(at=clock.now() + dt.timedelta(days=30)) == 0  # nothing retries it behind the desk's back
    complete_task(failure, data={"action": "retry"}, actor=system, at=clock.now())
    instance.refresh_from_db()
    assert instance.state == FlowInstance.COMPLETED
    attempts = list(FlowStep.objects.filter(instance=instance, element="activate", kind="service")
                    .values_list("attempt", "error"))
    assert attempts == [(1, "rejected: the network said no"), (2, "")]


def test_abort_at_the_failure_desk_fails_the_instance(frozen, flow, brand_a, system):
    BEHAVIOUR["example.activate"].append(TaskError("rejected", "no"))
    instance = _start(brand_a, system, amount=50)
    deliver_message("network_ack", "T-1", {}, at=clock.now())
    frozen.shift(dt.timedelta(days=2))
    wake_due(at=clock.now())
    complete_task(HumanTask.objects.get(instance=instance, kind="failure"), data={"action": "abort"}, actor=system,
                  at=clock.now())
    instance.refresh_from_db()
    assert instance.state == FlowInstance.FAILED and "aborted at activate" in instance.error


def test_transient_errors_retry_with_exponential_backoff(frozen, flow, brand_a, system):
    BEHAVIOUR["example.reserve"] += [TaskError("timeout", "slow", transient=True)] * 2
    instance = _start(brand_a, system)
    assert instance.wake_at == clock.now() + dt.timedelta(seconds=30)
    frozen.shift(dt.timedelta(seconds=29))
    assert wake_due(at=clock.now()) == 0
    frozen.shift(dt.timedelta(seconds=2))
    wake_due(at=clock.now())
    instance.refresh_from_db()
    assert instance.wake_at == clock.now() + dt.timedelta(seconds=60)  # doubled
    frozen.shift(dt.timedelta(seconds=61))
    wake_due(at=clock.now())
    assert HumanTask.objects.filter(instance=instance, element="approve", state="open").exists()
    keys = list(FlowStep.objects.filter(instance=instance, kind="service").values_list("step_key", flat=True))
    assert len(set(keys)) == 3 and [k.rsplit(":", 1)[1] for k in keys] == ["1", "2", "3"]


def test_reject_with_a_reason_is_in_the_data_and_the_log(frozen, flow, brand_a, system):
    instance = _start(brand_a, system)
    task = HumanTask.objects.get(instance=instance)
    complete_task(task, data={}, reject_reason="customer withdrew", actor=system, at=clock.now())
    task.refresh_from_db()
    instance.refresh_from_db()
    assert task.state == "rejected" and instance.data["reject_reason"] == "customer withdrew"


def test_cancel_closes_desk_tasks_and_needs_a_reason(frozen, flow, brand_a, system):
    instance = _start(brand_a, system)
    with pytest.raises(ServiceError) as err:
        cancel_instance(instance, reason=" ", actor=system, at=clock.now())
    assert err.value.field == "reason"
    cancel_instance(instance, reason="duplicate", actor=system, at=clock.now())
    instance.refresh_from_db()
    assert instance.state == "cancelled"
    assert HumanTask.objects.get(instance=instance).state == "cancelled"


def test_cancel_runs_the_undo_of_every_completed_step_last_first(frozen, flow, brand_a, system):
    instance = _start(brand_a, system)
    cancel_instance(instance, reason="customer withdrew", actor=system, at=clock.now())
    instance.refresh_from_db()
    assert instance.state == "cancelled"
    assert CALLS[-1][0] == "undo example.reserve" and CALLS[-1][2] == {"reservation": "R-150"}
    step = FlowStep.objects.get(instance=instance, kind="compensate")
    assert (step.element, step.name, step.outputs) == ("reserve", "Undo: Reserve a number", {"released": "R-150"})
    kinds = list(FlowStep.objects.filter(instance=instance).values_list("kind", flat=True))
    assert kinds.index("cancel") < kinds.index("compensate")


def test_an_undo_that_fails_refuses_the_cancel_and_changes_nothing(frozen, flow, brand_a, system):
    instance = _start(brand_a, system)
    BEHAVIOUR["example.reserve.undo"].append(TaskError("down", "the store is down"))
    with pytest.raises(ServiceError, match="Reserve a number cannot be undone: the store is down"):
        cancel_instance(instance, reason="customer withdrew", actor=system, at=clock.now())
    instance.refresh_from_db()
    assert instance.state == "waiting" and HumanTask.objects.get(instance=instance).state == "open"
    assert not FlowStep.objects.filter(instance=instance, kind__in=("cancel", "compensate")).exists()


REFUSAL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:telora="https://telora.org/bpmn"
    id="d" targetNamespace="https://telora.org/flows">
  <bpmn:error id="err" name="Refused" errorCode="refused"/>
  <bpmn:process id="refusal" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="reserve" name="Reserve" telora:task="example.reserve">
      <bpmn:extensionElements><telora:input name="amount" expression="amount"/></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:userTask id="check" name="Check" telora:desk="backoffice">
      <bpmn:extensionElements>
        <telora:field name="ok" label="OK" type="checkbox"/>
        <telora:field name="refusal_reason" label="Reason" type="text"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_no"/>
    <bpmn:endEvent id="refused" name="Refused by the check"><bpmn:errorEventDefinition errorRef="err"/></bpmn:endEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Wait for the day">
      <bpmn:timerEventDefinition><bpmn:timeDate>day + "T00:00:00+00:00"</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="reserve"/>
    <bpmn:sequenceFlow id="f2" sourceRef="reserve" targetRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="wait">
      <bpmn:conditionExpression>not rejected and ok</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="refused"/>
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_an_error_end_event_fails_the_instance_with_the_reason_and_undoes_it(frozen, desks, brand_a, system):
    publish_flow("refusal", REFUSAL, actor=system, at=clock.now())
    instance = start_instance("refusal", brand=brand_a, data={"amount": 5, "day": "2026-03-05"}, actor=system,
                              at=clock.now())
    complete_task(HumanTask.objects.get(instance=instance), data={"refusal_reason": "no papers"}, actor=system,
                  at=clock.now())
    instance.refresh_from_db()
    assert instance.state == "failed" and instance.error == "Refused by the check: no papers"
    assert CALLS[-1][0] == "undo example.reserve"


def test_a_timer_date_read_from_the_data_wakes_on_that_day(frozen, desks, brand_a, system):
    publish_flow("refusal", REFUSAL, actor=system, at=clock.now())
    instance = start_instance("refusal", brand=brand_a, data={"amount": 5, "day": "2026-03-05"}, actor=system,
                              at=clock.now())
    complete_task(HumanTask.objects.get(instance=instance), data={"ok": "on"}, actor=system, at=clock.now())
    instance.refresh_from_db()
    assert instance.state == "waiting" and instance.wake_at == dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    frozen.move_to(dt.datetime(2026, 3, 5, 0, 0, 1, tzinfo=dt.UTC), tick=False)
    assert wake_due(at=clock.now()) == 1
    instance.refresh_from_db()
    assert instance.state == "completed"


def test_a_timer_date_that_is_not_a_date_stops_the_instance_with_the_reason(frozen, desks, brand_a, system):
    publish_flow("refusal", REFUSAL, actor=system, at=clock.now())
    instance = start_instance("refusal", brand=brand_a, data={"amount": 5, "day": "soon"}, actor=system,
                              at=clock.now())
    complete_task(HumanTask.objects.get(instance=instance), data={"ok": "on"}, actor=system, at=clock.now())
    instance.refresh_from_db()
    assert instance.state == "failed" and "the flow stopped" in instance.error and "soon" in instance.error


def test_subject_hook_hears_every_change(frozen, flow, brand_a, system):
    events = []
    register_subject("tests.thing", on_change=lambda inst, event: events.append((inst.subject_id, event)))
    try:
        _start(brand_a, system, amount=50)
    finally:
        unregister_subject("tests.thing")
    assert events and all(subject == "T-1" for subject, _ in events) and events[-1][1] == "waiting"


def test_an_instance_stays_on_its_version(frozen, flow, brand_a, system):
    first = _start(brand_a, system, amount=50)
    changed = FLOW.read_text().replace('name="Cool-off day"', 'name="Cool-off period"')
    second_version = publish_flow("example_activation", changed, actor=system, at=clock.now())
    assert second_version.number == 2
    second = _start(brand_a, system, amount=50)
    assert (first.version.number, second.version.number) == (1, 2)
    deliver_message("network_ack", "T-1", {}, at=clock.now())
    frozen.shift(dt.timedelta(days=2))
    wake_due(at=clock.now())
    first.refresh_from_db()
    assert first.state == "completed" and first.version_id == flow.pk
    flow.bpmn_xml = changed
    with pytest.raises(ValueError, match="published and cannot change"):
        flow.save()


def test_a_brand_flow_wins_over_the_standard_one(frozen, flow, brand_a, brand_b, system):
    own = publish_flow("example_activation", FLOW.read_text().replace("amount &gt; 100", "amount &gt; 10"),
                       brand=brand_a, actor=system, at=clock.now())
    assert _start(brand_a, system, amount=50).version == own
    assert FlowVersion.objects.get(pk=flow.pk).state == "published"


@pytest.mark.parametrize(("change", "message"), [
    (lambda x: x.replace("</bpmn:process>", "<bpmn:task id='t' </bpmn:process>"), "not well-formed XML"),
    (lambda x: x.replace("example.activate", "example.nothing"), "unknown service task 'example.nothing'"),
    (lambda x: x.replace('<telora:input name="amount" expression="amount"/>', ""), "input 'amount' of example"),
    (lambda x: x.replace('telora:desk="supervisors"', 'telora:desk="nobody"'), "desk 'nobody' does not exist"),
    (lambda x: x.replace("amount &gt; 100", "amount.__class__"), "Attribute is not allowed"),
    (lambda x: x.replace('"PT2H"', '"two hours"'), "is not an ISO 8601"),
    (lambda x: x.replace('type="checkbox"/>', 'type="colour"/>', 1), "type 'colour' is not one of"),
    (lambda x: x.replace('<bpmn:endEvent id="end"/>', '<bpmn:scriptTask id="s"><bpmn:script>import os'
                         '</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="end"/>'), "script tasks are not allowed"),
])
def test_saving_refuses_a_broken_flow_naming_line_and_element(flow, system, change, message):
    with pytest.raises(ServiceError) as err:
        save_flow("broken", change(FLOW.read_text()), actor=system, at=clock.now())
    assert err.value.field == "bpmn_xml" and message in str(err.value) and "line " in str(err.value)


TWO_DESKS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:telora="https://telora.org/bpmn"
                  id="defs" targetNamespace="https://telora.org/flows">
  <bpmn:process id="two_desks" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first"/>
    <bpmn:userTask id="first" name="First look" telora:desk="backoffice"/>
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second"/>
    <bpmn:userTask id="second" name="Second look" telora:desk="elsewhere"/>
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_desk_step_whose_next_step_cannot_be_done_stays_open(desks, brand_a, brand_b, system):
    """A desk task's completion and the steps it sets off are one transaction: when the next step cannot be
    done (its desk is missing in this brand), nothing of it is kept and the task is still open."""
    from telora.workflows.services import create_desk

    create_desk(brand_b, "elsewhere", "Elsewhere", actor=system, at=clock.now())  # the flow is valid somewhere
    publish_flow("two_desks", TWO_DESKS, actor=system, at=clock.now())
    instance = start_instance("two_desks", brand=brand_a, data={}, actor=system, at=clock.now())
    task = HumanTask.objects.get(instance=instance)
    steps = FlowStep.objects.filter(instance=instance).count()
    with pytest.raises(ServiceError, match="desk 'elsewhere' of second does not exist"):
        complete_task(task, data={}, actor=system, at=clock.now())
    task.refresh_from_db()
    instance.refresh_from_db()
    assert task.state == HumanTask.OPEN and instance.state == FlowInstance.WAITING
    assert FlowStep.objects.filter(instance=instance).count() == steps
    assert not AuditEvent.objects.filter(action="complete", object_id=str(task.pk)).exists()
