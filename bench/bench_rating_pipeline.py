"""Rating pipeline: 1,000,000 canonical-CSV records for 100,000 postpaid subscriptions, file to committed rated rows."""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
from pathlib import Path

from run import Timer

# The size; smaller runs while working: BENCH_RATING_RECORDS=200000 make bench BENCH=rating_pipeline
SUBSCRIPTIONS = int(os.environ.get("BENCH_RATING_SUBSCRIPTIONS", 100_000))
RECORDS = int(os.environ.get("BENCH_RATING_RECORDS", 1_000_000))
WORKERS = int(os.environ.get("BENCH_RATING_WORKERS", 2))  # this machine has 2 cores
FIRST_NUMBER = 4540000000
SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CATALOG = Path(__file__).resolve().parents[2] / "shared" / "examples" / "catalog.yaml"
if not CATALOG.exists():
    CATALOG = Path("/work/shared/examples/catalog.yaml")


def _copy(cur, table: str, columns: list[str], rows) -> int:
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _next_id(cur, table: str) -> int:
    cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return cur.fetchone()[0]


def _subscriptions(brand_id: int, plan_id: int) -> None:
    """100,000 customers, accounts and active postpaid subscriptions on MOB_POST_BASIC with their numbers."""
    from django.db import connection

    n = SUBSCRIPTIONS
    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        customer, account, sub, instance, assignment = (
            _next_id(cur, t) for t in ("customers_customer", "customers_billingaccount", "customers_subscription",
                                       "customers_productinstance", "customers_numberassignment"))
        at = SINCE
        tables = [
            ("customers_customer", ["id", "brand_id", "number", "kind", "status", "status_reason", "name",
                                    "first_name", "last_name", "company_name", "id_type", "id_number",
                                    "registration_number", "vat_number", "language", "email", "phone", "notes",
                                    "search_text", "created_at", "updated_at"],
             ((customer + i, brand_id, f"B{i:07d}", "private", "active", "", f"Kunde {i}", "Kunde", str(i), "", "",
               "", "", "", "da", "", "", "", f"kunde {i}", at, at) for i in range(n))),
            ("customers_billingaccount", ["id", "brand_id", "customer_id", "number", "name", "status",
                                          "invoice_delivery", "invoice_email", "currency", "credit_limit",
                                          "payment_method", "payment_method_ref", "created_at", "updated_at"],
             ((account + i, brand_id, customer + i, f"B{i:07d}-1", "account", "active", "email", "", "DKK", 0,
               "invoice", "", at, at) for i in range(n))),
            ("customers_subscription", ["id", "brand_id", "customer_id", "billing_account_id", "service_type",
                                        "identifier", "status", "status_reason", "created_at", "updated_at",
                                        "activated_at"],
             ((sub + i, brand_id, customer + i, account + i, "mobile_postpaid", str(FIRST_NUMBER + i), "active", "",
               at, at, at) for i in range(n))),
            ("customers_productinstance", ["id", "brand_id", "subscription_id", "product_id", "kind", "start_at",
                                           "end_reason", "created_at"],
             ((instance + i, brand_id, sub + i, plan_id, "plan", at, "", at) for i in range(n))),
            ("customers_numberassignment", ["id", "brand_id", "subscription_id", "number", "valid_from"],
             ((assignment + i, brand_id, sub + i, str(FIRST_NUMBER + i), at) for i in range(n))),
        ]
        for table, columns, rows in tables:
            _copy(cur, table, columns, rows)
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cur.execute(f"ANALYZE {table}")


def _write_file(path: Path) -> None:
    """Voice to Danish fixed and mobile numbers and the EU, SMS and data at home and in the EU,
    over October 2026, each record a random one of the 100,000 numbers."""
    rng = random.Random(7)
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    kinds = ("voice,{a},4533{b:06d},{t},{d},,,DK,", "voice,{a},4520{b:06d},{t},{d},,,DK,",
             "voice,{a},46812{b:05d},{t},{d},,,DK,", "sms,{a},4520{b:06d},{t},,,1,,", "data,{a},,{t},,{v},,,",
             "data,{a},,{t},,{v},,SE,")
    with path.open("w") as fh:
        fh.write("record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n")
        for i in range(RECORDS):
            moment = start + dt.timedelta(seconds=i * 2)
            fh.write(f"r{i:08d}," + rng.choice(kinds).format(
                a=FIRST_NUMBER + rng.randrange(SUBSCRIPTIONS), b=rng.randrange(1_000_000), t=moment.isoformat(),
                d=rng.randrange(1, 600), v=rng.randrange(1, 50_000_000)) + "\n")


def _rate_in_workers(usage_file, workers: int) -> None:
    """Rate the file's batches in `workers` forked processes, each taking whole partitions (as
    Procrastinate workers do with the partition locks)."""
    from django.db import connections

    from telora.rating.models import RatingBatch
    from telora.rating.services import rate_batch

    batches = list(RatingBatch.objects.filter(file=usage_file, status="pending").order_by("id")
                   .values_list("id", "partition"))
    connections.close_all()
    children = []
    for k in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for batch_id, partition in batches:
                    if partition % workers == k:
                        rate_batch(batch_id)
            except BaseException:  # noqa: BLE001 - the parent sees the exit status
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    for pid in children:
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "a rating worker failed"


def run(report) -> None:
    from telora.catalog.models import Product
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.rating.models import UsageFile
    from telora.rating.services import import_usage_file

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK",
                         timezone="Europe/Copenhagen", country="DK", language="da")
    apply_catalog(load(CATALOG.read_text()), actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    plan = Product.objects.get(brand=brand, code="MOB_POST_BASIC")
    with Timer() as generated:
        _subscriptions(brand.pk, plan.pk)
    report.figure("subscriptions generated with COPY", generated.seconds, "s", f"{SUBSCRIPTIONS:,} subscriptions")
    folder = Path(tempfile.mkdtemp(prefix="telora-bench-"))
    path = folder / "usage.csv"
    with Timer() as written:
        _write_file(path)
    size = f"{RECORDS:,} records, {path.stat().st_size / 1e6:.0f} MB"
    report.figure("usage file written", written.seconds, "s", size)
    with Timer() as intake:
        usage_file = import_usage_file(brand, path, format="csv", source="bench", actor=system, at=clock.now(),
                                       defer=False)
    with Timer() as rating:
        _rate_in_workers(usage_file, WORKERS)
    usage_file = UsageFile.objects.get(pk=usage_file.pk)
    assert usage_file.rated + usage_file.failed + usage_file.duplicate == RECORDS, usage_file.__dict__
    total = intake.seconds + rating.seconds
    report.figure(f"file to committed rows ({WORKERS} workers)", RECORDS / total, "records/s", size)
    report.figure(f"  rate and persist ({WORKERS} workers, wall)", RECORDS / rating.seconds, "records/s",
                  f"{rating.seconds:.1f} s")
    report.figure("  parse and stage (COPY)", RECORDS / intake.seconds, "records/s", f"{intake.seconds:.1f} s")
    report.figure("  rate, one worker (staged, contexts, engine)", RECORDS / usage_file.rate_seconds,
                  "records/s", f"{usage_file.rate_seconds:.1f} s summed")
    report.figure("  persist, one worker (one transaction/batch)", RECORDS / usage_file.persist_seconds,
                  "records/s", f"{usage_file.persist_seconds:.1f} s summed")
    report.figure("rated / failed", usage_file.rated, "records", f"{usage_file.failed:,} failed")
    os.remove(path)
    folder.rmdir()
