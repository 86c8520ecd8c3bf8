"""Resuming a failed or stopped bill run: the service's refusals (done, still executed, still queued),
its rights, the Resume button and its view, POST /api/v1/billruns/{id}/resume, `telora billrun
--resume`, the periodic sweep (it resumes only production runs nothing executes any more), the job
that refuses a run another session executes, and brand B seeing nothing of brand A."""

import json

import psycopg
import pytest
import time_machine
from billing_helpers import cph
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from gui_helpers import login
from telora.billing.models import ARLedgerEntry, BillRun, ChargeMark, Invoice
from telora.billing.services import execute_run, start_run
from telora.billing.services import runs as run_services
from telora.billing.services.resume import RUN_LOCK, alive, resumable, resume_run, resume_stalled
from telora.core import clock
from telora.core.models import AuditEvent, Job
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.jobs import execute, start_job
from telora.core.services.users import create_api_key

pytestmark = pytest.mark.usefixtures("nord_kept")

AT = "2026-04-02T06:00"
CLERK = ["billing.view", "billing.change"]
BOSS = ["billing.view", "billing.change", "billing.approve"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(cph(AT), tick=False):
        yield


@pytest.fixture
def three(account_for, subscribe):
    """Three accounts with Mobil Basis from 2026-03-11: 102.74 each (see test_billing_runs_ops)."""
    accounts = [account_for(f"Kunde {n}") for n in range(3)]
    for account in accounts:
        subscribe(account, "2026-03-11")
    return accounts


def start(nord, kind="production"):
    return start_run(nord, "M01", "2026-03", (), kind, actor=Actor.system("tests"), at=cph(AT))


def failed(nord, monkeypatch, kind="production") -> BillRun:
    """A run that failed after billing its first account (an error outside one account)."""
    run = start(nord, kind)
    monkeypatch.setattr(run_services, "BATCH", 1)

    def breaks(done, total):
        if done == 1:
            raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        execute_run(run, at=cph(AT), progress=breaks)
    monkeypatch.setattr(run_services, "BATCH", 200)
    run.refresh_from_db()
    assert run.status == "failed" and Invoice.objects.filter(run=run).count() == 1
    return run


def stalled(nord, kind="production", status="running") -> BillRun:
    """A run left running (or queued) by a worker that is gone: no lock, no job alive."""
    run = start(nord, kind)
    BillRun.objects.filter(pk=run.pk).update(status=status)
    run.refresh_from_db()
    return run


@pytest.fixture
def other_session():
    """Another database session (another process executing a run) taking the run's lock."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"],
                         autocommit=True) as conn:
        def hold(run):
            conn.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK, run.pk])
        yield hold


def test_a_failed_run_is_resumed_by_a_new_job_and_bills_nothing_twice(nord, three, monkeypatch, system):
    run = failed(nord, monkeypatch)
    first_job = start_job("billing.run", actor=system, at=cph(AT), brand=nord, params={"run_id": run.pk})
    Job.objects.filter(pk=first_job.pk).update(status="running")  # its worker died holding it
    assert not resumable(run)  # a job queued moments ago is given time to reach its worker
    assert resumable(run, grace_seconds=0)
    run = resume_run(run, actor=system, at=cph(AT), grace_seconds=0)
    assert run.status == "queued" and run.job.kind == "billing.run" and run.job.params == {"run_id": run.pk}
    first_job.refresh_from_db()
    assert first_job.status == "failed" and "was resumed" in first_job.error
    event = AuditEvent.objects.get(action="billrun_resume", object_id=str(run.pk))
    assert event.changes["status"] == ["failed", "queued"] and event.changes["job"] == [first_job.pk, run.job_id]
    assert execute(first_job.pk).status == "failed"  # a stale queue entry of the old job runs nothing
    assert execute(run.job_id).status == "succeeded"
    run.refresh_from_db()
    assert run.status == "done" and run.summary["total"] == "308.22" and not run.summary["parked"]
    assert sorted(Invoice.objects.filter(run=run).values_list("number", flat=True)) == [
        "INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert ARLedgerEntry.objects.count() == 3 and ChargeMark.objects.filter(kind="recurring").count() == 6


def test_refusals_name_the_field(nord, three, system, other_session, django_capture_on_commit_callbacks):
    done = execute_run(start(nord), at=cph(AT))
    with pytest.raises(ServiceError, match="is done") as refused:
        resume_run(done, actor=system, at=cph(AT))
    assert refused.value.field == "status"

    executed = stalled(nord)
    other_session(executed)  # another process executes it
    assert not resumable(executed)
    with pytest.raises(ServiceError, match="being executed") as refused:
        resume_run(executed, actor=system, at=cph(AT))
    assert refused.value.field == "status"

    waiting = stalled(nord, status="queued")
    with django_capture_on_commit_callbacks(execute=True):  # its queue entry is made
        start_job("billing.run", actor=system, at=cph(AT), brand=nord, params={"run_id": waiting.pk})
    with pytest.raises(ServiceError, match="waits for a worker"):
        resume_run(waiting, actor=system, at=cph(AT), grace_seconds=0)

    fresh = stalled(nord, status="queued")  # its job was queued a moment ago, its queue entry comes on commit
    start_job("billing.run", actor=system, at=cph(AT), brand=nord, params={"run_id": fresh.pk})
    assert "moments ago" in alive(fresh)
    with pytest.raises(ServiceError, match="moments ago"):
        resume_run(fresh, actor=system, at=cph(AT))
    assert resume_run(fresh, actor=system, at=cph(AT), grace_seconds=0).status == "queued"
    assert not AuditEvent.objects.filter(action="billrun_resume").exclude(object_id=str(fresh.pk)).exists()


def test_rights_are_those_that_start_the_run(nord, three, make_brand, make_user, monkeypatch):
    other = make_brand("other", currency="EUR")
    clerk = Actor(user=make_user("clerk", {nord: CLERK}))
    boss = Actor(user=make_user("boss", {nord: ["billing.view", "billing.approve"]}))
    stranger = Actor(user=make_user("stranger", {other: BOSS}))
    production, test_run = stalled(nord), stalled(nord, "test")
    with pytest.raises(PermissionDeniedError, match="billing.approve"):
        resume_run(production, actor=clerk, at=cph(AT))
    with pytest.raises(PermissionDeniedError):
        resume_run(test_run, actor=stranger, at=cph(AT))
    with pytest.raises(PermissionDeniedError):
        resume_run(production, actor=stranger, at=cph(AT))
    assert resume_run(test_run, actor=clerk, at=cph(AT)).job.created_by.username == "clerk"
    resumed = resume_run(production, actor=boss, at=cph(AT))  # approve without change: a system job
    assert resumed.status == "queued" and resumed.job.created_by is None
    assert AuditEvent.objects.get(action="billrun_resume", object_id=str(production.pk)).actor_label == "boss"


def test_the_sweep_resumes_only_production_runs_nothing_executes(nord, three, system, other_session,
                                                                django_capture_on_commit_callbacks, monkeypatch):
    dead = stalled(nord)
    dead_queued = stalled(nord, status="queued")
    executed = stalled(nord)
    other_session(executed)
    waiting = stalled(nord, status="queued")
    with django_capture_on_commit_callbacks(execute=True):
        start_job("billing.run", actor=system, at=cph(AT), brand=nord, params={"run_id": waiting.pk})
    broken = failed(nord, monkeypatch)  # left to people
    dead_test = stalled(nord, "test")  # test runs are resumed by people
    done = execute_run(start(nord), at=cph(AT))
    with django_capture_on_commit_callbacks(execute=True):  # the new jobs' queue entries are made
        resumed = resume_stalled(grace_seconds=0)
    assert sorted(r.pk for r in resumed) == sorted([dead.pk, dead_queued.pk])
    statuses = dict(BillRun.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in (dead, dead_queued, executed, waiting, broken, dead_test, done)] == [
        "queued", "queued", "running", "queued", "failed", "running", "done"]
    assert resume_stalled(grace_seconds=0) == []  # their new jobs wait in the queue now
    assert set(AuditEvent.objects.filter(action="billrun_resume").values_list("actor_label", flat=True)) == {
        "job:billrun-sweep"}


def test_the_sweep_is_a_periodic_task():
    from procrastinate.contrib.django import app

    assert "telora.billing.resume_stalled" in app.tasks
    assert any(p.task.name == "telora.billing.resume_stalled" and p.cron == "* * * * *"
               for p in app.periodic_registry.periodic_tasks.values())


def test_a_job_refuses_a_run_another_session_executes(nord, three, system, other_session):
    run = start(nord)
    other_session(run)
    job = start_job("billing.run", actor=system, at=cph(AT), brand=nord, params={"run_id": run.pk})
    job = execute(job.pk)
    run.refresh_from_db()
    assert job.status == "failed" and "being executed by another process" in job.error
    assert run.status == "queued" and run.job_id is None and not Invoice.objects.filter(run=run).exists()


def test_the_resume_button_and_its_view(nord, three, make_brand, make_user, monkeypatch):
    other = make_brand("other", currency="EUR")
    run = failed(nord, monkeypatch)
    url, page = reverse("billing:run_resume", args=[run.pk]), reverse("billing:run_detail", args=[run.pk])
    boss = login(make_user("boss", {nord: BOSS}), nord)
    html = boss.get(page).content.decode()
    assert 'data-testid="resume-run"' in html and f'action="{url}"' in html and "csrfmiddlewaretoken" in html
    assert "data-confirm=" in html  # asked first (telora.js; the CSP allows no inline handler)
    clerk = login(make_user("clerk", {nord: CLERK}), nord)
    assert 'data-testid="resume-run"' not in clerk.get(page).content.decode()  # production needs approve
    assert clerk.post(url).status_code == 403
    stranger = login(make_user("stranger", {other: BOSS}), other)
    assert stranger.get(page).status_code == 404 and stranger.post(url).status_code == 404
    assert boss.get(url).status_code == 405  # a button: POST only
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(make_user("carl", {nord: BOSS}))
    forged = guarded.post(url)  # no CSRF token
    assert forged.status_code == 403 and b"CSRF" in forged.content
    assert BillRun.objects.get(pk=run.pk).status == "failed"

    response = boss.post(url, follow=True)
    assert response.redirect_chain[-1][0] == page
    run.refresh_from_db()
    assert run.status == "queued" and "was resumed" in response.content.decode()
    assert 'data-testid="resume-run"' not in response.content.decode()  # its new job was just queued
    again = boss.post(url, follow=True).content.decode()
    assert "not stopped" in again and Job.objects.filter(kind="billing.run").count() == 1
    execute(run.job_id)
    assert 'data-testid="resume-run"' not in boss.get(page).content.decode()  # done


class Api:
    def __init__(self, token):
        self.client, self.headers = Client(), {"Authorization": f"Bearer {token}"}

    def post(self, path):
        return self.client.post(path, "{}", content_type="application/json", headers=self.headers)

    def get(self, path):
        return self.client.get(path, headers=self.headers)


@pytest.fixture
def api_for(system, make_user):
    def make(username, grants):
        user = make_user(username, grants)
        _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="t", brands=list(grants),
                                     permissions=sorted({p for ps in grants.values() for p in ps}))
        return Api(token)

    return make


def test_the_api_resumes_a_run(nord, three, make_brand, api_for, monkeypatch):
    other = make_brand("other", currency="EUR")
    run = failed(nord, monkeypatch)
    path = f"/api/v1/billruns/{run.pk}/resume"
    assert api_for("clerk", {nord: CLERK}).post(path).status_code == 403
    stranger = api_for("stranger", {other: BOSS})
    assert stranger.post(path).status_code == 404 and stranger.get(f"/api/v1/billruns/{run.pk}").status_code == 404
    boss = api_for("boss", {nord: BOSS})
    response = boss.post(path)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["id"] == run.pk and body["status"] == "queued" and response["Location"] == f"/api/v1/billruns/{run.pk}"
    execute(BillRun.objects.get(pk=run.pk).job_id)
    refused = boss.post(path)
    assert refused.status_code == 400 and "is done" in json.dumps(refused.json())
    assert "status" in json.dumps(refused.json())


def test_the_cli_resumes_a_run_here(nord, three, monkeypatch, capsys):
    run = failed(nord, monkeypatch)
    call_command("billrun", "--resume", str(run.pk))
    out = capsys.readouterr().out
    assert f"run {run.pk} (production) 2026-03-01–2026-04-01: 3 accounts, 3 invoices" in out
    assert "total 308.22 DKK, parked 0" in out
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        "INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    event = AuditEvent.objects.get(action="billrun_resume")
    assert event.actor_label == "job:billrun" and event.message == "executed again by the caller, not queued"
    assert event.changes == {"accounts_done": [1, None]}
    with pytest.raises(CommandError, match="is done"):
        call_command("billrun", "--resume", str(run.pk))
    with pytest.raises(CommandError, match="no bill run 999999"):
        call_command("billrun", "--resume", "999999")
    with pytest.raises(CommandError, match="takes no --brand"):
        call_command("billrun", "--resume", str(run.pk), "--brand", "NORD")
    with pytest.raises(CommandError, match="--period required"):
        call_command("billrun", "--brand", "NORD", "--cycle", "M01", "--test")


def test_the_cli_refuses_a_run_another_session_executes(nord, three, other_session):
    run = stalled(nord)
    other_session(run)
    with pytest.raises(CommandError, match="being executed by another process"):
        call_command("billrun", "--resume", str(run.pk))
    assert BillRun.objects.get(pk=run.pk).status == "running" and not Invoice.objects.exists()


def test_the_run_page_says_when_nothing_executes_a_run_and_stops_polling(nord, three, make_user, other_session):
    run = stalled(nord)
    page = reverse("billing:run_detail", args=[run.pk])
    boss = login(make_user("boss", {nord: BOSS}), nord)
    response = boss.get(page)
    html = response.content.decode()
    assert response.context["stalled"] and not response.context["polling"]
    assert 'data-testid="run-stalled"' in html and 'data-testid="resume-run"' in html
    assert reverse("billing:run_progress", args=[run.pk]) not in html  # no polling
    other_session(run)  # another process executes it now: the page follows it again
    response = boss.get(page)
    assert not response.context["stalled"] and response.context["polling"]
    assert 'data-testid="run-stalled"' not in response.content.decode()
    assert reverse("billing:run_progress", args=[run.pk]) in response.content.decode()
