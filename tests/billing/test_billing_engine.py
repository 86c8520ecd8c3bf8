"""The invoice generator on plain data, amounts computed by hand (DKK, 2 decimals, VAT 25%).

P = March 2026 (31 days), N = April 2026 (30 days)."""

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal as D

from telora.billing.engine import (
    AccountSnapshot,
    Adjustment,
    Billed,
    Discount,
    Instance,
    OneTime,
    SubscriptionSnapshot,
    Usage,
    generate,
)

P = (dt.date(2026, 3, 1), dt.date(2026, 4, 1))
N = (dt.date(2026, 4, 1), dt.date(2026, 5, 1))
MAR_PAID = Billed(P[0], P[1], D("49.00"))


def day(text):
    return dt.date.fromisoformat(text)


def plan(id_, price="49.00", start="2026-01-01", end=None, name="Basic", billed=(MAR_PAID,), **kw):
    return Instance(id_, name.upper(), name, kw.pop("kind", "plan"), D(price), day(start),
                    day(end) if end else None, "VAT", billed=tuple(billed), **kw)


def sub(id_, *instances, prepaid=False, usage=(), one_time=()):
    return SubscriptionSnapshot(id_, f"452000000{id_}", "BASIC", prepaid, "VAT", tuple(instances),
                                tuple(one_time), tuple(usage))


def account(*subs, adjustments=(), taxes=None):
    return AccountSnapshot(1, "DKK", 2, P, N, taxes or {"VAT": D(25)}, tuple(subs), tuple(adjustments), "VAT")


def amounts(draft):
    return [(line.kind, line.amount) for line in draft.lines]


def test_activation_mid_period_pays_the_rest_of_the_period_and_the_next_in_advance():
    draft = generate(account(sub(1, plan(1, start="2026-03-11", billed=()))))
    # 49 * 21/31 = 33.1935.. -> 33.19 ; next period 49.00 ; tax 82.19 * 25% = 20.5475 -> 20.55
    assert amounts(draft) == [("proration", D("33.19")), ("recurring", D("49.00"))]
    assert draft.lines[0].period_start == day("2026-03-11") and draft.lines[0].quantity == 21
    assert draft.lines[0].description == "Basic, 21 of 31 days" and draft.lines[0].unit_price is None
    assert (draft.net, draft.tax, draft.total) == (D("82.19"), D("20.55"), D("102.74"))
    assert [(m.kind, m.period_start) for m in draft.marks] == [("recurring", P[0]), ("recurring", N[0])]


def test_plan_change_is_an_end_and_a_start_on_the_same_day():
    old = plan(1, end="2026-03-16")
    new = plan(2, price="149.00", name="Big", start="2026-03-16", billed=())
    draft = generate(account(sub(1, old, new)))
    # credit 49 * 16/31 = 25.2903 ; new 149 * 16/31 = 76.9032 ; next 149
    assert amounts(draft) == [("credit", D("-25.29")), ("proration", D("76.90")), ("recurring", D("149.00"))]
    assert (draft.net, draft.tax, draft.total) == (D("200.61"), D("50.15"), D("250.76"))


def test_termination_credits_the_unused_days_and_a_negative_total_is_a_credit_note():
    draft = generate(account(sub(1, plan(1, end="2026-03-21"))))
    # 49 * 11/31 = 17.3870 ; tax -17.39 * 25% = -4.3475 -> -4.35 (half-up away from zero)
    assert amounts(draft) == [("credit", D("-17.39"))]
    assert (draft.net, draft.tax, draft.total) == (D("-17.39"), D("-4.35"), D("-21.74"))
    assert draft.credit_note
    # credited once: with the credit marked, nothing is left to bill
    done = plan(1, end="2026-03-21", credited=frozenset({P[0]}))
    assert generate(account(sub(1, done))).is_empty


def test_a_known_end_inside_the_next_period_is_billed_to_that_day_and_never_credited():
    draft = generate(account(sub(1, plan(1, end="2026-04-16"))))
    # 49 * 15/30 = 24.50
    assert amounts(draft) == [("proration", D("24.50"))]
    mark = draft.marks[0]
    later = plan(1, end="2026-04-16", billed=(MAR_PAID, Billed(N[0], N[1], D("49.00"), mark.covered_to)))
    assert mark.covered_to == day("2026-04-16") and generate(account(sub(1, later))).is_empty


def test_addon_with_a_discount_for_three_months():
    fiber = Discount("INTRO", D(50), 3)
    addon = plan(2, price="299.00", name="Fiber", kind="addon", start="2026-03-11", billed=(), discounts=(fiber,))
    draft = generate(account(sub(1, plan(1, billed=(MAR_PAID, Billed(*N, D("49.00")))), addon)))
    # 299 * 21/31 = 202.5484 ; -50% = -101.2742 ; April 299.00, -149.50
    assert amounts(draft) == [("proration", D("202.55")), ("discount", D("-101.27")),
                              ("recurring", D("299.00")), ("discount", D("-149.50"))]
    # started 2026-01-11: the discount runs to 2026-04-11, 10 of April's 30 days: 299*10/30/2 = 49.8333
    old = plan(2, price="299.00", name="Fiber", kind="addon", start="2026-01-11",
               billed=(Billed(*P, D("299.00")),), discounts=(fiber,))
    assert amounts(generate(account(sub(1, old)))) == [("recurring", D("299.00")), ("discount", D("-49.83"))]


def test_bundle_and_roaming_usage_in_arrears_one_line_per_service_and_zone():
    usage = (Usage("voice", "DK", 12, 3600, "s", D("0")),  # all inside the bundle
             Usage("data", "EU_ROAM", 3, 5000000, "B", D("12.345678")),
             Usage("sms", "WORLD", 2, 2, "msg", D("0.125000")))
    draft = generate(account(sub(1, plan(1, billed=(MAR_PAID, Billed(*N, D("49.00")))), usage=usage)))
    assert amounts(draft) == [("usage", D("12.35")), ("usage", D("0.13")), ("usage", D("0.00"))]
    assert [(u["service"], u["zone"], u["count"]) for u in draft.sections[0].usage] == [
        ("data", "EU_ROAM", 3), ("sms", "WORLD", 2), ("voice", "DK", 12)]
    # 12.48 * 25% = 3.12
    assert (draft.net, draft.tax, draft.total) == (D("12.48"), D("3.12"), D("15.60"))


def test_tax_on_the_sum_of_rounded_lines_per_code():
    usage = tuple(Usage("sms", z, 1, 1, "msg", D("0.333333")) for z in ("A", "B", "C"))
    extra = OneTime(None, "BOOK", "Book", D("10.005"), "ZERO", day("2026-03-05"))
    draft = generate(account(sub(1, usage=usage, one_time=(extra,)), taxes={"VAT": D(25), "ZERO": D(0)}))
    # three lines of 0.33 (not 0.999999 -> 1.00): VAT 0.99 * 25% = 0.2475 -> 0.25 ; 10.005 -> 10.01 untaxed
    assert draft.taxes == [{"code": "VAT", "rate": D(25), "net": D("0.99"), "tax": D("0.25")},
                           {"code": "ZERO", "rate": D(0), "net": D("10.01"), "tax": D("0.00")}]
    assert draft.total == D("11.25")


def test_two_subscriptions_one_invoice_a_section_each_and_account_level_adjustments():
    adj = Adjustment(7, None, "Goodwill", D("-5.00"), "VAT")
    draft = generate(account(sub(1, plan(1)), sub(2, plan(2, start="2026-03-11", billed=())), adjustments=(adj,)))
    assert [s.subscription_id for s in draft.sections] == [1, 2, None]
    assert [s.total for s in draft.sections] == [D("49.00"), D("82.19"), D("-5.00")]
    assert draft.lines[-1].ref == "adjustment:7"
    # 126.19 * 25% = 31.5475 -> 31.55
    assert (draft.net, draft.tax, draft.total) == (D("126.19"), D("31.55"), D("157.74"))


def test_prepaid_and_postpaid_on_one_account():
    usage = (Usage("voice", "DK", 1, 60, "s", D("1.00")),)
    prepaid = sub(1, plan(1, price="99.00", billed=(Billed(*P, D("99.00")),)), prepaid=True, usage=usage)
    postpaid = sub(2, plan(2), usage=usage)
    draft = generate(account(prepaid, postpaid))
    assert [s.subscription_id for s in draft.sections] == [2]
    assert amounts(draft) == [("recurring", D("49.00")), ("usage", D("1.00"))]
    # the prepaid line's fees are its renewals' (services.renewals): no line, mark or credit here
    assert {m.subscription_id for m in draft.marks} == {2}


def test_a_prepaid_renewal_fee_is_prorated_by_days():
    from telora.billing.engine import renewal_fee

    assert renewal_fee(D("20.00"), dt.date(2026, 1, 1), None, P, 2) == (P[0], P[1], D("20.00"))
    # from the 11th of March: 21 of 31 days, 13.548... -> 13.55
    assert renewal_fee(D("20.00"), dt.date(2026, 3, 11), None, P, 2) == (dt.date(2026, 3, 11), P[1], D("13.55"))
    assert renewal_fee(D("20.00"), dt.date(2026, 1, 1), dt.date(2026, 3, 1), P, 2) is None


def test_nothing_to_bill_is_no_invoice():
    done = plan(1, billed=(MAR_PAID, Billed(*N, D("49.00"))))
    assert generate(account(sub(1, done))).is_empty


def test_the_engine_is_pure():
    code = ("import json, sys, telora.billing.engine; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('django', 'telora', 'psycopg')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(json.loads(out)) <= {"telora", "telora.billing", "telora.billing.engine",
                                    "telora.billperiods"}
