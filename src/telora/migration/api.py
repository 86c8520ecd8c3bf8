"""/api/v1/migrations: upload a customer base to import (or dry-run) as a job, follow it, read its report.

POST a multipart form with one or more `files` (customers.csv, accounts.csv, ... or one .jsonl),
`brand` (a code; may be left out when the caller can import into one brand only), `source`
(the old system's name, default "legacy") and `dry_run`. The answer (202) is the run with its job;
GET /api/v1/migrations/{id} gives its status and report (every bad row by file, line and field).
Runs are read through `MigrationRun.objects.for_user`: another brand's run is a 404.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.migration.models import MigrationRun
from telora.migration.services import start_migration

router = Router(tags=["migration"])


class MigrationRowErrorOut(Schema):
    file: str
    line: int
    field: str
    reason: str


class MigrationFileOut(Schema):
    name: str
    entity: str
    rows: int
    imported: int = Field(description="Rows written (a dry run: rows that would be)")
    already: int = Field(description="Rows whose source id was imported before: left as they are")
    bad: int
    status: str = Field(description="checked, imported, already imported, refused, failed or not run")
    resumed_after: int | None = Field(None, description="A chunked file resumed after this line")


class ReportOut(Schema):
    ok: bool = False
    summary: str = ""
    files: list[MigrationFileOut] = []
    errors: list[MigrationRowErrorOut] = []
    errors_not_listed: int = 0


class MigrationOut(Schema):
    id: int
    href: str
    brand: str
    source_system: str
    dry_run: bool
    status: str = Field(description="queued, running, done (every file good) or failed")
    job: str | None = Field(description="The job running it, at /api/v1/jobs/{id}")
    created_at: dt.datetime
    created_by: str
    finished_at: dt.datetime | None
    report: ReportOut

    @staticmethod
    def resolve_href(run: MigrationRun) -> str:
        return f"/api/v1/migrations/{run.pk}"

    @staticmethod
    def resolve_brand(run: MigrationRun) -> str:
        return run.brand.code

    @staticmethod
    def resolve_job(run: MigrationRun) -> str | None:
        return f"/api/v1/jobs/{run.job_id}" if run.job_id else None

    @staticmethod
    def resolve_report(run: MigrationRun) -> dict:
        return run.report or {}


class MigrationForm(Schema):
    brand: str | None = None
    source: str = "legacy"
    dry_run: bool = False


def _brand(request, code: str | None) -> Brand:
    """The named brand (one the caller may import into), or the only one it may import into."""
    reach = rights.brands_with(principal(request), "migration.import")
    if code:
        brand = Brand.objects.filter(code=code).first()
        if brand is None or (reach is not rights.ALL and brand.pk not in reach):
            raise ServiceError(f"brand: unknown brand {code!r} or you lack migration.import in it", field="brand")
        return brand
    if reach is rights.ALL or len(reach) != 1:
        raise ServiceError("brand: give the brand code to import into", field="brand")
    return Brand.objects.get(pk=next(iter(reach)))


def _runs(request):
    require_perm(request, "migration.view")
    return MigrationRun.objects.for_user(principal(request)).select_related("brand")


@router.post("", response={202: MigrationOut, **ERRORS})
def start(request, response: HttpResponse, files: File[list[UploadedFile]], form: Form[MigrationForm]):
    """Start importing (or with dry_run=true only checking) the files into the brand, as a job."""
    require_perm(request, "migration.import")
    brand = _brand(request, form.brand)
    run = start_migration(brand, files, actor=Actor.from_request(request), at=clock.now(),
                          source_system=form.source, dry_run=form.dry_run)
    response["Location"] = f"/api/v1/migrations/{run.pk}"
    return Status(202, MigrationRun.objects.select_related("brand").get(pk=run.pk))


@router.get("", response={200: list[MigrationOut], **ERRORS})
def list_runs(request, response: HttpResponse, paging: Query[Paging]):
    """Newest first."""
    return page(_runs(request).order_by("-id"), paging, response)


@router.get("/{int:run_id}", response={200: MigrationOut, **ERRORS})
def get_run(request, run_id: int):
    """The run's status and report: per file its counts, and every bad row by file, line and field."""
    return get_object_or_404(_runs(request), pk=run_id)
