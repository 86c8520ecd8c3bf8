"""`telora flows load|doc|wake`, and the shipped flow documentation kept in step with the shipped flows."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from workflow_samples import FLOW

from telora.core import clock
from telora.workflows.diagram import flow_svg
from telora.workflows.docs import flow_markdown
from telora.workflows.models import FlowVersion

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[2] / "docs" / "flows"


def test_load_publishes_once_and_doc_writes_the_steps_table(desks, tmp_path, capsys):
    call_command("flows", "load", str(FLOW.parent))
    call_command("flows", "load", str(FLOW.parent))  # unchanged: no new version
    assert list(FlowVersion.objects.values_list("definition__key", "number", "state")) == [
        ("example_activation", 1, "published")]
    call_command("flows", "doc", "--out", str(tmp_path))
    page = (tmp_path / "example_activation.md").read_text()
    assert (tmp_path / "example_activation.svg").read_text().startswith("<svg")
    assert "| Approve the amount | userTask | backoffice (PT4H) |  | PT2H |  |" in page
    assert "| Large amount? | exclusiveGateway |" in page and "→ approve if amount > 100" in page
    assert "| Reserve a number | serviceTask |  | example.reserve |" in page


def test_load_refuses_a_broken_folder_with_the_file_and_line(desks, tmp_path):
    (tmp_path / "bad.bpmn").write_text(FLOW.read_text().replace("example.reserve", "example.nope"))
    with pytest.raises(CommandError, match=r"bad.bpmn: .*line 9.*element reserve.*unknown service task"):
        call_command("flows", "load", str(tmp_path))
    with pytest.raises(CommandError, match="not a directory"):
        call_command("flows", "load", str(tmp_path / "missing"))


SHIPPED = sorted(Path(__file__).resolve().parents[2].glob("src/telora/*/flows/*.bpmn"))


def test_every_shipped_flow_is_covered():
    """The orders' standard flows and the engine's example are all checked below."""
    keys = {path.stem for path in SHIPPED}
    assert {"example_activation", "signup_mobile_postpaid", "cancellation", "port_in"} <= keys and len(keys) >= 17


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_the_shipped_flow_docs_match_the_shipped_flows(path, brand_a, system):
    """Fails when a flow under src/telora/*/flows/ changes and `telora flows doc` was not run."""
    from lxml import etree

    from telora.workflows.engine.spiff import NS
    from telora.workflows.services import create_desk, publish_flow

    root = etree.parse(str(path)).getroot()
    desks = {e.get(f"{{{NS}}}{name}") for e in root.iter() for name in ("desk", "failureDesk")
             if e.get(f"{{{NS}}}{name}")}
    for code in desks | {"backoffice"}:
        create_desk(brand_a, code, code.title(), actor=system, at=clock.now())
    version = publish_flow(path.stem, path.read_text(), actor=system, at=clock.now())
    assert (DOCS / f"{path.stem}.md").read_text() == flow_markdown(version), "run `telora flows doc`"
    assert (DOCS / f"{path.stem}.svg").read_text() == flow_svg(version.bpmn_xml, version.process_id), \
        "run `telora flows doc`"
