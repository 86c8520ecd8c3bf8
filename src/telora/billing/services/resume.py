"""Resuming a bill run that stopped: failed with an error, or left "queued"/"running" by a worker or
a `telora billrun` that was killed.

Whoever executes a run (the `billing.run` job, `telora billrun`) holds the run's session advisory
lock (RUN_LOCK, run id) for as long as it works; PostgreSQL drops the lock when that session ends,
however the process ended. A run is *alive* while another session holds that lock, while one of
its jobs waits in the queue or runs on a worker that still sends heartbeats, or while its newest
job is younger than a grace period (queued, its queue entry made on commit). A queued or running
run that is not alive is *stalled*. A failed or stalled run is resumed: a new job executes it
again, and `execute_run` bills only the accounts without an invoice in the run (the charge marks
refuse anything billed twice). A done run is never resumed.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager

from django.db import connection, transaction

from telora.billing.models import BillRun
from telora.billing.services.runs import require
from telora.core import clock, rights
from telora.core.models import Job
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.core.services.jobs import start_job

logger = logging.getLogger(__name__)
RUN_LOCK = 7206  # advisory lock class: (RUN_LOCK, run id) is held by the session executing the run
HEARTBEAT_SECONDS = 30  # a worker silent this long is gone (Procrastinate's own stalled-worker time)
GRACE_SECONDS = 120  # a job younger than this is given time to reach the queue
RUN_TASK = "telora.core.run_job"


# ---- the run's lock ---------------------------------------------------------------------------
@contextmanager
def executing(run_id: int):
    """Hold the run's lock while the body executes it; refused when another session holds it.
    Taken on Django's connection, outside any transaction's life: a killed process loses it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK, run_id])
        if not cursor.fetchone()[0]:
            raise ServiceError(f"run: run {run_id} is being executed by another process", field="run")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK, run_id])
        except Exception:  # the session is gone, and its lock with it
            logger.warning("billrun %s: its lock could not be released (connection lost)", run_id)


def executor_pid(run_id: int) -> int | None:
    """The PostgreSQL backend of another session executing the run, if one does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = %s "
                       "AND objid::bigint = %s AND objsubid = 2 AND granted AND pid <> pg_backend_pid()",
                       [RUN_LOCK, run_id])
        row = cursor.fetchone()
    return row[0] if row else None


# ---- alive or stalled -------------------------------------------------------------------------
def run_jobs(run: BillRun):
    """The `billing.run` jobs that ever executed the run, newest first."""
    return Job.objects.filter(kind="billing.run", params__run_id=run.pk).order_by("-id")


def alive(run: BillRun, *, heartbeat_seconds: float = HEARTBEAT_SECONDS,
          grace_seconds: float = GRACE_SECONDS) -> str:
    """Why the run is still being executed or about to be ("" when nothing does: stalled)."""
    pid = executor_pid(run.pk)
    if pid is not None:
        return f"it is being executed (database session {pid})"
    job_ids = list(run_jobs(run).values_list("id", flat=True))
    if job_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (j.args->>'job_id')::bigint, j.status FROM procrastinate_jobs j "
                "LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
                "WHERE j.task_name = %s AND (j.args->>'job_id')::bigint = ANY(%s) AND (j.status = 'todo' "
                "OR (j.status = 'doing' AND w.last_heartbeat >= NOW() - make_interval(secs => %s))) LIMIT 1",
                [RUN_TASK, job_ids, float(heartbeat_seconds)])
            row = cursor.fetchone()
        if row is not None:
            return (f"its job {row[0]} waits for a worker" if row[1] == "todo"
                    else f"its job {row[0]} runs on a live worker")
    newest = run_jobs(run).first()
    if newest is not None and not newest.is_finished \
            and newest.created_at > clock.now() - dt.timedelta(seconds=grace_seconds):
        return f"its job {newest.pk} was queued moments ago"
    return ""


def resumable(run: BillRun, **limits) -> bool:
    """A failed run, or a queued or running one that nothing executes (see `alive`)."""
    return run.status in ("failed", "queued", "running") and not alive(run, **limits)


# ---- resuming ---------------------------------------------------------------------------------
def resume_run(run: BillRun, *, actor: Actor, at: dt.datetime, queue: bool = True,
               heartbeat_seconds: float = HEARTBEAT_SECONDS, grace_seconds: float = GRACE_SECONDS) -> BillRun:
    """Queue a new job that executes the failed or stalled run again (`queue=False`: the caller
    executes it itself, holding `executing`). Needs the right that starts that kind of run:
    billing.approve for a production run, billing.change for a test run. The stopped job, if its
    row still says queued or running, is marked failed so that nothing runs it later."""
    require(actor, run.brand, "billing.approve" if run.kind == "production" else "billing.change")
    with transaction.atomic():
        run = BillRun.objects.select_for_update().select_related("brand").get(pk=run.pk)
        if run.status == "done":
            raise ServiceError(f"status: run {run.pk} is done; a finished run is not resumed", field="status")
        why = alive(run, heartbeat_seconds=heartbeat_seconds, grace_seconds=grace_seconds)
        if why:
            raise ServiceError(f"status: run {run.pk} is {run.status} and not stopped: {why}", field="status")
        old_status, stopped = run.status, run_jobs(run).first()
        if stopped is not None and not stopped.is_finished:
            Job.objects.filter(pk=stopped.pk).update(
                status=Job.Status.FAILED, finished_at=at,
                error=f"Stopped without finishing (its worker is gone); bill run {run.pk} was resumed.")
        job = None
        if queue:
            principal = actor.principal
            job_actor = actor if principal is None or rights.has_perm(principal, run.brand, "billing.change") \
                else Actor.system(f"billrun-{run.pk}")
            job = start_job("billing.run", actor=job_actor, at=at, brand=run.brand, params={"run_id": run.pk},
                            title=f"Resume {run.kind} bill run {run.pk} {run.period_start:%Y-%m}")
            BillRun.objects.filter(pk=run.pk).update(status="queued", job=job, finished_at=None)
        record_event(actor=actor, at=at, action="billrun_resume", obj=run, brand=run.brand,
                     old={"status": old_status, "job": stopped.pk if stopped else None,
                          "accounts_done": run.accounts_done},
                     new={"status": "queued" if queue else old_status, "job": job.pk if job else None},
                     message=f"queued as job {job.pk}" if job else "executed again by the caller, not queued")
    run.refresh_from_db()
    return run


def resume_stalled(*, heartbeat_seconds: float = HEARTBEAT_SECONDS,
                   grace_seconds: float = GRACE_SECONDS) -> list[BillRun]:
    """Resume every production run left queued or running with nothing executing it (the periodic
    sweep). Failed runs are left to people: their error may need a fix before the run goes on."""
    resumed = []
    from telora.core.modules import running

    runs = running("billing", BillRun.objects.filter(kind="production", status__in=("queued", "running")))
    for run in runs.select_related("brand").order_by("id"):
        if alive(run, heartbeat_seconds=heartbeat_seconds, grace_seconds=grace_seconds):
            continue
        try:
            resumed.append(resume_run(run, actor=Actor.system("billrun-sweep"), at=clock.now(),
                                      heartbeat_seconds=heartbeat_seconds, grace_seconds=grace_seconds))
        except ServiceError as exc:  # finished or picked up meanwhile
            logger.info("billrun %s not resumed: %s", run.pk, exc.message)
            continue
        logger.warning("billrun %s was stalled (no live job); resumed", run.pk)
    return resumed
