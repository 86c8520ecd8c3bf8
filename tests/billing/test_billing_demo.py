"""The demo's bill runs: per demo brand and bill cycle, the periods of the usage history billed in
production the morning after each ended (final invoices numbered in date order, the country's VAT,
the brand's currency, usage reconciled), a test run of the period under way; loading twice adds nothing."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from telora.billing import demo
from telora.billing.models import ARLedgerEntry, BillRun, ChargeMark, Invoice
from telora.core import demo as core_demo
from telora.core.models import AuditEvent, Brand
from telora.customers import demo as customers_demo
from telora.rating import demo as rating_demo
from telora.rating.models import PrepaidBalanceEntry, PrepaidRenewal

pytestmark = pytest.mark.django_db
MOMENT = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
VAT = {"DK": "25", "GB": "20"}
D = dt.date


@pytest.fixture
def billing_demo(monkeypatch):
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 16)
    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, rating_demo.load_usage_demo,
                                                    demo.load_billing_demo])
    with time_machine.travel(MOMENT, tick=True):
        core_demo.load_demo()
        yield


def test_the_billing_loader_runs_after_the_usage():
    loaders = core_demo.DEMO_LOADERS
    assert loaders.index(rating_demo.load_usage_demo) < loaders.index(demo.load_billing_demo)


def test_demo_bill_runs(billing_demo):
    for brand in Brand.objects.all():
        runs = BillRun.objects.filter(brand=brand).select_related("cycle")
        assert sorted((r.kind, r.cycle.code, r.period_start) for r in runs) == [
            ("production", "M01", D(2026, 9, 1)), ("production", "M01", D(2026, 10, 1)),
            ("production", "M01", D(2026, 11, 1)), ("production", "M15", D(2026, 8, 15)),
            ("production", "M15", D(2026, 9, 15)), ("production", "M15", D(2026, 10, 15)),
            ("test", "M01", D(2026, 12, 1)), ("test", "M15", D(2026, 11, 15))]
        for run in runs:
            assert run.status == "done" and run.summary["parked"] == []
            assert run.summary["reconciliation"]["holds"]
            assert run.issue_date == (run.period_end if run.kind == "production" else D(2026, 12, 7))
        final = list(Invoice.objects.filter(brand=brand, status="final").order_by("number"))
        assert final and len({i.number for i in final}) == len(final)
        assert [i.issue_date for i in final] == sorted(i.issue_date for i in final)  # numbered in date order
        assert Invoice.objects.filter(brand=brand, status="draft", run__kind="test").exists()
        for invoice in Invoice.objects.filter(brand=brand):
            assert invoice.currency == brand.currency
            assert {t["rate"] for t in invoice.document["taxes"]} <= {VAT[brand.country]}
        usage = Invoice.objects.filter(brand=brand, status="final", lines__kind="usage", lines__zone="HOME")
        assert usage.exists()  # home data billed as home data
        assert ARLedgerEntry.objects.filter(brand=brand).count() == len(final)
        taxed = sum((i.tax for i in final), Decimal(0))
        assert taxed > 0
        # prepaid fees come from renewals on the 1st (the monthly top-up's), never from a bill run
        renewals = PrepaidRenewal.objects.filter(brand=brand)
        assert renewals.filter(status="paid", period_start=D(2026, 11, 1)).exists()
        assert PrepaidBalanceEntry.objects.filter(subscription__brand=brand, cause="renewal").count() == \
            renewals.exclude(entry=None).count()
        assert not ChargeMark.objects.filter(brand=brand, kind="recurring",
                                             subscription_id__in=renewals.values("subscription_id")).exists()
    counts = (BillRun.objects.count(), Invoice.objects.count(), ChargeMark.objects.count(),
              AuditEvent.objects.count())
    with time_machine.travel(MOMENT + dt.timedelta(minutes=5), tick=True):
        core_demo.load_demo()
    assert (BillRun.objects.count(), Invoice.objects.count(), ChargeMark.objects.count(),
            AuditEvent.objects.count()) == counts


def test_a_run_stopped_half_way_is_finished_by_the_next_load(billing_demo):
    run = BillRun.objects.filter(kind="production").order_by("-created_at").first()
    invoices = Invoice.objects.filter(run=run).count()
    BillRun.objects.filter(pk=run.pk).update(status="failed")
    with time_machine.travel(MOMENT + dt.timedelta(minutes=5), tick=True):
        core_demo.load_demo()
    run.refresh_from_db()
    assert run.status == "done" and Invoice.objects.filter(run=run).count() == invoices
    assert BillRun.objects.filter(brand=run.brand, cycle=run.cycle, period_start=run.period_start).count() == 1
