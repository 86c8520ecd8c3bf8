"""Workflows: instances of a small flow (2 service tasks + 1 desk task completed by the script) per second,
step latency p50/p95/p99, against the baseline of an empty flow (start -> end) in the same run."""

from __future__ import annotations

from run import Timer

INSTANCES = 300
NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:telora="https://telora.org/bpmn"'
SMALL = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="https://telora.org/flows">
  <bpmn:process id="bench_small" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="one"/>
    <bpmn:serviceTask id="one" telora:task="bench.one"><bpmn:extensionElements>
      <telora:input name="n" expression="n"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="one" targetRef="check"/>
    <bpmn:userTask id="check" name="Check" telora:desk="bench" telora:due="PT4H"><bpmn:extensionElements>
      <telora:field name="ok" type="checkbox"/></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f5"/>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="two"><bpmn:conditionExpression>ok and doubled &gt; 0</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="end"/>
    <bpmn:serviceTask id="two" telora:task="bench.two"><bpmn:extensionElements>
      <telora:input name="doubled" expression="doubled"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f6" sourceRef="two" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""
EMPTY = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="https://telora.org/flows">
  <bpmn:process id="bench_empty" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def run(report) -> None:
    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.workflows.models import FlowInstance, HumanTask
    from telora.workflows.registry import service_task
    from telora.workflows.services import complete_task, create_desk, publish_flow, start_instance

    @service_task("bench.one", inputs={"n": int}, outputs={"doubled": int})
    def one(ctx, *, n):
        return {"doubled": n * 2}

    @service_task("bench.two", inputs={"doubled": int}, outputs={"done": bool})
    def two(ctx, *, doubled):
        return {"done": True}

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="wf", name="Workflow bench", currency="EUR",
                         timezone="Europe/Amsterdam", country="NL")
    create_desk(brand, "bench", "Bench desk", actor=system, at=clock.now())
    publish_flow("bench_small", SMALL, actor=system, at=clock.now())
    publish_flow("bench_empty", EMPTY, actor=system, at=clock.now())
    size = f"{INSTANCES} instances"

    with Timer() as base:
        for n in range(INSTANCES):
            start_instance("bench_empty", brand=brand, data={"n": n}, actor=system, at=clock.now())
    baseline = INSTANCES / base.seconds
    report.figure("empty flow (start -> end) instances", baseline, "inst/s", size)

    starts, completions = [], []
    with Timer() as total:
        for n in range(INSTANCES):
            with Timer() as t:
                instance = start_instance("bench_small", brand=brand, data={"n": n + 1}, actor=system,
                                          at=clock.now())
            starts.append(t.seconds)
            task = HumanTask.objects.get(instance=instance)
            with Timer() as t:
                complete_task(task, data={"ok": "on"}, actor=system, at=clock.now())
            completions.append(t.seconds)
    done = FlowInstance.objects.filter(version__definition__key="bench_small", state="completed").count()
    assert done == INSTANCES, done
    rate = INSTANCES / total.seconds
    report.figure("small flow (2 service + 1 desk task) instances", rate, "inst/s", size)
    report.figure("ratio small flow / empty flow", rate / baseline, "x", size)
    report.latencies("start -> first service task -> desk", starts, size)
    report.latencies("desk completion -> service task -> end", completions, size)
