"""A production run issues invoice.issued per invoice and billrun.finished at the end, in the
transactions that write them; a test run issues no invoice events."""

from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph

from telora.billing.models import Invoice
from telora.billing.services import execute_run, start_run
from telora.core.services.actors import Actor
from telora.events.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
AT = "2026-04-02T06:00"


@pytest.fixture
def two(account_for, subscribe):
    accounts = [account_for(f"Kunde {n}") for n in range(2)]
    for account in accounts:
        subscribe(account, "2026-03-11")
    return accounts


def run(nord, kind):
    with time_machine.travel(cph(AT), tick=False):
        started = start_run(nord, "M01", "2026-03", (), kind, actor=Actor.system("tests"), at=cph(AT))
        return execute_run(started, at=cph(AT))


def test_a_production_run_says_which_invoices_it_issued_and_that_it_finished(nord, two):
    finished = run(nord, "production")
    invoices = {str(i.pk): i for i in Invoice.objects.filter(run=finished)}
    issued = list(Event.objects.filter(type="invoice.issued").order_by("id"))
    assert {e.subject_id for e in issued} == set(invoices) and len(issued) == 2
    for event in issued:
        invoice = invoices[event.subject_id]
        assert event.subject_type == "billing.invoice" and event.brand_id == nord.pk
        assert event.payload["number"] == invoice.number and D(event.payload["total"]) == invoice.total
        assert event.payload["account_id"] == invoice.account_id and event.payload["run_id"] == finished.pk
        assert event.payload["currency"] == "DKK"
    assert not Event.objects.filter(type="invoice.credit_note_issued").exists()
    done = Event.objects.get(type="billrun.finished")
    assert (done.subject_type, done.subject_id) == ("billing.billrun", str(finished.pk))
    assert done.payload["invoices"] == 2 and done.payload["kind"] == "production"
    assert done.payload["total"] == finished.summary["total"]


def test_a_test_run_issues_nothing(nord, two):
    finished = run(nord, "test")
    assert not Event.objects.filter(type__startswith="invoice.").exists()
    assert Event.objects.get(type="billrun.finished").payload["kind"] == "test"
    assert finished.status == "done"
