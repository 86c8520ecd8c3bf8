"""Rating pipeline: 1,000,000 canonical-CSV records for 100,000 postpaid subscriptions, file to committed rated rows;
then the prepaid path: 200,000 records for 20,000 prepaid subscriptions, a balance and a ledger entry per record;
then a pre-rated (OCS) source: 200,000 records carrying their charges for the postpaid subscriptions, kept as
given (no tariff), against the same records rated by the tariff (another source) in the same run."""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
from pathlib import Path

from run import Timer
from run import copy_rows as _copy
from run import next_id as _next_id

# The size; smaller runs while working: BENCH_RATING_RECORDS=200000 make bench BENCH=rating_pipeline
SUBSCRIPTIONS = int(os.environ.get("BENCH_RATING_SUBSCRIPTIONS", 100_000))
RECORDS = int(os.environ.get("BENCH_RATING_RECORDS", 1_000_000))
WORKERS = int(os.environ.get("BENCH_RATING_WORKERS", 2))  # this machine has 2 cores
PREPAID_SUBSCRIPTIONS = SUBSCRIPTIONS // 5
PREPAID_RECORDS = RECORDS // 5
PREPAID_FIRST_NUMBER = 4550000000
FIRST_NUMBER = 4540000000
SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CATALOG = Path(__file__).resolve().parents[1] / "docs" / "examples" / "catalog.yaml"


def _subscriptions(brand_id: int, plan_id: int, n: int = SUBSCRIPTIONS, first_number: int = FIRST_NUMBER,
                   service_type: str = "mobile_postpaid", tag: str = "B") -> None:
    """n customers, accounts and active subscriptions on the plan, with their numbers from first_number."""
    from django.db import connection

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
             ((customer + i, brand_id, f"{tag}{i:07d}", "private", "active", "", f"Kunde {i}", "Kunde", str(i), "", "",
               "", "", "", "da", "", "", "", f"kunde {i}", at, at) for i in range(n))),
            ("customers_billingaccount", ["id", "brand_id", "customer_id", "number", "name", "status",
                                          "invoice_delivery", "invoice_email", "currency", "credit_limit",
                                          "payment_method", "payment_method_ref", "created_at", "updated_at"],
             ((account + i, brand_id, customer + i, f"{tag}{i:07d}-1", "account", "active", "email", "", "DKK", 0,
               "invoice", "", at, at) for i in range(n))),
            ("customers_subscription", ["id", "brand_id", "customer_id", "billing_account_id", "service_type",
                                        "identifier", "status", "status_reason", "created_at", "updated_at",
                                        "activated_at"],
             ((sub + i, brand_id, customer + i, account + i, service_type, str(first_number + i), "active", "",
               at, at, at) for i in range(n))),
            ("customers_productinstance", ["id", "brand_id", "subscription_id", "product_id", "kind", "start_at",
                                           "end_reason", "created_at"],
             ((instance + i, brand_id, sub + i, plan_id, "plan", at, "", at) for i in range(n))),
            ("customers_numberassignment", ["id", "brand_id", "subscription_id", "number", "valid_from"],
             ((assignment + i, brand_id, sub + i, str(first_number + i), at) for i in range(n))),
        ]
        for table, columns, rows in tables:
            _copy(cur, table, columns, rows)
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cur.execute(f"ANALYZE {table}")


POSTPAID_KINDS = ("voice,{a},4533{b:06d},{t},{d},,,DK,", "voice,{a},4520{b:06d},{t},{d},,,DK,",
                  "voice,{a},46812{b:05d},{t},{d},,,DK,", "sms,{a},4520{b:06d},{t},,,1,,", "data,{a},,{t},,{v},,,",
                  "data,{a},,{t},,{v},,SE,")
PREPAID_KINDS = POSTPAID_KINDS[:5]  # the prepaid rate plan has no roaming data
OCS_KINDS = tuple(kind + "{c}" for kind in POSTPAID_KINDS)  # the last column, charge, given
OCS_RECORDS = RECORDS // 5


def _write_file(path: Path, records: int = RECORDS, subscriptions: int = SUBSCRIPTIONS,
                first_number: int = FIRST_NUMBER, kinds=POSTPAID_KINDS, prefix: str = "r") -> None:
    """Voice to Danish fixed and mobile numbers and the EU, SMS and data at home (and in the EU),
    over October 2026, each record a random one of the numbers."""
    rng = random.Random(7)
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    span = 31 * 86400 // records or 1
    with path.open("w") as fh:
        fh.write("record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n")
        for i in range(records):
            moment = start + dt.timedelta(seconds=i * span)
            micro = rng.randrange(5_000_000)
            fh.write(f"{prefix}{i:08d}," + rng.choice(kinds).format(
                a=first_number + rng.randrange(subscriptions), b=rng.randrange(1_000_000), t=moment.isoformat(),
                d=rng.randrange(1, 600), v=rng.randrange(1, 50_000_000), c=f"{micro // 10**6}.{micro % 10**6:06d}")
                     + "\n")


def _rate_in_workers(usage_file, workers: int) -> None:
    """Rate the file's batches in `workers` forked processes, each taking the next batch not yet
    taken, in the order they were staged (as Procrastinate workers take the next job; a partition's
    advisory lock keeps two of them off one partition)."""
    import multiprocessing

    from django.db import connections

    from telora.rating.models import RatingBatch
    from telora.rating.services import rate_batch

    batches = list(RatingBatch.objects.filter(file=usage_file, status="pending").order_by("id")
                   .values_list("id", flat=True))
    taken = multiprocessing.Value("i", 0)
    connections.close_all()
    children = []
    for _k in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                while True:
                    with taken.get_lock():
                        index = taken.value
                        taken.value += 1
                    if index >= len(batches):
                        break
                    rate_batch(batches[index])
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


def _prepaid_balances(first_sub_id: int, n: int, amount: str) -> None:
    from django.db import connection

    with connection.cursor() as wrapper:
        _copy(wrapper.cursor, "rating_prepaidbalance", ["subscription_id", "balance", "updated_at"],
              ((first_sub_id + i, amount, SINCE) for i in range(n)))


def _pipeline(report, brand, system, path: Path, records: int, label: str):
    """Intake, then the batches rated by the workers; prints the figures and returns the file."""
    from telora.core import clock
    from telora.rating.models import UsageFile
    from telora.rating.services import import_usage_file

    size = f"{records:,} records, {path.stat().st_size / 1e6:.0f} MB"
    with Timer() as intake:
        usage_file = import_usage_file(brand, path, format="csv", source=f"bench-{label}", actor=system,
                                       at=clock.now(), defer=False)
    with Timer() as rating:
        _rate_in_workers(usage_file, WORKERS)
    usage_file = UsageFile.objects.get(pk=usage_file.pk)
    assert usage_file.rated + usage_file.failed + usage_file.duplicate == records, usage_file.__dict__
    total = intake.seconds + rating.seconds
    report.figure(f"{label}: file to committed rows ({WORKERS} workers)", records / total, "records/s", size)
    report.figure(f"  rate and persist ({WORKERS} workers, wall)", records / rating.seconds, "records/s",
                  f"{rating.seconds:.1f} s")
    report.figure("  parse and stage", records / intake.seconds, "records/s", f"{intake.seconds:.1f} s")
    report.figure("  rate, one worker (keys, contexts, engine)", records / usage_file.rate_seconds,
                  "records/s", f"{usage_file.rate_seconds:.1f} s summed")
    report.figure("  persist, one worker (one transaction/batch)", records / usage_file.persist_seconds,
                  "records/s", f"{usage_file.persist_seconds:.1f} s summed")
    report.figure("  rated / failed", usage_file.rated, "records", f"{usage_file.failed:,} failed")
    return records / total


def run(report) -> None:
    from django.db import connection

    from telora.catalog.models import Product
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.rating.models import BalanceEvent, PrepaidBalanceEntry
    from telora.rating.services.sources import create_source

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK",
                         timezone="Europe/Copenhagen", country="DK", language="da")
    apply_catalog(load(CATALOG.read_text()), actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    with Timer() as generated:
        _subscriptions(brand.pk, Product.objects.get(brand=brand, code="MOB_POST_BASIC").pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM customers_subscription")
            first_prepaid = cursor.fetchone()[0]
        _subscriptions(brand.pk, Product.objects.get(brand=brand, code="MOB_PRE").pk, n=PREPAID_SUBSCRIPTIONS,
                       first_number=PREPAID_FIRST_NUMBER, service_type="mobile_prepaid", tag="P")
        _prepaid_balances(first_prepaid, PREPAID_SUBSCRIPTIONS, "100.00")
    report.figure("subscriptions generated with COPY", generated.seconds, "s",
                  f"{SUBSCRIPTIONS:,} postpaid, {PREPAID_SUBSCRIPTIONS:,} prepaid")
    folder = Path(tempfile.mkdtemp(prefix="telora-bench-"))
    postpaid, prepaid, ocs, same = (folder / "postpaid.csv", folder / "prepaid.csv", folder / "ocs.csv",
                                    folder / "same.csv")
    with Timer() as written:
        _write_file(postpaid)
        _write_file(prepaid, PREPAID_RECORDS, PREPAID_SUBSCRIPTIONS, PREPAID_FIRST_NUMBER, PREPAID_KINDS, "p")
        _write_file(ocs, OCS_RECORDS, kinds=OCS_KINDS, prefix="o")
        _write_file(same, OCS_RECORDS, kinds=POSTPAID_KINDS, prefix="o")  # the same records without charges
    report.figure("usage files written", written.seconds, "s")
    _pipeline(report, brand, system, postpaid, RECORDS, "postpaid")
    _pipeline(report, brand, system, prepaid, PREPAID_RECORDS, "prepaid")
    report.figure("  prepaid ledger entries / balance events", PrepaidBalanceEntry.objects.count(), "entries",
                  f"{BalanceEvent.objects.count():,} events")
    create_source(brand, actor=system, at=clock.now(), code="bench-ocs", format="csv", inbox=str(folder / "ocs-in"),
                  pre_rated=True)
    rated = _pipeline(report, brand, system, same, OCS_RECORDS, "rated-same")
    pre_rated = _pipeline(report, brand, system, ocs, OCS_RECORDS, "ocs")
    report.figure("  pre-rated / rated, same records (file to rows)", pre_rated / rated, "x",
                  f"{OCS_RECORDS:,} records each")
    for path in (postpaid, prepaid, ocs, same):
        os.remove(path)
    folder.rmdir()
