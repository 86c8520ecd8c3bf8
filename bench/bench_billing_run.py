"""Billing: a production run over 100,000 accounts, 120,000 subscriptions and 10,000,000 rated records
in one period (no PDFs): invoices/s and the reconciliation. PDFs/s: bench_billing_pdf.

The data is generated with COPY: customers, accounts on cycle M01 (anchor day 1), active postpaid
subscriptions on Mobil Basis from the period's start (the first 20 % of the accounts have two), and
the period's rated usage written straight into rating_ratedusage (voice, SMS and data at home and in
the EU). The run is then billed by the services in this process, as a worker's job does.

Smaller runs while working:
    BENCH_BILLING_ACCOUNTS=10000 BENCH_BILLING_SUBSCRIPTIONS=12000 BENCH_BILLING_RECORDS=1000000 \
        make bench BENCH=billing_run
"""

from __future__ import annotations

import datetime as dt
import os
import random
from decimal import Decimal
from pathlib import Path

from run import Timer
from run import copy_rows as _copy
from run import next_id as _next_id

# The size by default.
ACCOUNTS = int(os.environ.get("BENCH_BILLING_ACCOUNTS", 100_000))
SUBSCRIPTIONS = int(os.environ.get("BENCH_BILLING_SUBSCRIPTIONS", ACCOUNTS * 6 // 5))
RECORDS = int(os.environ.get("BENCH_BILLING_RECORDS", 10_000_000))
PERIOD = "2026-03"
FIRST_NUMBER = 4560000000
CHUNK = 50_000  # rated usage lines per COPY write
CATALOG = Path(__file__).resolve().parents[1] / "docs" / "examples" / "catalog.yaml"
USAGE_KINDS = (("voice", "DK", 60), ("voice", "DK", 180), ("voice", "EU", 120), ("sms", "DK", 1),
               ("data", "DK", 25_000_000), ("data", "EU", 5_000_000))


def _customers(brand_id: int, cycle_id: int, plan_id: int, start: dt.datetime) -> tuple[int, int]:
    """ACCOUNTS customers with an account each on the cycle, SUBSCRIPTIONS subscriptions on the plan
    from `start` (subscription i on account i % ACCOUNTS) with their numbers; (first subscription id, n)."""
    from django.db import connection

    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        customer, account, sub, instance, assignment = (
            _next_id(cur, t) for t in ("customers_customer", "customers_billingaccount", "customers_subscription",
                                       "customers_productinstance", "customers_numberassignment"))
        at = start
        n, m = ACCOUNTS, SUBSCRIPTIONS
        tables = [
            ("customers_customer", ["id", "brand_id", "number", "kind", "status", "status_reason", "name",
                                    "first_name", "last_name", "company_name", "id_type", "id_number",
                                    "registration_number", "vat_number", "language", "email", "phone", "notes",
                                    "search_text", "created_at", "updated_at"],
             ((customer + i, brand_id, f"K{i:07d}", "private", "active", "", f"Kunde {i}", "Kunde", str(i), "", "",
               "", "", "", "da", "", "", "", f"kunde {i}", at, at) for i in range(n))),
            ("customers_billingaccount", ["id", "brand_id", "customer_id", "number", "name", "status",
                                          "bill_cycle_id", "invoice_delivery", "invoice_email", "currency",
                                          "credit_limit", "payment_method", "payment_method_ref", "created_at",
                                          "updated_at"],
             ((account + i, brand_id, customer + i, f"K{i:07d}-1", "account", "active", cycle_id, "email", "", "DKK",
               0, "invoice", "", at, at) for i in range(n))),
            ("customers_subscription", ["id", "brand_id", "customer_id", "billing_account_id", "service_type",
                                        "identifier", "status", "status_reason", "created_at", "updated_at",
                                        "activated_at"],
             ((sub + i, brand_id, customer + i % n, account + i % n, "mobile_postpaid", str(FIRST_NUMBER + i),
               "active", "", at, at, at) for i in range(m))),
            ("customers_productinstance", ["id", "brand_id", "subscription_id", "product_id", "kind", "start_at",
                                           "end_reason", "created_at"],
             ((instance + i, brand_id, sub + i, plan_id, "plan", at, "", at) for i in range(m))),
            ("customers_numberassignment", ["id", "brand_id", "subscription_id", "number", "valid_from"],
             ((assignment + i, brand_id, sub + i, str(FIRST_NUMBER + i), at) for i in range(m))),
        ]
        for table, columns, rows in tables:
            _copy(cur, table, columns, rows)
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cur.execute(f"ANALYZE {table}")
    return sub, m


def _rated_usage(brand_id: int, first_sub: int, subs: int, since: dt.datetime, days: int) -> None:
    """RECORDS rated records of random subscriptions, evenly over `days` from `since` (UTC), written
    with COPY in text form (the rows as the rating pipeline would have committed them)."""
    from django.db import connection

    from telora.rating.services.storage import ensure_partitions

    ensure_partitions([since, since + dt.timedelta(days=days) - dt.timedelta(seconds=1)])
    rng = random.Random(11)
    charges = []
    for _ in range(4096):  # exact 6-decimal charges from 0 to 4.999999
        micro = rng.randrange(5_000_000)
        charges.append(f"{micro // 1_000_000}.{micro % 1_000_000:06d}")
    span = days * 86400
    columns = ["brand_id", "source", "record_id", "subscription_id", "service", "a_number", "b_number",
               "start_time", "usage", "quantity", "zone", "band", "rate_plan", "rate_key", "bundle_use", "discount",
               "charge", "currency", "balance_after", "file_id", "batch_id"]
    base = since.strftime("%Y-%m-")
    first_day = since.day
    with connection.cursor() as wrapper, wrapper.cursor.copy(
            f"COPY rating_ratedusage ({', '.join(columns)}) FROM STDIN") as copy:
        lines = []
        randrange, choice = rng.randrange, rng.choice
        for i in range(RECORDS):
            seconds = i * span // RECORDS
            day, rest = divmod(seconds, 86400)
            hour, rest = divmod(rest, 3600)
            minute, second = divmod(rest, 60)
            k = randrange(subs)
            service, zone, quantity = choice(USAGE_KINDS)
            lines.append(f"{brand_id}\tbench\tu{i}\t{first_sub + k}\t{service}\t{FIRST_NUMBER + k}\t\t"
                         f"{base}{first_day + day:02d} {hour:02d}:{minute:02d}:{second:02d}+00\t{quantity}\t"
                         f"{quantity}\t{zone}\tpeak\tBASIC\t{service}:{zone}\t[]\t0\t{choice(charges)}\tDKK\t\\N\t0\t0\n")
            if len(lines) == CHUNK:
                copy.write("".join(lines))
                lines.clear()
        if lines:
            copy.write("".join(lines))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rating_ratedusage")


def run(report) -> None:
    from telora.billing.models import ARLedgerEntry, ChargeMark, Invoice, InvoiceLine
    from telora.billing.services import execute_run, start_run
    from telora.billing.services.resume import executing
    from telora.billing.services.snapshot import moment, period_of
    from telora.catalog.models import BillCycle, Product
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.models import Brand
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand

    system = Actor.system("bench")
    brand = Brand.objects.filter(code="NORD").first() or create_brand(
        actor=system, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK", timezone="Europe/Copenhagen",
        country="DK", language="da")
    if not Product.objects.filter(brand=brand, code="MOB_POST_BASIC").exists():
        apply_catalog(load(CATALOG.read_text()), actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    cycle = BillCycle.objects.get(brand=brand, code="M01")
    start, end = period_of(cycle, PERIOD)
    with Timer() as generated:
        first_sub, subs = _customers(brand.pk, cycle.pk, Product.objects.get(brand=brand, code="MOB_POST_BASIC").pk,
                                     moment(start, brand))
    report.figure("accounts and subscriptions generated (COPY)", generated.seconds, "s",
                  f"{ACCOUNTS:,} accounts, {SUBSCRIPTIONS:,} subscriptions")
    since = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    with Timer() as generated:
        _rated_usage(brand.pk, first_sub, subs, since, (end - start).days - 1)
    report.figure("rated usage generated (COPY)", generated.seconds, "s", f"{RECORDS:,} records in {PERIOD}")

    with Timer() as billed:
        run = start_run(brand, cycle, PERIOD, (), "production", actor=system, at=clock.now())
        with executing(run.pk):  # as the job and `telora billrun` do: the sweep sees the run alive
            run = execute_run(run)
    invoices = Invoice.objects.filter(run=run).count()
    assert invoices == ACCOUNTS and not run.summary["parked"], run.summary["parked"][:3]
    summary = run.summary
    report.figure("production run, no PDFs (1 process)", invoices / billed.seconds, "invoices/s",
                  f"{invoices:,} invoices, {InvoiceLine.objects.filter(invoice__run=run).count():,} lines, "
                  f"{billed.seconds:.1f} s, target 2,000/s")
    report.figure("  charge marks / ledger entries", ChargeMark.objects.filter(run=run).count(), "marks",
                  f"{ARLedgerEntry.objects.filter(invoice__run=run).count():,} ledger entries")
    recon = summary["reconciliation"]
    report.figure("  reconciliation: usage billed", Decimal(recon["usage_billed"]), "DKK",
                  f"billed {recon['usage_billed']}, rated {recon['usage_rated_rounded']} as billed "
                  f"({recon['usage_rated']} exact): {'holds' if recon['holds'] else 'DOES NOT HOLD'}")
    report.figure("  invoiced total", Decimal(summary["total"]), "DKK", f"net {summary['net']}, tax {summary['tax']}")
    assert recon["holds"], recon
    with Timer() as again:
        rerun = start_run(brand, cycle, PERIOD, (), "production", actor=system, at=clock.now())
        with executing(rerun.pk):
            rerun = execute_run(rerun)
    assert Invoice.objects.filter(run=rerun).count() == 0
    report.figure("  the period run again: bills nothing", again.seconds, "s", f"{rerun.summary['invoices']} invoices")
