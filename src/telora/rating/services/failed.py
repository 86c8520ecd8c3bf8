"""Operations on failed records: re-rate them (after the catalogue or the subscription was fixed)
or delete them. Both need a special right of the rating area and are audited once per call.

A failed record keeps the record's fields as JSON (`FailedRecord.original`, written by the
pipeline: start time as ISO text, charge as text or None). Re-rating rebuilds the records from
it and takes them in again like any records (`import_usage_records`, action "rerate"): a record
that fails again gets a new failed record with its new reason, the old one stays "rerated".
PARSE_ERROR records keep only the raw text and DUPLICATE ones are charged already: those two
are never re-rated (fix the file and import it again; delete the rest).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q

from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.rating.engine import DUPLICATE, PARSE_ERROR, SERVICES, UsageRecord
from telora.rating.models import FailedRecord, RatingBatch, UsageFile
from telora.rating.services.intake import import_usage_records, require

NOT_RERATABLE = (PARSE_ERROR, DUPLICATE)
UNREADABLE = "UNREADABLE"  # a skipped record whose original does not make a record (reported apart)
RERATE_NAME = "re-rate of failed records"


def brand_of(brand) -> Brand:
    """A Brand from a Brand, its id or its code."""
    if isinstance(brand, Brand):
        return brand
    found = None
    if isinstance(brand, int):
        found = Brand.objects.filter(pk=brand).first()
    elif brand:
        found = Brand.objects.filter(Q(code=brand) | Q(code__iexact=str(brand))).first()
    if found is None:
        raise ServiceError(f"brand: no brand {brand!r}", field="brand")
    return found


def clean_ids(ids) -> list[int]:
    try:
        cleaned = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ServiceError("ids: must be whole numbers", field="ids") from None
    if not cleaned:
        raise ServiceError("ids: name at least one failed record", field="ids")
    return cleaned


def record_from_original(original: dict, source_record_id: str = "") -> UsageRecord | None:
    """The UsageRecord a failed record was made from, or None when its original is not one."""
    if not isinstance(original, dict) or "service" not in original or "start_time" not in original:
        return None
    try:
        start = dt.datetime.fromisoformat(original["start_time"])
        if start.tzinfo is None or original["service"] not in SERVICES:
            return None
        charge, balance = original.get("charge"), original.get("balance_after")
        return UsageRecord(
            record_id=str(original.get("record_id") or source_record_id), service=original["service"],
            a_number=str(original.get("a_number") or ""), b_number=str(original.get("b_number") or ""),
            start_time=start, duration=int(original.get("duration") or 0), volume=int(original.get("volume") or 0),
            quantity=int(original.get("quantity", 1) if original.get("quantity") is not None else 1),
            location=str(original.get("location") or ""),
            charge=None if charge in (None, "") else Decimal(str(charge)),
            direction=original.get("direction") or "out", line=int(original.get("line") or 0),
            balance_after=None if balance in (None, "") else Decimal(str(balance)))
    except (TypeError, ValueError, InvalidOperation):
        return None


def rate_files_now(files: Iterable[UsageFile]) -> None:
    """Rate the pending batches of these files here and now (in the order they were made)."""
    from telora.rating.services.batches import rate_batch

    for batch_id in (RatingBatch.objects.filter(file__in=list(files), status="pending").order_by("id")
                     .values_list("id", flat=True)):
        rate_batch(batch_id)


def _audit(rows: list[FailedRecord], *, actor: Actor, at: dt.datetime, action: str, brand: Brand, new: dict,
           message: str) -> None:
    record_event(actor=actor, at=at, action=action, obj=rows[0], brand=brand, new=new, message=message,
                 object_type="rating.failedrecord")


def rerate_failed(brand, ids: Iterable[int], *, actor: Actor, at: dt.datetime, defer: bool = True) -> dict:
    """Take the open failed records `ids` of the brand in again, to be rated on today's catalogue
    and subscriptions; they become "rerated". Needs rating.rerate (and rating.change, as every
    intake). Returns {"requeued": n, "skipped": {reason: count}, "files": [usage file ids],
    "missing": [ids that are not open failed records of the brand]}; with defer=False the new
    batches are rated before it returns and "rated" and "failed" count how it went."""
    brand = brand_of(brand)
    require(actor, brand, "rating.rerate")
    require(actor, brand, "rating.change")
    wanted = clean_ids(ids)
    skipped: Counter = Counter()
    by_source: dict[str, list[UsageRecord]] = defaultdict(list)
    requeued: list[int] = []
    files: list[UsageFile] = []
    with transaction.atomic():
        rows = list(FailedRecord.objects.select_for_update().filter(brand=brand, pk__in=wanted, status="open")
                    .order_by("id"))
        for row in rows:
            record = None if row.reason in NOT_RERATABLE else record_from_original(row.original, row.record_id)
            if record is None:
                skipped[row.reason if row.reason in NOT_RERATABLE else UNREADABLE] += 1
                continue
            by_source[row.source].append(record)
            requeued.append(row.pk)
        for source in sorted(by_source):
            records = sorted(by_source[source], key=lambda r: r.start_time)
            files.append(import_usage_records(brand, records, source=source, actor=actor, at=at, name=RERATE_NAME,
                                              defer=defer, action="rerate"))
        if requeued:
            FailedRecord.objects.filter(pk__in=requeued).update(status="rerated")
        found = {row.pk for row in rows}
        result = {"requeued": len(requeued), "skipped": dict(skipped), "files": [f.pk for f in files],
                  "missing": [i for i in wanted if i not in found]}
        if rows:
            _audit(rows, actor=actor, at=at, action="rerate_failed", brand=brand,
                   new={"ids": requeued, "requeued": len(requeued), "skipped": sorted(skipped.items()),
                        "files": result["files"]},
                   message=f"{len(requeued)} failed records taken in again, {sum(skipped.values())} skipped")
    if not defer and files:
        rate_files_now(files)
        done = UsageFile.objects.filter(pk__in=result["files"])
        result["rated"] = sum(f.rated for f in done)
        result["failed"] = sum(f.failed for f in done)
    return result


def delete_failed(brand, ids: Iterable[int], *, actor: Actor, at: dt.datetime) -> int:
    """Mark the open failed records `ids` of the brand "deleted": they leave the default lists, the
    row and its original stay for the audit trail. Needs rating.delete_failed. Returns how many."""
    brand = brand_of(brand)
    require(actor, brand, "rating.delete_failed")
    wanted = clean_ids(ids)
    with transaction.atomic():
        rows = list(FailedRecord.objects.select_for_update().filter(brand=brand, pk__in=wanted, status="open")
                    .order_by("id"))
        if not rows:
            return 0
        done = [row.pk for row in rows]
        FailedRecord.objects.filter(pk__in=done).update(status="deleted")
        reasons = Counter(row.reason for row in rows)
        _audit(rows, actor=actor, at=at, action="delete_failed", brand=brand,
               new={"ids": done, "count": len(done), "reasons": sorted(reasons.items())},
               message=f"{len(done)} failed records deleted")
    return len(done)
