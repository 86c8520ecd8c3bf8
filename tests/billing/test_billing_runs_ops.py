"""Running bills: a killed run resumes without double effects, a failing account is parked and the
run goes on, test runs are deleted without a trace, the receivables ledger is never edited, the
documents keep the output contract, and rights (brand A never reaches brand B)."""

from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph
from django.db import connection, transaction

from telora.billing.documents.contract import check_document
from telora.billing.models import ARLedgerEntry, BillRun, ChargeMark, Invoice, ParkedAccount
from telora.billing.services import create_adjustment, delete_run, execute_run, start_run
from telora.billing.services import runs as run_services
from telora.billing.services.snapshot import Loader
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError

pytestmark = pytest.mark.usefixtures("nord_kept")

AT = "2026-04-02T06:00"


@pytest.fixture
def three(account_for, subscribe):
    """Three accounts, each with a Mobil Basis line from 2026-03-11: 33.19 + 49.00, VAT 20.55 -> 102.74."""
    accounts = [account_for(f"Kunde {n}") for n in range(3)]
    for account in accounts:
        subscribe(account, "2026-03-11")
    return accounts


def start(nord, kind="production", actor=None):
    return start_run(nord, "M01", "2026-03", (), kind, actor=actor or Actor.system("tests"), at=cph(AT))


class Killed(BaseException):
    """Stands for the worker being killed: not an error a run catches and parks."""


def test_a_killed_run_resumes_without_double_effects(nord, three, monkeypatch):
    billed = []
    real = run_services.bill_accounts

    def dies_on_the_second(run, accounts, *args, **kwargs):
        if len(billed) == 1:
            raise Killed
        billed.extend(accounts)
        return real(run, accounts, *args, **kwargs)

    run = start(nord)
    monkeypatch.setattr(run_services, "BATCH", 1)
    monkeypatch.setattr(run_services, "bill_accounts", dies_on_the_second)
    with time_machine.travel(cph(AT), tick=False), pytest.raises(Killed):
        execute_run(run, at=cph(AT))
    assert Invoice.objects.filter(run=run).count() == 1
    monkeypatch.setattr(run_services, "bill_accounts", real)
    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(run, at=cph(AT))
    invoices = list(Invoice.objects.filter(run=run).order_by("number"))
    assert [(i.account_id, i.number, i.total) for i in invoices] == [
        (three[0].pk, "INV-2026-000001", D("102.74")), (three[1].pk, "INV-2026-000002", D("102.74")),
        (three[2].pk, "INV-2026-000003", D("102.74"))]
    assert ARLedgerEntry.objects.count() == 3 and run.summary["invoices"] == 3 and run.status == "done"
    # each line's March and April once (plus its usage period)
    assert ChargeMark.objects.filter(kind="recurring").count() == 6


def test_a_failing_account_is_parked_and_the_run_goes_on(nord, three, monkeypatch):
    real = Loader.snapshot

    def snapshot(self, account):
        if account.pk == three[1].pk:
            raise ValueError("no price for the plan")
        return real(self, account)

    monkeypatch.setattr(Loader, "snapshot", snapshot)
    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(start(nord), at=cph(AT))
    assert sorted(Invoice.objects.filter(run=run).values_list("account_id", flat=True)) == [three[0].pk, three[2].pk]
    assert run.summary["parked"] == [{"account": three[1].number, "error": "no price for the plan"}]
    # gap-free numbers: the parked account's transaction took none
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["INV-2026-000001", "INV-2026-000002"]
    # fixed and run again: the parked account is billed, the others are not billed twice
    monkeypatch.setattr(Loader, "snapshot", real)
    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(run, at=cph(AT))
    assert ParkedAccount.objects.count() == 0 and Invoice.objects.filter(run=run).count() == 3
    assert Invoice.objects.get(account=three[1]).number == "INV-2026-000003"


def test_test_runs_are_repeatable_and_deleted_without_trace(nord, three, system):
    with time_machine.travel(cph(AT), tick=False):
        first = execute_run(start(nord, "test"), at=cph(AT))
        second = execute_run(start(nord, "test"), at=cph(AT))
    assert first.summary["total"] == second.summary["total"] == "308.22"
    for invoice in Invoice.objects.all():
        check_document(invoice.document)
    delete_run(first, actor=system, at=cph(AT))
    assert not BillRun.objects.filter(pk=first.pk).exists() and Invoice.objects.count() == 3
    assert ChargeMark.objects.count() == 0 and ARLedgerEntry.objects.count() == 0
    with time_machine.travel(cph(AT), tick=False):
        prod = execute_run(start(nord), at=cph(AT))
    for invoice in Invoice.objects.filter(run=prod):
        check_document(invoice.document)
    with pytest.raises(ServiceError, match="never deleted"):
        delete_run(prod, actor=system, at=cph(AT))


def test_the_receivables_ledger_is_never_edited(nord, three):
    with time_machine.travel(cph(AT), tick=False):
        execute_run(start(nord), at=cph(AT))
    entry = ARLedgerEntry.objects.first()
    entry.amount = D("0")
    with pytest.raises(ValueError, match="never edited"):
        entry.save()
    with pytest.raises(ValueError, match="never deleted"):
        entry.delete()
    for sql in ("UPDATE billing_arledgerentry SET amount = 0", "DELETE FROM billing_arledgerentry"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert sorted(ARLedgerEntry.objects.values_list("amount", flat=True)) == [D("102.74")] * 3


def test_a_production_run_waits_for_its_period_to_end(nord, system):
    with pytest.raises(ServiceError, match="has not ended"):
        start_run(nord, "M01", "2026-04", (), "production", actor=system, at=cph(AT))


def test_rights_and_brands(nord, make_brand, make_user, account_for):
    other = make_brand("other", currency="EUR")
    clerk = Actor(user=make_user("clerk", {nord: ["billing.view", "billing.change", "billing.adjust"]}))
    boss = Actor(user=make_user("boss", {nord: ["billing.view", "billing.change", "billing.approve",
                                               "billing.adjust", "billing.adjust_large"]}))
    stranger = Actor(user=make_user("stranger", {other: ["billing.view", "billing.change", "billing.approve"]}))
    test_run = start(nord, "test", actor=clerk)
    with pytest.raises(PermissionDeniedError, match="billing.approve"):
        start(nord, "production", actor=clerk)
    assert start(nord, "production", actor=boss).kind == "production"
    with pytest.raises(PermissionDeniedError):
        start(nord, "test", actor=stranger)
    assert BillRun.objects.for_user(stranger.principal).count() == 0
    assert test_run in BillRun.objects.for_user(clerk.principal)
    account = account_for("Anne Adjust")
    assert create_adjustment(account, D("-499.99"), reason="Outage", actor=clerk, at=cph(AT)).amount == D("-499.99")
    with pytest.raises(PermissionDeniedError, match="adjust_large"):
        create_adjustment(account, D("-500.00"), reason="Outage", actor=clerk, at=cph(AT))
    assert create_adjustment(account, D("-500.00"), reason="Outage", actor=boss, at=cph(AT))
    with pytest.raises(PermissionDeniedError):
        create_adjustment(account, D("1.00"), reason="Fee", actor=stranger, at=cph(AT))
    with pytest.raises(ServiceError, match="reason"):
        create_adjustment(account, D("1.00"), reason=" ", actor=boss, at=cph(AT))
    with pytest.raises(ServiceError, match="decimals"):
        create_adjustment(account, D("1.001"), reason="Fee", actor=boss, at=cph(AT))


def test_a_run_as_a_background_job(nord, three, system):
    from telora.core.models import Job
    from telora.core.services.jobs import execute, start_job

    run = start(nord)
    job = start_job("billing.run", actor=system, at=cph(AT), brand=nord, params={"run_id": run.pk})
    with time_machine.travel(cph(AT), tick=False):
        execute(job.pk)
    job = Job.objects.get(pk=job.pk)
    run.refresh_from_db()
    assert (job.status, job.result, job.progress_done) == ("succeeded", {"invoices": 3, "parked": 0}, 3)
    assert run.job_id == job.pk and run.status == "done"


def test_plan_change_in_the_database(nord, system, account_for, subscribe):
    from telora.customers.services import change_plan

    account = account_for("Per Plan")
    line = subscribe(account, "2026-02-01")
    with time_machine.travel(cph("2026-03-02"), tick=False):
        start_feb = start_run(nord, "M01", "2026-02", (), "production", actor=system, at=cph("2026-03-02"))
        execute_run(start_feb, at=cph("2026-03-02"))
    change_plan(line, "MOB_POST_10GB", actor=system, at=cph("2026-03-16T09:00"))
    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(start(nord), at=cph(AT))
    invoice = Invoice.objects.get(run=run)
    # credit 49 * 16/31 = 25.29 ; 149 * 16/31 = 76.90 ; April 149 ; activation 99: 299.61, VAT 74.9025 -> 74.90
    assert [(x.kind, x.description, x.amount) for x in invoice.lines.order_by("position")] == [
        ("credit", "Mobil Basis, credit for 16 of 31 days", D("-25.29")),
        ("proration", "Mobil 10 GB, 16 of 31 days", D("76.90")), ("recurring", "Mobil 10 GB", D("149.00")),
        ("one_time", "Activation fee", D("99.00"))]
    assert (invoice.net, invoice.tax, invoice.total) == (D("299.61"), D("74.90"), D("374.51"))


def test_brand_b_sees_nothing_of_brand_a(nord, three, make_brand, make_user):
    other = make_brand("other", currency="EUR")
    stranger = make_user("stranger", {other: ["billing.view", "billing.change", "billing.approve"]})
    insider = make_user("insider", {nord: ["billing.view"]})
    with time_machine.travel(cph(AT), tick=False):
        execute_run(start(nord), at=cph(AT))
    for model in (BillRun, Invoice, ARLedgerEntry):
        assert model.objects.for_user(stranger).count() == 0
        assert model.objects.for_user(insider).count() == model.objects.count() > 0


def test_a_run_whose_error_escapes_is_failed_and_resumes(nord, three, monkeypatch):
    """An error outside one account (here: reporting progress after the first account) marks the run
    failed with it; executed again, the run bills the rest once, numbers without gaps."""
    run = start(nord)
    monkeypatch.setattr(run_services, "BATCH", 1)

    def breaks_after_the_first(done, total):
        if done == 1:
            raise RuntimeError("the database went away")

    with time_machine.travel(cph(AT), tick=False), pytest.raises(RuntimeError, match="went away"):
        execute_run(run, at=cph(AT), progress=breaks_after_the_first)
    run.refresh_from_db()
    assert run.status == "failed" and run.summary == {"error": "RuntimeError: the database went away"}
    assert run.finished_at is not None and Invoice.objects.filter(run=run).count() == 1
    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(run, at=cph(AT))
    assert run.status == "done" and run.summary["invoices"] == 3 and not run.summary["parked"]
    assert sorted(Invoice.objects.filter(run=run).values_list("number", flat=True)) == [
        "INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert ChargeMark.objects.filter(run=run, kind="recurring").count() == 6  # March prorated, April
    assert ARLedgerEntry.objects.filter(invoice__run=run).count() == 3
    assert run.summary["total"] == "308.22"


def test_deleting_a_test_run_deletes_its_pdfs(nord, three, system, settings, tmp_path,
                                              django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    from telora.billing.services.pdfs import store_pdf

    settings.MEDIA_ROOT = str(tmp_path)
    with time_machine.travel(cph(AT), tick=False):
        doomed = execute_run(start(nord, "test"), at=cph(AT))
        kept = execute_run(start(nord, "test"), at=cph(AT))
    names = [store_pdf(i, actor=system, at=cph(AT)) for i in Invoice.objects.filter(run=doomed).order_by("id")[:2]]
    other = store_pdf(Invoice.objects.filter(run=kept).first(), actor=system, at=cph(AT))
    folder = tmp_path / "invoices" / "NORD" / f"run-{doomed.pk}"
    assert len(names) == 2 and all(default_storage.exists(n) for n in names) and folder.is_dir()
    assert all(n.startswith(f"invoices/NORD/run-{doomed.pk}/") for n in names)
    with django_capture_on_commit_callbacks(execute=True):
        delete_run(doomed, actor=system, at=cph(AT))
    assert not any(default_storage.exists(n) for n in names) and not folder.exists()
    assert default_storage.exists(other) and (tmp_path / "invoices" / "NORD").is_dir()
