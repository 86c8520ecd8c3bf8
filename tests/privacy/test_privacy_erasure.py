"""Erasure: personal fields anonymised, invoices and ledgers kept to the cent, refused while something is
open, idempotent, the audit trail scrubbed without the erasure's own event storing what it erased."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from privacy_helpers import terminate_all

from gui_helpers import login
from telora.billing.models import ARLedgerEntry, Invoice
from telora.core import clock
from telora.core.models import AuditEvent, Job
from telora.core.services.actors import ServiceError
from telora.core.services.jobs import execute
from telora.customers.models import Customer, CustomerFile
from telora.privacy.models import Consent, Erasure
from telora.privacy.selectors import audit_events_about
from telora.privacy.services import erase_customer, start_erasure
from telora.rating.models import FailedRecord, RatedUsage

pytestmark = pytest.mark.usefixtures("shop_kept")

PERSONAL = ("Annabel", "Vermeulen", "annabel@example.com", "Prinsengracht", "31612345678", "signed form 17",
            "prefers calls")


def _ledger(customer):
    return ARLedgerEntry.objects.filter(account__customer=customer).aggregate(s=Sum("amount"))["s"]


def test_erasure_anonymises_and_keeps_invoices_and_ledgers(ann, bob, system):
    terminate_all(ann, system)
    invoice_before = Invoice.objects.filter(account__customer=ann).values("number", "net", "tax", "total", "document")[0]
    ledger_before = _ledger(ann)
    charges_before = RatedUsage.objects.filter(subscription__in=ann.subscriptions.all()).aggregate(s=Sum("charge"))
    stored = [Path(settings.MEDIA_ROOT) / f.file.name for f in CustomerFile.objects.filter(customer=ann)]
    assert all(path.exists() for path in stored)

    with django_capture_on_commit():
        erasure = erase_customer(ann, actor=system, at=clock.now())

    ann = Customer.objects.get(pk=ann.pk)
    assert ann.name == f"erased {ann.number}" and ann.status == "closed" and ann.closed_at is not None
    assert (ann.first_name, ann.last_name, ann.email, ann.phone, ann.id_number, ann.notes) == ("",) * 6
    assert ann.birth_date is None
    assert not ann.contacts.exists()
    assert {(a.street1, a.postcode, a.city) for a in ann.addresses.all()} == {("erased", "", "erased")}
    account = ann.accounts.get()
    assert account.name == f"erased {account.number}" and account.invoice_email == "" and account.status == "closed"
    assert not CustomerFile.objects.filter(customer=ann).exists() and not any(p.exists() for p in stored)
    assert list(RatedUsage.objects.filter(record_id="ann-1").values_list("b_number", flat=True)) == ["3120XXXXXXX"]
    assert FailedRecord.objects.get(record_id="ann-f1").original["b_number"] == "3120XXXXXXX"
    assert Consent.objects.get(customer=ann).source == ""
    # What the law keeps, kept to the cent.
    assert Invoice.objects.filter(account__customer=ann).values("number", "net", "tax", "total", "document")[0] \
        == invoice_before
    assert _ledger(ann) == ledger_before == Decimal(0)
    assert RatedUsage.objects.filter(subscription__in=ann.subscriptions.all()).aggregate(s=Sum("charge")) \
        == charges_before
    assert AuditEvent.objects.filter(action="kept_on_erasure", object_type="billing.invoice").count() == 1
    # Bob is untouched.
    bob = Customer.objects.get(pk=bob.pk)
    assert bob.first_name == "Bartholomew" and RatedUsage.objects.get(record_id="bob-1").b_number == "31309998887"
    # The domain fact for the warehouse, with field names only.
    assert erasure.customer_id == ann.pk and "email" in erasure.fields and erasure.synced_at is None
    assert not any(value in json.dumps(erasure.fields) + json.dumps(erasure.counts) for value in PERSONAL)


def test_the_audit_trail_is_scrubbed_and_the_erasure_event_names_fields_only(ann, system):
    terminate_all(ann, system)
    assert any("Annabel" in json.dumps(e.changes) + e.object_repr for e in audit_events_about(ann))
    erase_customer(ann, actor=system, at=clock.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT object_repr || ' ' || changes::text || ' ' || message FROM core_auditevent")
        everything = " ".join(row[0] for row in cursor.fetchall())
    for value in PERSONAL:
        assert value not in everything, value
    event = AuditEvent.objects.get(action="erase", object_id=str(ann.pk))
    assert "email" in event.changes["fields"][1] and event.changes["contacts"] == [None, 1]
    assert AuditEvent.objects.filter(object_type="customers.customer", object_id=str(ann.pk), action="create").exists()


def test_erasure_is_refused_while_a_line_is_live_or_a_balance_open(ann, system):
    with pytest.raises(ServiceError, match="1 subscription\\(s\\) are not terminated") as refused:
        erase_customer(ann, actor=system, at=clock.now())
    assert refused.value.field == "customer" and refused.value.code == "conflict"
    terminate_all(ann, system)
    account = ann.accounts.get()
    ARLedgerEntry.objects.create(brand=ann.brand, account=account, amount=Decimal("5.00"), currency="EUR",
                                 cause="adjustment", at=clock.now())
    with pytest.raises(ServiceError, match=f"account {account.number} has an open balance of 5"):
        start_erasure(ann, actor=system, at=clock.now())
    assert not Erasure.objects.exists() and Customer.objects.get(pk=ann.pk).first_name == "Annabel"


def test_erasing_twice_changes_nothing_more(ann, system):
    terminate_all(ann, system)
    first = erase_customer(ann, actor=system, at=clock.now())
    events = AuditEvent.objects.count()
    again = erase_customer(ann, actor=system, at=clock.now())
    assert again.pk == first.pk and AuditEvent.objects.count() == events and Erasure.objects.count() == 1


def test_the_erasure_job_from_the_api_and_the_cli(ann, bob, other_shop, api_for, system, capsys):
    terminate_all(ann, system)
    api = api_for({ann.brand: ["customers.view", "privacy.erase", "jobs.view"]})
    refused = api.post(f"/api/v1/customers/{bob.pk}/privacy-erasure")
    assert refused.status_code == 409 and "not terminated" in refused.json()["message"]
    answer = api.post(f"/api/v1/customers/{ann.pk}/privacy-erasure")
    assert answer.status_code == 202 and answer.json()["kind"] == "privacy.erase"
    job = execute(answer.json()["id"])
    assert job.status == Job.Status.SUCCEEDED and job.result["invoices_kept"] == 1
    assert Customer.objects.get(pk=ann.pk).email == ""
    terminate_all(bob, system)
    call_command("privacy", "erase", bob.number, "--yes")
    assert Customer.objects.get(pk=bob.pk).first_name == ""


def django_capture_on_commit():
    """Run the erasure's on-commit work (deleting the stored files) as a committed transaction would."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_the_customer_page_erases_after_the_number_is_typed(ann, other_shop, make_user, system):
    officer = make_user("dpo", {ann.brand: ["customers.view", "privacy.erase", "jobs.view"]})
    client = login(officer, ann.brand)
    page = client.get(f"/customers/{ann.pk}/").content.decode()
    assert 'data-testid="privacy-blockers"' in page and "not terminated" in page
    terminate_all(ann, system)
    assert client.post(f"/privacy/customers/{ann.pk}/erase/", {"confirm": "wrong"}).status_code == 302
    assert not Job.objects.filter(kind="privacy.erase").exists()
    started = client.post(f"/privacy/customers/{ann.pk}/erase/", {"confirm": ann.number})
    job = Job.objects.get(kind="privacy.erase")
    assert started["Location"] == f"/jobs/{job.pk}/" and execute(job.pk).status == Job.Status.SUCCEEDED
    page = client.get(f"/customers/{ann.pk}/").content.decode()
    assert 'data-testid="privacy-erased"' in page and "Annabel" not in page
    stranger = make_user("stranger", {other_shop: ["customers.view", "privacy.erase"]})
    assert login(stranger, other_shop).post(f"/privacy/customers/{ann.pk}/erase/",
                                            {"confirm": ann.number}).status_code == 404
