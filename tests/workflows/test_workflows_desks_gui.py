"""Desk screens: lists with counts and filters, claim/unclaim, the task form; rights and brand isolation."""

from __future__ import annotations

import datetime as dt

import pytest

from gui_helpers import login
from telora.core import clock
from telora.workflows.models import Desk, HumanTask
from telora.workflows.registry import register_subject, unregister_subject
from telora.workflows.services import create_desk, start_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(frozen, flow, brand_a, system):
    instance = start_instance("example_activation", brand=brand_a, data={"amount": 150}, subject_type="tests.thing",
                              subject_id="ANN-7", actor=system, at=clock.now())
    return HumanTask.objects.get(instance=instance)


@pytest.fixture
def worker(make_user, brand_a):
    return make_user("wendy", {brand_a: ["workflows.view", "workflows.work"]})


def test_desk_list_and_page_show_open_and_overdue_tasks(waiting, worker, brand_a, frozen):
    client = login(worker, brand_a)
    page = client.get("/workflows/")
    assert page.status_code == 200 and b"Backoffice" in page.content
    desk_page = client.get(f"/workflows/desks/{waiting.desk_id}/")
    assert desk_page.content.count(b'data-testid="task-row"') == 1 and b'data-testid="overdue"' not in desk_page.content
    frozen.shift(dt.timedelta(hours=1))
    assert client.get(f"/workflows/desks/{waiting.desk_id}/?subject=ann-7&kind=user&age=1").content.count(
        b'data-testid="task-row"') == 1
    assert client.get(f"/workflows/desks/{waiting.desk_id}/?subject=bob").content.count(b'data-testid="task-row"') == 0
    assert client.get(f"/workflows/desks/{waiting.desk_id}/?age=2").content.count(b'data-testid="task-row"') == 0
    assert client.get(f"/workflows/desks/{waiting.desk_id}/?due=overdue").content.count(
        b'data-testid="task-row"') == 0
    frozen.shift(dt.timedelta(hours=3, seconds=1))  # past the 4 h due time (the escalation job has not run)
    client = login(worker, brand_a)  # a fresh session: the idle timeout has passed
    overdue = client.get(f"/workflows/desks/{waiting.desk_id}/?due=overdue")
    assert overdue.content.count(b'data-testid="task-row"') == 1 and b'data-testid="overdue"' in overdue.content


def test_claim_complete_through_the_form_with_field_errors(waiting, worker, brand_a):
    client = login(worker, brand_a)
    assert client.post(f"/workflows/tasks/{waiting.pk}/claim/").status_code == 302
    waiting.refresh_from_db()
    assert (waiting.state, waiting.assignee) == ("claimed", worker)
    bad = client.post(f"/workflows/tasks/{waiting.pk}/", {"channel": "fax", "complete": "1"})
    assert bad.status_code == 400 and b'data-testid="error-channel"' in bad.content
    no_reason = client.post(f"/workflows/tasks/{waiting.pk}/", {"reject": "1"})
    assert no_reason.status_code == 400 and b"a reason is required" in no_reason.content
    done = client.post(f"/workflows/tasks/{waiting.pk}/", {"channel": "phone", "approved": "on", "complete": "1"})
    assert done.status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == "done" and waiting.result == {"approved": True, "channel": "phone", "note": None}


def test_a_task_claimed_by_someone_else_cannot_be_completed(waiting, worker, make_user, brand_a):
    other = make_user("otto", {brand_a: ["workflows.view", "workflows.work"]})
    login(worker, brand_a).post(f"/workflows/tasks/{waiting.pk}/claim/")
    response = login(other, brand_a).post(f"/workflows/tasks/{waiting.pk}/", {"channel": "shop", "complete": "1"})
    assert response.status_code == 400 and b"claimed by wendy" in response.content


def test_view_without_work_may_look_but_not_act(waiting, make_user, brand_a):
    viewer = make_user("vera", {brand_a: ["workflows.view"]})
    client = login(viewer, brand_a)
    page = client.get(f"/workflows/tasks/{waiting.pk}/")
    assert page.status_code == 200 and b'data-testid="complete"' not in page.content
    assert client.post(f"/workflows/tasks/{waiting.pk}/", {"channel": "shop", "complete": "1"}).status_code == 403
    assert client.post(f"/workflows/tasks/{waiting.pk}/claim/").status_code == 403


def test_desk_roles_limit_who_works_it(waiting, make_role, make_user, brand_a, system):
    desk = waiting.desk
    role = make_role("activation-desk", ["workflows.view", "workflows.work"], brand=brand_a)
    desk.roles.set([role])
    outsider = make_user("oscar", {brand_a: ["workflows.view", "workflows.work"]})
    assert login(outsider, brand_a).post(f"/workflows/tasks/{waiting.pk}/claim/").status_code == 403


def test_brand_b_sees_nothing_of_brand_a(waiting, make_user, brand_b, system):
    create_desk(brand_b, "backoffice", "Bravo back office", actor=system, at=clock.now())
    bravo = make_user("bert", {brand_b: ["workflows.view", "workflows.work", "workflows.change"]})
    client = login(bravo, brand_b)
    assert client.get(f"/workflows/desks/{waiting.desk_id}/").status_code == 404
    assert client.get(f"/workflows/tasks/{waiting.pk}/").status_code == 404
    assert client.post(f"/workflows/tasks/{waiting.pk}/", {"channel": "shop", "complete": "1"}).status_code == 404
    assert client.post(f"/workflows/tasks/{waiting.pk}/claim/").status_code == 404
    listing = client.get("/workflows/")
    assert b"Bravo back office" in listing.content and b"Backoffice" not in listing.content
    waiting.refresh_from_db()
    assert waiting.state == "open"
    assert list(Desk.objects.for_user(bravo)) == list(Desk.objects.filter(brand=brand_b))


def test_no_right_no_screen(waiting, make_user, brand_a):
    stranger = make_user("sam", {brand_a: ["customers.view"]})
    client = login(stranger, brand_a)
    assert client.get("/workflows/").status_code == 403
    assert client.get(f"/workflows/tasks/{waiting.pk}/").status_code == 404


def test_the_subject_hook_fills_the_task_page(waiting, worker, brand_a):
    register_subject("tests.thing", describe=lambda inst: (f"Order {inst.subject_id}", "",
                                                           [("Customer", "Ann Example")]))
    try:
        page = login(worker, brand_a).get(f"/workflows/tasks/{waiting.pk}/")
    finally:
        unregister_subject("tests.thing")
    assert b"Order ANN-7" in page.content and b"Ann Example" in page.content


def test_flows_list_and_version_steps(waiting, worker, brand_a, flow):
    client = login(worker, brand_a)
    assert b"example_activation" in client.get("/workflows/flows/").content
    page = client.get(f"/workflows/versions/{flow.pk}/")
    assert page.status_code == 200 and b"example.reserve" in page.content and b"PT2H" in page.content
    assert b'data-testid="bpmn-canvas"' in page.content and b"bpmn-navigated-viewer.production.min.js" in page.content
