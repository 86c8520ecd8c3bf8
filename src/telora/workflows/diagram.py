"""A flow's picture as SVG, drawn on the server for the flow documentation.

The shipped flows carry no BPMN diagram interchange (positions), and bpmn-js needs a browser, so the
picture is laid out here: every element goes in a column by its longest path from the start event
(sequence flows only, back edges ignored), elements of one column stacked; a boundary event sits on
its task's lower edge. Shapes follow BPMN: rounded boxes for tasks (a person icon for desk steps, a
gear for service tasks), diamonds for gateways, circles for events (thick: end, double: timer or
message catch, with a ! for an error end). Deterministic output, so a test can compare it.
"""

from __future__ import annotations

from html import escape

from lxml import etree

from telora.workflows.engine.spiff import BPMN_NS

COLUMN, ROW = 190, 110  # grid
BOX_W, BOX_H, EVENT_R, GATE_R = 150, 60, 18, 24
SKIP = {"sequenceFlow", "extensionElements", "laneSet", "documentation", "boundaryEvent", "association",
        "textAnnotation"}


def _name(node) -> str:
    return node.get("name") or node.get("id")


def _wrap(text: str, width: int = 22) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return lines[:4]


def flow_svg(xml: str, process_id: str | None = None) -> str:
    root = etree.fromstring(xml.encode())
    processes = list(root.iter(f"{{{BPMN_NS}}}process"))
    process = next((p for p in processes if p.get("id") == process_id), processes[0])
    nodes = {n.get("id"): n for n in process if n.get("id") and etree.QName(n).localname not in SKIP}
    boundaries = [n for n in process if etree.QName(n).localname == "boundaryEvent"]
    flows = [(f.get("sourceRef"), f.get("targetRef"), f) for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow")]
    by_boundary = {b.get("id"): b.get("attachedToRef") for b in boundaries}

    # columns: longest path from the start events (a boundary event counts as its task)
    column = {key: 0 for key, node in nodes.items() if etree.QName(node).localname == "startEvent"}
    for _ in range(len(nodes) + 1):
        changed = False
        for source, target, _flow in flows:
            origin = by_boundary.get(source, source)
            if origin in column and target in nodes and column.get(target, -1) < column[origin] + 1 \
                    and column[origin] + 1 <= len(nodes):
                column[target] = column[origin] + 1
                changed = True
        if not changed:
            break
    for key in nodes:
        column.setdefault(key, 0)
    rows: dict[int, int] = {}
    place = {}
    for key in nodes:  # document order within a column
        col = column[key]
        place[key] = (40 + col * COLUMN + BOX_W // 2, 60 + rows.get(col, 0) * ROW + BOX_H // 2)
        rows[col] = rows.get(col, 0) + 1
    for boundary in boundaries:
        x, y = place.get(boundary.get("attachedToRef"), (0, 0))
        place[boundary.get("id")] = (x + BOX_W // 2 - EVENT_R - 6, y + BOX_H // 2)
    width = 80 + (max(column.values(), default=0) + 1) * COLUMN
    height = 80 + max(rows.values(), default=1) * ROW + 30

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
           f'<title>{escape(_name(process))}</title>']
    labels = []  # drawn last, over the shapes
    for source, target, flow in flows:
        if source not in place or target not in place:
            continue
        (x1, y1), (x2, y2) = place[source], place[target]
        x1 += 0 if source in by_boundary else _half(nodes.get(source))
        x2 -= _half(nodes.get(target))
        condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        mid = (x1 + x2) // 2
        if y1 == y2 and column.get(target, 0) - column.get(by_boundary.get(source, source), 0) > 1:
            low = y1 + BOX_H // 2 + 14  # a long jump on one row goes under the boxes between
            route = f"M {x1} {y1} L {x1 + 10} {y1} L {x1 + 10} {low} L {x2 - 10} {low} L {x2 - 10} {y2} L {x2} {y2}"
        else:
            route = f"M {x1} {y1} L {mid} {y1} L {mid} {y2} L {x2} {y2}"
        out.append(f'<path d="{route}" fill="none" stroke="#444" marker-end="url(#arrow)"/>')
        if condition is not None:
            left = x1 + 4 if y1 == y2 else mid + 4  # on one row: just after the gateway, clear of the next box
            for i, line in enumerate(_wrap((condition.text or "").strip()[:60], 20)[:2]):
                labels.append(f'<text x="{left}" y="{y2 - 20 + i * 10}" fill="#555" font-size="8">'
                              f'{escape(line)}</text>')
    for key, node in nodes.items():
        out.extend(_shape(node, *place[key]))
    for boundary in boundaries:
        out.extend(_shape(boundary, *place[boundary.get("id")]))
    out.extend(labels)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _half(node) -> int:
    if node is None:
        return 0
    tag = etree.QName(node).localname
    return BOX_W // 2 if tag.endswith("Task") or tag in ("task", "subProcess", "callActivity") else \
        GATE_R if tag.endswith("Gateway") else EVENT_R


def _label(x: int, y: int, text: str) -> list[str]:
    lines = _wrap(text)
    top = y - (len(lines) - 1) * 6
    return [f'<text x="{x}" y="{top + i * 12 + 4}" text-anchor="middle">{escape(line)}</text>'
            for i, line in enumerate(lines)]


def _shape(node, x: int, y: int) -> list[str]:
    tag = etree.QName(node).localname
    name = _name(node)
    if tag.endswith("Task") or tag in ("task", "subProcess", "callActivity"):
        user = tag == "userTask"
        fill = "#eef5ff" if user else "#f4f4f4"
        parts = [f'<rect x="{x - BOX_W // 2}" y="{y - BOX_H // 2}" width="{BOX_W}" height="{BOX_H}" rx="10" '
                 f'fill="{fill}" stroke="#333"/>',
                 f'<text x="{x - BOX_W // 2 + 6}" y="{y - BOX_H // 2 + 12}" font-size="9" fill="#666">'
                 f'{"desk" if user else "service" if tag == "serviceTask" else tag}</text>']
        return parts + _label(x, y + 4, name)
    if tag.endswith("Gateway"):
        points = f"{x},{y - GATE_R} {x + GATE_R},{y} {x},{y + GATE_R} {x - GATE_R},{y}"
        return [f'<polygon points="{points}" fill="#fff8e0" stroke="#333"/>',
                f'<text x="{x}" y="{y + 5}" text-anchor="middle" font-size="14">X</text>',
                *_label(x, y - GATE_R - 16, name)]
    end = tag == "endEvent"
    error = node.find(f"{{{BPMN_NS}}}errorEventDefinition") is not None
    timer = node.find(f"{{{BPMN_NS}}}timerEventDefinition") is not None
    message = node.find(f"{{{BPMN_NS}}}messageEventDefinition") is not None
    parts = [f'<circle cx="{x}" cy="{y}" r="{EVENT_R}" fill="{"#fde8e8" if error else "#fff"}" '
             f'stroke="#333" stroke-width="{3 if end else 1}"/>']
    if tag in ("intermediateCatchEvent", "boundaryEvent"):
        parts.append(f'<circle cx="{x}" cy="{y}" r="{EVENT_R - 4}" fill="none" stroke="#333"/>')
    if timer:
        parts.append(f'<path d="M {x} {y - 9} L {x} {y} L {x + 6} {y + 3}" fill="none" stroke="#333"/>')
    if message:
        parts.append(f'<rect x="{x - 7}" y="{y - 5}" width="14" height="10" fill="none" stroke="#333"/>')
    if error:
        parts.append(f'<text x="{x}" y="{y + 5}" text-anchor="middle" font-size="13" font-weight="bold">!</text>')
    return parts + _label(x, y + EVENT_R + 14, name)
