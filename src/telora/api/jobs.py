"""Jobs: follow a long operation started elsewhere (an inventory import, a bill run...).

Reads start from `Job.objects.for_user(principal)` (jobs.view in the job's brand; jobs of no
brand are the system administrators'): any other job is a 404.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core.models import Job

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: int
    href: str
    kind: str
    title: str
    brand: str | None = Field(description="The brand's code; None for a platform job")
    status: str = Field(description="queued, running, succeeded or failed")
    progress_done: int
    progress_total: int | None
    percent: int | None
    result: dict = Field(description="What the job reports when it has succeeded (e.g. an import's counts)")
    error: str
    created_by: str | None = Field(description="The user who started it")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_href(job: Job) -> str:
        return f"/api/v1/jobs/{job.pk}"

    @staticmethod
    def resolve_brand(job: Job) -> str | None:
        return job.brand.code if job.brand_id else None

    @staticmethod
    def resolve_created_by(job: Job) -> str | None:
        return job.created_by.username if job.created_by_id else None


class JobDetail(JobOut):
    log: str = Field(description="Progress lines, one per line, each with its time")


class JobFilter(Schema):
    status: Job.Status | None = None
    kind: str | None = None
    brand: str | None = Field(None, description="Brand code")


def jobs_for(request):
    require_perm(request, "jobs.view")
    return Job.objects.for_user(principal(request), "view").select_related("brand", "created_by")


@router.get("", response={200: list[JobOut], **ERRORS})
def list_jobs(request, response: HttpResponse, paging: Query[Paging], filters: Query[JobFilter]):
    """Newest first."""
    rows = jobs_for(request)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.brand:
        rows = rows.filter(brand__code=filters.brand)
    return page(rows.order_by("-created_at", "-id"), paging, response)


@router.get("/{int:job_id}", response={200: JobDetail, **ERRORS})
def get_job(request, job_id: int):
    """Status, progress, result or error, and the log."""
    return get_object_or_404(jobs_for(request), pk=job_id)
