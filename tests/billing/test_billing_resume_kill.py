"""A production bill run's worker process is SIGKILLed in the middle of the run, the periodic sweep
resumes the stalled run, and a fresh worker process finishes it: every account has exactly one
final invoice, the numbers are gap-free, one receivable entry per invoice, no charge billed twice,
and the totals are those of a test run of the same period that nobody killed.

The kill lands mid-way without timing luck: the test holds the advisory lock of the first account
of the second batch (production runs lock their accounts, services.runs.bill_accounts), so the
worker commits the first batch and then waits inside the second one's transaction, where it dies."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count

from telora.billing.models import ARLedgerEntry, ChargeMark, Invoice, ParkedAccount
from telora.billing.services import execute_run, start_run
from telora.billing.services.resume import alive, resume_stalled
from telora.core import clock
from telora.core.models import AuditEvent, Job
from telora.core.services.jobs import start_job

ACCOUNT_LOCK = 7205  # services.runs.bill_accounts: pg_advisory_xact_lock(7205, account id)
# The worker bills in batches (services.runs.BATCH, 200 accounts in production); its process below
# gets batches of 20: two batches prove the resume as well as two of 200 and cost a fifth of the setup.
BATCH = 20
ACCOUNTS = BATCH + 25
# `telora worker` with services.runs.BATCH set (argv[1]) before it starts.
WORKER = ("import sys, django; django.setup(); import telora.billing.services.runs as runs; "
          "runs.BATCH = int(sys.argv[1]); from telora.cli import main; main(['telora', *sys.argv[2:]])")


def _worker(*extra: str) -> subprocess.Popen:
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "telora.settings"}
    return subprocess.Popen([sys.executable, "-c", WORKER, str(BATCH), "worker", "--queue", "default",
                             "--concurrency", "1", *extra], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _query(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _waiter(account_id: int) -> int | None:
    """The backend waiting for the account's lock (the worker, blocked in its second batch)."""
    rows = _query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = %s "
                  "AND objid::bigint = %s AND NOT granted", [ACCOUNT_LOCK, account_id])
    return rows[0][0] if rows else None


@pytest.fixture
def accounts(nord, account_for, subscribe):
    made = [account_for(f"Kunde {n}") for n in range(ACCOUNTS)]
    for n, account in enumerate(made):
        subscribe(account, "2026-03-11", plan="FIBER_500" if n % 3 else "MOB_POST_BASIC")
    return made


@pytest.mark.django_db(transaction=True)
def test_a_killed_production_run_resumes_in_a_fresh_worker_without_double_effects(nord, accounts, system):
    now = clock.now()
    reference = execute_run(start_run(nord, "M01", "2026-03", (), "test", actor=system, at=now))
    run = start_run(nord, "M01", "2026-03", (), "production", actor=system, at=now)
    blocker = sorted(a.pk for a in accounts)[BATCH]
    _query("SELECT pg_advisory_lock(%s, %s)", [ACCOUNT_LOCK, blocker])
    locked = True
    first_job = start_job("billing.run", actor=system, at=now, brand=nord, params={"run_id": run.pk})
    worker = _worker()
    try:
        assert _wait(lambda: _waiter(blocker) is not None, 120), "the worker never reached the second batch"
        backend = _waiter(blocker)
        run.refresh_from_db()
        assert (run.status, run.accounts_done) == ("running", BATCH)
        assert Invoice.objects.filter(run=run).count() == BATCH < ACCOUNTS  # mid-way
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        # The dead worker's session still holds the run (blocked until the account lock is free):
        # the sweep leaves a run that a session executes alone.
        assert "being executed" in alive(run, heartbeat_seconds=0, grace_seconds=0)
        assert resume_stalled(heartbeat_seconds=0, grace_seconds=0) == []
        _query("SELECT pg_advisory_unlock(%s, %s)", [ACCOUNT_LOCK, blocker])
        locked = False
        assert _wait(lambda: not _query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]), 60), \
            "the killed worker's database session lingers"
        run.refresh_from_db()
        assert run.status == "running" and Invoice.objects.filter(run=run).count() == BATCH  # batch 2 rolled back
        assert alive(run, heartbeat_seconds=0, grace_seconds=0) == ""
        assert [r.pk for r in resume_stalled(heartbeat_seconds=0, grace_seconds=0)] == [run.pk]
        worker = _worker("--one-shot")
        assert worker.wait(180) == 0
    finally:
        if locked:
            _query("SELECT pg_advisory_unlock(%s, %s)", [ACCOUNT_LOCK, blocker])
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    run.refresh_from_db()
    assert run.status == "done" and run.summary["invoices"] == ACCOUNTS and not ParkedAccount.objects.exists()
    first_job.refresh_from_db()
    assert first_job.status == "failed" and "resumed" in first_job.error
    assert Job.objects.get(pk=run.job_id).status == "succeeded" and run.job_id != first_job.pk
    assert AuditEvent.objects.filter(action="billrun_resume", object_id=str(run.pk),
                                     actor_label="job:billrun-sweep").count() == 1

    invoices = list(Invoice.objects.filter(run=run))
    assert Counter(i.account_id for i in invoices) == Counter({a.pk: 1 for a in accounts})
    assert Invoice.objects.filter(status="final").count() == ACCOUNTS and {i.status for i in invoices} == {"final"}
    numbers = sorted(i.number for i in invoices)
    prefix = numbers[0][:-6]
    assert numbers == [f"{prefix}{n:06d}" for n in range(1, ACCOUNTS + 1)]  # gap-free and unique
    entries = Counter(ARLedgerEntry.objects.values_list("invoice_id", flat=True))
    assert entries == Counter({i.pk: 1 for i in invoices})
    marks = ChargeMark.objects.filter(run=run)
    assert marks.filter(kind="recurring").count() == 2 * ACCOUNTS  # each line's March (prorated) and April
    assert not marks.values("kind", "key", "period_start").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert set(marks.values_list("invoice__run", flat=True)) == {run.pk}
    for field in ("invoices", "net", "tax", "total", "per_kind", "taxes", "reconciliation"):
        assert run.summary[field] == reference.summary[field], field
    by_account = {i.account_id: i.total for i in Invoice.objects.filter(run=reference)}
    assert {i.account_id: i.total for i in invoices} == by_account
