"""A run's PDF job: every invoice gets its PDF, each kept as soon as it is made, and the job's
counts and the run page's agree (they did not: 189/189 in the job, 0 of 190 stored on the page)."""

import pytest
from billing_helpers import cph
from django.test import Client
from django.urls import reverse

from telora.billing.models import Invoice
from telora.billing.services import execute_run, start_run
from telora.billing.services.pdfs import render_run_pdfs, store_pdf
from telora.core import clock
from telora.core.models import Job
from telora.core.services.jobs import execute, start_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
AT = "2026-04-02T06:00"


@pytest.fixture
def run(nord, system, account_for, subscribe, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for name in ("Ada Et", "Bo To", "Cy Tre", "Di Fire"):
        subscribe(account_for(name), "2026-03-11")
    return execute_run(start_run(nord, "M01", "2026-03", (), "production", actor=system, at=cph(AT)), at=cph(AT))


class Recorder:
    """A job context that notes, at each step of progress, how many PDFs the run has stored."""

    def __init__(self, run):
        self.run, self.total, self.done, self.seen, self.lines = run, 0, 0, [], []

    def set_total(self, total):
        self.total = total

    def advance(self, n=1):
        self.done += n
        self.seen.append((self.done, Invoice.objects.filter(run=self.run).exclude(pdf="").count()))

    def log(self, line):
        self.lines.append(line)


def test_each_pdf_is_kept_as_it_is_made_and_the_counts_agree(run, system):
    invoices = list(Invoice.objects.filter(run=run).select_related("brand").order_by("id"))
    store_pdf(invoices[0], actor=system, at=clock.now())  # one opened before the run's job
    ctx = Recorder(run)
    result = render_run_pdfs(ctx, run_id=run.pk, workers=1)
    assert result == {"rendered": 3, "failed": 0, "stored_before": 1, "invoices": 4}
    assert ctx.total == 4 and ctx.done == 4
    assert ctx.seen == [(1, 1), (2, 2), (3, 3), (4, 4)]  # progress is stored PDFs, not renders
    assert not Invoice.objects.filter(run=run, pdf="").exists()


def test_an_invoice_that_cannot_be_made_is_counted_logged_and_shown(run, system, make_user, nord):
    broken = Invoice.objects.filter(run=run).order_by("id").last()
    document = dict(broken.document)
    document.pop("sections")
    Invoice.objects.filter(pk=broken.pk).update(document=document)
    job = start_job("billing.pdfs", actor=system, at=clock.now(), brand=nord, params={"run_id": run.pk, "workers": 1},
                    title="PDFs")
    job = execute(job.pk)
    assert job.result == {"rendered": 3, "failed": 1, "stored_before": 0, "invoices": 4}
    assert (job.progress_done, job.progress_total) == (4, 4)
    assert broken.document["invoice"]["number"] in job.log

    boss = make_user("boss", {nord: ["billing.view", "billing.change"]})
    client = Client()
    client.force_login(boss)
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert 'data-stored="3"' in page and "PDFs stored: 3 of 4" in page
    assert 'data-testid="pdfs-missing"' in page and "1 invoice has no PDF" in page
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
