"""Retention rules per brand: old usage details and failed records deleted, recent ones kept, long-closed
customers anonymised; applied by the daily task in chunks, audited with counts; edited by the brand admin."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from privacy_helpers import make_customer, terminate_all, usage

from gui_helpers import login
from telora.billing.models import ARLedgerEntry
from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import ServiceError
from telora.customers.models import Customer
from telora.privacy.models import Erasure, RetentionPolicy
from telora.privacy.services import apply_retention, set_retention
from telora.privacy.services import retention as retention_module
from telora.rating.models import FailedRecord, RatedUsage

pytestmark = pytest.mark.usefixtures("shop_kept")


def _closed(customer, years_ago: float):
    Customer.objects.filter(pk=customer.pk).update(
        status="closed", closed_at=clock.now() - dt.timedelta(days=int(365.25 * years_ago)))


def test_old_usage_details_go_and_recent_ones_stay(ann, bob, other_shop, system, monkeypatch):
    monkeypatch.setattr(retention_module, "CHUNK", 2)  # several chunks
    now = clock.now()
    line = ann.subscriptions.get()
    for n in range(5):
        usage(line, now - dt.timedelta(days=200 + n), "31201234567", f"old-{n}")
    usage(line, now - dt.timedelta(days=40), "31201234567", "recent")
    FailedRecord.objects.create(brand=ann.brand, source="test", record_id="old-failed", reason="no_rate",
                                created_at=now - dt.timedelta(days=40))
    set_retention(ann.brand, actor=system, at=now, usage_detail_months=6, failed_record_days=30)

    counts = apply_retention(ann.brand, actor=system, at=now)

    assert counts["rated_usage_deleted"] == 5 and counts["failed_records_deleted"] == 1
    kept = set(RatedUsage.objects.filter(brand=ann.brand).values_list("record_id", flat=True))
    assert kept == {"ann-1", "bob-1", "recent"}
    assert set(FailedRecord.objects.values_list("record_id", flat=True)) == {"ann-f1"}
    event = AuditEvent.objects.get(action="retention", brand=ann.brand)
    assert event.changes["rated_usage_deleted"] == [None, 5]
    assert RetentionPolicy.objects.get(brand=ann.brand).last_applied_at == now
    assert apply_retention(ann.brand, actor=system, at=now)["rated_usage_deleted"] == 0


def test_customers_closed_long_ago_are_anonymised_unless_something_is_open(ann, shop, system):
    terminate_all(ann, system)
    _closed(ann, 3)
    owing = make_customer(shop, system, first="Cornelia", last="Bakker", email="cornelia@example.com", phone="",
                          street="Damrak 1")
    ARLedgerEntry.objects.create(brand=shop, account=owing.accounts.get(), amount=Decimal("9.99"), currency="EUR",
                                 cause="adjustment", at=clock.now())
    _closed(owing, 3)
    recent = make_customer(shop, system, first="Dirk", last="Smit", email="dirk@example.com", phone="",
                           street="Rokin 5")
    _closed(recent, 0.5)
    set_retention(shop, actor=system, at=clock.now(), closed_customer_years=2)

    counts = apply_retention(shop, actor=system, at=clock.now())

    assert counts["customers_erased"] == 1 and counts["customers_skipped"] == 1
    assert Erasure.objects.get().customer_id == ann.pk and Erasure.objects.get().reason == "retention"
    assert Customer.objects.get(pk=ann.pk).email == ""
    assert Customer.objects.get(pk=owing.pk).first_name == "Cornelia"
    assert Customer.objects.get(pk=recent.pk).first_name == "Dirk"


def test_rules_have_floors_and_name_the_field(shop, system):
    with pytest.raises(ServiceError, match="usage_detail_months: must be empty") as refused:
        set_retention(shop, actor=system, at=clock.now(), usage_detail_months=1)
    assert refused.value.field == "usage_detail_months"
    policy = set_retention(shop, actor=system, at=clock.now(), usage_detail_months=12, failed_record_days=None)
    assert policy.usage_detail_months == 12 and policy.failed_record_days is None


def test_the_brand_admin_edits_the_rules_on_screen(shop, other_shop, make_user):
    admin = make_user("admin", {shop: ["privacy.view", "privacy.change"]})
    client = login(admin, shop)
    assert client.get("/privacy/").status_code == 200
    saved = client.post("/privacy/", {"usage_detail_months": "9", "failed_record_days": "60",
                                      "closed_customer_years": ""})
    assert saved.status_code == 302
    policy = RetentionPolicy.objects.get(brand=shop)
    assert (policy.usage_detail_months, policy.failed_record_days, policy.closed_customer_years) == (9, 60, None)
    assert AuditEvent.objects.filter(object_type="privacy.retentionpolicy", action="create").exists()
    refused = client.post("/privacy/", {"usage_detail_months": "2"})
    assert refused.status_code == 200 and "usage_detail_months" in refused.context["form"].errors
    reader = make_user("reader", {shop: ["privacy.view"]})
    assert login(reader, shop).post("/privacy/", {"usage_detail_months": "9"}).status_code == 403
    outsider = make_user("outsider", {other_shop: ["privacy.view", "privacy.change"]})
    page = login(outsider, shop).get("/privacy/")  # a brand they hold no rights in falls back to their own
    assert page.context["active_brand"] == other_shop and page.context["policy"] is None
    assert login(outsider, other_shop).post("/privacy/", {"usage_detail_months": "4"}).status_code == 302
    assert RetentionPolicy.objects.get(brand=shop).usage_detail_months == 9


def test_the_cli_applies_the_rules_now(ann, system):
    set_retention(ann.brand, actor=system, at=clock.now(), failed_record_days=7)
    FailedRecord.objects.filter(record_id="ann-f1").update(created_at=clock.now() - dt.timedelta(days=8))
    out = io.StringIO()
    call_command("privacy", "retention", "--brand", ann.brand.code, stdout=out)
    assert f"{ann.brand.code}: rated_usage_deleted 0, failed_records_deleted 1" in out.getvalue()
    with pytest.raises(CommandError, match="--brand: 'nobody' has no retention rules"):
        call_command("privacy", "retention", "--brand", "nobody")


def test_the_retention_task_runs_daily():
    from procrastinate.contrib.django import app

    from telora.privacy import jobs

    assert jobs.retention.name == "telora.privacy.retention"
    periodic = [task for task in app.periodic_registry.periodic_tasks.values()
                if task.task.name == "telora.privacy.retention"]
    assert periodic and periodic[0].cron == "41 2 * * *"
