"""Due times and timers in business time (telora:calendar="business"): the brand's weekend, holidays and
working hours; the operator's calendar; the checks on saving a flow."""

from __future__ import annotations

import datetime as dt

import pytest

from telora.core import clock
from telora.core.services import ServiceError
from telora.workflows import selectors
from telora.workflows.models import FlowInstance, HumanTask
from telora.workflows.services import publish_flow, save_flow, start_instance, wake_due
from telora.workflows.services.calendar import parse_holidays, save_calendar

pytestmark = pytest.mark.django_db

FRIDAY = dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC)  # 10:00 in Amsterdam (brand_a's timezone)


def flow_xml(due='telora:due="PT8H" telora:calendar="business"', timer='"P1D"', timer_attr='telora:calendar="business"',
             kind="timeDuration") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:telora="https://telora.org/bpmn"
                  id="defs" targetNamespace="https://telora.org/flows">
  <bpmn:process id="sla" name="SLA" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:userTask id="check" name="Check" telora:desk="backoffice" {due}/>
    <bpmn:boundaryEvent id="check_late" attachedToRef="check" cancelActivity="true" {timer_attr}>
      <bpmn:timerEventDefinition><bpmn:{kind}>{timer}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_late" sourceRef="check_late" targetRef="escalated"/>
    <bpmn:userTask id="escalated" name="Check (escalated)" telora:desk="supervisors"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="escalated" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def _start(brand, system):
    return start_instance("sla", brand=brand, data={}, actor=system, at=clock.now())


def test_due_time_and_escalation_count_business_time(time_machine, desks, brand_a, system):
    time_machine.move_to(FRIDAY, tick=False)
    publish_flow("sla", flow_xml(), actor=system, at=clock.now())
    instance = _start(brand_a, system)
    task = HumanTask.objects.get(instance=instance)
    # 8 working hours from Friday 10:00: 7 on Friday (to 17:00), 1 on Monday from 08:00 -> Monday 09:00 local
    assert task.due_at == dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
    # the escalation after 1 business day: Monday 10:00 local, not Saturday
    assert instance.wake_at == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    time_machine.move_to(dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC), tick=False)  # Sunday
    wake_due(at=clock.now())
    assert HumanTask.objects.get(pk=task.pk).state == HumanTask.OPEN
    time_machine.move_to(dt.datetime(2026, 3, 9, 9, 1, tzinfo=dt.UTC), tick=False)
    wake_due(at=clock.now())
    assert HumanTask.objects.get(pk=task.pk).state == HumanTask.CANCELLED
    assert HumanTask.objects.get(instance=instance, state=HumanTask.OPEN).element == "escalated"


def test_calendar_time_stays_the_default(time_machine, desks, brand_a, system):
    time_machine.move_to(FRIDAY, tick=False)
    publish_flow("sla", flow_xml(due='telora:due="PT8H"', timer_attr=""), actor=system, at=clock.now())
    instance = _start(brand_a, system)
    assert HumanTask.objects.get(instance=instance).due_at == FRIDAY + dt.timedelta(hours=8)
    assert instance.wake_at == FRIDAY + dt.timedelta(days=1)


def test_the_operators_holidays_and_hours_move_due_times(time_machine, desks, brand_a, system):
    time_machine.move_to(FRIDAY, tick=False)
    save_calendar(brand_a, weekend=[6, 7], opens=dt.time(9, 0), closes=dt.time(17, 0),
                  holidays=parse_holidays("2026-03-09 A local holiday\n"), actor=system, at=clock.now())
    publish_flow("sla", flow_xml(), actor=system, at=clock.now())
    instance = _start(brand_a, system)
    # Friday 10:00-17:00 is 7 h; Monday is a holiday; Tuesday from 09:00 one more hour -> 10:00 local
    assert HumanTask.objects.get(instance=instance).due_at == dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    assert FlowInstance.objects.get(pk=instance.pk).wake_at == dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def test_a_brand_without_its_own_calendar_has_its_countrys_weekend_and_shipped_holidays(make_brand):
    brand = make_brand("dk", country="DK", timezone="Europe/Copenhagen")
    calendar = selectors.calendar_for(brand)
    assert calendar.weekend == (6, 7) and dt.date(2026, 12, 24) in calendar.holidays
    assert not calendar.is_business_day(dt.date(2027, 3, 26))  # Good Friday 2027
    assert selectors.calendar_for(make_brand("xx", country="NL")).holidays == frozenset()


def test_saving_the_calendar_is_checked_and_audited(brand_a, system):
    from telora.core.models import AuditEvent

    with pytest.raises(ServiceError) as bad:
        parse_holidays("2026-13-01 Never\n")
    assert bad.value.field == "holidays" and "line 1" in str(bad.value)
    with pytest.raises(ServiceError):
        save_calendar(brand_a, weekend=[1, 2, 3, 4, 5, 6, 7], opens=dt.time(8), closes=dt.time(17), holidays=[],
                      actor=system, at=clock.now())
    with pytest.raises(ServiceError):
        save_calendar(brand_a, weekend=[6, 7], opens=dt.time(17), closes=dt.time(8), holidays=[], actor=system,
                      at=clock.now())
    save_calendar(brand_a, weekend=[7], opens=dt.time(8), closes=dt.time(16), holidays=[["2026-05-01", "May Day"]],
                  actor=system, at=clock.now())
    assert selectors.calendar_for(brand_a).weekend == (7,)
    event = AuditEvent.objects.get(object_type="workflows.businesscalendar")
    assert event.changes["holidays"][1] == [["2026-05-01", "May Day"]] and event.changes["weekend"][1] == [7]
    save_calendar(brand_a, weekend=[], opens=dt.time(8), closes=dt.time(16), holidays=[], actor=system,
                  at=clock.now())
    assert selectors.calendar_for(brand_a).weekend == ()  # open seven days a week


@pytest.mark.parametrize("xml, message", [
    (flow_xml(due='telora:due="P1M" telora:calendar="business"'), "business time"),
    (flow_xml(due='telora:due="P1D" telora:calendar="weekdays"'), "telora:calendar"),
    (flow_xml(due='telora:calendar="business"'), "without a telora:due"),
    (flow_xml(timer='"2026-04-01T00:00:00+00:00"', kind="timeDate"), "timeDuration"),
    (flow_xml(timer='"P1Y"'), "business-time timer"),
])
def test_saving_refuses_business_time_it_cannot_count(desks, system, xml, message):
    with pytest.raises(ServiceError) as refused:
        save_flow("sla", xml, actor=system, at=clock.now())
    assert message in str(refused.value) and "line" in str(refused.value)
