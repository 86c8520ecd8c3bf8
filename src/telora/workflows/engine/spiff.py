"""SpiffWorkflow, set up for stored flows: our parser, our script engine, our serializer, our clock.

- `TeloraParser` reads BPMN 2.0 with SpiffWorkflow's BpmnParser and our extensions (namespace
  https://telora.org/bpmn): `telora:task` and `telora:input`/`telora:output` on service tasks,
  `telora:desk` (or the lane), `telora:due` and `telora:field` on user tasks, `telora:failureDesk`
  on the process, `telora:calendar="business"` on a user task (its due time) or a timer event (its
  duration) to count in the brand's business days and working hours (core/calendar.py). Service tasks are marked manual so Spiff never runs them: the engine around it
  (services/run.py) calls the registry, records the step and completes the task itself.
- `RestrictedScriptEngine` replaces Spiff's eval/exec with the restricted evaluator: conditions,
  timer expressions and mappings go through it; script tasks are refused.
- Spiff's timers read `datetime.now()`; they are pointed at `telora.core.clock.now` so timers fire on
  the injected clock (tests move it with time-machine).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask, UserTask
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException

from telora.core.calendar import add_business_duration, parse_business_duration
from telora.workflows.engine.evaluator import ExpressionError, compile_expression, evaluate

NS = "https://telora.org/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FIELD_TYPES = ("text", "choice", "date", "number", "file", "checkbox")
MAX_XML = 1_000_000  # bytes of one flow document
BUSINESS = "business"  # telora:calendar: count in the brand's business calendar
CALENDARS = ("", "calendar", BUSINESS)


class _ClockDatetime(dt.datetime):
    """`datetime` whose now() is Telora's injected clock (only Spiff's timer module sees it)."""

    @classmethod
    def now(cls, tz=None):
        from telora.core import clock

        moment = clock.now()
        return moment.astimezone(tz) if tz else moment


spiff_timer.datetime = _ClockDatetime
# Spiff logs every task state change at INFO: far too much for a busy engine.
logging.getLogger("spiff").setLevel(logging.WARNING)


class FlowError(ValueError):
    """A flow document that cannot be used: the message names the line and the element id."""

    def __init__(self, message: str, *, line: int | None = None, element: str = ""):
        where = ", ".join(part for part in (f"line {line}" if line else "", f"element {element}" if element else "")
                          if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.line = line
        self.element = element
        self.reason = message


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff's script environment with no Python: expressions go through the restricted evaluator."""

    def evaluate(self, expression, context, external_context=None):
        data = dict(context)
        data.update(external_context or {})
        return evaluate(expression, data)

    def execute(self, script, context, external_context=None):
        raise ExpressionError("script tasks are not allowed in Telora flows (use a service task)")

    def call_service(self, context, **kwargs):
        raise ExpressionError("service tasks are run by Telora's engine, not by the script engine")


class RestrictedScriptEngine(PythonScriptEngine):
    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression):
        compile_expression(expression)


SCRIPT_ENGINE = RestrictedScriptEngine()
# Spiff's default serializer config has no plain ServiceTask (its own lives in the spiff package); the
# workflow converter is ours (below, with SERIALIZER).
_CONFIG = dict(DEFAULT_CONFIG)
_CONFIG[ServiceTask] = BpmnTaskSpecConverter


@dataclass
class TaskExtension:
    """Our extension attributes of one BPMN element, as stored with the version (JSON)."""

    element: str
    kind: str  # service, user
    name: str = ""
    line: int | None = None
    task: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    desk: str = ""
    due: str = ""
    calendar: str = ""  # "business": the due time counts business days and working hours
    fields: list[dict] = field(default_factory=list)


class TeloraParser(BpmnParser):
    """BpmnParser that also collects the telora: extensions of every service and user task."""

    def __init__(self):
        super().__init__()
        self.extensions: dict[str, dict] = {}
        self.failure_desks: dict[str, str] = {}

    def add_bpmn_xml(self, bpmn, filename=None):
        for process in bpmn.iter(f"{{{BPMN_NS}}}process"):
            self.failure_desks[process.get("id")] = process.get(f"{{{NS}}}failureDesk", "")
        lanes = {}
        for lane in bpmn.iter(f"{{{BPMN_NS}}}lane"):
            for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
                # a lane's desk: its telora:desk, else its name, else its id (the task's own telora:desk wins)
                lanes[(ref.text or "").strip()] = lane.get(f"{{{NS}}}desk") or lane.get("name") or lane.get("id")
        for node in bpmn.iter(f"{{{BPMN_NS}}}serviceTask", f"{{{BPMN_NS}}}userTask"):
            ext = _read_extension(node, lanes)
            self.extensions[ext.element] = ext.__dict__
        super().add_bpmn_xml(bpmn, filename)


def _read_extension(node, lanes) -> TaskExtension:
    element = node.get("id", "")
    kind = "service" if node.tag.endswith("serviceTask") else "user"
    ext = TaskExtension(element=element, kind=kind, name=node.get("name", "") or element, line=node.sourceline)
    items = [child for elements in node.iter(f"{{{BPMN_NS}}}extensionElements") for child in elements]
    if kind == "service":
        ext.task = node.get(f"{{{NS}}}task", "")
        for item in items:
            if item.tag == f"{{{NS}}}input":
                ext.inputs[item.get("name", "")] = item.get("expression", "")
            elif item.tag == f"{{{NS}}}output":
                ext.outputs[item.get("name", "")] = item.get("target", "") or item.get("name", "")
    else:
        ext.desk = node.get(f"{{{NS}}}desk", "") or lanes.get(element, "")
        ext.due = node.get(f"{{{NS}}}due", "")
        ext.calendar = node.get(f"{{{NS}}}calendar", "")
        for item in items:
            if item.tag == f"{{{NS}}}field":
                choices = [c.strip() for c in (item.get("choices") or "").split(",") if c.strip()]
                ext.fields.append({
                    "name": item.get("name", ""), "label": item.get("label", "") or item.get("name", ""),
                    "type": item.get("type", "text"), "required": item.get("required", "false") == "true",
                    "choices": choices, "line": item.sourceline,
                })
    return ext


@dataclass
class ParsedFlow:
    process_id: str
    spec: object
    subprocess_specs: dict
    extensions: dict[str, dict]
    failure_desk: str
    conditions: list[tuple[str, str, int | None]]  # (element id, expression, line)
    timers: list[tuple[str, str, int | None]]
    # timer event id -> (telora:calendar, timer kind: timeDuration/timeDate/timeCycle, line) where one is set
    timer_calendars: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)

    @property
    def business_timers(self) -> set[str]:
        return {element for element, (calendar, _kind, _line) in self.timer_calendars.items()
                if calendar == BUSINESS}


def parse_flow(xml: str | bytes, process_id: str | None = None) -> ParsedFlow:
    """Parse a flow document; FlowError with line and element id when it cannot be used."""
    raw = xml.encode() if isinstance(xml, str) else xml
    if len(raw) > MAX_XML:
        raise FlowError(f"the document is larger than {MAX_XML} bytes")
    try:
        root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError as exc:
        raise FlowError(f"not well-formed XML: {exc.msg}", line=exc.lineno) from None
    processes = [p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true") != "false"]
    if not processes:
        raise FlowError("the document has no executable bpmn:process")
    process = next((p for p in processes if p.get("id") == process_id), None) if process_id else processes[0]
    if process is None:
        raise FlowError(f"no process with id {process_id!r}")
    for script in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        raise FlowError("script tasks are not allowed (use a service task)", line=script.sourceline,
                        element=script.get("id", ""))
    parser = TeloraParser()
    try:
        parser.add_bpmn_xml(root, filename="flow.bpmn")
        spec = parser.get_spec(process.get("id"))
        subprocess_specs = parser.get_subprocess_specs(process.get("id"))
    except ValidationException as exc:
        raise FlowError(str(exc.args[0] if exc.args else exc), line=exc.line_number or None, element=exc.id) from None
    except (SpiffWorkflowException, ExpressionError, ValueError, KeyError) as exc:
        raise FlowError(str(exc)) from None
    for task_spec in [*spec.task_specs.values(), *(t for s in subprocess_specs.values()
                                                    for t in s.task_specs.values())]:
        if isinstance(task_spec, ServiceTask):
            task_spec.manual = True  # run by Telora's engine, never by Spiff (serialized with the state)
    conditions = []
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        for condition in flow.iter(f"{{{BPMN_NS}}}conditionExpression"):
            conditions.append((flow.get("id", ""), (condition.text or "").strip(), condition.sourceline))
    timers, timer_calendars = [], {}
    for timer in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = timer.getparent()
        for child in timer:
            timers.append((event.get("id", ""), (child.text or "").strip(), child.sourceline))
        if event.get(f"{{{NS}}}calendar"):
            kinds = [etree.QName(child).localname for child in timer if isinstance(child.tag, str)]
            timer_calendars[event.get("id", "")] = (event.get(f"{{{NS}}}calendar"), kinds[0] if kinds else "",
                                                    event.sourceline)
    return ParsedFlow(process.get("id"), spec, subprocess_specs, parser.extensions,
                      parser.failure_desks.get(process.get("id"), ""), conditions, timers, timer_calendars)


def check_flow(parsed: ParsedFlow, *, service_tasks: dict, desk_exists) -> list[FlowError]:
    """Everything wrong with a parsed flow, each naming its line and element (empty: usable).

    `service_tasks`: the registry (key -> ServiceTaskSpec); `desk_exists(code)`: whether a desk exists."""
    problems = []
    for element, expression, line in parsed.conditions:
        if not expression:
            continue
        try:
            compile_expression(expression)
        except ExpressionError as exc:
            problems.append(FlowError(f"condition {expression[:60]!r}: {exc}", line=line, element=element))
    for element, expression, line in parsed.timers:
        try:
            if data_names(expression):  # "wait until the porting date": read from the instance data when it runs
                continue
            value = evaluate(expression, {})
            spiff_timer.TimerEventDefinition.parse_time_or_duration(value) if not str(value).startswith("R") \
                else spiff_timer.TimerEventDefinition.parse_iso_recurring_interval(value)
        except (ExpressionError, ValueError, TypeError, AttributeError) as exc:
            problems.append(FlowError(f"timer {expression[:60]!r} is not an ISO 8601 date or duration "
                                      f"written as a quoted string: {exc}", line=line, element=element))
    for ext in parsed.extensions.values():
        line, element = ext["line"], ext["element"]
        if ext["kind"] == "service":
            spec = service_tasks.get(ext["task"])
            if not ext["task"]:
                problems.append(FlowError("service task without telora:task", line=line, element=element))
            elif spec is None:
                problems.append(FlowError(f"unknown service task {ext['task']!r}", line=line, element=element))
            else:
                for name in spec.inputs:
                    if name not in ext["inputs"]:
                        problems.append(FlowError(f"input {name!r} of {ext['task']} is not mapped",
                                                  line=line, element=element))
                for name in ext["inputs"]:
                    if name not in spec.inputs:
                        problems.append(FlowError(f"{ext['task']} has no input {name!r}", line=line, element=element))
                for name in ext["outputs"]:
                    if name not in spec.outputs:
                        problems.append(FlowError(f"{ext['task']} has no output {name!r}", line=line, element=element))
            for name, expression in ext["inputs"].items():
                try:
                    compile_expression(expression)
                except ExpressionError as exc:
                    problems.append(FlowError(f"input {name!r}: {exc}", line=line, element=element))
        else:
            if not ext["desk"]:
                problems.append(FlowError("user task without a desk (telora:desk or a lane)", line=line,
                                          element=element))
            elif not desk_exists(ext["desk"]):
                problems.append(FlowError(f"desk {ext['desk']!r} does not exist", line=line, element=element))
            calendar = ext.get("calendar", "")
            if calendar not in CALENDARS:
                problems.append(FlowError(f"telora:calendar {calendar!r} is not \"business\" or \"calendar\"",
                                          line=line, element=element))
            if ext["due"] and calendar == BUSINESS:
                try:
                    parse_business_duration(ext["due"])
                except ValueError as exc:
                    problems.append(FlowError(f"telora:due in business time: {exc}", line=line, element=element))
            elif ext["due"]:
                try:
                    spiff_timer.TimerEventDefinition.parse_iso_duration(ext["due"])
                except Exception:  # noqa: BLE001 - Spiff raises a bare Exception for a bad duration
                    problems.append(FlowError(f"telora:due {ext['due']!r} is not an ISO 8601 duration",
                                              line=line, element=element))
            elif calendar == BUSINESS:
                problems.append(FlowError("telora:calendar=\"business\" without a telora:due", line=line,
                                          element=element))
            for item in ext["fields"]:
                if not item["name"] or not item["name"].isidentifier() or item["name"].startswith("_"):
                    problems.append(FlowError(f"form field name {item['name']!r} is not a plain name",
                                              line=item["line"], element=element))
                if item["type"] not in FIELD_TYPES:
                    problems.append(FlowError(f"form field {item['name']!r}: type {item['type']!r} is not one of "
                                              f"{', '.join(FIELD_TYPES)}", line=item["line"], element=element))
                if item["type"] == "choice" and not item["choices"]:
                    problems.append(FlowError(f"form field {item['name']!r}: a choice needs choices",
                                              line=item["line"], element=element))
    expressions = {element: expression for element, expression, _line in parsed.timers}
    for element, (calendar, kind, line) in parsed.timer_calendars.items():
        if calendar not in CALENDARS:
            problems.append(FlowError(f"telora:calendar {calendar!r} is not \"business\" or \"calendar\"",
                                      line=line, element=element))
        elif calendar == BUSINESS:
            try:
                if kind != "timeDuration":
                    raise ValueError("a business-time timer is a duration (timeDuration), not a date or a cycle")
                parse_business_duration(str(evaluate(expressions.get(element, ""), {})))
            except (ExpressionError, ValueError, TypeError) as exc:
                problems.append(FlowError(f"business-time timer: {exc}", line=line, element=element))
    if parsed.failure_desk and not desk_exists(parsed.failure_desk):
        problems.append(FlowError(f"failure desk {parsed.failure_desk!r} does not exist", element=parsed.process_id))
    return problems


def data_names(expression: str) -> set[str]:
    """The names of instance data an expression reads (its functions excluded); compiles it first."""
    import ast

    from telora.workflows.engine.evaluator import FUNCTIONS

    tree = compile_expression(expression)
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in FUNCTIONS}


def error_end(workflow: BpmnWorkflow):
    """The error end event a completed workflow ended at (a refusal drawn in the flow), else None."""
    from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
    from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
    from SpiffWorkflow.util.task import TaskState

    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if isinstance(task.task_spec, EndEvent) and isinstance(task.task_spec.event_definition, ErrorEventDefinition):
            return task
    return None


_FLOWS: dict[int, ParsedFlow] = {}


def flow_of(version) -> ParsedFlow:
    """The parsed flow of a stored version (anything with pk, bpmn_xml and process_id), parsed once per
    process: published versions never change."""
    parsed = _FLOWS.get(version.pk)
    if parsed is None:
        parsed = _FLOWS[version.pk] = parse_flow(version.bpmn_xml, version.process_id)
    return parsed


def remember_flow(version, parsed: ParsedFlow) -> None:
    """Keep the parse of a version just published (its document checked): `flow_of` needs no other."""
    _FLOWS.setdefault(version.pk, parsed)


def new_workflow(parsed: ParsedFlow, version=None) -> BpmnWorkflow:
    """A new workflow of the parsed flow; with the `version` it came from, its state names the version
    instead of carrying the flow's spec (see `dump`)."""
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=SCRIPT_ENGINE)
    workflow.telora_version = getattr(version, "pk", None)
    return workflow


class _WorkflowConverter(BpmnWorkflowConverter):
    """Spiff's workflow converter, writing the spec of a workflow that knows its flow version as a
    reference ({"telora_version": pk}): the spec is the same for every instance of the version, a third
    of the state's size and of the time to write and read it. `load` puts the cached spec back."""

    def to_dict(self, workflow):
        version = getattr(workflow, "telora_version", None)
        if version is None:
            return super().to_dict(workflow)
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = {"telora_version": version}
        dct["subprocess_specs"] = {}
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


_CONFIG[BpmnWorkflow] = _WorkflowConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dump(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)


def load(state: str, version=None) -> BpmnWorkflow:
    """The workflow of a saved state. `version`: the instance's flow version, needed for a state that
    names it instead of carrying its spec (an older state carrying the spec loads either way)."""
    dct = json.loads(state)
    SERIALIZER.migrate(dct)
    spec = dct.get("spec") or {}
    if "telora_version" in spec:
        if version is None or version.pk != spec["telora_version"]:
            raise ValueError(f"this state belongs to flow version {spec['telora_version']}")
        parsed = flow_of(version)
        dct["spec"], dct["subprocess_specs"] = parsed.spec, dict(parsed.subprocess_specs)
    workflow = SERIALIZER.from_dict(dct)
    workflow.telora_version = getattr(version, "pk", None)
    workflow.script_engine = SCRIPT_ENGINE
    for sub in workflow.subprocesses.values():
        sub.script_engine = SCRIPT_ENGINE
    return workflow


def catch_message(workflow: BpmnWorkflow, name: str, payload: dict) -> int:
    """Deliver message `name` with its payload to the tasks waiting for it now; how many caught it.

    Not `workflow.catch`: it hands the message to every unfinished task that catches it, and in a flow that
    loops back to a message wait Spiff has already predicted the wait of the next lap (a MAYBE task on the
    loop's branch). That task caught the message too, became ready and ran at once with the payload as its
    only data (its parent had not run), so the next lap never waited. Only WAITING tasks are on the path
    the instance is on, with one exception: the events after a waiting event-based gateway are predicted
    tasks (MAYBE) that must catch for the gateway to take their branch."""
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
    from SpiffWorkflow.bpmn.util import BpmnEvent
    from SpiffWorkflow.util.task import TaskState

    def on_the_path(task) -> bool:
        parent = task.parent
        return task.state == TaskState.WAITING or (
            parent is not None and parent.state == TaskState.WAITING and isinstance(parent.task_spec, EventBasedGateway))

    event = BpmnEvent(MessageEventDefinition(name), payload=payload)
    workflow.update_collaboration(event)
    tasks = [task for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK, catches_event=event)
             if on_the_path(task)]
    for task in tasks:
        task.task_spec.catch(task, event)
    if tasks:
        workflow.refresh_waiting_tasks()
    return len(tasks)


def waiting_messages(workflow: BpmnWorkflow) -> set[str]:
    """The messages the instance waits for now: its waiting catch events', and those of the events after a
    waiting event-based gateway (predicted MAYBE tasks, which Spiff's `waiting_events` does not list), so
    that a message racing a timer ("the donor answers" or "the deadline") reaches the instance."""
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
    from SpiffWorkflow.util.task import TaskState

    names = {w.name for w in workflow.waiting_events() if w.event_type == "MessageEventDefinition"}
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if isinstance(task.task_spec, EventBasedGateway):
            for child in task.children:
                definition = getattr(child.task_spec, "event_definition", None)
                if isinstance(definition, MessageEventDefinition):
                    names.add(definition.name)
    return names


def settle_event_gateways(workflow: BpmnWorkflow) -> bool:
    """An event-based gateway whose event fired through its branch (a timer of a predicted MAYBE task, as
    Telora's timer job fires it) is left WAITING by Spiff with its other branches still open, so the flow
    never ends: here the branches that did not fire are cancelled and the gateway completes, as BPMN says
    (the first event wins). True when something changed (run the engine again)."""
    from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
    from SpiffWorkflow.util.task import TaskState

    changed = False
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if not isinstance(task.task_spec, EventBasedGateway):
            continue
        fired = [child for child in task.children if child.internal_data.get("event_fired")]
        if not fired:
            continue
        for child in task.children:
            if child not in fired:
                child.cancel()
        task._set_state(TaskState.COMPLETED)
        changed = True
    return changed


def due_at(duration: str, *, start: dt.datetime, calendar: str = "", business=None) -> dt.datetime:
    """When a desk task that starts at `start` is due: `duration` in calendar time, or in the brand's
    business calendar (`business`: a core.calendar.BusinessCalendar) when `calendar` is "business"."""
    if calendar == BUSINESS and business is not None:
        return add_business_duration(start, duration, business)
    return start + due_delta(duration)


def business_timers(parsed: ParsedFlow, workflow: BpmnWorkflow, business) -> int:
    """Re-time the waiting business-time timers Spiff has just started: Spiff set them to start + the
    duration in calendar time; they become start + the duration in the brand's business calendar. Each is
    re-timed once (marked in the task's internal data); how many were. `business`: the calendar, or a
    function returning it (called only when a timer is to be re-timed)."""
    elements = parsed.business_timers
    if not elements:
        return 0
    from SpiffWorkflow.util.task import TaskState

    done = 0
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if task.task_spec.bpmn_id not in elements or task._get_internal_data("telora_business"):
            continue
        definition = getattr(task.task_spec, "event_definition", None)
        value = task._get_internal_data("event_value")
        if not isinstance(definition, spiff_timer.DurationTimerEventDefinition) or value is None:
            continue
        duration = str(task.workflow.script_engine.evaluate(task, definition.expression))
        days, working = parse_business_duration(duration)
        started = spiff_timer.TimerEventDefinition.get_datetime(value) - dt.timedelta(days=days) - working
        if callable(business):
            business = business()
        end = add_business_duration(started, duration, business)
        task._set_internal_data(event_value=end.isoformat(), telora_business=True)
        done += 1
    return done


def due_label(ext: dict) -> str:
    """A user task's due time as the docs and the diff show it: "PT4H", or "PT4H business" in business time."""
    due = ext.get("due", "")
    return f"{due} business" if due and ext.get("calendar") == BUSINESS else due


def due_delta(duration: str) -> dt.timedelta:
    """An ISO 8601 duration as a timedelta from now (months and years from the injected clock)."""
    return spiff_timer.TimerEventDefinition.get_timedelta_from_start(
        spiff_timer.TimerEventDefinition.parse_iso_duration(duration))


__all__ = ["UserTask", "ServiceTask", "FlowError", "parse_flow", "check_flow", "flow_of", "new_workflow", "dump",
           "load", "catch_message"]
