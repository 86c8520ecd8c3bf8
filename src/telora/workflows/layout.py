"""One layout for a flow's picture: the positions of its shapes and the waypoints of its sequence flows.

bpmn-js draws only what a document's BPMN diagram interchange (BPMNDI) places, and hand-written flows
(the shipped ones) have none. `flow_layout` returns the document's own positions when it has a drawing
of its process (a flow saved from the builder keeps what its editor arranged), else lays it out left to
right: steps in columns by their longest distance from the start, branches in rows, timer and error
events on the bottom edge of their task. Both pictures use it: `with_diagram(xml)` writes it as BPMNDI
for bpmn-js, and `workflows.diagram.flow_svg` draws it as SVG for the flow documentation. Deterministic:
the same document always gives the same positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from telora.workflows.engine.spiff import BPMN_NS

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
_SKIP = {"sequenceFlow", "laneSet", "extensionElements", "documentation", "textAnnotation", "association",
         "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification", "property", "boundaryEvent"}
COLUMN, ROW, LEFT, TOP = 170, 130, 80, 80

Bounds = tuple[float, float, float, float]  # x, y, width, height (top left corner)


@dataclass
class Layout:
    """Where each element goes (`shapes`, by element id) and each sequence flow's route (`edges`, by
    flow id: its waypoints), both in document order; `drawn` when read from the document's BPMNDI."""
    shapes: dict[str, Bounds] = field(default_factory=dict)
    edges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    drawn: bool = False


def parse(xml: str):
    return etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True,
                                                          remove_blank_text=True))


def find_process(root, process_id: str | None = None):
    """The process `process_id`, else the first executable one (None when the document has none)."""
    processes = [p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true") != "false"]
    return next((p for p in root.iter(f"{{{BPMN_NS}}}process") if process_id and p.get("id") == process_id),
                processes[0] if processes else None)


def _size(tag: str) -> tuple[int, int]:
    if tag in _EVENTS:
        return 36, 36
    if tag.endswith("Gateway"):
        return 50, 50
    return 100, 80


def _own_ids(root, process) -> set[str]:
    """Ids a drawing of `process` may place: its elements (lanes and nested ones too) and its pool."""
    ids = {e.get("id") for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
    ids |= {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}participant") if p.get("processRef") == process.get("id")}
    return ids


def drawn_layout(root, process) -> Layout | None:
    """The positions the document's BPMNDI gives the process's elements, or None when it places none."""
    own = _own_ids(root, process)
    found = Layout(drawn=True)
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
        bounds = shape.find(f"{{{DC_NS}}}Bounds")
        if shape.get("bpmnElement") in own and bounds is not None:
            try:
                found.shapes[shape.get("bpmnElement")] = tuple(
                    float(bounds.get(name, "0")) for name in ("x", "y", "width", "height"))
            except ValueError:
                continue
    if not found.shapes:
        return None
    for edge in root.iter(f"{{{BPMNDI_NS}}}BPMNEdge"):
        if edge.get("bpmnElement") not in own:
            continue
        try:
            points = [(float(p.get("x", "0")), float(p.get("y", "0"))) for p in edge.iter(f"{{{DI_NS}}}waypoint")]
        except ValueError:
            continue
        if len(points) >= 2:
            found.edges[edge.get("bpmnElement")] = points
    return found


def flow_layout(root, process) -> Layout:
    """The document's own drawing of `process` when it has one, else one laid out here."""
    return drawn_layout(root, process) or computed_layout(process)


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


def computed_layout(process) -> Layout:
    """Columns by longest path from the start, a row per branch, boundary events on their task's edge."""
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
    result = Layout()
    for node in nodes:
        width, height = _size(tags[node])
        centre_x = LEFT + column[node] * COLUMN + 50
        centre_y = TOP + row_of[node] * ROW + 40
        result.shapes[node] = (centre_x - width / 2, centre_y - height / 2, width, height)
    attached_count: dict[str, int] = {}
    for boundary in boundaries:
        task = boundary.get("attachedToRef")
        if task not in result.shapes:
            continue
        x, y, width, height = result.shapes[task]
        index = attached_count[task] = attached_count.get(task, 0) + 1
        result.shapes[boundary.get("id")] = (x + width - 18 - 40 * (index - 1) - 18, y + height - 18, 36, 36)
    for flow_id, source, target in edges:
        if source not in result.shapes or target not in result.shapes:
            continue
        blocked = source not in host and source in row_of and target in row_of and any(
            row_of[n] == row_of[source] == row_of[target] and column[source] < column[n] < column[target]
            for n in nodes)
        result.edges[flow_id] = _waypoints(result.shapes[source], result.shapes[target],
                                           from_boundary=source in host, around=blocked)
    return result


def with_diagram(xml: str, process_id: str | None = None) -> str:
    """`xml` with a left-to-right drawing of its (first executable) process when it has none."""
    root = parse(xml)
    process = find_process(root, process_id)
    if process is None or drawn_layout(root, process) is not None:
        return xml
    for diagram in list(root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram")):  # an empty drawing is replaced
        if not any(True for _ in diagram.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge")):
            diagram.getparent().remove(diagram)
    layout = computed_layout(process)
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
    for element, (x, y, width, height) in layout.shapes.items():
        shape = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNShape", id=f"{element}_di", bpmnElement=element)
        etree.SubElement(shape, f"{{{DC_NS}}}Bounds", x=num(x), y=num(y), width=num(width), height=num(height))
    for flow_id, points in layout.edges.items():
        edge = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id)
        for x, y in points:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=num(x), y=num(y))
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


def num(value: float) -> str:
    """A coordinate as written in BPMNDI and SVG: whole numbers without a fraction."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
