"""What changed between two versions of a flow: steps added, removed and changed.

`flow_steps(xml)` reads a flow's steps (with our extensions) into plain values; `diff_flows(old, new)`
compares two such readings and touches nothing else, so it is tested without a database. Steps are
matched by their BPMN element id (the builder keeps ids when a step is renamed or edited).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from telora.workflows.engine.spiff import BPMN_NS, NS, due_label, parse_flow

# The parts of a step that count as a change, in the order a change is listed.
ASPECTS = ("name", "type", "desk", "due", "service_task", "inputs", "outputs", "fields", "conditions", "timers",
           "next")
_NOT_STEPS = {"sequenceFlow", "laneSet", "extensionElements", "documentation", "textAnnotation", "association",
              "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification", "property"}


@dataclass(frozen=True)
class Step:
    element: str
    name: str = ""
    type: str = ""
    desk: str = ""
    due: str = ""
    service_task: str = ""
    inputs: tuple = ()       # ((name, expression), ...) sorted
    outputs: tuple = ()      # ((name, target), ...) sorted
    fields: tuple = ()       # ((name, label, type, required, choices), ...) in form order
    conditions: tuple = ()   # ((target, expression), ...) of its outgoing conditional flows, sorted
    timers: tuple = ()       # timer expressions of the step and of timer events attached to it
    next: tuple = ()         # targets of its outgoing flows, sorted


@dataclass(frozen=True)
class Change:
    aspect: str
    old: object
    new: object


@dataclass
class FlowDiff:
    added: list[Step] = field(default_factory=list)
    removed: list[Step] = field(default_factory=list)
    changed: list[tuple[Step, Step, list[Change]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def flow_steps(xml: str, process_id: str | None = None) -> dict[str, Step]:
    """The steps of a flow document by element id (the document must parse: FlowError otherwise)."""
    parsed = parse_flow(xml, process_id)
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml,
                            etree.XMLParser(resolve_entities=False, no_network=True))
    process = next(p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == parsed.process_id)
    timers: dict[str, list[str]] = {}
    business = parsed.business_timers
    for element, expression, _line in parsed.timers:
        timers.setdefault(element, []).append(expression + (" business" if element in business else ""))
    outgoing: dict[str, list[str]] = {}
    conditions: dict[str, list[tuple[str, str]]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        outgoing.setdefault(source, []).append(target)
        for condition in flow.iter(f"{{{BPMN_NS}}}conditionExpression"):
            conditions.setdefault(source, []).append((target, (condition.text or "").strip()))
    attached: dict[str, list[str]] = {}
    for boundary in process.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        attached.setdefault(boundary.get("attachedToRef", ""), []).append(boundary.get("id", ""))
    steps = {}
    for node in process.iter():
        if not isinstance(node.tag, str) or node is process:
            continue
        tag = etree.QName(node).localname
        if etree.QName(node).namespace != BPMN_NS or tag in _NOT_STEPS or not node.get("id"):
            continue
        if tag.endswith("EventDefinition") or tag in ("conditionExpression", "incoming", "outgoing", "flowNodeRef",
                                                      "lane", "timeDuration", "timeDate", "timeCycle"):
            continue
        element = node.get("id")
        ext = parsed.extensions.get(element, {})
        step_timers = list(timers.get(element, []))
        for boundary in attached.get(element, []):
            step_timers += [f"{boundary}: {t}" for t in timers.get(boundary, [])]
        steps[element] = Step(
            element=element, name=node.get("name", ""), type=tag, desk=ext.get("desk", ""), due=due_label(ext),
            service_task=ext.get("task", "") or node.get(f"{{{NS}}}task", ""),
            inputs=tuple(sorted(ext.get("inputs", {}).items())), outputs=tuple(sorted(ext.get("outputs", {}).items())),
            fields=tuple((f["name"], f["label"], f["type"], f["required"], tuple(f["choices"]))
                         for f in ext.get("fields", [])),
            conditions=tuple(sorted(conditions.get(element, []))), timers=tuple(step_timers),
            next=tuple(sorted(outgoing.get(element, []))))
    return steps


def diff_flows(old: dict[str, Step], new: dict[str, Step]) -> FlowDiff:
    """Steps only in `new` (added), only in `old` (removed), and in both with what differs (changed)."""
    result = FlowDiff()
    for element, step in new.items():
        if element not in old:
            result.added.append(step)
    for element, step in old.items():
        if element not in new:
            result.removed.append(step)
            continue
        after = new[element]
        changes = [Change(aspect, getattr(step, aspect), getattr(after, aspect)) for aspect in ASPECTS
                   if getattr(step, aspect) != getattr(after, aspect)]
        if changes:
            result.changed.append((step, after, changes))
    return result


def show(aspect: str, value) -> str:
    """A changed value as one line of text for the diff page."""
    if aspect in ("inputs", "outputs"):
        return ", ".join(f"{name} = {expression}" for name, expression in value) or "—"
    if aspect == "fields":
        return ", ".join(f"{name} ({kind}{', required' if required else ''})"
                         for name, _label, kind, required, _choices in value) or "—"
    if aspect == "conditions":
        return "; ".join(f"→ {target} if {expression}" for target, expression in value) or "—"
    if aspect in ("timers", "next"):
        return ", ".join(value) or "—"
    return str(value) if value not in ("", None) else "—"
