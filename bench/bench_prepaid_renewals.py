"""Prepaid renewals: the renewal day of N prepaid lines (the reference catalogue's Taletid at 20.00 a
month, cycle M01): renewals/s of `renew_due` (a third of the balances too low: skipped), the same
day run again (nothing to take), and as the baseline the same number of plain balance adjustments
(`balances.adjust`, one ledger entry each: the least a renewal writes), measured in the same run.

The lines are generated with COPY (customers, accounts, subscriptions, plan instances, numbers,
balances). Smaller runs while working: BENCH_RENEWAL_LINES=2000 python bench/run.py prepaid_renewals
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

from run import Timer
from run import copy_rows as _copy
from run import next_id as _next_id

LINES = int(os.environ.get("BENCH_RENEWAL_LINES", 10_000))
BASELINE = min(LINES, int(os.environ.get("BENCH_RENEWAL_BASELINE", 2_000)))
FIRST_NUMBER = 4570000000
CATALOG = Path(__file__).resolve().parents[1] / "docs" / "examples" / "catalog.yaml"


def _lines(brand_id: int, cycle_id: int, plan_id: int, start: dt.datetime) -> list[int]:
    """LINES prepaid lines from `start`, one per customer and account; two thirds with 50.00, the
    rest with 5.00 (too little for the fee). Their subscription ids."""
    from django.db import connection

    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        customer, account, sub, instance, assignment = (
            _next_id(cur, t) for t in ("customers_customer", "customers_billingaccount", "customers_subscription",
                                       "customers_productinstance", "customers_numberassignment"))
        at, n = start, LINES
        tables = [
            ("customers_customer", ["id", "brand_id", "number", "kind", "status", "status_reason", "name",
                                    "first_name", "last_name", "company_name", "id_type", "id_number",
                                    "registration_number", "vat_number", "language", "email", "phone", "notes",
                                    "search_text", "created_at", "updated_at"],
             ((customer + i, brand_id, f"P{i:07d}", "private", "active", "", f"Kunde {i}", "Kunde", str(i), "", "",
               "", "", "", "da", "", "", "", f"kunde {i}", at, at) for i in range(n))),
            ("customers_billingaccount", ["id", "brand_id", "customer_id", "number", "name", "status",
                                          "bill_cycle_id", "invoice_delivery", "invoice_email", "currency",
                                          "credit_limit", "payment_method", "payment_method_ref", "created_at",
                                          "updated_at"],
             ((account + i, brand_id, customer + i, f"P{i:07d}-1", "account", "active", cycle_id, "email", "", "DKK",
               0, "invoice", "", at, at) for i in range(n))),
            ("customers_subscription", ["id", "brand_id", "customer_id", "billing_account_id", "service_type",
                                        "identifier", "status", "status_reason", "created_at", "updated_at",
                                        "activated_at"],
             ((sub + i, brand_id, customer + i, account + i, "mobile_prepaid", str(FIRST_NUMBER + i), "active", "",
               at, at, at) for i in range(n))),
            ("customers_productinstance", ["id", "brand_id", "subscription_id", "product_id", "kind", "start_at",
                                           "end_reason", "created_at"],
             ((instance + i, brand_id, sub + i, plan_id, "plan", at, "", at) for i in range(n))),
            ("customers_numberassignment", ["id", "brand_id", "subscription_id", "number", "valid_from"],
             ((assignment + i, brand_id, sub + i, str(FIRST_NUMBER + i), at) for i in range(n))),
            ("rating_prepaidbalance", ["subscription_id", "balance", "updated_at"],
             ((sub + i, "5.00" if i % 3 == 2 else "50.00", at) for i in range(n))),
        ]
        for table, columns, rows in tables:
            _copy(cur, table, columns, rows)
            if table != "rating_prepaidbalance":
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cur.execute(f"ANALYZE {table}")
    return list(range(sub, sub + n))


def run(report) -> None:
    from telora.billing.services.renewals import renew_due
    from telora.billing.services.snapshot import moment
    from telora.catalog.models import BillCycle, Product, ProductCharge, ProductPrice
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.models import Brand
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.customers.models import Subscription
    from telora.rating.models import PrepaidRenewal
    from telora.rating.services import balances

    system = Actor.system("bench")
    brand = Brand.objects.filter(code="NORD").first() or create_brand(
        actor=system, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK", timezone="Europe/Copenhagen",
        country="DK", language="da")
    if not Product.objects.filter(brand=brand, code="MOB_PRE").exists():
        apply_catalog(load(CATALOG.read_text()), actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    plan = Product.objects.get(brand=brand, code="MOB_PRE")
    charge, made = ProductCharge.objects.get_or_create(brand=brand, product=plan, code="recurring",
                                                       defaults={"kind": "recurring"})
    if made:
        ProductPrice.objects.create(brand=brand, charge=charge, amount=Decimal("20.00"), valid_from=dt.date(2024, 1, 1))
    cycle = BillCycle.objects.get(brand=brand, code="M01")
    today = clock.today(brand)
    day = today.replace(day=1)
    start = moment(day, brand) - dt.timedelta(days=40)
    with Timer() as generated:
        subs = _lines(brand.pk, cycle.pk, plan.pk, start)
    report.figure("prepaid lines generated (COPY)", generated.seconds, "s", f"{LINES:,} lines")
    done_before = PrepaidRenewal.objects.filter(brand=brand, period_start=day).count()

    with Timer() as renewed:
        counts = renew_due(brand, day, actor=system, at=clock.now())
    taken = counts["paid"] + counts["skipped"]
    assert counts["paid"] >= LINES * 2 // 3 - 1 and counts["failed"] == 0, counts
    rate = taken / renewed.seconds
    report.figure("renewal day (renew_due, 1 process)", rate, "renewals/s",
                  f"{taken:,} renewals ({counts['paid']:,} paid, {counts['skipped']:,} skipped), "
                  f"{renewed.seconds:.1f} s")
    with Timer() as again:
        counts = renew_due(brand, day, actor=system, at=clock.now())
    assert counts["paid"] == 0 and counts["late"] == 0, counts
    report.figure("  the same day again (skipped ones retried)", again.seconds, "s",
                  f"{counts['skipped']:,} retried, nothing taken twice "
                  f"({PrepaidRenewal.objects.filter(brand=brand, period_start=day).count() - done_before:,} renewals)")

    sample = list(Subscription.objects.select_related("brand").filter(pk__in=subs[:BASELINE]))
    with Timer() as adjusted:
        for sub in sample:
            balances.adjust(sub, Decimal("-1"), actor=system, at=clock.now(), reference="bench baseline")
    base = len(sample) / adjusted.seconds
    report.figure("baseline: balances.adjust, one entry each", base, "entries/s", f"{len(sample):,} lines")
    report.figure("  renewals/s ÷ baseline", rate / base, "ratio", "1.0: a renewal costs one ledger write")
