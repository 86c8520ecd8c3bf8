"""Diagrams of flows: a plain left-to-right layout for documents without one, and the path an instance took.

bpmn-js draws only what a document's diagram interchange (BPMNDI) places; the shipped flows are written by
hand without it. `with_layout` adds one: each step in the column of its longest path from the start, the
steps of a column one under the other, boundary events on their task's lower edge, sequence flows as
right-angled lines. A document that has a diagram keeps its own. `instance_path` reads which elements an
instance completed and where it waits, from its saved state, for the viewer to mark.
"""

from __future__ import annotations

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent")
GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway")
TASKS = ("task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask",
         "businessRuleTask", "callActivity", "subProcess")
SIZE = {"event": (36, 36), "gateway": (50, 50), "task": (110, 80)}
COLUMN, ROW, MARGIN = 170, 130, 40


def _kind(tag: str) -> str | None:
    if tag in EVENTS or tag == "boundaryEvent":
        return "event"
    if tag in GATEWAYS:
        return "gateway"
    return "task" if tag in TASKS else None


def _columns(nodes: list[str], edges: list[tuple[str, str, str]], starts: list[str]) -> dict[str, int]:
    """Longest-path column of each node, loops cut where a depth-first walk from the starts meets them."""
    after: dict[str, list[str]] = {n: [] for n in nodes}
    for _id, source, target in edges:
        if source in after and target in after:
            after[source].append(target)
    back, seen, active = set(), set(), set()

    def walk(node: str) -> None:  # iterative enough for flows of a few hundred steps
        seen.add(node)
        active.add(node)
        for nxt in after[node]:
            if nxt in active:
                back.add((node, nxt))
            elif nxt not in seen:
                walk(nxt)
        active.discard(node)

    for node in starts + nodes:
        if node not in seen:
            walk(node)
    column = {n: 0 for n in nodes}
    for _ in range(len(nodes)):
        moved = False
        for source, targets in after.items():
            for target in targets:
                if (source, target) not in back and column[target] < column[source] + 1:
                    column[target] = column[source] + 1
                    moved = True
        if not moved:
            break
    return column


def with_layout(xml: str) -> str:
    """The document with a diagram for its first process (unchanged when it has one or cannot be read)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(xml.encode(), parser)
    except etree.XMLSyntaxError:
        return xml
    process = root.find(f"{{{BPMN}}}process")
    if process is None or root.find(f"{{{BPMNDI}}}BPMNDiagram") is not None:
        return xml
    kinds, boundaries, edges = {}, [], []
    for node in process:
        tag = etree.QName(node).localname
        if tag == "sequenceFlow":
            edges.append((node.get("id"), node.get("sourceRef"), node.get("targetRef")))
        elif tag == "boundaryEvent":
            boundaries.append((node.get("id"), node.get("attachedToRef")))
        elif _kind(tag) and node.get("id"):
            kinds[node.get("id")] = _kind(tag)
    order = list(kinds)
    starts = [n.get("id") for n in process if etree.QName(n).localname == "startEvent"]
    column = _columns(order, edges, starts)
    # A boundary event's outgoing flows start from its task's column.
    for event, host in boundaries:
        for _flow, source, target in edges:
            if source == event and host in column and target in column and column[target] <= column[host]:
                column[target] = column[host] + 1
    rows: dict[int, int] = {}
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for node in order:
        c = column[node]
        r = rows[c] = rows.get(c, -1) + 1
        width, height = SIZE[kinds[node]]
        bounds[node] = (MARGIN + c * COLUMN + (110 - width) / 2, MARGIN + r * ROW + (80 - height) / 2, width, height)
    placed_on: dict[str, int] = {}
    for event, host in boundaries:
        if host not in bounds:
            continue
        x, y, width, height = bounds[host]
        k = placed_on[host] = placed_on.get(host, -1) + 1
        bounds[event] = (x + width - 30 - 40 * k, y + height - 18, 36, 36)
    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id=f"{process.get('id')}_diagram",
                               nsmap={"bpmndi": BPMNDI, "dc": DC, "di": DI})
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"{process.get('id')}_plane",
                             bpmnElement=process.get("id"))
    for node, (x, y, width, height) in bounds.items():
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{node}_di", bpmnElement=node)
        etree.SubElement(shape, f"{{{DC}}}Bounds", x=f"{x:.0f}", y=f"{y:.0f}", width=str(width), height=str(height))
    for flow, source, target in edges:
        if source not in bounds or target not in bounds:
            continue
        sx, sy, sw, sh = bounds[source]
        tx, ty, tw, th = bounds[target]
        start, end = (sx + sw, sy + sh / 2), (tx, ty + th / 2)
        if source in dict(boundaries):
            start = (sx + sw / 2, sy + sh)
            points = [start, (start[0], end[1]), end]
        elif end[0] <= start[0]:  # a loop back: under the row
            low = max(sy + sh, ty + th) + 25
            points = [(sx + sw / 2, sy + sh), (sx + sw / 2, low), (tx + tw / 2, low), (tx + tw / 2, ty + th)]
        elif abs(start[1] - end[1]) < 1:
            points = [start, end]
        else:
            middle = (start[0] + end[0]) / 2
            points = [start, (middle, start[1]), (middle, end[1]), end]
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow}_di", bpmnElement=flow)
        for x, y in points:
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=f"{x:.0f}", y=f"{y:.0f}")
    return etree.tostring(root, encoding="unicode")


def instance_path(instance) -> dict[str, list[str]]:
    """The BPMN elements the instance completed ("done"), where it waits ("current"), and the sequence flows
    it took ("flows": both ends done, or from a done element to a current one), from its saved state."""
    from SpiffWorkflow.util.task import TaskState

    from telora.workflows.engine import spiff

    try:
        workflow = spiff.load(instance.state_json)
    except Exception:  # a state this version cannot read: no marks, the diagram still shows the flow
        return {"done": [], "current": [], "flows": []}
    done, current = set(), set()
    for task in workflow.get_tasks():
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element:
            continue
        if task.state == TaskState.COMPLETED:
            done.add(element)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR):
            current.add(element)
    current -= done
    flows = []
    root = etree.fromstring(instance.version.bpmn_xml.encode(), etree.XMLParser(resolve_entities=False,
                                                                                no_network=True))
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        if flow.get("sourceRef") in done and (flow.get("targetRef") in done or flow.get("targetRef") in current):
            flows.append(flow.get("id"))
    return {"done": sorted(done), "current": sorted(current), "flows": flows}
