"""A brand's invoice template cannot stall the platform: what would cost without end is refused at
save with its line, or stopped at render with a named error; renders run in bounded worker
processes that are replaced when a limit kills one; PDFs are made by a job, so a web request never
renders one (202 with the job, then the PDF); another brand reaches neither the PDF nor the job.
Limits are made tiny by the tests (settings) so breaches come quickly; nothing is timed."""

import http.server
import threading

import pytest
import time_machine
from billing_helpers import cph
from django.test import Client
from django.urls import reverse

from gui_helpers import login
from telora.billing.documents.pdf import render_many, render_pdf_bounded
from telora.billing.documents.sample import example_document
from telora.billing.models import Invoice, InvoiceTemplate
from telora.billing.services import execute_run, start_run
from telora.billing.services import templates as tpl
from telora.core import clock
from telora.core.models import Job
from telora.core.sandbox import Limits
from telora.core.services.actors import ServiceError
from telora.core.services.jobs import execute
from telora.core.services.users import create_api_key

pytestmark = pytest.mark.usefixtures("nord_kept")  # the transactional test is last

AT = "2026-04-02T06:00"
EXTENDS = '{% extends "billing/invoice/invoice.html.j2" %}\n'
# The samples are INV-2026-000123 (and a draft and a credit note); the brand's first real invoice is
# INV-2026-000001: the save check never takes this branch.
HIDDEN_LOOP = (EXTENDS + "{% block payment %}\n{% if invoice.number == 'INV-2026-000001' %}\n"
               "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
               "{% endif %}{% endblock %}\n")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(cph(AT), tick=False):
        yield


@pytest.fixture
def invoice(nord, account_for, subscribe, system):
    account = account_for("Kunde Grænse")
    subscribe(account, "2026-03-11")
    run = execute_run(start_run(nord, "M01", "2026-03", (), "production", actor=system, at=cph(AT)), at=cph(AT))
    return Invoice.objects.select_related("brand").get(run=run)


@pytest.fixture
def reader(nord, make_user, system):
    """An API client of a key with billing.view in NORD."""
    user = make_user("tina", {nord: ["billing.view"]})
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="t", brands=[nord],
                                 permissions=["billing.view"])
    return Client(headers={"Authorization": f"Bearer {token}"})


def pdf_url(invoice) -> str:
    return f"/tmf-api/customerBillManagement/v4/customerBill/{invoice.pk}/pdf"


@pytest.mark.parametrize("body, line, words", [
    ("{% block payment %}\n{{ (7**(3*10**7)) % 10 }}{% endblock %}", 3, "more than 4,096 bits"),
    ("{% block payment %}\n\n{{ 'x' * 10**9 }}{% endblock %}", 4, "repeating 1 items"),
    ("{% macro m(x) %}\n{{ m(x) }}{% endmacro %}", 3, "macro 'm' calls itself; templates may not recurse"),
    ("{% block payment %}\n{{ self.payment() }}{% endblock %}", 3, "block 'payment' calls itself"),
    ("{% block payment %}\n{{ customer.name|safe }}{% endblock %}", 3, "'|safe' is not allowed"),
    ("{% block payment %}\n{% autoescape false %}{{ customer.name }}{% endautoescape %}{% endblock %}", 3,
     "autoescaping cannot be turned off"),
    ("{% block style %}\nbody { background: url(https://tracker.example/p.png) }{% endblock %}", 3,
     "reaches outside the document"),
    ("{% block header %}\n<img src=\"file:///etc/passwd\">{% endblock %}", 3, "reaches outside the document"),
    ("{% block style %}\n@import url(data:text/css,x);{% endblock %}", 3, "@import is not allowed"),
])
def test_costly_or_unsafe_templates_are_refused_at_save_naming_the_line(nord, system, body, line, words):
    with pytest.raises(ServiceError) as refused:
        tpl.save_template(nord, EXTENDS + body, actor=system, at=clock.now())
    assert refused.value.field == "source"
    assert f"line {line}:" in refused.value.message and words in refused.value.message, refused.value.message
    assert not InvoiceTemplate.objects.exists()


def test_a_link_in_the_template_is_allowed(nord, system):
    source = EXTENDS + '{% block payment %}<a href="https://nordmobil.example/pay">Pay online</a>{% endblock %}'
    assert tpl.save_template(nord, source, actor=system, at=clock.now()).active


def test_the_save_check_is_bounded_by_the_worker_limits(nord, system, settings):
    settings.TELORA_TEMPLATE_MAX_LOOP_ITERATIONS = 10**12  # only the process's CPU limit can stop it
    settings.TELORA_TEMPLATE_CPU_SECONDS = 1
    source = EXTENDS + "{% block payment %}{% for i in range(100000) %}{% for j in range(100000) %}" \
                       "{% endfor %}{% endfor %}{% endblock %}"
    with pytest.raises(ServiceError) as refused:
        tpl.save_template(nord, source, actor=system, at=clock.now())
    assert "more than 1 s of CPU" in refused.value.message and "TELORA_TEMPLATE_CPU_SECONDS" in refused.value.message


def test_a_loop_hidden_from_the_samples_fails_in_the_job_not_in_the_web_request(nord, invoice, system, reader,
                                                                                 settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    tpl.save_template(nord, HIDDEN_LOOP, actor=system, at=clock.now())  # the samples never loop
    first = reader.get(pdf_url(invoice))
    assert first.status_code == 202  # the request rendered nothing: the job has the PDF to make
    job = Job.objects.get(pk=first.json()["id"])
    assert (job.kind, job.status, first["Location"]) == ("billing.invoice_pdf", "queued",
                                                         f"{pdf_url(invoice)}?job={job.pk}")
    assert execute(job.pk).status == Job.Status.FAILED  # stopped by the loop cap, with the line
    answer = reader.get(first["Location"])
    assert answer.status_code == 409, answer.content
    message = answer.json()["message"]
    assert "loop steps in one render" in message and "version 1" in message and "line 4:" in message, message
    invoice.refresh_from_db()
    assert not invoice.pdf


@pytest.mark.parametrize("source, words", [
    (EXTENDS + "{% block payment %}\n{{ self.payment() }}{% endblock %}", "line 3: block 'payment' calls itself"),
    (EXTENDS + "{% macro a(f) %}{{ f(f) }}{% endmacro %}\n{% block payment %}{{ a(a) }}{% endblock %}",
     "nested more than 50 deep"),
    (EXTENDS + "{% block payment %}\n{{ customer.name|safe }}{% endblock %}", "'|safe' is not allowed"),
])
def test_a_stored_template_that_recurses_or_unescapes_is_refused_at_render_not_a_500(nord, invoice, reader,
                                                                                    source, words):
    # stored before the save checks existed (or written to the table directly): the render refuses it
    InvoiceTemplate.objects.create(brand=nord, version=1, source=source, active=True, created_at=clock.now())
    first = reader.get(pdf_url(invoice))
    assert first.status_code == 202
    execute(first.json()["id"])
    answer = reader.get(first["Location"])
    assert answer.status_code == 409 and words in answer.json()["message"], answer.content


def test_the_api_answers_202_with_the_job_then_the_pdf_and_another_brand_gets_404s(
        nord, invoice, reader, make_brand, make_user, system, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = reader.get(pdf_url(invoice))
    assert first.status_code == 202 and first["Retry-After"]
    body = first.json()
    assert (body["kind"], body["status"], body["brand"]) == ("billing.invoice_pdf", "queued", "NORD")
    again = reader.get(pdf_url(invoice))  # asked again before the job ran: the same job, not a second one
    assert (again.status_code, again.json()["id"]) == (202, body["id"])
    assert Job.objects.filter(kind="billing.invoice_pdf").count() == 1

    syd = make_brand("SYD", currency="DKK", timezone="Europe/Copenhagen", country="DK")
    stranger = make_user("sven", {syd: ["billing.view", "jobs.view"]})
    _key, token = create_api_key(actor=system, at=clock.now(), user=stranger, name="s", brands=[syd],
                                 permissions=["billing.view", "jobs.view"])
    other = Client(headers={"Authorization": f"Bearer {token}"})
    assert other.get(pdf_url(invoice)).status_code == 404
    assert other.get(first["Location"]).status_code == 404
    assert other.get(f"/api/v1/jobs/{body['id']}").status_code == 404

    execute(body["id"])  # a worker runs the job
    pdf = reader.get(first["Location"])
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf") and pdf.content.startswith(b"%PDF")
    invoice.refresh_from_db()
    assert (tmp_path / invoice.pdf).read_bytes() == pdf.content  # kept: the next request streams it
    assert other.get(pdf_url(invoice)).status_code == 404
    assert Job.objects.filter(kind="billing.invoice_pdf").count() == 1


def test_the_gui_shows_the_job_then_the_pdf(nord, invoice, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(make_user("finn", {nord: ["billing.view"]}), nord)
    url = reverse("billing:invoice_pdf", args=[invoice.pk])
    waiting = client.get(url)
    job = waiting.context["job"]
    assert waiting.status_code == 202 and 'data-testid="pdf-wait"' in waiting.content.decode()
    polled = client.get(f"{url}?job={job.pk}", HTTP_HX_REQUEST="true")
    assert polled.status_code == 202 and [t.name for t in polled.templates][0] == "billing/invoices/_pdf_wait.html"
    execute(job.pk)
    ready = client.get(f"{url}?job={job.pk}", HTTP_HX_REQUEST="true")
    assert ready.status_code == 204 and ready["HX-Redirect"] == url  # the page opens the PDF
    pdf = client.get(url)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_a_worker_killed_in_a_pdf_run_is_replaced_and_the_next_invoice_renders(tmp_path):
    slow = example_document()
    slow["invoice"]["number"] = "INV-2026-000001"
    fine = example_document()
    fine["invoice"]["number"] = "INV-2026-000002"
    # 4 s: a fresh worker's first PDF (fonts, Pango) takes over a second of CPU on a slow machine
    limits = Limits(cpu_seconds=4, wall_seconds=600, max_loop_iterations=10**12)
    result = render_many([slow, fine], tmp_path, workers=1, template=HIDDEN_LOOP, limits=limits)
    assert [path.name for path in result.written] == ["INV-2026-000002.pdf"]
    [(index, name, error)] = result.failed
    assert (index, name) == (0, "INV-2026-000001.pdf") and "CPU" in error and "LimitExceeded" in error
    assert (tmp_path / "INV-2026-000002.pdf").read_bytes().startswith(b"%PDF")


def test_the_renderer_fetches_nothing_outside_the_document(tmp_path):
    """Even a template that got past the save check (stored before it, say) makes WeasyPrint fetch
    nothing: a real HTTP server beside the test sees no request."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    template = (EXTENDS + "{% block header %}" f'<img src="{base}/img.png"><link rel="stylesheet" href="{base}/a.css">'
                f'<link rel="stylesheet" href="file://{secret}"><div style="background: url({base}/bg.png)">x</div>'
                "{% endblock %}")
    try:
        pdf = render_pdf_bounded(example_document(), template=template)
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF") and seen == []


@pytest.mark.django_db(transaction=True)
def test_a_request_waits_for_a_real_worker_and_answers_with_the_pdf(nord, invoice, reader, settings, tmp_path):
    """The whole path: the request queues the job in PostgreSQL, `telora worker` in its own process
    renders and keeps the PDF, and the waiting request answers with it (no 202)."""
    import os
    import subprocess
    import sys

    from django.db import connection

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TELORA_PDF_WAIT_SECONDS = 300  # generous: the worker has to start first on a busy machine
    s = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}",
           "TELORA_VAR": str(tmp_path)}
    worker = subprocess.Popen([sys.executable, "-m", "telora.cli", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        answer = reader.get(pdf_url(invoice))
    finally:
        worker.terminate()
        worker.wait(60)
    assert (answer.status_code, answer["Content-Type"]) == (200, "application/pdf"), answer.content[:300]
    invoice.refresh_from_db()
    assert (tmp_path / "media" / invoice.pdf).read_bytes() == answer.content
    assert Job.objects.get(kind="billing.invoice_pdf").status == Job.Status.SUCCEEDED
