"""The flow builder's screens without a browser: save (validated, every problem listed with its element),
publish, the version diff, the documentation page; rights and brand isolation on each."""

from __future__ import annotations

import json

import pytest
from workflow_samples import FLOW

from gui_helpers import login
from telora.core import clock
from telora.workflows.models import FlowDefinition, FlowVersion
from telora.workflows.services import publish_flow, start_instance

pytestmark = pytest.mark.django_db
XML = FLOW.read_text()


@pytest.fixture
def editor(make_user, brand_a):
    return make_user("edna", {brand_a: ["workflows.view", "workflows.change"]})


@pytest.fixture
def reader(make_user, brand_a):
    return make_user("rita", {brand_a: ["workflows.view"]})


@pytest.fixture
def other(make_user, brand_b):
    return make_user("otto", {brand_b: ["workflows.view", "workflows.change"]})


def save(client, version, xml):
    return client.post(f"/workflows/versions/{version.pk}/edit/", data=json.dumps({"xml": xml}),
                       content_type="application/json")


def test_editing_the_standard_flow_saves_the_brands_own_draft_then_publish(flow, editor, brand_a, frozen, system):
    client = login(editor, brand_a)
    page = client.get(f"/workflows/versions/{flow.pk}/edit/")
    assert page.status_code == 200
    assert b'id="builder-palette"' in page.content and b"example.reserve" in page.content
    assert b"bpmndi:BPMNDiagram" in page.content  # a drawing was laid out for the modeler
    assert b"own flow example_activation" in page.content
    changed = XML.replace('name="Approve the amount"', 'name="Approve the sum"')
    answer = save(client, flow, changed)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    own = FlowVersion.objects.get(definition__brand=brand_a)
    assert (own.number, own.state, own.bpmn_xml) == (1, "draft", changed)
    assert body["publish_url"] == f"/workflows/versions/{own.pk}/publish/"
    assert body["diff_url"] == f"/workflows/flows/diff/?old={flow.pk}&new={own.pk}"
    diff = client.get(body["diff_url"])
    assert diff.status_code == 200 and b'data-testid="diff-changed-approve-name"' in diff.content
    # a running instance stays on the standard version; after publishing the next one starts on the own one
    running = start_instance("example_activation", brand=brand_a, data={"amount": 150}, actor=system, at=clock.now())
    assert client.post(body["publish_url"]).status_code == 302
    own.refresh_from_db()
    assert own.state == "published"
    later = start_instance("example_activation", brand=brand_a, data={"amount": 150}, actor=system, at=clock.now())
    running.refresh_from_db()
    assert (running.version_id, later.version_id) == (flow.pk, own.pk)
    assert flow.definition.versions.count() == 1  # the standard flow itself is untouched


def test_a_save_lists_every_problem_with_its_element_and_saves_nothing(flow, editor, brand_a):
    client = login(editor, brand_a)
    bad = (XML.replace('telora:desk="backoffice" telora:due="PT4H"', 'telora:due="PT4H"')
           .replace('telora:task="example.activate"', 'telora:task="example.nothing"')
           .replace("amount &gt; 100", "amount.__class__"))
    answer = save(client, flow, bad)
    assert answer.status_code == 400
    problems = answer.json()["problems"]
    elements = {p["element"] for p in problems}
    assert {"approve", "activate", "f_big"} <= elements
    assert all(p["line"] for p in problems if p["element"] in ("approve", "activate", "f_big"))
    assert any("without a desk" in p["message"] for p in problems)
    broken = save(client, flow, "<bpmn:definitions")
    assert broken.status_code == 400 and broken.json()["problems"][0]["line"] == 1
    assert FlowVersion.objects.count() == 1


def test_an_admin_edits_the_standard_flow_itself(flow, make_user, brand_a):
    admin = make_user("ada", {}, superuser=True)
    client = login(admin, brand_a)
    answer = save(client, flow, XML.replace('name="Cool-off day"', 'name="Cool-off period"'))
    assert answer.status_code == 200
    assert FlowVersion.objects.get(number=2).definition == flow.definition


def test_version_page_offers_edit_publish_and_compare_by_rights(flow, editor, reader, brand_a, system):
    draft = publish_flow("example_activation", XML.replace("Cool-off day", "Cool-off days"), brand=brand_a,
                         actor=system, at=clock.now())
    FlowVersion.objects.filter(pk=draft.pk).update(state="draft", published_at=None)
    page = login(editor, brand_a).get(f"/workflows/versions/{draft.pk}/")
    assert b'data-testid="open-builder"' in page.content and b'data-testid="publish"' in page.content
    assert b'data-testid="compare-form"' in page.content and b'id="bpmn-diagram"' in page.content
    read = login(reader, brand_a)
    page = read.get(f"/workflows/versions/{draft.pk}/")
    assert page.status_code == 200
    assert b'data-testid="open-builder"' not in page.content and b'data-testid="publish"' not in page.content
    assert read.get(f"/workflows/versions/{flow.pk}/edit/").status_code == 403
    assert save(read, flow, XML).status_code == 403
    assert read.post(f"/workflows/versions/{draft.pk}/publish/").status_code == 403
    assert read.get(f"/workflows/flows/diff/?old={flow.pk}&new={draft.pk}").status_code == 200
    assert read.get(f"/workflows/flows/{draft.definition_id}/doc/").status_code == 200


def test_another_brand_cannot_see_or_edit_a_brands_own_flow(flow, other, brand_a, brand_b, system):
    own = publish_flow("example_activation", XML.replace("Cool-off day", "Cool-off days"), brand=brand_a,
                       actor=system, at=clock.now())
    client = login(other, brand_b)
    assert client.get(f"/workflows/versions/{own.pk}/").status_code == 404
    assert client.get(f"/workflows/versions/{own.pk}/edit/").status_code == 404
    assert save(client, own, XML).status_code == 404
    assert client.post(f"/workflows/versions/{own.pk}/publish/").status_code == 404
    assert client.get(f"/workflows/flows/{own.definition_id}/doc/").status_code == 404
    assert client.get(f"/workflows/flows/diff/?old={flow.pk}&new={own.pk}").status_code == 404
    assert client.get(f"/workflows/flows/diff/?old={own.pk}&new={flow.pk}").status_code == 404
    listing = client.get("/workflows/flows/")
    assert b"flow-example_activation-standard" in listing.content
    assert f"flow-example_activation-{brand_a.code}".encode() not in listing.content
    # the standard flow is theirs to copy: their save goes to brand B, never to brand A or the standard flow
    assert save(client, flow, XML.replace("Cool-off day", "Cool-off week")).status_code == 400  # no desks in B
    assert not FlowDefinition.objects.filter(brand=brand_b).exists()


def test_the_documentation_page_shows_the_drawing_and_the_steps(flow, reader, brand_a):
    page = login(reader, brand_a).get(f"/workflows/flows/{flow.definition_id}/doc/")
    assert page.status_code == 200
    assert b'data-testid="doc-step-approve"' in page.content and b"backoffice (PT4H)" in page.content
    assert b"bpmndi:BPMNDiagram" in page.content and b'data-testid="download-svg"' in page.content
    assert b"/workflows/flows/%d/doc/" % flow.definition_id in login(reader, brand_a).get("/workflows/flows/").content


def test_desks_from_lanes_run_and_a_user_task_without_one_is_refused(desks, editor, brand_a, system, frozen):
    """A lane's telora:desk (else its name, else its id) is the desk of the user tasks it holds that name none
    of their own; an own telora:desk wins. Saving refuses a user task that has a desk neither way."""
    from workflow_samples import LANES_FLOW

    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task

    version = publish_flow("lanes_example", LANES_FLOW, actor=system, at=clock.now())
    assert (version.extensions["review"]["desk"], version.extensions["sign_off"]["desk"]) == (
        "backoffice", "backoffice")
    instance = start_instance("lanes_example", brand=brand_a, data={}, actor=system, at=clock.now())
    task = HumanTask.objects.get(instance=instance, state="open")
    assert (task.element, task.desk.code) == ("review", "backoffice")
    complete_task(task, data={}, actor=system, at=clock.now())
    assert HumanTask.objects.get(instance=instance, state="open").desk.code == "backoffice"  # its own desk

    client = login(editor, brand_a)
    by_name = LANES_FLOW.replace(' telora:desk="supervisors"', "").replace('name="Supervisors"', 'name="supervisors"')
    moved = by_name.replace('<bpmn:userTask id="sign_off" name="Sign off" telora:desk="backoffice"/>',
                            '<bpmn:userTask id="sign_off" name="Sign off"/>')
    answer = save(client, version, moved)
    assert answer.status_code == 200, answer.content
    assert FlowVersion.objects.get(pk=answer.json()["url"].rstrip("/").split("/")[-1]).extensions["sign_off"][
        "desk"] == "supervisors"  # the lane's name
    nowhere = moved.replace("<bpmn:flowNodeRef>sign_off</bpmn:flowNodeRef>", "")
    refused = save(client, version, nowhere)
    assert refused.status_code == 400
    assert [p["element"] for p in refused.json()["problems"]] == ["sign_off"]
    assert "without a desk" in refused.json()["problems"][0]["message"]
