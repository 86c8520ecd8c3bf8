"""/api/v1/inventory/uploads: CSV uploads of SIM cards and numbers (docs/inventory.md has the columns).

POST a multipart form with `file`, `kind` (sims or numbers) and `brand` (a code; may be left out
when the caller can import into one brand only); the three may also come in the query string.
Without `background` the import runs now (files up to SYNC_MAX_BYTES) and the answer is the
import batch (201) with every bad row by line; good rows are imported all the same. With
`background=true` the file is kept and imported by a job: the answer (202) is the job, to follow
at /api/v1/jobs/{id}. Either way an import batch records the outcome.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ValidationError

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.jobs import JobOut
from telora.api.paging import Paging, page
from telora.core import clock, rights
from telora.core.models import Brand, Job
from telora.core.services.actors import Actor, ServiceError
from telora.inventory.api.schemas import ImportBatchDetail, ImportBatchOut
from telora.inventory.models import ImportBatch
from telora.inventory.selectors import import_batches_for_user
from telora.inventory.services import import_numbers, import_sims, start_import

router = Router(tags=["inventory"])

SYNC_MAX_BYTES = 5 * 1024 * 1024  # about 50,000 SIM rows: a few seconds
IMPORTERS = {"sims": import_sims, "numbers": import_numbers}


class UploadFilter(Schema):
    brand: str | None = None
    kind: ImportBatch.Kind | None = None


class UploadForm(Schema):
    kind: Literal["sims", "numbers"] | None = None
    brand: str | None = None
    background: bool | None = None


def _merged(request, form: UploadForm) -> dict:
    """The form fields, with the query string filling in what the form leaves out."""
    values = form.model_dump()
    for name in ("kind", "brand", "background"):
        if values[name] is None and name in request.GET:
            values[name] = request.GET[name]
    try:
        return UploadForm.model_validate(values).model_dump()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        raise ServiceError(f"{name}: {error['msg']}", field=name) from None


def _brand(request, code: str | None) -> Brand:
    """The named brand, or the only one the caller may import into."""
    if code:
        brand = Brand.objects.for_user(principal(request)).filter(code=code).first()
        if brand is None:
            raise ServiceError(f"brand: unknown brand {code!r}", field="brand")
        return brand
    reach = rights.brands_with(principal(request), "inventory.import")
    if reach is rights.ALL or len(reach) != 1:
        raise ServiceError("brand: give the brand code to import into", field="brand")
    return Brand.objects.get(pk=reach[0])


@router.post("", response={201: ImportBatchDetail, 202: JobOut, **ERRORS})
def upload(request, response: HttpResponse, file: File[UploadedFile], form: Form[UploadForm]):
    """Import a CSV file of `kind` sims or numbers into `brand`, now or (`background=true`) as a job."""
    require_perm(request, "inventory.import")
    values = _merged(request, form)
    if values["kind"] is None:
        raise ServiceError("kind: give sims or numbers", field="kind")
    brand = _brand(request, values["brand"])
    actor, at = Actor.from_request(request), clock.now()
    if values["background"]:
        job = start_import(brand, values["kind"], file, actor=actor, at=at, file_name=file.name)
        response["Location"] = f"/api/v1/jobs/{job.pk}"
        return Status(202, Job.objects.select_related("brand", "created_by").get(pk=job.pk))
    if file.size is not None and file.size > SYNC_MAX_BYTES:
        raise ServiceError(f"background: files over {SYNC_MAX_BYTES // (1024 * 1024)} MB are imported in the "
                           "background; send background=true", field="background")
    result = IMPORTERS[values["kind"]](brand, file, actor=actor, at=at, file_name=file.name)
    batch = import_batches_for_user(principal(request), "import").select_related("brand", "created_by") \
        .get(pk=result.batch.pk)
    batch.all_errors = result.errors
    response["Location"] = f"/api/v1/inventory/uploads/{batch.pk}"
    return Status(201, batch)


def _batches(request):
    require_perm(request, "inventory.view")
    return import_batches_for_user(principal(request)).select_related("brand", "created_by")


@router.get("", response={200: list[ImportBatchOut], **ERRORS})
def list_uploads(request, response: HttpResponse, paging: Query[Paging], filters: Query[UploadFilter]):
    """Newest first; the bad rows are in each upload's own page."""
    rows = _batches(request).defer("errors")
    if filters.brand:
        rows = rows.filter(brand__code=filters.brand)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    return page(rows.order_by("-created_at", "-id"), paging, response)


@router.get("/{int:batch_id}", response={200: ImportBatchDetail, **ERRORS})
def get_upload(request, batch_id: int):
    """The upload's counts and every bad row it kept, by line."""
    return get_object_or_404(_batches(request), pk=batch_id)
