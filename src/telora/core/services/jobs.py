"""Starting and following long operations (Job rows run by Procrastinate workers).

A job kind is a function registered with `@job_kind`; `start_job` records a Job and defers
the worker task after commit. The handler reports progress through `JobContext`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat

from telora.core import clock, rights
from telora.core.models import Brand, Job
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    code: str
    title: str
    handler: Callable
    area: str = "jobs"  # the area whose `run` (or given) permission starts it
    permission: str = "jobs.run"


_KINDS: dict[str, JobKind] = {}


def job_kind(code: str, *, title: str, permission: str = "jobs.run"):
    def register(func):
        _KINDS[code] = JobKind(code=code, title=title, handler=func, permission=permission)
        return func

    return register


def job_kinds() -> list[JobKind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)


def get_kind(code: str) -> JobKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise ServiceError(f"kind: unknown job kind {code!r}", field="kind") from None


class JobContext:
    """Handed to a job handler: progress, log lines, and the job's own row."""

    def __init__(self, job: Job):
        self.job = job

    def set_total(self, total: int) -> None:
        Job.objects.filter(pk=self.job.pk).update(progress_total=total)
        self.job.progress_total = total

    def advance(self, n: int = 1) -> None:
        Job.objects.filter(pk=self.job.pk).update(progress_done=F("progress_done") + n)
        self.job.progress_done += n

    def log(self, line: str) -> None:
        stamp = clock.now().strftime("%H:%M:%S")
        text = f"{stamp} {line}\n"
        Job.objects.filter(pk=self.job.pk).update(log=Concat(F("log"), Value(text)))
        self.job.log += text


@transaction.atomic
def start_job(kind: str, *, actor: Actor, at: dt.datetime, brand: Brand | None = None,
              params: dict | None = None, title: str | None = None) -> Job:
    job_kind_ = get_kind(kind)
    if actor.principal is not None:
        allowed = (rights.is_system_admin(actor.principal) if brand is None
                   else rights.has_perm(actor.principal, brand, job_kind_.permission))
        if not allowed:
            raise PermissionDeniedError(f"You lack {job_kind_.permission} to start {job_kind_.title}.")
    job = Job.objects.create(
        kind=kind, title=title or str(job_kind_.title), brand=brand, params=params or {},
        created_by=actor.user, created_at=at,
    )
    record_event(actor=actor, at=at, action="start", obj=job, brand=brand, new={"kind": kind, "params": job.params})
    transaction.on_commit(lambda: _defer(job.pk))
    return job


def wait_for(job: Job, seconds: float) -> Job:
    """The job, re-read until it has finished or `seconds` have passed (a web request that waits
    briefly for a short job before answering 202 with it)."""
    deadline = time.monotonic() + max(0.0, seconds)
    pause = 0.05
    while True:
        job.refresh_from_db()
        left = deadline - time.monotonic()
        if job.is_finished or left <= 0:
            return job
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.5)


def _defer(job_id: int) -> None:
    from telora.core.jobs import run_job

    run_job.defer(job_id=job_id)


def execute(job_id: int) -> Job:
    """Run a queued job now (what the worker task calls). A finished job is not run again."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job
        job.status = Job.Status.RUNNING
        job.started_at = clock.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts"])
    context = JobContext(job)
    try:
        result = get_kind(job.kind).handler(context, **job.params)
    except Exception as exc:  # a failed job records its error for people to read
        logger.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED, error=f"{exc}\n\n{traceback.format_exc()}", finished_at=clock.now()
        )
    else:
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.SUCCEEDED, result=result or {}, finished_at=clock.now()
        )
    job.refresh_from_db()
    return job
