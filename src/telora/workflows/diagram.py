"""A flow's picture as SVG, drawn on the server for the flow documentation (bpmn-js needs a browser).

It draws the positions `workflows.layout.flow_layout` gives: the document's own BPMNDI when it has a
drawing (a flow saved from the builder), else the same left-to-right layout the builder is handed, so
the documentation and the builder show one picture. Shapes follow BPMN: rounded boxes for tasks
(labelled desk or service), diamonds for gateways, circles for events (thick: end, double: timer or
message catch, with a ! for an error end), pools and lanes as plain frames; conditions are written on
their flows. Deterministic output, so a test can compare it.
"""

from __future__ import annotations

from html import escape

from lxml import etree

from telora.workflows.engine.spiff import BPMN_NS
from telora.workflows.layout import find_process, flow_layout, num, parse

MARGIN = 40


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
    root = parse(xml)
    process = find_process(root, process_id)
    if process is None:
        raise ValueError("the document has no executable process")
    layout = flow_layout(root, process)
    elements = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    points = [(x, y) for x, y, w, h in layout.shapes.values() for x, y in ((x, y), (x + w, y + h))]
    points += [point for route in layout.edges.values() for point in route]
    left = int(min((x for x, _y in points), default=0)) - MARGIN
    top = int(min((y for _x, y in points), default=0)) - MARGIN
    width = int(max((x for x, _y in points), default=0)) + MARGIN - left
    height = int(max((y for _x, y in points), default=0)) + MARGIN + 20 - top  # room for labels under events

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="{left} {top} {width} {height}" font-family="sans-serif" font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
           f'<title>{escape(_name(process))}</title>']
    frames = [key for key in layout.shapes if _tag(elements.get(key)) in ("participant", "lane")]
    for key in frames:  # pools and lanes first, under everything
        x, y, w, h = layout.shapes[key]
        out.append(f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="none" stroke="#999"/>')
        out.append(f'<text x="{num(x + 6)}" y="{num(y + 14)}" fill="#666" font-size="10">'
                   f'{escape(_name(elements[key]))}</text>')
    labels = []  # drawn last, over the shapes
    for flow_id, route in layout.edges.items():
        flow = elements.get(flow_id)
        if _tag(flow) != "sequenceFlow":
            continue
        path = " L ".join(f"{num(x)} {num(y)}" for x, y in route)
        out.append(f'<path d="M {path}" fill="none" stroke="#444" marker-end="url(#arrow)"/>')
        condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        if condition is not None:
            x, y = _label_spot(route)
            for i, line in enumerate(_wrap((condition.text or "").strip()[:60], 20)[:2]):
                labels.append(f'<text x="{num(x)}" y="{num(y - 10 + i * 10)}" fill="#555" font-size="8">'
                              f'{escape(line)}</text>')
    for key, bounds in layout.shapes.items():
        node = elements.get(key)
        if key not in frames and node is not None and _tag(node) not in ("textAnnotation", "dataObjectReference",
                                                                          "dataStoreReference"):
            out.extend(_shape(node, *bounds))
    out.extend(labels)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _tag(node) -> str:
    return etree.QName(node).localname if node is not None else ""


def _label_spot(route) -> tuple[float, float]:
    """Where a flow's condition goes: above the start of its longest horizontal stretch (the first one
    on a tie), clear of the boxes the flow joins."""
    best, spot = -1.0, route[0]
    for (x1, y1), (x2, y2) in zip(route, route[1:], strict=False):
        if y1 == y2 and abs(x2 - x1) > best:
            best, spot = abs(x2 - x1), (min(x1, x2), y1)
    return spot[0] + 4, spot[1] - 4


def _label(x: float, y: float, text: str, width: int = 22) -> list[str]:
    lines = _wrap(text, width)
    top = y - (len(lines) - 1) * 6
    return [f'<text x="{num(x)}" y="{num(top + i * 12 + 4)}" text-anchor="middle">{escape(line)}</text>'
            for i, line in enumerate(lines)]


def _shape(node, x: float, y: float, w: float, h: float) -> list[str]:
    tag = _tag(node)
    name = _name(node)
    cx, cy = x + w / 2, y + h / 2
    if tag.endswith("Task") or tag in ("task", "subProcess", "callActivity"):
        user = tag == "userTask"
        fill = "#eef5ff" if user else "#f4f4f4"
        parts = [f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="10" '
                 f'fill="{fill}" stroke="#333"/>',
                 f'<text x="{num(x + 6)}" y="{num(y + 12)}" font-size="9" fill="#666">'
                 f'{"desk" if user else "service" if tag == "serviceTask" else tag}</text>']
        return parts + _label(cx, cy + 6, name, max(8, int(w / 6.5)))
    if tag.endswith("Gateway"):
        points = f"{num(cx)},{num(y)} {num(x + w)},{num(cy)} {num(cx)},{num(y + h)} {num(x)},{num(cy)}"
        return [f'<polygon points="{points}" fill="#fff8e0" stroke="#333"/>',
                f'<text x="{num(cx)}" y="{num(cy + 5)}" text-anchor="middle" font-size="14">X</text>',
                *_label(cx, y - 16, name)]
    radius = min(w, h) / 2
    end = tag == "endEvent"
    error = node.find(f"{{{BPMN_NS}}}errorEventDefinition") is not None
    timer = node.find(f"{{{BPMN_NS}}}timerEventDefinition") is not None
    message = node.find(f"{{{BPMN_NS}}}messageEventDefinition") is not None
    parts = [f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(radius)}" fill="{"#fde8e8" if error else "#fff"}" '
             f'stroke="#333" stroke-width="{3 if end else 1}"/>']
    if tag in ("intermediateCatchEvent", "boundaryEvent"):
        parts.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(radius - 4)}" fill="none" stroke="#333"/>')
    if timer:
        parts.append(f'<path d="M {num(cx)} {num(cy - 9)} L {num(cx)} {num(cy)} L {num(cx + 6)} {num(cy + 3)}" '
                     'fill="none" stroke="#333"/>')
    if message:
        parts.append(f'<rect x="{num(cx - 7)}" y="{num(cy - 5)}" width="14" height="10" fill="none" stroke="#333"/>')
    if error:
        parts.append(f'<text x="{num(cx)}" y="{num(cy + 5)}" text-anchor="middle" font-size="13" '
                     'font-weight="bold">!</text>')
    return parts + _label(cx, y + h + 14, name)
