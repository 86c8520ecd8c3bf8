"""Late usage on the reference catalogue (DKK, VAT 25 %, cycle M01), amounts by hand: usage of March
rated after March's production run is billed on April's invoice by difference, once; a second late
record goes on May's; a test run shows it and marks nothing; usage older than the lookback is
reported, not billed; a late bill marked meanwhile by another run is not billed twice."""

from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph
from django.urls import reverse

from gui_helpers import login
from telora.billing.documents.contract import check_document
from telora.billing.models import BillingSettings, ChargeMark, Invoice, ParkedAccount
from telora.billing.services import execute_run, start_run
from telora.billing.services.snapshot import Loader
from telora.rating.services.rerate import billed_reason

pytestmark = pytest.mark.usefixtures("nord_kept")

MARCH = "late usage of 2026-03-01–2026-04-01"


def lines(invoice):
    return [(line.kind, line.description, line.amount) for line in invoice.lines.order_by("position")]


def run(nord, system, month, kind, at):
    with time_machine.travel(cph(at), tick=False):
        billrun = start_run(nord, "M01", month, (), kind, actor=system, at=cph(at))
        return execute_run(billrun, at=cph(at))


@pytest.fixture
def line(account_for, subscribe):
    """A Mobil Basis line (49.00 a month) from 1 March."""
    account = account_for("Lene Sent")
    return account, subscribe(account, "2026-03-01")


def test_late_usage_is_billed_later_exactly_once(nord, system, line, rated):
    account, post = line
    rated(post, "2026-03-05T10:00", "voice", "DK", "0.734567", 60)
    march = run(nord, system, "2026-03", "production", "2026-04-02T06:00")
    first = Invoice.objects.get(run=march)
    # March and April 49.00 each, voice 0.734567 -> 0.73
    assert lines(first) == [("recurring", "Mobil Basis", D("49.00")), ("recurring", "Mobil Basis", D("49.00")),
                            ("usage", "voice DK", D("0.73"))]
    mark = ChargeMark.objects.get(kind="usage", key=str(post.pk), period_start="2026-03-01")
    assert (mark.count, mark.quantity, mark.amount) == (1, 60, D("0.734567"))
    assert mark.detail == [["voice", "DK", 1, 60, "0.734567"]]

    # rated after March's run: two March records, and April's own usage
    rated(post, "2026-03-20T10:00", "voice", "DK", "0.002000", 60)
    rated(post, "2026-03-21T10:00", "data", "EU_ROAM", "10.005000", 1000)
    rated(post, "2026-04-10T10:00", "voice", "DK", "2.500000", 60)
    april = run(nord, system, "2026-04", "production", "2026-05-02T06:00")
    invoice = Invoice.objects.get(run=april)
    # May 49.00 ; April voice 2.50 ; late: data 10.005 -> 10.01 ; voice 0.736567 -> 0.74 less 0.73 billed: 0.01
    assert lines(invoice) == [
        ("recurring", "Mobil Basis", D("49.00")), ("usage", "voice DK", D("2.50")),
        ("usage", f"data EU_ROAM, {MARCH}", D("10.01")), ("usage", f"voice DK, {MARCH}", D("0.01"))]
    # 61.52, VAT 15.38
    assert (invoice.net, invoice.tax, invoice.total) == (D("61.52"), D("15.38"), D("76.90"))
    check_document(invoice.document)
    late_line = invoice.lines.get(description=f"data EU_ROAM, {MARCH}")
    assert (str(late_line.period_start), str(late_line.period_end), late_line.quantity) == (
        "2026-03-01", "2026-04-01", D(1000))
    late_mark = ChargeMark.objects.get(kind="usage", key=f"{post.pk}:late:1")
    assert (str(late_mark.period_start), late_mark.count, late_mark.quantity, late_mark.amount, late_mark.run_id) == (
        "2026-03-01", 2, 1060, D("10.007000"), april.pk)
    assert april.summary["reconciliation"] == {"usage_billed": "2.50", "usage_rated": "2.500000",
                                               "usage_rated_rounded": "2.50", "holds": True}
    assert april.summary["late_usage"] == {"lines": 2, "billed": "10.02", "found": "10.02", "holds": True,
                                           "beyond_lookback": {"count": 0, "amount": "0.00", "subscriptions": 0,
                                                               "periods": 3}}
    # March stays closed to re-rating
    assert billed_reason(post.pk, cph("2026-03-10"), cph("2026-03-11")) is not None

    # April billed again: nothing
    again = run(nord, system, "2026-04", "production", "2026-05-02T07:00")
    assert again.summary["invoices"] == 0 and again.summary["late_usage"]["lines"] == 0

    # a second late March record: a test run of May shows it and marks nothing; May's run bills it
    rated(post, "2026-03-25T10:00", "sms", "DK", "0.250000", 1)
    marks = list(ChargeMark.objects.order_by("id").values_list("id", "key"))
    test = run(nord, system, "2026-05", "test", "2026-06-02T06:00")
    draft = Invoice.objects.get(run=test)
    assert lines(draft) == [("recurring", "Mobil Basis", D("49.00")), ("usage", f"sms DK, {MARCH}", D("0.25"))]
    assert draft.document["sections"][0]["usage"] == [
        {"service": "sms", "zone": "DK", "count": 1, "quantity": 1, "unit": "msg", "amount": "0.25",
         "period_start": "2026-03-01", "period_end": "2026-04-01"}]
    assert test.summary["late_usage"]["billed"] == test.summary["late_usage"]["found"] == "0.25"
    assert list(ChargeMark.objects.order_by("id").values_list("id", "key")) == marks
    may = run(nord, system, "2026-05", "production", "2026-06-02T07:00")
    invoice = Invoice.objects.get(run=may)
    # 49.25, VAT 12.3125 -> 12.31
    assert lines(invoice) == lines(draft) and invoice.total == D("61.56")
    assert ChargeMark.objects.get(key=f"{post.pk}:late:2").detail == [["sms", "DK", 1, 1, "0.250000"]]
    assert may.summary["late_usage"]["holds"] and may.summary["reconciliation"]["holds"]
    # every March line together: the March usage rated, each service and zone rounded once
    # (voice 0.736567 -> 0.74, data 10.01, sms 0.25)
    assert sum(line.amount for i in Invoice.objects.filter(status="final") for line in i.lines.all()
               if line.kind == "usage" and str(line.period_start) == "2026-03-01") == D("11.00")

    # beyond the lookback: with one period looked back, a record of March rated now is only reported
    BillingSettings.objects.create(brand=nord, late_usage_periods=1, late_usage_report_periods=3)
    rated(post, "2026-03-28T10:00", "voice", "DK", "3.000000", 120)
    june = run(nord, system, "2026-06", "production", "2026-07-02T06:00")
    assert lines(Invoice.objects.get(run=june)) == [("recurring", "Mobil Basis", D("49.00"))]
    assert june.summary["late_usage"] == {"lines": 0, "billed": "0.00", "found": "0.00", "holds": True,
                                          "beyond_lookback": {"count": 1, "amount": "3.00", "subscriptions": 1,
                                                              "periods": 3}}
    assert not ChargeMark.objects.filter(key=f"{post.pk}:late:3").exists()


def test_a_late_bill_marked_meanwhile_is_not_billed_twice(nord, system, line, rated, monkeypatch):
    """Another run bills the same late usage after this run read the marks and before it writes its
    own: the unique late-usage key refuses the second mark, the account is billed again alone (its
    marks read after its lock) and bills no late usage twice."""
    account, post = line
    rated(post, "2026-03-05T10:00", "voice", "DK", "1.000000", 60)
    march = run(nord, system, "2026-03", "production", "2026-04-02T06:00")
    rated(post, "2026-03-20T10:00", "voice", "DK", "2.000000", 60)
    real_aggregate, real_late, stale = Loader.aggregate_late, Loader.late_usage, []

    def aggregate_late(self, *args):
        real_aggregate(self, *args)
        stale.append(real_late(self, [post.pk]))  # what this run reads first ...
        ChargeMark.objects.create(brand=nord, kind="usage", key=f"{post.pk}:late:1", period_start="2026-03-01",
                                  period_end="2026-04-01", subscription=post, count=1, quantity=60,
                                  amount=D("2.000000"), detail=[["voice", "DK", 1, 60, "2.000000"]], run=march)

    def late_usage(self, sub_ids):  # ... before the other run's mark
        return stale.pop() if stale else real_late(self, sub_ids)

    monkeypatch.setattr(Loader, "aggregate_late", aggregate_late)
    monkeypatch.setattr(Loader, "late_usage", late_usage)
    april = run(nord, system, "2026-04", "production", "2026-05-02T06:00")
    assert not stale and not ParkedAccount.objects.exists()
    assert lines(Invoice.objects.get(run=april)) == [("recurring", "Mobil Basis", D("49.00"))]
    marks = ChargeMark.objects.filter(kind="usage", period_start="2026-03-01").order_by("id")
    assert list(marks.values_list("key", "run")) == [(str(post.pk), march.pk), (f"{post.pk}:late:1", march.pk)]


def test_the_run_page_shows_late_usage_to_its_brand_only(nord, system, line, rated, make_user, make_brand):
    account, post = line
    rated(post, "2026-03-05T10:00", "voice", "DK", "1.000000", 60)
    run(nord, system, "2026-03", "production", "2026-04-02T06:00")
    rated(post, "2026-03-20T10:00", "voice", "DK", "2.000000", 60)
    april = run(nord, system, "2026-04", "production", "2026-05-02T06:00")
    page = login(make_user("finn", {nord: ["billing.view"]}), nord).get(reverse("billing:run_detail",
                                                                                   args=[april.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="late-usage" data-holds="yes"' in html and 'data-testid="late-billed">2.00' in html
    other = make_brand("SYD", name="Sydmobil", currency="DKK", timezone="Europe/Copenhagen", country="DK",
                       language="da")
    outsider = login(make_user("sara", {other: ["billing.view"]}), other)
    assert outsider.get(reverse("billing:run_detail", args=[april.pk])).status_code == 404
