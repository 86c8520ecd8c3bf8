"""A billing story on the reference catalogue (DKK, VAT 25 %, cycle M01), amounts by hand:
February billed in production, March's changes (activation, termination, prepaid and postpaid on
one account, usage, an adjustment) in two test runs compared, approved, billed, run again."""

from decimal import Decimal as D

import time_machine
from billing_helpers import cph

from telora.billing.models import Adjustment, ARLedgerEntry, ChargeMark, Invoice
from telora.billing.services import approve, compare_runs, create_adjustment, execute_run, start_run
from telora.customers.services import terminate_subscription
from telora.rating.services import balances
from telora.rating.services.rerate import billed_reason


def lines(invoice):
    return [(line.kind, line.description, line.amount) for line in invoice.lines.order_by("position")]


def run(nord, system, month, kind, at):
    with time_machine.travel(cph(at), tick=False):
        billrun = start_run(nord, "M01", month, (), kind, actor=system, at=cph(at))
        return execute_run(billrun, at=cph(at))


def test_the_billing_story(nord, system, account_for, subscribe, rated):
    leaver, mobile, fiber = account_for("Tove Leaver"), account_for("Mads Mobil"), account_for("Frida Fiber")
    gone = subscribe(leaver, "2026-02-01")
    post = subscribe(mobile, "2026-02-01")

    # February: each line pays February and March (49.00 + 49.00), VAT 24.50.
    feb = run(nord, system, "2026-02", "production", "2026-03-02T06:00")
    invoices = list(Invoice.objects.filter(run=feb).order_by("number"))
    assert [(i.number, i.account_id, i.total) for i in invoices] == [
        ("INV-2026-000001", leaver.pk, D("122.50")), ("INV-2026-000002", mobile.pk, D("122.50"))]
    assert lines(invoices[0]) == [("recurring", "Mobil Basis", D("49.00")), ("recurring", "Mobil Basis", D("49.00"))]

    # March: the leaver ends on the 21st, a fiber line starts on the 11th, the mobile account gets a
    # prepaid line from the 1st (topped up with 100.00), usage and a goodwill credit.
    terminate_subscription(gone, actor=system, at=cph("2026-03-21"))
    subscribe(fiber, "2026-03-11T10:00", plan="FIBER_500")
    pre = subscribe(mobile, "2026-03-01", plan="MOB_PRE")
    balances.top_up(pre, D("100"), actor=system, at=cph("2026-03-01T12:00"))
    assert balances.balance_of(pre) == D("80")  # the top-up renewed March (20.00): services.renewals
    rated(post, "2026-03-05T10:00", "voice", "DK", "0.734567", 60)
    rated(post, "2026-03-06T10:00", "voice", "DK", "0.500000", 30)
    rated(post, "2026-03-07T10:00", "data", "EU_ROAM", "10.005000", 1000)
    rated(pre, "2026-03-08T10:00", "voice", "DK", "5.000000", 60)
    rated(post, "2026-04-01T00:30", "voice", "DK", "9.000000", 60)  # April: the next run's
    create_adjustment(mobile, D("-10.00"), reason="Goodwill", actor=system, at=cph("2026-03-25"))

    marks = ChargeMark.objects.count()
    test1 = run(nord, system, "2026-03", "test", "2026-04-02T06:00")
    drafts = {i.account_id: i for i in Invoice.objects.filter(run=test1)}
    assert {i.number for i in drafts.values()} == {None} and {i.status for i in drafts.values()} == {"draft"}
    # credit 49 * 11/31 = 17.387 -> -17.39 ; VAT -4.3475 -> -4.35
    assert lines(drafts[leaver.pk]) == [("credit", "Mobil Basis, credit for 11 of 31 days", D("-17.39"))]
    assert (drafts[leaver.pk].total, drafts[leaver.pk].credit_note) == (D("-21.74"), True)
    # installation 499 ; 299 * 21/31 = 202.548 ; half of it -101.274 ; April 299 and -149.50
    assert lines(drafts[fiber.pk]) == [
        ("proration", "Fiber 500/500, 21 of 31 days", D("202.55")), ("discount", "FIBER_INTRO 50% (Fiber 500/500)", D("-101.27")),
        ("recurring", "Fiber 500/500", D("299.00")), ("discount", "FIBER_INTRO 50% (Fiber 500/500)", D("-149.50")),
        ("one_time", "Installation", D("499.00"))]
    # 749.78 + 187.445 -> 187.45
    assert (drafts[fiber.pk].net, drafts[fiber.pk].tax, drafts[fiber.pk].total) == (D("749.78"), D("187.45"),
                                                                                   D("937.23"))
    # April 49 ; voice 1.234567 -> 1.23 ; EU roaming data 10.005 -> 10.01 ; -10.00: 50.24, VAT 12.56
    assert lines(drafts[mobile.pk]) == [
        ("recurring", "Mobil Basis", D("49.00")), ("usage", "data EU_ROAM", D("10.01")),
        ("usage", "voice DK", D("1.23")), ("adjustment", "Goodwill", D("-10.00"))]
    assert drafts[mobile.pk].total == D("62.80")
    doc = drafts[mobile.pk].document
    assert doc["invoice"] == {"number": None, "kind": "invoice", "draft": True, "issue_date": "2026-04-02",
                              "due_date": "2026-04-16", "period": {"start": "2026-03-01", "end": "2026-04-01"},
                              "currency": "DKK", "net": "50.24", "tax": "12.56", "total": "62.80"}
    assert [s["subscription"] and s["subscription"]["id"] for s in doc["sections"]] == [post.pk, None]
    assert doc["sections"][0]["usage"][0] == {"service": "data", "zone": "EU_ROAM", "count": 1, "quantity": 1000,
                                              "unit": "B", "amount": "10.01"}
    assert doc["taxes"] == [{"code": "VAT", "rate": "25", "net": "50.24", "tax": "12.56"}]
    # the test run left no trace
    assert ChargeMark.objects.count() == marks
    assert ARLedgerEntry.objects.count() == 2 and balances.balance_of(pre) == D("80")
    assert Adjustment.objects.get().invoice is None
    assert test1.summary["reconciliation"] == {"usage_billed": "11.24", "usage_rated": "11.239567",
                                               "usage_rated_rounded": "11.24", "holds": True}

    # a second test run after one more adjustment: the comparison shows the change
    create_adjustment(mobile, D("2.00"), reason="Paper invoice", actor=system, at=cph("2026-04-02T07:00"))
    test2 = run(nord, system, "2026-03", "test", "2026-04-02T08:00")
    diff = compare_runs(test1, test2)
    assert (diff["new"], diff["removed"], diff["same"]) == ([], [], 2)
    assert diff["changed"] == [{"account": mobile.number, "total_a": "62.800000", "total_b": "65.300000",
                                "only_a": [], "only_b": [[None, "adjustment", "Paper invoice", "", "", "2.000000"]]}]

    # approved: final invoices with the next numbers, ledger entries, marks
    with time_machine.travel(cph("2026-04-02T09:00"), tick=False):
        prod = execute_run(approve(test2, actor=system, at=cph("2026-04-02T09:00")), at=cph("2026-04-02T09:00"))
    final = {i.account_id: i for i in Invoice.objects.filter(run=prod)}
    assert sorted((i.number, i.total) for i in final.values()) == [
        ("INV-2026-000003", D("-21.74")), ("INV-2026-000004", D("65.30")), ("INV-2026-000005", D("937.23"))]
    assert prod.approved_from == test2 and {i.status for i in final.values()} == {"final"}
    assert list(ARLedgerEntry.objects.filter(invoice__run=prod).order_by("id").values_list("cause", "amount")) == [
        ("credit_note", D("-21.74")), ("invoice", D("65.30")), ("invoice", D("937.23"))]
    # the prepaid plan's fees are not the run's: its renewals take them (test_billing_renewals)
    assert balances.balance_of(pre) == D("80")
    assert set(Adjustment.objects.values_list("invoice", flat=True)) == {final[mobile.pk].pk}
    summary = prod.summary
    assert (summary["invoices"], summary["credit_notes"], summary["total"]) == (3, 1, "980.79")
    assert summary["per_kind"]["usage"] == {"lines": 2, "amount": "11.24"}
    # nets -17.39 + 52.24 + 749.78 ; taxes -4.35 + 13.06 + 187.45
    assert summary["taxes"] == {"VAT": {"rate": "25", "net": "784.63", "tax": "196.16"}}
    assert summary["reconciliation"]["holds"] and summary["parked"] == []
    assert billed_reason(post.pk, cph("2026-03-10"), cph("2026-03-11")) is not None
    assert billed_reason(post.pk, cph("2026-04-10"), cph("2026-04-11")) is None

    # the period billed again: nothing new
    again = run(nord, system, "2026-03", "production", "2026-04-03T06:00")
    assert again.summary["invoices"] == 0 and Invoice.objects.filter(run=again).count() == 0
    assert balances.balance_of(pre) == D("80")
