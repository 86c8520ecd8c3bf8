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


def test_a_long_queue_shows_its_top_page_and_a_capped_count(waiting, worker, brand_a, monkeypatch):
    from telora.workflows import selectors

    now = clock.now()
    HumanTask.objects.bulk_create([
        HumanTask(brand=brand_a, instance=waiting.instance, desk=waiting.desk, task_id=f"t{n}", element="approve",
                  name=f"Queued {n:02d}", kind="failure" if n % 20 == 0 else "user", subject_label=f"Customer {n}",
                  due_at=now + dt.timedelta(minutes=n), created_at=now - dt.timedelta(hours=n))
        for n in range(1, selectors.DESK_PAGE + 11)])
    client = login(worker, brand_a)
    url = f"/workflows/desks/{waiting.desk_id}/"
    page = client.get(url).content.decode()
    assert page.count('data-testid="task-row"') == selectors.DESK_PAGE and 'data-testid="desk-more"' in page
    assert f"{selectors.DESK_PAGE + 11} waiting" in page
    assert page.index("Queued 01") < page.index("Queued 02")  # the queue in due order
    failures = client.get(url, {"kind": "failure"}).content.decode()
    assert failures.count('data-testid="task-row"') == 3 and "Queued 20" in failures and "desk-more" not in failures
    assert client.get(url, {"subject": "customer 7"}).content.decode().count('data-testid="task-row"') == 1
    monkeypatch.setattr(selectors, "COUNT_CAP", 10)
    assert "10+ waiting" in client.get(url).content.decode()
    desks = client.get("/workflows/").content.decode()
    assert "10+" in desks


def test_the_business_calendar_screen(make_brand, make_user):
    brand = make_brand("dk", country="DK", timezone="Europe/Copenhagen")
    reader = make_user("rita", {brand: ["workflows.view"]})
    manager = make_user("max", {brand: ["workflows.view", "workflows.change"]})
    page = login(reader, brand).get("/workflows/calendar/")
    assert page.status_code == 200 and "2026-12-24 Juleaften" in page.content.decode()
    assert 'data-testid="submit"' not in page.content.decode() and 'data-testid="read-only"' in page.content.decode()
    assert 'data-testid="submit"' in login(manager, brand).get("/workflows/calendar/").content.decode()
    form = {"weekend": ["6", "7"], "opens": "09:00", "closes": "16:00", "holidays": "2026-12-24 Juleaften\n"}
    assert login(reader, brand).post("/workflows/calendar/", form).status_code == 403
    bad = login(manager, brand).post("/workflows/calendar/", {**form, "holidays": "24-12-2026 Juleaften"})
    assert bad.status_code == 200 and "is not a date" in bad.content.decode()
    saved = login(manager, brand).post("/workflows/calendar/", form)
    assert saved.status_code == 302
    from telora.workflows.selectors import calendar_for

    calendar = calendar_for(brand)
    assert calendar.holidays == frozenset({dt.date(2026, 12, 24)}) and calendar.opens == dt.time(9, 0)


def test_the_queue_pages_by_keyset_through_due_and_undue_tasks(waiting, worker, brand_a, system):
    """Pages follow each other in due order (tasks with a due time, then those without, oldest first),
    each task once, with the filters kept; an id from another desk starts at the top."""
    import re

    from telora.workflows import selectors

    now = clock.now()
    same = now + dt.timedelta(hours=1)  # ties on the due time are ordered by age, then id
    HumanTask.objects.bulk_create([
        HumanTask(brand=brand_a, instance=waiting.instance, desk=waiting.desk, task_id=f"k{n}", element="approve",
                  name=f"Keyset {n:03d}", subject_label=f"Paged {n}",
                  due_at=None if n % 4 == 0 else (same if n % 4 == 1 else now + dt.timedelta(minutes=n)),
                  created_at=now - dt.timedelta(minutes=n % 7))
        for n in range(2 * selectors.DESK_PAGE + 5)])
    client = login(worker, brand_a)
    url = f"/workflows/desks/{waiting.desk_id}/"
    expected = list(HumanTask.objects.open().filter(desk_id=waiting.desk_id, subject_label__startswith="Paged")
                    .order_by("due_at", "created_at", "id").values_list("pk", flat=True))
    seen, params = [], {"subject": "paged"}
    for _ in range(5):
        page = client.get(url, params).content.decode()
        seen += [int(pk) for pk in re.findall(r'href="/workflows/tasks/(\d+)/"', page)]
        following = re.search(r'href="\?([^"]+)" data-testid="desk-next"', page)
        if following is None:
            break
        params = dict(pair.split("=") for pair in following.group(1).replace("&amp;", "&").split("&"))
        assert params["subject"] == "paged"
    assert seen == expected and len(seen) == 2 * selectors.DESK_PAGE + 5
    other = create_desk(brand_a, "elsewhere", "Elsewhere", actor=system, at=now)
    stray = HumanTask.objects.create(brand=brand_a, instance=waiting.instance, desk=other, task_id="x",
                                     element="approve", name="Stray", created_at=now)
    first = client.get(url, {"subject": "paged", "after": stray.pk}).content.decode()
    assert [int(pk) for pk in re.findall(r'href="/workflows/tasks/(\d+)/"', first)] == expected[:selectors.DESK_PAGE]
