"""Migration import: customers with an address, a billing account and two mobile lines each (numbers and SIMs created), per second.

TELORA_BENCH_MIGRATION_CUSTOMERS sets the size (default 20,000). Two baselines in the same run: a
bare COPY of the same CSV rows into text tables, and a COPY of the rows the import wrote back into
the same tables (their indexes, constraints and per-row key checks; emptied in a transaction that
is rolled back): the import's time over the second is the price of reading, checking, numbering
and building the rows, beyond what the database must do to store them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time

from run import Timer

CUSTOMERS = int(os.environ.get("TELORA_BENCH_MIGRATION_CUSTOMERS", "20000"))
FILES = {
    "customers.csv": ["source_id", "kind", "first_name", "last_name", "email", "phone", "created_at"],
    "addresses.csv": ["source_id", "customer_id", "roles", "street1", "postcode", "city"],
    "accounts.csv": ["source_id", "customer_id", "billing_group", "payment_method", "payment_method_ref"],
    "subscriptions.csv": ["source_id", "customer_id", "account_id", "service_type", "plan", "activated_at", "number",
                          "iccid", "imsi", "sim_type"],
}


def _files(n: int) -> dict[str, bytes]:
    from stdnum import luhn

    rows: dict[str, list] = {name: [] for name in FILES}
    for c in range(n):
        rows["customers.csv"].append([f"C{c}", "private", "Mette", f"Jensen {c}", f"c{c}@example.dk",
                                      f"+4526{c:06d}", "2022-03-01"])
        rows["addresses.csv"].append([f"A{c}", f"C{c}", "legal billing", f"Vestergade {c % 200 + 1}", "8000",
                                      "Aarhus C"])
        rows["accounts.csv"].append([f"B{c}", f"C{c}", "CONSUMER", "direct_debit", f"BS-{c:08d}"])
        for line in range(2):
            s = 2 * c + line
            body = f"894501{s:012d}"
            rows["subscriptions.csv"].append([
                f"S{s}", f"C{c}", f"B{c}", "mobile_postpaid", "MOB_POST_10GB" if line else "MOB_POST_BASIC",
                "2023-05-01T10:00:00", f"+452{7 + line}{c:06d}", body + luhn.calc_check_digit(body), f"23801{s:010d}",
                "usim-4g"])
    out = {}
    for name, header in FILES.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows[name])
        out[name] = buffer.getvalue().encode()
    return out


def _bare_copy(files: dict[str, bytes]) -> None:
    """The same rows COPYed as text into temporary tables, in one transaction: the floor."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for name, data in files.items():
            table = "bare_" + name.split(".")[0]
            columns = FILES[name]
            cursor.execute(f"CREATE TEMP TABLE {table} ({', '.join(c + ' text' for c in columns)}) ON COMMIT DROP")
            with cursor.cursor.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(data)


# the tables the import writes, parents first
WRITTEN = ["customers_customer", "customers_address", "customers_billingaccount", "inventory_phonenumber",
           "inventory_simcard", "customers_subscription", "customers_productinstance", "customers_numberassignment",
           "billing_chargemark", "migration_sourcemapping"]


def _same_tables_copy(brand) -> tuple[float, float | None]:
    """The brand's rows of WRITTEN COPYed (binary) back into the emptied tables with every key
    checked at each statement's end, in a transaction rolled back: (seconds, server CPU seconds)."""
    from django.db import connection, transaction

    rows = {}
    with connection.cursor() as cursor:
        for table in WRITTEN:
            with cursor.cursor.copy(f"COPY (SELECT * FROM {table} WHERE brand_id = {int(brand.pk)}) "
                                    "TO STDOUT (FORMAT binary)") as copy:
                rows[table] = b"".join(bytes(block) for block in copy)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(WRITTEN)} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        server = _backend_cpu()
        with Timer() as timer:
            for table in WRITTEN:
                with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                    copy.write(rows[table])
        server = _backend_cpu() - server if server is not None else None
        transaction.set_rollback(True)
    return timer.seconds, server


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend, when the server runs here."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(report) -> None:
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.customers.demo import CATALOG
    from telora.customers.models import Subscription
    from telora.migration.services import run_import

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="nordlink", name="Nordlink", currency="DKK",
                         timezone="Europe/Copenhagen", country="DK", language="da")
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency,
                     "timezone": brand.timezone, "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=system, at=clock.now(), effective_from=dt.date(2020, 1, 1))

    files = _files(CUSTOMERS)
    megabytes = sum(len(d) for d in files.values()) / 1e6
    size = f"{CUSTOMERS:,} customers, {2 * CUSTOMERS:,} lines, {megabytes:.1f} MB CSV"
    with Timer() as bare:
        _bare_copy(files)
    report.figure("bare COPY of the CSV into text tables", CUSTOMERS / bare.seconds, "customers/s", size)
    with Timer() as dry:
        checked = run_import(brand, list(files.items()), actor=system, at=clock.now(), dry_run=True)
    assert checked.ok, checked.errors[:5]
    report.figure("dry run (every row checked)", CUSTOMERS / dry.seconds, "customers/s", size)
    server = _backend_cpu()
    cpu = time.process_time()
    with Timer() as real:
        done = run_import(brand, list(files.items()), actor=system, at=clock.now())
    cpu = time.process_time() - cpu
    server = _backend_cpu() - server if server is not None else None
    assert done.ok, done.errors[:5]
    assert Subscription.objects.filter(brand=brand).count() == 2 * CUSTOMERS
    report.figure("imported (checked, COPY, mapped, audited)", CUSTOMERS / real.seconds, "customers/s", size)
    report.figure("  import time over the bare COPY of the CSV", real.seconds / bare.seconds, "x", size)
    # On a shared machine the wall clock counts other processes' turns; this is the import's own
    # Python time (the database server's work is not in it).
    report.figure("  import, this process's CPU only", CUSTOMERS / cpu, "customers/s", size)
    report.figure("  import, this process's CPU", cpu, "s", size)
    if server is not None:  # the database's own work: indexes, constraints (its CPU overlaps Python's)
        report.figure("  import, the database server's CPU", server, "s", size)
    report.figure("  machine load average while importing", os.getloadavg()[0], "", size)
    with Timer() as again:
        repeat = run_import(brand, list(files.items()), actor=system, at=clock.now())
    assert repeat.ok and not sum(f.imported for f in repeat.files)
    report.figure("second run (all already imported)", CUSTOMERS / again.seconds, "customers/s", size)
    floor, floor_server = _same_tables_copy(brand)
    report.figure("COPY of the written rows into the same tables", CUSTOMERS / floor, "customers/s", size)
    report.figure("  import time over it", real.seconds / floor, "x", size)
    if floor_server is not None:
        report.figure("  its database server's CPU", floor_server, "s", size)
