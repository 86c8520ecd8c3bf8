"""/api/v1/usage/failed: records that were not rated, to inspect, re-rate or delete.

- `GET /api/v1/usage/failed`: open failed records, newest first; filters brand, reason, status
  (open by default; rerated, deleted or all), source, file, a_number. Needs rating.view.
- `GET /api/v1/usage/failed/{id}`: one, with the record as it came (`original`).
- `POST /api/v1/usage/failed/rerate` {ids}: take the records in again (after the catalogue or
  the subscription was fixed), staged per brand and source and rated by the workers. Needs
  rating.rerate and rating.change in their brand.
- `POST /api/v1/usage/failed/delete` {ids}: mark them deleted (kept for the audit trail). Needs
  rating.delete_failed in their brand.

Ids of records the caller cannot see, or that are no longer open, are listed in `missing`.
"""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpResponse
from ninja import Query, Router

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, PermissionDeniedError
from telora.rating.api.schemas import DeleteOut, FailedDetail, FailedFilter, FailedIdsIn, FailedOut, RerateOut
from telora.rating.models import UsageFile
from telora.rating.selectors import failed_record, failed_records
from telora.rating.services.failed import delete_failed, rerate_failed

router = Router(tags=["usage"])


@router.get("", response={200: list[FailedOut], **ERRORS}, summary="List failed records")
def list_failed(request, response: HttpResponse, paging: Query[Paging], filters: Query[FailedFilter]):
    """Newest first; open ones unless `status` says otherwise (`all` for every status)."""
    require_perm(request, "rating.view")
    brand = None
    if filters.brand:
        brand = Brand.objects.filter(code__iexact=filters.brand.strip()).values_list("pk", flat=True).first() or 0
    rows = failed_records(principal(request), brand=brand, reason=filters.reason or None, status=filters.status,
                          source=filters.source or None, file=filters.file, a_number=filters.a_number or None)
    return page(rows.select_related("brand").defer("original"), paging, response)


@router.get("/{int:record_id}", response={200: FailedDetail, **ERRORS}, summary="One failed record")
def get_failed(request, record_id: int):
    require_perm(request, "rating.view")
    return failed_record(principal(request), record_id)


def _by_brand(request, ids: list[int], status: str) -> tuple[dict[int, list[int]], list[int]]:
    """The ids the caller sees (with `status`), grouped by brand, and the rest."""
    seen = failed_records(principal(request), status=status, ids=ids).order_by().values_list("pk", "brand_id")
    groups: dict[int, list[int]] = defaultdict(list)
    for pk, brand_id in seen:
        groups[brand_id].append(pk)
    found = {pk for pks in groups.values() for pk in pks}
    return groups, sorted({i for i in ids if i not in found})


def _brands(request, groups: dict[int, list[int]], *perms: str) -> dict[int, Brand]:
    """The brands of the records, each checked for `perms` before anything is done (all or none)."""
    brands = Brand.objects.in_bulk(list(groups))
    for brand in brands.values():
        for perm in perms:
            if not rights.has_perm(principal(request), brand, perm):
                raise PermissionDeniedError(f"You lack {perm} in {brand.code}.")
    return brands


@router.post("/rerate", response={200: RerateOut, **ERRORS}, summary="Re-rate failed records")
def rerate(request, payload: FailedIdsIn):
    """Take the open failed records `ids` in again; each brand's and source's records become one
    batch file to follow. PARSE_ERROR and DUPLICATE records are skipped (see `skipped`)."""
    require_perm(request, "rating.rerate")
    groups, missing = _by_brand(request, payload.ids, "all")
    brands = _brands(request, groups, "rating.rerate", "rating.change")
    actor, at = Actor.from_request(request), clock.now()
    requeued, skipped, files = 0, defaultdict(int), []
    for brand_id in sorted(groups):
        result = rerate_failed(brands[brand_id], groups[brand_id], actor=actor, at=at)
        requeued += result["requeued"]
        for reason, count in result["skipped"].items():
            skipped[reason] += count
        missing += result["missing"]
        files += result["files"]
    return {"requeued": requeued, "skipped": dict(skipped), "missing": sorted(missing),
            "files": list(UsageFile.objects.filter(pk__in=files).select_related("brand").order_by("id"))}


@router.post("/delete", response={200: DeleteOut, **ERRORS}, summary="Delete failed records")
def delete(request, payload: FailedIdsIn):
    """Mark the open failed records `ids` deleted: they leave the default list; the rows stay."""
    require_perm(request, "rating.delete_failed")
    groups, missing = _by_brand(request, payload.ids, "open")
    brands = _brands(request, groups, "rating.delete_failed")
    actor, at = Actor.from_request(request), clock.now()
    deleted = sum(delete_failed(brands[brand_id], groups[brand_id], actor=actor, at=at)
                  for brand_id in sorted(groups))
    return {"deleted": deleted, "missing": missing}
