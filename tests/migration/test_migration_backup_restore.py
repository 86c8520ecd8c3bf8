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


def _ended_month(today: dt.date) -> str:
    """Two months back: its M01 period and its M15 period (15th to 14th) have both ended."""
    back = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=1)
    return f"{back:%Y-%m}"


def test_the_migrated_sample_base_backs_up_and_restores_with_the_same_invoices(nordlink, empty_database, tmp_path):
    out = io.StringIO()
    call_command("migration", "import", str(SAMPLE), "--brand", "nordlink", "--quiet", stdout=out)
    assert "imported 63 rows" in out.getvalue(), out.getvalue()

    period = _ended_month(clock.localtime(clock.now(), nordlink).date())
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
