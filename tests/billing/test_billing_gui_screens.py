"""The billing screens with the Django client: a test run started and followed, its summary, the
comparison of two runs, approval into a production run, deleting a test run, the invoice search,
an invoice's page and PDF, adjustments; rights and brand isolation (brand A never sees brand B)."""

from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph, pdf_after_job
from django.urls import reverse

from gui_helpers import form_errors, login
from telora.billing.models import Adjustment, BillRun, Invoice
from telora.billing.services import create_adjustment, execute_run, start_run
from telora.core.models import AuditEvent, Job
from telora.core.services.actors import Actor
from telora.core.services.jobs import execute

pytestmark = pytest.mark.usefixtures("nord_kept")

AT = "2026-04-02T06:00"
RUNNER = ["billing.view", "billing.change"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(cph(AT), tick=False):
        yield


@pytest.fixture
def three(account_for, subscribe):
    """Three accounts with a Mobil Basis line from 2026-03-11 each: March 49.00 * 21/31 = 33.19 and
    April 49.00 in advance, net 82.19, VAT 25 % 20.5475 -> 20.55, total 102.74."""
    accounts = [account_for(f"Kunde {n}") for n in range(3)]
    for account in accounts:
        subscribe(account, "2026-03-11")
    return accounts


def billed_run(nord):
    return execute_run(start_run(nord, "M01", "2026-03", (), "test", actor=Actor.system("tests"), at=cph(AT)),
                       at=cph(AT))


def test_start_a_test_run_and_follow_it_to_its_summary(nord, three, make_user):
    client = login(make_user("finn", {nord: RUNNER}), nord)
    page = client.get(reverse("billing:run_start"))
    assert page.status_code == 200 and [c for c, _ in page.context["form"].fields["cycle"].choices] == ["M01", "M15"]
    assert page.context["form"].initial["period"] == "2026-03"  # the month that ended

    wrong = client.post(reverse("billing:run_start"), {"cycle": "M01", "period": "03/2026"})
    assert form_errors(wrong) == {"period": ["Give the month as YYYY-MM."]} and not BillRun.objects.exists()

    response = client.post(reverse("billing:run_start"), {"cycle": "M01", "period": "2026-03"})
    run = BillRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("billing:run_detail", args=[run.pk])
    assert (run.kind, run.status, run.accounts_total, str(run.period_start)) == ("test", "queued", 3, "2026-03-01")
    job = Job.objects.get(kind="billing.run")
    assert job.params == {"run_id": run.pk} and job.brand == nord

    progress_url = reverse("billing:run_progress", args=[run.pk])
    waiting = client.get(reverse("billing:run_detail", args=[run.pk]))
    assert f'hx-get="{progress_url}"' in waiting.content.decode()  # polled while queued

    assert "HX-Refresh" not in client.get(progress_url, HTTP_HX_REQUEST="true")
    execute(job.pk)  # what a worker does
    polled = client.get(progress_url, HTTP_HX_REQUEST="true")
    done = polled.content.decode()
    assert 'data-status="done"' in done and "hx-get" not in done
    assert polled["HX-Refresh"] == "true"  # the whole page once: its buttons change
    page = client.get(reverse("billing:run_detail", args=[run.pk]))
    summary = page.context["summary"]
    assert (summary["invoices"], summary["net"], summary["tax"], summary["total"]) == (3, "246.57", "61.65", "308.22")
    assert dict(page.context["per_kind"]) == {"proration": {"lines": 3, "amount": "99.57"},
                                              "recurring": {"lines": 3, "amount": "147.00"}}
    html = page.content.decode()
    assert 'data-testid="sum-total">308.22<' in html and 'data-holds="yes"' in html
    assert 'data-testid="approve"' not in html  # finn lacks billing.approve
    listed = client.get(reverse("billing:run_list")).content.decode()
    assert f'data-run="{run.pk}"' in listed and "DKK 308.22" in listed


def test_rights_and_brands(nord, three, make_user, make_brand):
    run = billed_run(nord)
    invoice = Invoice.objects.filter(run=run).first()
    other = make_brand("SYD", currency="DKK", timezone="Europe/Copenhagen", country="DK")
    stranger = login(make_user("sven", {other: ["billing.view", "billing.change", "billing.approve"]}), other)
    for name, pk in [("billing:run_detail", run.pk), ("billing:run_progress", run.pk), ("billing:run_approve", run.pk),
                     ("billing:invoice_detail", invoice.pk), ("billing:invoice_pdf", invoice.pk)]:
        assert stranger.get(reverse(name, args=[pk])).status_code == 404, name
    assert stranger.post(reverse("billing:run_delete", args=[run.pk])).status_code == 404
    assert list(stranger.get(reverse("billing:invoice_list")).context["object_list"]) == []
    assert list(stranger.get(reverse("billing:run_list")).context["object_list"]) == []

    viewer = login(make_user("vera", {nord: ["billing.view"]}), nord)
    assert viewer.get(reverse("billing:run_start")).status_code == 403
    assert viewer.get(reverse("billing:run_approve", args=[run.pk])).status_code == 403
    assert viewer.post(reverse("billing:run_delete", args=[run.pk])).status_code == 403
    assert viewer.get(reverse("billing:adjustment_create")).status_code == 403
    assert viewer.get(reverse("billing:run_detail", args=[run.pk])).status_code == 200
    nobody = login(make_user("nils", {nord: ["customers.view"]}), nord)
    assert nobody.get(reverse("billing:invoice_list")).status_code == 403
    # a run of brand SYD is no run to compare with
    syd_run = BillRun.objects.create(brand=other, kind="test", cycle=run.cycle, period_start=run.period_start,
                                     period_end=run.period_end, created_at=cph(AT))
    owner = login(make_user("finn", {nord: RUNNER}), nord)
    assert owner.get(reverse("billing:run_compare", args=[run.pk]), {"other": syd_run.pk}).status_code == 404


def test_compare_two_runs(nord, three, account_for, subscribe, make_user):
    first = billed_run(nord)
    create_adjustment(three[0], D("-10.00"), reason="goodwill", actor=Actor.system("tests"), at=cph(AT))
    subscribe(account_for("Ny Kunde"), "2026-03-11")
    second = billed_run(nord)
    client = login(make_user("finn", {nord: RUNNER}), nord)
    page = client.get(reverse("billing:run_compare", args=[second.pk]), {"other": first.pk})
    diff = page.context["diff"]
    assert diff["new"] == [BillRun.objects.get(pk=second.pk).invoices.order_by("-id").first().account.number]
    assert diff["removed"] == [] and diff["same"] == 2
    [changed] = diff["changed"]
    # net 82.19 - 10.00 = 72.19, VAT 18.0475 -> 18.05, total 90.24
    assert (changed["account"], changed["total_a"], changed["total_b"]) == (three[0].number, "102.740000", "90.240000")
    assert changed["only_a"] == [] and [(x[1], x[2], x[5]) for x in changed["only_b"]] == [
        ("adjustment", "goodwill", "-10.000000")]
    assert 'data-testid="total-b">90.240000<' in page.content.decode()


def test_approve_into_production_and_delete_a_test_run(nord, three, make_user):
    run = billed_run(nord)
    boss = login(make_user("bo", {nord: [*RUNNER, "billing.approve"]}), nord)
    detail = boss.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert 'data-testid="approve"' in detail
    confirm = boss.get(reverse("billing:run_approve", args=[run.pk]))
    assert "Approve test run" in confirm.content.decode() and confirm.context["invoices"] == 3
    response = boss.post(reverse("billing:run_approve", args=[run.pk]))
    production = BillRun.objects.get(kind="production")
    assert response.url == reverse("billing:run_detail", args=[production.pk])
    assert production.approved_from_id == run.pk
    execute(Job.objects.get(params={"run_id": production.pk}).pk)
    numbers = sorted(Invoice.objects.filter(run=production).values_list("number", "status", "total"))
    assert numbers == [("INV-2026-000001", "final", D("102.74")), ("INV-2026-000002", "final", D("102.74")),
                       ("INV-2026-000003", "final", D("102.74"))]
    # a production run is never deleted; a test run is
    assert boss.post(reverse("billing:run_delete", args=[production.pk])).status_code == 403
    assert boss.post(reverse("billing:run_delete", args=[run.pk])).url == reverse("billing:run_list")
    assert not BillRun.objects.filter(pk=run.pk).exists() and Invoice.objects.filter(run=production).count() == 3


def test_invoice_search_page_and_pdf(nord, three, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the PDF is stored there
    run = billed_run(nord)
    client = login(make_user("finn", {nord: ["billing.view"]}), nord)
    url = reverse("billing:invoice_list")

    def found(**params):
        return sorted(i.account.number for i in client.get(url, params).context["object_list"])

    numbers = sorted(a.number for a in three)
    assert found() == numbers
    assert found(q=three[1].number) == [three[1].number]
    assert found(q=three[2].customer.number) == [three[2].number]
    assert found(status="draft", run=run.pk, period="2026-03") == numbers
    assert found(status="final") == [] and found(period="2026-04") == [] and found(period="April") == []
    partial = client.get(url, {"q": three[0].number}, HTTP_HX_REQUEST="true")
    assert [t.name for t in partial.templates][0] == "billing/invoices/_table.html"

    invoice = Invoice.objects.get(run=run, account=three[0])
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    html = page.content.decode()
    [section] = page.context["sections"]
    assert [(line["kind"], line["amount"]) for line in section["lines"]] == [("proration", "33.19"),
                                                                              ("recurring", "49.00")]
    assert 'data-testid="invoice-total">DKK 102.74<' in html and 'data-testid="invoice-tax">DKK 20.55<' in html
    assert [(t["net"], t["tax"]) for t in page.context["taxes"]] == [("82.19", "20.55")]

    pdf = pdf_after_job(client.get, reverse("billing:invoice_pdf", args=[invoice.pk]))  # made by a job
    body = b"".join(pdf.streaming_content)
    assert pdf.status_code == 200 and body.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"
    invoice.refresh_from_db()
    assert invoice.pdf.endswith(".pdf") and (tmp_path / invoice.pdf).read_bytes() == body
    again = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert b"".join(again.streaming_content) == body  # stored: streamed, not rendered again
    assert AuditEvent.objects.filter(action="invoice_pdf").count() == 1


def test_adjustments(nord, three, make_user, make_brand):
    csr = login(make_user("cara", {nord: ["billing.view", "billing.adjust"]}), nord)
    url = reverse("billing:adjustment_create")
    response = csr.post(url, {"account": three[0].number, "amount": "-25.50", "reason": "outage in March"})
    assert response.url == reverse("billing:adjustment_list")
    adjustment = Adjustment.objects.get()
    assert (adjustment.account, adjustment.amount, adjustment.reason) == (three[0], D("-25.50"), "outage in March")
    assert AuditEvent.objects.filter(action="adjustment_create").count() == 1

    large = csr.post(url, {"account": three[0].number, "amount": "-500", "reason": "big outage"})
    assert form_errors(large) == {"__all__": ["You lack billing.adjust_large in NORD."]}
    unknown = csr.post(url, {"account": "NOPE", "amount": "5", "reason": "x"})
    assert list(form_errors(unknown)) == ["account"]
    boss = login(make_user("bo", {nord: ["billing.view", "billing.adjust", "billing.adjust_large"]}), nord)
    assert boss.post(url, {"account": three[1].number, "amount": "-500", "reason": "big outage"}).status_code == 302

    listed = csr.get(reverse("billing:adjustment_list"))
    assert [a.amount for a in listed.context["object_list"]] == [D("-500"), D("-25.50")]
    assert [a.amount for a in csr.get(reverse("billing:adjustment_list"), {"account": three[0].number})
            .context["object_list"]] == [D("-25.50")]
    other = make_brand("SYD", currency="DKK", timezone="Europe/Copenhagen", country="DK")
    stranger = login(make_user("sven", {other: ["billing.view", "billing.adjust"]}), other)
    assert list(stranger.get(reverse("billing:adjustment_list")).context["object_list"]) == []
    # SYD's CSR cannot reach NORD's account by its number
    assert list(form_errors(stranger.post(url, {"account": three[0].number, "amount": "-1", "reason": "x"}))) == [
        "account"]


def test_the_account_page_links_its_invoices_for_billing_users(nord, three, make_user):
    url = reverse("customers:account_detail", args=[three[0].pk])
    billing = login(make_user("finn", {nord: ["customers.view", "billing.view"]}), nord).get(url).content.decode()
    assert f'{reverse("billing:invoice_list")}?q={three[0].number}' in billing
    plain = login(make_user("carl", {nord: ["customers.view"]}), nord).get(url).content.decode()
    assert 'data-testid="account-invoices"' not in plain


def test_the_pdf_job_renders_and_stores_a_runs_invoices(nord, three, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    run = billed_run(nord)
    client = login(make_user("finn", {nord: RUNNER}), nord)
    assert login(make_user("vera", {nord: ["billing.view"]}), nord).post(
        reverse("billing:run_pdfs", args=[run.pk])).status_code == 403
    client.post(reverse("billing:run_pdfs", args=[run.pk]))
    job = Job.objects.get(kind="billing.pdfs")
    assert job.params == {"run_id": run.pk}
    job.params["workers"] = 1  # keep the test on one core
    job.save(update_fields=["params"])
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    polled = f'hx-get="{reverse("billing:run_progress", args=[run.pk])}"'
    assert 'data-stored="0"' in page and polled in page and 'data-testid="render-pdfs"' not in page
    job = execute(job.pk)
    assert (job.status, job.result, job.progress_total, job.progress_done) == (
        "succeeded", {"rendered": 3, "failed": 0, "stored_before": 0, "invoices": 3}, 3, 3)
    invoice = Invoice.objects.get(run=run, account=three[0])
    assert invoice.pdf == f"invoices/NORD/run-{run.pk}/draft-{three[0].number}-2026-03-01.pdf"
    assert (tmp_path / invoice.pdf).read_bytes().startswith(b"%PDF")
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert 'data-stored="3"' in page and polled not in page
    pdf = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert b"".join(pdf.streaming_content) == (tmp_path / invoice.pdf).read_bytes()
    assert not AuditEvent.objects.filter(action="invoice_pdf").exists()  # streamed as stored, not rendered again


def test_a_failed_run_job_is_shown_and_polling_stops(nord, three, make_user, monkeypatch):
    from telora.billing.services import runs

    def broken(run, **kwargs):
        raise ValueError("database went away")

    monkeypatch.setattr(runs, "execute_run", broken)
    client = login(make_user("finn", {nord: RUNNER}), nord)
    client.post(reverse("billing:run_start"), {"cycle": "M01", "period": "2026-03"})
    run = BillRun.objects.get()
    assert execute(Job.objects.get(kind="billing.run").pk).status == "failed"
    html = client.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    assert 'data-testid="run-job-failed"' in html and "database went away" in html and "hx-get" not in html


@pytest.mark.parametrize("period", ["0001-01", "9999-12"])
def test_a_run_for_a_far_period_is_a_form_error_on_period(nord, three, make_user, period):
    client = login(make_user("finn", {nord: RUNNER}), nord)
    response = client.post(reverse("billing:run_start"), {"cycle": "M01", "period": period})
    assert response.status_code == 200
    assert "outside the periods a bill run may be for" in " ".join(form_errors(response)["period"])
    assert not BillRun.objects.exists()
