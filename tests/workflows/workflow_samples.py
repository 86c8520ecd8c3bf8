"""The example flow and its service tasks (their behaviour set per test), shared by the workflow tests.

A module of its own, not conftest: `from conftest import ...` takes whichever conftest was imported
last when several test folders are collected together."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from telora.workflows.registry import service_task

FLOW = Path(__file__).resolve().parents[2] / "src/telora/workflows/flows/example_activation.bpmn"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

# What the example service tasks do next: a list of exceptions to raise before succeeding.
BEHAVIOUR: dict[str, list] = {"example.reserve": [], "example.activate": [], "example.reserve.undo": []}
CALLS: list[tuple[str, str, dict]] = []
FRESH: list[tuple[str, bool]] = []  # (step key, ctx.fresh) of every try of example.reserve and example.count


def _next_failure(key):
    if BEHAVIOUR[key]:
        raise BEHAVIOUR[key].pop(0)


def undo_reserve(ctx, *, inputs, outputs):
    """The compensation of example.reserve: what a cancel runs for each completed reserve."""
    _next_failure("example.reserve.undo")
    CALLS.append(("undo example.reserve", ctx.step_key, {"reservation": outputs.get("reservation")}))
    return {"released": outputs.get("reservation", "")}


@service_task("example.reserve", inputs={"amount": int}, outputs={"reservation": str},
              description="Reserve something for the amount (test task)", undo=undo_reserve,
              undo_description="release the reservation")
def reserve(ctx, *, amount):
    from telora.core.services import Actor
    from telora.core.services.audit import record_event

    # An effect in the step's transaction: an audit row that must vanish when the try fails.
    record_event(actor=Actor.system("example"), at=ctx.at, action="reserve", obj=ctx.instance,
                 brand=ctx.brand, message=ctx.step_key)
    FRESH.append((ctx.step_key, ctx.fresh))
    _next_failure("example.reserve")
    CALLS.append(("example.reserve", ctx.step_key, {"amount": amount}))
    return {"reservation": f"R-{amount}"}


@service_task("example.activate", inputs={"reservation": str}, outputs={"activated_at": str},
              description="Activate the reservation (test task)")
def activate(ctx, *, reservation):
    _next_failure("example.activate")
    CALLS.append(("example.activate", ctx.step_key, {"reservation": reservation}))
    return {"activated_at": ctx.at.isoformat()}



@service_task("example.count", inputs={"n": int}, outputs={"n": int}, description="Add one to n (test task)")
def count(ctx, *, n):
    FRESH.append((ctx.step_key, ctx.fresh))
    CALLS.append(("example.count", ctx.step_key, {"n": n}))
    return {"n": n + 1}


# A flow that loops back to a message wait it has already passed: each "ping" counts once, until n reaches 2.
PING_LOOP_FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:telora="https://telora.org/bpmn"
    id="defs_ping_loop" targetNamespace="https://telora.org/flows">
  <bpmn:message id="msg_ping" name="ping"/>
  <bpmn:process id="ping_loop" name="Ping loop" isExecutable="true">
    <bpmn:startEvent id="start" name="Start"/>
    <bpmn:intermediateCatchEvent id="wait_ping" name="Wait for ping">
      <bpmn:messageEventDefinition messageRef="msg_ping"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:serviceTask id="count" name="Count" telora:task="example.count">
      <bpmn:extensionElements>
        <telora:input name="n" expression="n"/>
        <telora:output name="n" target="n"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:exclusiveGateway id="enough" name="Enough pings?" default="f_done"/>
    <bpmn:endEvent id="end" name="End"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_ping"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_ping" targetRef="count"/>
    <bpmn:sequenceFlow id="f3" sourceRef="count" targetRef="enough"/>
    <bpmn:sequenceFlow id="f_again" sourceRef="enough" targetRef="wait_ping">
      <bpmn:conditionExpression>n &lt; 2</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_done" sourceRef="enough" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""



# A flow whose desks come from BPMN lanes (a pool with two lanes, drawn): "review" sits in the back-office
# lane and has no desk of its own; "sign_off" has its own telora:desk, which wins over its lane's.
LANES_FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:telora="https://telora.org/bpmn"
    id="defs_lanes" targetNamespace="https://telora.org/flows">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool" name="Lanes example" processRef="lanes_example"/>
  </bpmn:collaboration>
  <bpmn:process id="lanes_example" name="Lanes example" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_back" name="Back office" telora:desk="backoffice">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_sup" name="Supervisors" telora:desk="supervisors">
        <bpmn:flowNodeRef>sign_off</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Start"/>
    <bpmn:userTask id="review" name="Review"/>
    <bpmn:userTask id="sign_off" name="Sign off" telora:desk="backoffice"/>
    <bpmn:endEvent id="end" name="End"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="sign_off"/>
    <bpmn:sequenceFlow id="f3" sourceRef="sign_off" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="collab">
      <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true">
        <dc:Bounds x="100" y="50" width="800" height="400"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_back_di" bpmnElement="lane_back" isHorizontal="true">
        <dc:Bounds x="130" y="50" width="770" height="200"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_sup_di" bpmnElement="lane_sup" isHorizontal="true">
        <dc:Bounds x="130" y="250" width="770" height="200"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="132" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="review_di" bpmnElement="review"><dc:Bounds x="280" y="110" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="sign_off_di" bpmnElement="sign_off"><dc:Bounds x="480" y="310" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="720" y="132" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="216" y="150"/><di:waypoint x="280" y="150"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="380" y="150"/><di:waypoint x="430" y="150"/><di:waypoint x="430" y="350"/><di:waypoint x="480" y="350"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="580" y="350"/><di:waypoint x="650" y="350"/><di:waypoint x="650" y="150"/><di:waypoint x="720" y="150"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
