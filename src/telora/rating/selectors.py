"""Reads of rating shared by the screens, the API and the commands: failed records with their
filters, and a subscription's rated usage in a period."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from telora.core.models import Brand
from telora.rating.models import FAILED_STATUSES, FailedRecord, RatedUsage

ALL_STATUSES = ("all", "any", "*")


def _scope(principal_or_brand, model, action: str) -> QuerySet:
    """A brand: that brand's rows. A user or an API key: the rows of the brands where it holds
    `rating.<action>` (nothing for None or an anonymous user)."""
    if isinstance(principal_or_brand, Brand):
        return model.objects.in_brand(principal_or_brand)
    return model.objects.for_user(principal_or_brand, action)


def failed_records(principal_or_brand, *, brand=None, reason: str | None = None, status: str | None = "open",
                   source: str | None = None, file=None, a_number: str | None = None,
                   since: dt.datetime | None = None, until: dt.datetime | None = None, ids=None,
                   action: str = "view") -> QuerySet:
    """Failed records, newest first, that `principal_or_brand` may see.

    Filters (each optional): `brand` (a Brand or its id) narrows a principal's brands; `reason`
    (UNKNOWN_SUBSCRIBER, NO_RATE, ...); `status` "open" by default, one of open, rerated,
    deleted, or None, "" or "all" for every status (an unknown status matches nothing); `source`; `file` (a UsageFile or its id);
    `a_number` (of the original record); `since`/`until` on when the record failed (until
    exclusive); `ids`. Deleted records appear only when asked for by status.
    """
    rows = _scope(principal_or_brand, FailedRecord, action)
    if brand is not None:
        rows = rows.filter(brand_id=getattr(brand, "pk", brand))
    if status and status not in ALL_STATUSES:
        if status not in FAILED_STATUSES:
            rows = rows.none()
        rows = rows.filter(status=status)
    if reason:
        rows = rows.filter(reason=reason)
    if source:
        rows = rows.filter(source=source)
    if file is not None and file != "":
        rows = rows.filter(file_id=getattr(file, "pk", file))
    if a_number:
        rows = rows.filter(original__a_number=a_number)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.order_by("-created_at", "-id")


def failed_record(principal_or_brand, pk, *, action: str = "view") -> FailedRecord:
    """One failed record the principal may see (any status); FailedRecord.DoesNotExist otherwise."""
    return _scope(principal_or_brand, FailedRecord, action).select_related("file", "brand").get(pk=pk)


def failure_counts(principal_or_brand, *, brand=None, status: str | None = "open") -> dict[str, int]:
    """How many failed records per reason (open ones by default)."""
    from django.db.models import Count

    rows = failed_records(principal_or_brand, brand=brand, status=status).order_by()
    return dict(rows.values_list("reason").annotate(n=Count("id")).values_list("reason", "n"))


def rated_usage(subscription, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                principal=None) -> QuerySet:
    """The subscription's rated usage with since <= start_time < until, oldest first.

    With `principal`, only rows of brands where it holds rating.view."""
    from telora.core import rights

    rows = RatedUsage.objects.filter(subscription_id=getattr(subscription, "pk", subscription))
    brand_id = getattr(subscription, "brand_id", None)
    if brand_id is not None:
        rows = rows.filter(brand_id=brand_id)
    if principal is not None:
        brands = rights.brands_with(principal, "rating.view")
        if brands is not rights.ALL:
            rows = rows.filter(brand_id__in=brands)
    if since is not None:
        rows = rows.filter(start_time__gte=since)
    if until is not None:
        rows = rows.filter(start_time__lt=until)
    return rows.order_by("start_time", "id")
