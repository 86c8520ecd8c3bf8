"""/api/v1/billruns: a run started, followed to its summary, approved into a production run and
compared; the period rule, the rights, and brand B seeing nothing of brand A."""

import datetime as dt
import json
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from telora.billing.models import BillRun, Invoice
from telora.billing.services import execute_run
from telora.core import clock
from telora.core.models import AuditEvent, Job
from telora.core.services.users import create_api_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


def cph(text):
    """A Copenhagen moment (as tests/billing/conftest.py's, which another conftest may shadow)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Copenhagen"))


RUNS = "/api/v1/billruns"
AT = "2026-04-02T06:00"
CLERK = ["billing.view", "billing.change"]
BOSS = ["billing.view", "billing.change", "billing.approve"]


class Api:
    def __init__(self, token):
        self.client, self.headers = Client(), {"Authorization": f"Bearer {token}"}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(path, json.dumps(data or {}), content_type="application/json", headers=self.headers)


@pytest.fixture
def frozen():
    with time_machine.travel(cph(AT), tick=False):
        yield


@pytest.fixture
def api_for(system, make_user):
    def make(username, grants):
        user = make_user(username, grants)
        _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="t", brands=list(grants),
                                     permissions=sorted({p for ps in grants.values() for p in ps}))
        return Api(token)

    return make


@pytest.fixture
def basis(account_for, subscribe):
    """One account with Mobil Basis from 2026-03-11: 49 * 21/31 = 33.19 for March, 49.00 for April,
    net 82.19, VAT 25 % 20.5475 -> 20.55, total 102.74."""
    account = account_for("Kunde Basis")
    subscribe(account, "2026-03-11")
    return account


def start(api, **body):
    return api.post(RUNS, {"brand": "NORD", "cycle": "M01", "period": "2026-03", **body})


def test_a_test_run_started_followed_and_summarised(frozen, nord, basis, api_for):
    clerk = api_for("clerk", {nord: CLERK})
    response = start(clerk)
    assert response.status_code == 202, response.content
    body = response.json()
    run = BillRun.objects.get(pk=body["id"])
    assert response["Location"] == body["href"] == f"{RUNS}/{run.pk}"
    assert {k: body[k] for k in ("brand", "kind", "status", "cycle", "period_start", "period_end", "groups",
                                 "accounts_total", "accounts_done", "progress", "summary")} == {
        "brand": "NORD", "kind": "test", "status": "queued", "cycle": "M01", "period_start": "2026-03-01",
        "period_end": "2026-04-01", "groups": [], "accounts_total": 1, "accounts_done": 0, "progress": 0.0,
        "summary": {}}
    job = Job.objects.get(pk=body["job"])
    assert (job.kind, job.params, job.created_by.username) == ("billing.run", {"run_id": run.pk}, "clerk")
    assert AuditEvent.objects.filter(action="billrun_start", object_id=str(run.pk)).exists()

    execute_run(run, at=cph(AT))
    done = clerk.get(f"{RUNS}/{run.pk}").json()
    assert (done["status"], done["accounts_done"], done["progress"]) == ("done", 1, 100.0)
    summary = done["summary"]
    assert (summary["invoices"], summary["net"], summary["tax"], summary["total"]) == (1, "82.19", "20.55", "102.74")
    assert summary["per_kind"] == {"proration": {"lines": 1, "amount": "33.19"},
                                   "recurring": {"lines": 1, "amount": "49.00"}}
    assert summary["reconciliation"]["holds"] is True and summary["parked"] == []
    assert Invoice.objects.get(run=run).number is None


def test_start_is_checked(frozen, nord, basis, api_for):
    clerk = api_for("clerk", {nord: CLERK})
    assert start(clerk, kind="production").status_code == 403  # billing.approve
    bad = start(clerk, cycle="M99")
    assert (bad.status_code, bad.json()["field"]) == (400, "cycle")
    bad = start(clerk, period="March")
    assert (bad.status_code, bad.json()["field"]) == (400, "period")
    bad = start(clerk, groups=["nope"])
    assert (bad.status_code, bad.json()["field"]) == (400, "groups")
    bad = start(clerk, kind="final")
    assert (bad.status_code, bad.json()["field"]) == (400, "kind")
    assert BillRun.objects.count() == 0


def test_a_production_run_waits_for_its_period_to_end(nord, basis, api_for):
    boss = api_for("boss", {nord: BOSS})
    with time_machine.travel(cph("2026-03-20T12:00"), tick=False):
        bad = start(boss, kind="production")
    assert (bad.status_code, bad.json()["field"]) == (400, "period")
    with time_machine.travel(cph(AT), tick=False):
        assert start(boss, kind="production").json()["kind"] == "production"


def test_approve_then_compare(frozen, nord, basis, api_for, account_for, subscribe):
    clerk, boss = api_for("clerk", {nord: CLERK}), api_for("boss", {nord: BOSS})
    first = BillRun.objects.get(pk=start(clerk).json()["id"])
    assert clerk.post(f"{RUNS}/{first.pk}/approve").status_code == 403  # not done, and no billing.approve
    refused = boss.post(f"{RUNS}/{first.pk}/approve")
    assert (refused.status_code, refused.json()["field"]) == (400, "run")  # not done yet
    execute_run(first, at=cph(AT))
    assert clerk.post(f"{RUNS}/{first.pk}/approve").status_code == 403

    other = account_for("Kunde Ny")
    subscribe(other, "2026-03-11")
    second = BillRun.objects.get(pk=start(clerk).json()["id"])
    execute_run(second, at=cph(AT))
    diff = clerk.get(f"{RUNS}/{first.pk}/compare/{second.pk}").json()
    assert diff == {"a": first.pk, "b": second.pk, "new": [other.number], "removed": [], "changed": [], "same": 1}
    back = clerk.get(f"{RUNS}/{second.pk}/compare/{first.pk}").json()
    assert (back["new"], back["removed"]) == ([], [other.number])

    approved = boss.post(f"{RUNS}/{second.pk}/approve")
    assert approved.status_code == 202, approved.content
    body = approved.json()
    assert (body["kind"], body["approved_from"], body["status"], body["accounts_total"]) == (
        "production", second.pk, "queued", 2)
    production = execute_run(BillRun.objects.get(pk=body["id"]), at=cph(AT))
    assert sorted(Invoice.objects.filter(run=production).values_list("number", "total")) == [
        ("INV-2026-000001", D("102.74")), ("INV-2026-000002", D("102.74"))]
    listed = boss.get(RUNS, kind="production")
    assert [r["id"] for r in listed.json()] == [production.pk] and listed["X-Total-Count"] == "1"
    assert [r["id"] for r in boss.get(RUNS, period="2026-03").json()] == [production.pk, second.pk, first.pk]


def test_brand_b_sees_nothing_of_brand_a(frozen, nord, basis, api_for, make_brand):
    other = make_brand("OTHER", currency="EUR")
    stranger = api_for("stranger", {other: BOSS})
    insider = api_for("insider", {nord: ["billing.view"]})
    run = BillRun.objects.get(pk=start(api_for("clerk", {nord: CLERK})).json()["id"])
    execute_run(run, at=cph(AT))
    assert stranger.get(RUNS).json() == [] and stranger.get(RUNS)["X-Total-Count"] == "0"
    assert [r["id"] for r in insider.get(RUNS).json()] == [run.pk]
    assert stranger.get(f"{RUNS}/{run.pk}").status_code == 404
    assert stranger.get(f"{RUNS}/{run.pk}/compare/{run.pk}").status_code == 404
    assert stranger.post(f"{RUNS}/{run.pk}/approve").status_code == 404
    denied = start(stranger)  # NORD is out of the stranger's reach
    assert (denied.status_code, denied.json()["field"]) == (400, "brand")
    assert insider.post(RUNS, {"cycle": "M01", "period": "2026-03"}).status_code == 403
    assert Client().get(RUNS).status_code == 401


@pytest.mark.parametrize("period", ["0001-01", "9999-12", "2099-01", "1990-01"])
def test_a_period_outside_the_sane_window_is_refused_naming_period(frozen, nord, basis, api_for, period):
    clerk = api_for("clerk", {nord: CLERK})
    bad = start(clerk, period=period)
    assert (bad.status_code, bad.json()["field"]) == (400, "period")
    assert f"period: {period} is outside the periods a bill run may be for (2016-04 to 2027-04)" \
        in bad.json()["message"]
    assert BillRun.objects.count() == 0


def test_the_command_refuses_a_far_period_in_one_line(frozen, nord, basis):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="period: 9999-12 is outside the periods a bill run may be for"):
        call_command("billrun", brand="NORD", cycle="M01", period="9999-12", test=True)
    assert BillRun.objects.count() == 0
