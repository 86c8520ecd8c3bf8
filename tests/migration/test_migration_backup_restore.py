"""The walk-through of docs/migration.md, as a new user runs it: the sample base is imported with
`telora migrate import`, billed with `telora billrun --production`, backed up with `telora backup`,
restored with `telora restore` into a new, empty database, and the restored installation shows the
same invoices (numbers, totals, tax, lines, the exported documents) and the same opening receivables."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from telora.core import clock

from .conftest import SAMPLE

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees only what is committed

INVOICES = """SELECT i.number, a.number, i.status, i.period_start, i.period_end, i.issue_date, i.due_date,
                     i.currency, i.net::text, i.tax::text, i.total::text
              FROM billing_invoice i JOIN customers_billingaccount a ON a.id = i.account_id ORDER BY i.number"""
LINES = """SELECT i.number, l.position, l.kind, l.description, l.period_start, l.period_end, l.quantity::text,
                  l.unit_price::text, l.amount::text, l.tax_code
           FROM billing_invoiceline l JOIN billing_invoice i ON i.id = l.invoice_id ORDER BY i.number, l.position"""
RECEIVABLES = """SELECT r.number, a.number, r.issue_date, r.due_date, r.amount::text, r.currency, e.cause,
                        e.amount::text, e.reference
                 FROM migration_openingreceivable r JOIN customers_billingaccount a ON a.id = r.account_id
                 JOIN billing_arledgerentry e ON e.id = r.ledger_entry_id ORDER BY r.number"""
BALANCES = """SELECT a.number, sum(e.amount)::text FROM billing_arledgerentry e
              JOIN customers_billingaccount a ON a.id = e.account_id GROUP BY a.number ORDER BY a.number"""


def _read(conn) -> dict:
    return {name: conn.execute(sql).fetchall()
            for name, sql in (("invoices", INVOICES), ("lines", LINES), ("receivables", RECEIVABLES),
                              ("balances", BALANCES))}


@pytest.fixture
def empty_database():
    """A new, empty database on the same PostgreSQL server (another installation); dropped after."""
    db = settings.DATABASES["default"]
    server = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432, "user": db.get("USER") or "postgres"}
    name = f"telora_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://{server['user']}@{server['host']}:{server['port']}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


PERIOD = "2026-10"  # the walk-through's period: the sample's accounts were billed by the old system through it


def test_the_migrated_sample_base_backs_up_and_restores_with_the_same_invoices(nordlink, empty_database, tmp_path):
    out = io.StringIO()
    call_command("migration", "import", str(SAMPLE), "--brand", "nordlink", "--quiet", stdout=out)
    assert "imported 63 rows" in out.getvalue(), out.getvalue()

    assert clock.localtime(clock.now(), nordlink).date() >= dt.date(2026, 11, 15)  # both periods have ended
    period = PERIOD
    runs = []
    for cycle in ("M01", "M15"):  # the consumers' billing group and the business one
        out = io.StringIO()
        call_command("billrun", "--brand", "nordlink", "--cycle", cycle, "--period", period, "--production",
                     stdout=out)
        runs.append(int(out.getvalue().split("run ", 1)[1].split()[0].strip(":#")))
    exported = io.StringIO()
    for run in runs:
        call_command("invoices", "export", "--run", str(run), "--format", "json", stdout=exported)
    here = _read(connection.connection)
    # every account with a live postpaid line or a VoIP line has a numbered invoice with 25 % Danish VAT
    numbers = [row[0] for row in here["invoices"]]
    assert all(numbers) and len(set(numbers)) == len(numbers)
    assert [row[1] for row in here["invoices"]] == [  # by invoice number: M01's run, then M15's
        "C0000001-1", "C0000002-1", "C0000005-1", "C0000004-1", "C0000007-1", "C0000008-1", "C0000009-1"]
    assert all(Decimal(tax) == Decimal(net) / 4 != 0 for *_rest, net, tax, _total in here["invoices"])
    assert len(here["lines"]) > len(here["invoices"]) and len(here["receivables"]) == 4
    # the old system billed every one-time charge and the recurring fees through October's period
    # (accounts.csv billed_through: 2026-10-31 on M01, 2026-11-14 on M15), so the run bills each live
    # line's plan and add-ons for the next period in advance, whole (every one was on before it), and
    # nothing else: no activation fee again, no October (the sample has no rated usage)
    account_of = {invoice[0]: invoice[1] for invoice in here["invoices"]}
    nov, nov15 = (dt.date(2026, 11, 1), dt.date(2026, 12, 1)), (dt.date(2026, 11, 15), dt.date(2026, 12, 15))
    assert [(account_of[n], kind, text, (start, end), quantity, amount)
            for n, _pos, kind, text, start, end, quantity, _unit, amount, _tax in here["lines"]] == [
        ("C0000001-1", "recurring", "Mobil 10 GB", nov, "1.000000", "149.000000"),  # OLD-S-5001
        ("C0000001-1", "recurring", "EU roaming 5 GB", nov, "1.000000", "39.000000"),  # its add-on since 2024
        ("C0000002-1", "recurring", "Mobil Basis", nov, "1.000000", "49.000000"),  # plan since 2024-03
        ("C0000005-1", "recurring", "IP telephony line", nov, "1.000000", "59.000000"),  # 5007 ended 2024
        ("C0000004-1", "recurring", "Mobil 10 GB", nov15, "1.000000", "149.000000"),  # roaming ended 2025
        ("C0000004-1", "recurring", "Fiber 500/500", nov15, "1.000000", "299.000000"),
        ("C0000007-1", "recurring", "Mobil 10 GB", nov15, "1.000000", "149.000000"),  # OLD-S-5009
        ("C0000007-1", "recurring", "EU roaming 5 GB", nov15, "1.000000", "39.000000"),
        ("C0000007-1", "recurring", "Mobil 10 GB", nov15, "1.000000", "149.000000"),  # OLD-S-5010
        ("C0000007-1", "recurring", "EU roaming 5 GB", nov15, "1.000000", "39.000000"),
        ("C0000007-1", "recurring", "Mobil Basis", nov15, "1.000000", "49.000000"),  # OLD-S-5011
        ("C0000008-1", "recurring", "IP telephony line", nov15, "1.000000", "59.000000"),
        ("C0000008-1", "recurring", "Mobil 10 GB", nov15, "1.000000", "149.000000"),  # suspended, still billed
        ("C0000009-1", "recurring", "Mobil Basis", nov15, "1.000000", "49.000000"),
    ]

    archive = tmp_path / "nordlink.tar"
    call_command("backup", "--output", str(archive), stdout=io.StringIO())

    env = {**os.environ, "DATABASE_URL": empty_database, "TELORA_VAR": str(tmp_path / "elsewhere"),
           "TELORA_SECRET_KEY": settings.SECRET_KEY}

    def telora(*args):
        return subprocess.run([sys.executable, "-m", "telora.cli", *args], capture_output=True, text=True, env=env,
                              timeout=300)

    restored = telora("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    with psycopg.connect(empty_database) as target:
        assert _read(target) == here
    there = ""
    for run in runs:
        done = telora("invoices", "export", "--run", str(run), "--format", "json")
        assert done.returncode == 0, done.stderr
        there += done.stdout
    assert there == exported.getvalue()
    documents = [json.loads(line) for line in there.splitlines() if line.strip()]
    assert len(documents) == len(here["invoices"])
