"""A production run approved from a test run issues what finance reviewed, or is held showing what changed."""

import datetime as dt
import json
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from telora.billing.models import BillRun, Invoice
from telora.billing.services import approve, confirm_run, delete_run, execute_run, start_run
from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import ServiceError
from telora.core.services.users import create_api_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
AT = "2026-04-02T06:00"
RUNS = "/api/v1/billruns"
BOSS = ["billing.view", "billing.change", "billing.approve"]


def cph(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Copenhagen"))


@pytest.fixture
def frozen():
    with time_machine.travel(cph(AT), tick=False):
        yield


@pytest.fixture
def reviewed(frozen, nord, system, account_for, subscribe):
    """Two accounts with Mobil Basis from 2026-03-11, and March's test run finance looked at."""
    lines = [subscribe(account_for(name), "2026-03-11") for name in ("Kunde En", "Kunde To")]
    test_run = execute_run(start_run(nord, "M01", "2026-03", (), "test", actor=system, at=cph(AT)), at=cph(AT))
    return test_run, lines


def test_an_identical_production_run_issues_and_says_so(reviewed, system):
    test_run, _lines = reviewed
    production = execute_run(approve(test_run, actor=system, at=cph(AT)), at=cph(AT))
    assert production.status == "done"
    assert production.summary["approval_check"]["identical"] is True
    assert production.summary["approval_check"]["test_run"] == test_run.pk and "invoices" in production.summary
    assert sorted(Invoice.objects.filter(run=production).values_list("total", flat=True)) == [D("102.74")] * 2
    assert list(BillRun.objects.values_list("pk", flat=True).order_by("pk")) == [test_run.pk, production.pk]


def test_a_changed_state_holds_the_run_until_finance_confirms(reviewed, system, rated, nord, make_user):
    test_run, lines = reviewed
    rated(lines[0], "2026-03-20T10:00", "voice", "DK", "12.000000", quantity=600)  # rated after the review
    production = execute_run(approve(test_run, actor=system, at=cph(AT)), at=cph(AT))
    assert production.status == "held"
    assert not Invoice.objects.filter(run=production).exists()  # nothing issued
    check = production.summary["approval_check"]
    assert check["identical"] is False and check["same"] == 1 and check["new"] == [] and check["removed"] == []
    [changed] = check["changed"]
    assert changed["account"] == lines[0].billing_account.number
    assert (D(changed["total_a"]), D(changed["total_b"])) == (D("102.74"), D("117.74"))  # 12.00 more, 25 % VAT
    check_run = BillRun.objects.get(pk=check["check_run"])
    assert check_run.kind == "test" and Invoice.objects.filter(run=check_run).count() == 2
    assert AuditEvent.objects.filter(action="billrun_check", object_id=str(production.pk)).exists()
    assert execute_run(production, at=cph(AT)).status == "held"  # a stale job does not issue it

    clerk = make_user("clerk", {nord: ["billing.view", "billing.change"]})
    from telora.core.services.actors import Actor

    with pytest.raises(ServiceError, match="billing.approve"):
        confirm_run(production, actor=Actor(user=clerk), at=cph(AT))
    confirmed = confirm_run(production, actor=system, at=cph(AT))
    assert confirmed.status == "queued"
    issued = execute_run(confirmed, at=cph(AT))
    assert issued.status == "done" and issued.summary["approval_check"]["confirmed"]["by"] == "job:tests"
    assert sorted(Invoice.objects.filter(run=issued).values_list("total", flat=True)) == [D("102.74"), D("117.74")]
    with pytest.raises(ServiceError, match="not held"):
        confirm_run(issued, actor=system, at=cph(AT))


def test_a_held_run_can_be_deleted_and_an_issued_one_cannot(reviewed, system, rated):
    test_run, lines = reviewed
    rated(lines[1], "2026-03-21T10:00", "sms", "DK", "0.250000")
    held = execute_run(approve(test_run, actor=system, at=cph(AT)), at=cph(AT))
    assert held.status == "held"
    delete_run(held, actor=system, at=cph(AT))
    assert not BillRun.objects.filter(pk=held.pk).exists()


def test_the_api_and_the_run_page_show_and_confirm_a_held_run(reviewed, system, rated, nord, make_user, client):
    test_run, lines = reviewed
    rated(lines[0], "2026-03-20T10:00", "voice", "DK", "12.000000", quantity=600)
    held = execute_run(approve(test_run, actor=system, at=cph(AT)), at=cph(AT))
    boss = make_user("boss", {nord: BOSS})
    _key, token = create_api_key(actor=system, at=clock.now(), user=boss, name="t", brands=[nord], permissions=BOSS)
    headers = {"Authorization": f"Bearer {token}"}
    body = Client().get(f"{RUNS}/{held.pk}", headers=headers).json()
    assert body["status"] == "held" and body["summary"]["approval_check"]["identical"] is False

    client.force_login(boss)
    page = client.get(f"/billing/runs/{held.pk}/").content.decode()
    assert 'data-testid="approval-check" data-identical="false"' in page and 'data-testid="confirm-run"' in page
    assert f"/billing/runs/{held.summary['approval_check']['check_run']}/compare/?other={test_run.pk}" in page

    confirmed = Client().post(f"{RUNS}/{held.pk}/confirm", json.dumps({}), content_type="application/json",
                              headers=headers)
    assert confirmed.status_code == 202 and confirmed.json()["status"] == "queued"
    again = Client().post(f"{RUNS}/{held.pk}/confirm", "{}", content_type="application/json", headers=headers)
    assert again.status_code == 400 and again.json()["field"] == "status"


def test_brand_b_cannot_confirm_brand_a_runs(reviewed, system, rated, make_brand, make_user):
    test_run, lines = reviewed
    rated(lines[0], "2026-03-20T10:00", "voice", "DK", "12.000000", quantity=600)
    held = execute_run(approve(test_run, actor=system, at=cph(AT)), at=cph(AT))
    other = make_brand("other")
    stranger = make_user("stranger", {other: BOSS})
    _key, token = create_api_key(actor=system, at=clock.now(), user=stranger, name="t", brands=[other],
                                 permissions=BOSS)
    answer = Client().post(f"{RUNS}/{held.pk}/confirm", "{}", content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404
    held.refresh_from_db()
    assert held.status == "held"
