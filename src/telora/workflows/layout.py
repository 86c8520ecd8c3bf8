"""A drawing for flows written without one: BPMN diagram interchange (BPMNDI) laid out left to right.

bpmn-js draws only what a document's BPMNDI places; hand-written flows (the shipped ones) have none.
`with_diagram(xml)` returns the document unchanged when it has a drawing of its process, else the same
document with one added: steps in columns by their longest distance from the start, branches in rows,
timer and error events on the bottom edge of their task. The builder saves what bpmn-js exports, so an
edited flow keeps the drawing its editor arranged.
"""

from __future__ import annotations

from lxml import etree

from telora.workflows.engine.spiff import BPMN_NS

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
_SKIP = {"sequenceFlow", "laneSet", "extensionElements", "documentation", "textAnnotation", "association",
         "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification", "property", "boundaryEvent"}
COLUMN, ROW, LEFT, TOP = 170, 130, 80, 80


def _size(tag: str) -> tuple[int, int]:
    if tag in _EVENTS:
        return 36, 36
    if tag.endswith("Gateway"):
        return 50, 50
    return 100, 80


def _has_drawing(root, process_id: str) -> bool:
    for plane in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
        if plane.get("bpmnElement") == process_id and len(plane):
            return True
    return False


def _columns(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's longest distance from a node without incoming flows (back edges of loops ignored)."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    incoming = {n: 0 for n in nodes}
    for source, target in edges:
        if source in successors and target in incoming:
            successors[source].append(target)
            incoming[target] += 1
    order, state = [], {}

    def visit(node):  # iterative DFS: topological order without the edges that close a loop
        stack = [(node, iter(successors[node]))]
        state[node] = "open"
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = "done"
                order.append(current)
                stack.pop()
            elif child not in state:
                state[child] = "open"
                stack.append((child, iter(successors[child])))

    for node in [n for n in nodes if incoming[n] == 0] + nodes:
        if node not in state:
            visit(node)
    order.reverse()
    position = {n: i for i, n in enumerate(order)}
    column = {n: 0 for n in nodes}
    for node in order:
        for child in successors[node]:
            if position[child] > position[node]:  # a forward edge
                column[child] = max(column[child], column[node] + 1)
    return column


def with_diagram(xml: str, process_id: str | None = None) -> str:
    """`xml` with a left-to-right drawing of its (first executable) process when it has none."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True,
                                                          remove_blank_text=True))
    processes = [p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true") != "false"]
    process = next((p for p in processes if p.get("id") == process_id), processes[0] if processes else None)
    if process is None or _has_drawing(root, process.get("id")):
        return xml
    for diagram in list(root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram")):  # an empty drawing is replaced
        diagram.getparent().remove(diagram)
    nodes, tags, edges, boundaries = [], {}, [], []
    for node in process:
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS or not node.get("id"):
            continue
        tag = etree.QName(node).localname
        if tag == "boundaryEvent":
            boundaries.append(node)
        elif tag == "sequenceFlow":
            edges.append((node.get("id"), node.get("sourceRef"), node.get("targetRef")))
        elif tag not in _SKIP:
            nodes.append(node.get("id"))
            tags[node.get("id")] = tag
    host = {b.get("id"): b.get("attachedToRef") for b in boundaries}
    # A boundary event's path starts at its task: place its targets after the task.
    column = _columns(nodes, [(host.get(s, s), t) for _id, s, t in edges])
    rows: dict[int, int] = {}
    row_of: dict[str, int] = {}
    predecessors: dict[str, list[tuple[str, int]]] = {}
    for _id, source, target in edges:  # a boundary event's path goes on a row below its task
        predecessors.setdefault(target, []).append((host.get(source, source), 1 if source in host else 0))
    for node in sorted(nodes, key=lambda n: (column[n], nodes.index(n))):
        wanted = min((row_of[p] + below for p, below in predecessors.get(node, []) if p in row_of), default=0)
        used = {row_of[n] for n in row_of if column[n] == column[node]}
        row = wanted
        while row in used:
            row += 1
        row_of[node] = row
        rows[column[node]] = max(rows.get(column[node], 0), row)
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for node in nodes:
        width, height = _size(tags[node])
        centre_x = LEFT + column[node] * COLUMN + 50
        centre_y = TOP + row_of[node] * ROW + 40
        bounds[node] = (centre_x - width / 2, centre_y - height / 2, width, height)
    attached_count: dict[str, int] = {}
    for boundary in boundaries:
        task = boundary.get("attachedToRef")
        if task not in bounds:
            continue
        x, y, width, height = bounds[task]
        index = attached_count[task] = attached_count.get(task, 0) + 1
        bounds[boundary.get("id")] = (x + width - 18 - 40 * (index - 1) - 18, y + height - 18, 36, 36)

    nsmap = dict(root.nsmap)
    nsmap.update({"bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS})
    new_root = etree.Element(root.tag, nsmap=nsmap)
    for name, value in root.attrib.items():
        new_root.set(name, value)
    new_root.text = root.text
    for child in root:
        new_root.append(child)
    diagram = etree.SubElement(new_root, f"{{{BPMNDI_NS}}}BPMNDiagram", id=f"{process.get('id')}_diagram")
    plane = etree.SubElement(diagram, f"{{{BPMNDI_NS}}}BPMNPlane", id=f"{process.get('id')}_plane",
                             bpmnElement=process.get("id"))
    for element, (x, y, width, height) in bounds.items():
        shape = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNShape", id=f"{element}_di", bpmnElement=element)
        etree.SubElement(shape, f"{{{DC_NS}}}Bounds", x=_n(x), y=_n(y), width=_n(width), height=_n(height))
    for flow_id, source, target in edges:
        if source not in bounds or target not in bounds:
            continue
        edge = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id)
        blocked = source not in host and source in row_of and target in row_of and any(
            row_of[n] == row_of[source] == row_of[target] and column[source] < column[n] < column[target]
            for n in nodes)
        for x, y in _waypoints(bounds[source], bounds[target], from_boundary=source in host, around=blocked):
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=_n(x), y=_n(y))
    return etree.tostring(new_root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


def _waypoints(source, target, *, from_boundary: bool, around: bool = False):
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    if around:  # steps lie between them on the same row: under those steps
        below = max(sy + sh, ty + th) + 25
        return [(sx + sw / 2, sy + sh), (sx + sw / 2, below), (tx + tw / 2, below), (tx + tw / 2, ty + th)]
    if from_boundary:  # down from the event, then across to the target's left side
        start = (sx + sw / 2, sy + sh)
        end = (tx, ty + th / 2)
        if end[1] > start[1]:
            return [start, (start[0], end[1]), end]
        below = start[1] + 20  # a target level with or above the event: round its bottom, never through it
        return [start, (start[0], below), (tx - 20, below), (tx - 20, end[1]), end]
    start = (sx + sw, sy + sh / 2)
    end = (tx, ty + th / 2)
    if end[0] <= start[0]:  # back to an earlier step: around underneath
        below = max(sy + sh, ty + th) + 30
        return [(sx + sw / 2, sy + sh), (sx + sw / 2, below), (tx + tw / 2, below), (tx + tw / 2, ty + th)]
    if start[1] == end[1]:
        return [start, end]
    middle = start[0] + (end[0] - start[0]) / 2
    return [start, (middle, start[1]), (middle, end[1]), end]


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
