"""The personal data export: everything about the customer, nothing about anyone else; from the job,
the API, the GUI and the CLI; another brand's customer is a 404."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from gui_helpers import login
from telora.core import clock
from telora.core.models import AuditEvent, Job
from telora.core.services import Actor
from telora.core.services.actors import PermissionDeniedError
from telora.core.services.jobs import execute
from telora.customers.models import Customer
from telora.privacy.services import start_export

pytestmark = pytest.mark.usefixtures("shop_kept")


def _zip(job: Job) -> zipfile.ZipFile:
    assert job.status == Job.Status.SUCCEEDED, job.error
    return zipfile.ZipFile(Path(settings.MEDIA_ROOT) / job.result["file"])


def test_the_export_holds_the_customers_data_and_nothing_of_another(ann, bob, system):
    job = execute(start_export(ann, actor=system, at=clock.now()).pk)
    archive = _zip(job)
    assert sorted(archive.namelist())[:2] == ["export.json", "export.pdf"]
    text = archive.read("export.json").decode()
    data = json.loads(text)
    assert data["customer"]["email"] == "annabel@example.com" and data["customer"]["birth_date"] == "1980-05-17"
    assert data["addresses"][0]["street1"] == "Prinsengracht 263"
    assert data["contacts"][0]["first_name"] == "Annabel-partner"
    assert data["accounts"][0]["invoice_email"] == "invoices.annabel@example.com"
    line = data["subscriptions"][0]
    assert line["sim"]["iccid"] and "sealed_secrets" not in json.dumps(line)
    assert line["products"][0]["code"] == "MOB_POST_BASIC" and line["numbers"][0]["number"] == line["identifier"]
    assert [u["b_number"] for u in data["rated_usage"]] == ["31207654321"]
    assert [f["record_id"] for f in data["failed_records"]] == ["ann-f1"]
    assert [i["number"] for i in data["invoices"]] == ["INV-2026-0001"] and Decimal(data["invoices"][0]["total"]) == Decimal("12.10")
    assert sorted(Decimal(e["amount"]) for e in data["receivables"]) == [Decimal("-12.10"), Decimal("12.10")]
    assert data["consents"][0]["purpose"] == "marketing_email" and data["consents"][0]["granted"] is True
    assert {e["object_type"] for e in data["audit_events"]} >= {"customers.customer", "customers.address"}
    assert data["files"][0]["name"] == "annabel-passport.pdf"
    assert any(name.startswith("files/") and name.endswith("annabel-passport.pdf") for name in archive.namelist())
    assert archive.read("export.pdf").startswith(b"%PDF")
    for secret in ("Bartholomew", "bartholomew@example.com", "Keizersgracht", "31309998887", "bob-1"):
        assert secret not in text
    assert AuditEvent.objects.filter(action="privacy_export", object_id=str(ann.pk)).exists()
    assert job.result["counts"]["rated_usage"] == 1


def test_the_pdf_reads_as_the_customers_data(ann, system):
    """Readable, and autoescaped: a note typed as markup shows as the text it is."""
    from pypdf import PdfReader

    Customer.objects.filter(pk=ann.pk).update(notes="<b>bold</b> & more")
    archive = _zip(execute(start_export(ann, actor=system, at=clock.now()).pk))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read("export.pdf"))).pages)
    assert "Personal data export" in text and "annabel@example.com" in text and "Prinsengracht 263" in text
    assert "<b>bold</b> & more" in text and "MOB_POST_BASIC" in text


def test_a_failed_record_of_the_number_after_the_customer_left_is_not_theirs(ann, system):
    """Numbers are passed on: a record of the same number outside the customer's time is someone else's."""
    from telora.rating.models import FailedRecord

    line = ann.subscriptions.get()
    FailedRecord.objects.create(brand=ann.brand, source="test", record_id="before-ann", reason="no_rate",
                                original={"a_number": line.identifier, "b_number": "3100",
                                          "start_time": "2001-01-01T00:00:00+00:00"}, created_at=clock.now())
    data = json.loads(_zip(execute(start_export(ann, actor=system, at=clock.now()).pk)).read("export.json"))
    assert [f["record_id"] for f in data["failed_records"]] == ["ann-f1"]


def test_exporting_needs_the_export_right(ann, make_user):
    clerk = make_user("clerk", {ann.brand: ["customers.view", "customers.change"]})
    with pytest.raises(PermissionDeniedError, match="privacy.export"):
        start_export(ann, actor=Actor(user=clerk), at=clock.now())


def test_the_api_starts_the_export_and_another_brand_gets_404(ann, other_shop, api_for):
    mine = api_for({ann.brand: ["customers.view", "privacy.export", "jobs.view"]})
    answer = mine.post(f"/api/v1/customers/{ann.pk}/privacy-export")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["kind"] == "privacy.export" and body["status"] == "queued" and answer["Location"] == body["href"]
    job = execute(body["id"])
    assert job.result["file"].endswith(".zip")
    theirs = api_for({other_shop: ["customers.view", "privacy.export", "privacy.erase"]})
    assert theirs.post(f"/api/v1/customers/{ann.pk}/privacy-export").status_code == 404
    assert theirs.post(f"/api/v1/customers/{ann.pk}/privacy-erasure").status_code == 404
    viewer = api_for({ann.brand: ["customers.view"]})
    assert viewer.post(f"/api/v1/customers/{ann.pk}/privacy-export").status_code == 403


def test_the_customer_page_offers_the_export_and_the_job_gives_the_zip(ann, other_shop, make_user):
    officer = make_user("dpo", {ann.brand: ["customers.view", "privacy.export", "jobs.view"]})
    client = login(officer, ann.brand)
    page = client.get(f"/customers/{ann.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="privacy-export"' in html and 'data-testid="privacy-erase"' not in html
    assert "marketing email" in html  # the consent shows on the page
    started = client.post(f"/privacy/customers/{ann.pk}/export/")
    job = Job.objects.get(kind="privacy.export")
    assert started.status_code == 302 and started["Location"] == f"/jobs/{job.pk}/"
    execute(job.pk)
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).read("export.json")
    stranger = make_user("stranger", {other_shop: ["customers.view", "privacy.export", "jobs.view"]})
    other = login(stranger, other_shop)
    assert other.post(f"/privacy/customers/{ann.pk}/export/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/download/").status_code == 404
    clerk = make_user("clerk", {ann.brand: ["customers.view"]})
    assert 'data-testid="privacy-export"' not in login(clerk, ann.brand).get(f"/customers/{ann.pk}/").content.decode()
    assert login(clerk, ann.brand).post(f"/privacy/customers/{ann.pk}/export/").status_code == 403


def test_the_cli_writes_the_export(ann, tmp_path):
    out = io.StringIO()
    target = tmp_path / "ann.zip"
    call_command("privacy", "export", ann.number, "--out", str(target), stdout=out)
    assert out.getvalue().strip() == str(target)
    assert json.loads(zipfile.ZipFile(target).read("export.json"))["customer"]["number"] == ann.number
