"""The version diff (a pure function over two parsed flows), the drawing added to flows without one, and
the SVG picture drawn from the same layout (or from the document's own drawing)."""

from __future__ import annotations

from lxml import etree
from workflow_samples import FLOW

from telora.workflows.diagram import flow_svg
from telora.workflows.diff import diff_flows, flow_steps, show
from telora.workflows.engine.spiff import parse_flow
from telora.workflows.layout import BPMNDI_NS, DC_NS, find_process, flow_layout, parse, with_diagram

XML = FLOW.read_text()


def edited(*replacements) -> str:
    xml = XML
    for old, new in replacements:
        assert old in xml, old
        xml = xml.replace(old, new)
    return xml


def test_the_same_flow_has_no_changes():
    assert diff_flows(flow_steps(XML), flow_steps(XML)).empty


def test_steps_added_removed_and_what_changed_in_each():
    new = edited(
        # a desk step inserted after the start: added, and the start's next step changed
        ('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="reserve"/>',
         '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="docs"/>'
         '<bpmn:userTask id="docs" name="Check the documents" telora:desk="supervisors"/>'
         '<bpmn:sequenceFlow id="f1b" sourceRef="docs" targetRef="reserve"/>'),
        # the approval: renamed, another desk and due time, a field less
        ('name="Approve the amount" telora:desk="backoffice" telora:due="PT4H"',
         'name="Approve the sum" telora:desk="supervisors" telora:due="PT8H"'),
        ('<telora:field name="note" label="Note" type="text"/>', ''),
        # a condition and a timer changed, an input mapping changed, the service task changed
        ("amount &gt; 100", "amount &gt; 500"),
        ('"PT2H"', '"PT3H"'),
        ('<telora:input name="amount" expression="amount"/>', '<telora:input name="amount" expression="amount * 2"/>'),
        ('telora:task="example.activate"', 'telora:task="example.reserve"'),
        # the escalated approval removed (its timer now leads straight on)
        ('<bpmn:userTask id="supervise" name="Approve (escalated)" telora:desk="supervisors">', '<!--'),
        ('<bpmn:sequenceFlow id="f_sup" sourceRef="supervise" targetRef="wait_ack"/>', '-->'),
        ('targetRef="supervise"', 'targetRef="wait_ack"'),
    )
    result = diff_flows(flow_steps(XML), flow_steps(new))
    assert [s.element for s in result.added] == ["docs"]
    assert result.added[0].desk == "supervisors" and result.added[0].type == "userTask"
    assert [s.element for s in result.removed] == ["supervise"]
    changes = {after.element: {c.aspect: (c.old, c.new) for c in items} for _before, after, items in result.changed}
    assert changes["start"] == {"next": (("reserve",), ("docs",))}
    approve = changes["approve"]
    assert approve["name"] == ("Approve the amount", "Approve the sum")
    assert approve["desk"] == ("backoffice", "supervisors") and approve["due"] == ("PT4H", "PT8H")
    assert [f[0] for f in approve["fields"][1]] == ["approved", "channel"]
    assert approve["timers"] == (('approve_late: "PT2H"',), ('approve_late: "PT3H"',))
    assert changes["big"] == {"conditions": ((("approve", "amount > 100"),), (("approve", "amount > 500"),))}
    assert changes["reserve"]["inputs"] == ((("amount", "amount"),), (("amount", "amount * 2"),))
    assert changes["activate"]["service_task"] == ("example.activate", "example.reserve")
    assert "approve_late" in changes  # its next step moved from the escalation to the acknowledgement
    assert show("conditions", approve.get("conditions", ((("x", "a > 1"),),))[0]) == "→ x if a > 1"
    assert show("inputs", ()) == "—"


def test_the_diff_is_read_from_documents_with_or_without_a_drawing():
    assert diff_flows(flow_steps(XML), flow_steps(with_diagram(XML))).empty


def test_a_flow_without_a_drawing_gets_one_for_every_step_and_flow():
    drawn = with_diagram(XML)
    parse_flow(drawn)  # still a valid flow
    root = etree.fromstring(drawn.encode())
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{BPMNDI_NS}}}BPMNShape")}
    edges = {e.get("bpmnElement") for e in root.iter(f"{{{BPMNDI_NS}}}BPMNEdge")}
    steps = set(flow_steps(XML))
    assert shapes == steps  # boundary events included
    assert edges == {"f1", "f_refused", "f2", "f_big", "f_small", "f_late", "f_sup", "f3", "f4", "f5", "f6"}
    bounds = {s.get("bpmnElement"): s[0] for s in root.iter(f"{{{BPMNDI_NS}}}BPMNShape")}
    assert float(bounds["start"].get("x")) < float(bounds["reserve"].get("x")) < float(bounds["big"].get("x")) \
        < float(bounds["approve"].get("x")) < float(bounds["activate"].get("x"))
    assert with_diagram(drawn) == drawn  # a drawn document is left as it is


def test_the_svg_and_the_builder_drawing_share_one_layout():
    drawn = with_diagram(XML)
    root = parse(drawn)
    layout = flow_layout(root, find_process(root))
    computed = flow_layout(parse(XML), find_process(parse(XML)))
    assert layout.drawn and not computed.drawn  # read back from the BPMNDI written from the computed one
    assert (computed.shapes, computed.edges) == (layout.shapes, layout.edges)
    assert flow_svg(drawn) == flow_svg(XML) == flow_svg(XML)  # the same picture, every time
    x, y, width, height = layout.shapes["approve"]
    assert f'<rect x="{int(x)}" y="{int(y)}" width="{int(width)}" height="{int(height)}"' in flow_svg(XML)


def test_the_svg_of_a_flow_saved_from_the_builder_uses_its_own_positions():
    root = parse(with_diagram(XML))
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
        if shape.get("bpmnElement") == "approve":  # the editor moved the approval and made it wider
            for name, value in (("x", "900"), ("y", "610"), ("width", "140")):
                shape.find(f"{{{DC_NS}}}Bounds").set(name, value)
    moved = etree.tostring(root, encoding="unicode")
    picture = flow_svg(moved)
    assert '<rect x="900" y="610" width="140" height="80"' in picture
    assert picture != flow_svg(XML) and 'viewBox="' in picture
