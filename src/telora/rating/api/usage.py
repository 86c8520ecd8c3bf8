"""Rating's own API under /api/v1/usage: usage files and JSON batches in (docs/api.md).

- `POST /api/v1/usage/files`: a multipart upload (`file`, `format`, `source`, `brand`), taken in
  as `telora cdr import` does: recorded once per (source, content), staged per partition and
  rated by the workers. 202 with the file; the same content again from the source is a 409.
- `POST /api/v1/usage`: a JSON batch of records with the canonical CSV's columns, checked by
  the canonical parser's own rules. One bad record refuses the whole batch (400 listing every
  bad record as `records[3].start_time`); nothing is staged then.
- `GET /api/v1/usage/files[/{id}]`: files with their counts; one file with its batches and
  progress.

Posting needs rating.change in the brand, reading rating.view.
"""

from __future__ import annotations

from decimal import InvalidOperation

from django.conf import settings
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS, Error
from telora.api.paging import Paging, page
from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.rating import formats
from telora.rating.api.schemas import (
    USAGE_BASE,
    ExactBody,
    RecordBatchIn,
    RecordIn,
    UploadForm,
    UsageFileDetail,
    UsageFileFilter,
    UsageFileOut,
)
from telora.rating.engine import UsageRecord
from telora.rating.formats import canonical
from telora.rating.models import RatingBatch, UsageFile
from telora.rating.services import import_usage_file, import_usage_records, receive_usage_file
from telora.rating.services.limits import usage_bounds

router = Router(tags=["usage"])

MAX_RECORDS = 10_000  # records in one JSON batch; larger sets go as a file
ACCEPTED = {202: UsageFileOut, 409: Error, **ERRORS}


def brand_for(request, code: str | None, perm: str) -> Brand:
    """The named brand (any case) among those the caller sees, or the only one where it holds `perm`.
    An unknown or unseen brand is a 400 naming `brand`; a seen one without `perm` a 403."""
    who = principal(request)
    if code:
        brand = Brand.objects.for_user(who).filter(code__iexact=code.strip()).first()
        if brand is None:
            raise ServiceError(f"brand: unknown brand {code!r}", field="brand")
        if not rights.has_perm(who, brand, perm):
            raise PermissionDeniedError(f"You lack {perm} in {brand.code}.")
        return brand
    reach = rights.brands_with(who, perm)
    if reach is rights.ALL or len(reach) != 1:
        raise ServiceError("brand: give the brand code", field="brand")
    return Brand.objects.get(pk=reach[0])


def _accepted(response: HttpResponse, usage_file: UsageFile, job_id: int | None = None):
    response["Location"] = f"{USAGE_BASE}/files/{usage_file.pk}"
    found = UsageFile.objects.select_related("brand").get(pk=usage_file.pk)
    found.job_id = job_id
    return Status(202, found)


@router.post("/files", response=ACCEPTED, summary="Upload a usage file")
def upload_file(request, response: HttpResponse, file: File[UploadedFile], form: Form[UploadForm]):
    """Take in one usage file (multipart: `file`, `format`, `source`, `brand`); its records are
    rated by the workers: follow the file at its `href`."""
    require_perm(request, "rating.change")
    values = form.model_dump()
    for name in ("format", "source", "brand"):
        if not values[name] and request.GET.get(name):
            values[name] = request.GET[name]
    if not values["format"]:
        raise ServiceError(f"format: give one of {', '.join(formats.names())}", field="format")
    if not values["source"]:
        raise ServiceError("source: give the source the file comes from", field="source")
    brand = brand_for(request, values["brand"], "rating.change")
    fmt, source, actor, at = values["format"].strip(), values["source"].strip(), Actor.from_request(request), clock.now()
    try:
        if (file.size or 0) > settings.TELORA_UPLOAD_SYNC_BYTES:  # kept, and read by a job: not in the request
            usage_file, job = receive_usage_file(brand, file, format=fmt, source=source, name=file.name, actor=actor,
                                                 at=at)
            response["X-Job"] = f"/api/v1/jobs/{job.pk}"
            return _accepted(response, usage_file, job_id=job.pk)
        data = file.temporary_file_path() if hasattr(file, "temporary_file_path") else file.read()
        usage_file = import_usage_file(brand, data, format=fmt, source=source, name=file.name, actor=actor, at=at,
                                       split=False)
    except ServiceError as exc:
        if exc.code == "duplicate":
            raise ServiceError(exc.message, field="file", code="conflict") from None
        raise
    return _accepted(response, usage_file)


def _checked(records: list[RecordIn], bounds) -> list[UsageRecord]:
    """The records read by the canonical CSV parser's own rules and inside the usage bounds (the
    window, the largest usage, no negative charge, the source's largest charge); every problem of
    every bad record is listed (`records[3].start_time: ...`) and none is taken."""
    good: list[UsageRecord] = []
    problems: list[tuple[str, str]] = []
    for index, record in enumerate(records):
        fields = (record.record_id, record.service, record.a_number, record.b_number, record.start_time,
                  record.duration, record.volume, record.quantity, record.location, record.charge)
        try:
            read = canonical._with_balance(canonical._fast(fields, index + 1), record.balance_after)
            text = bounds.problems(read)
        except (ValueError, InvalidOperation, OverflowError):
            text = canonical._explain(fields, record.balance_after)
        else:
            if not text:
                good.append(read)
                continue
        for problem in text.split("; "):
            name, sep, message = problem.partition(": ")
            path = f"records[{index}].{name}" if sep else f"records[{index}]"
            problems.append((path, message if sep else problem))
    if problems:
        bad = len({path.split("]")[0] for path, _m in problems})
        error = ServiceError(f"records: {bad} bad record(s); nothing was taken", field=problems[0][0])
        error.errors = problems
        raise error
    return good


@router.post("", response=ACCEPTED, summary="Send a batch of usage records")
def post_records(request, response: HttpResponse, payload: ExactBody[RecordBatchIn]):
    """Up to 10,000 records with the canonical CSV's columns. Numbers may be JSON numbers or
    strings; `charge` is read exactly (never through float). All or nothing: a bad record refuses
    the batch. A record id already rated for the source is counted as a duplicate, not charged."""
    require_perm(request, "rating.change")
    if not payload.records:
        raise ServiceError("records: give at least one record", field="records")
    if len(payload.records) > MAX_RECORDS:
        raise ServiceError(f"records: at most {MAX_RECORDS} records in one batch ({len(payload.records)} sent); "
                           "send several batches or upload a file", field="records")
    brand = brand_for(request, payload.brand, "rating.change")
    source, at = payload.source.strip(), clock.now()
    records = _checked(payload.records, usage_bounds(brand.pk, source, at))
    usage_file = import_usage_records(brand, records, source=source, name="api batch",
                                      actor=Actor.from_request(request), at=at)
    return _accepted(response, usage_file)


def _files(request):
    require_perm(request, "rating.view")
    return UsageFile.objects.for_user(principal(request)).select_related("brand")


@router.get("/files", response={200: list[UsageFileOut], **ERRORS}, summary="List usage files")
def list_files(request, response: HttpResponse, paging: Query[Paging], filters: Query[UsageFileFilter]):
    """Newest first."""
    rows = _files(request)
    if filters.brand:
        rows = rows.filter(brand__code__iexact=filters.brand)
    if filters.source:
        rows = rows.filter(source=filters.source)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return page(rows.order_by("-created_at", "-id"), paging, response)


@router.get("/files/{int:file_id}", response={200: UsageFileDetail, **ERRORS}, summary="One usage file")
def get_file(request, file_id: int):
    """The file's counts, its batches pending and done, and how far rating has got."""
    usage_file = get_object_or_404(_files(request), pk=file_id)
    by_status = {row["status"]: row for row in RatingBatch.objects.filter(file=usage_file).order_by()
                 .values("status").annotate(n=Count("id"), records=Sum("records"))}
    pending, done = by_status.get("pending", {}), by_status.get("done", {})
    records = (pending.get("records") or 0) + (done.get("records") or 0)
    records_done = done.get("records") or 0
    usage_file.batch_counts = {"pending": pending.get("n", 0), "done": done.get("n", 0), "records": records,
                          "records_done": records_done}
    usage_file.progress = 100.0 if not records else round(100 * records_done / records, 1)
    return usage_file
