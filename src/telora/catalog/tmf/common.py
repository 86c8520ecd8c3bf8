"""What the TMF620 resources share: hrefs and references, and the lifecycle status.

Lifecycle status is derived from the dates (and `sellable`), seen on the brand's business day:

| status   | product (offering, specification)          | price version            |
|----------|--------------------------------------------|--------------------------|
| Active   | starts later (approved, not yet on sale)   | starts later             |
| Launched | in effect and sellable                     | in effect                |
| Retired  | in effect, not sellable (kept for existing subscriptions) | —         |
| Obsolete | closed (valid_to has passed)               | replaced or ended        |
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import Q

from telora.api.tmf import key as tmf_key
from telora.api.tmf import split_values
from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import ServiceError

BASE = "/tmf-api/productCatalogManagement/v4"
ACTIVE, LAUNCHED, RETIRED, OBSOLETE = "Active", "Launched", "Retired", "Obsolete"
STATUSES = (ACTIVE, LAUNCHED, RETIRED, OBSOLETE)
CATEGORIES = {"plan": "Plans", "addon": "Add-ons", "one_time": "One-time products", "device": "Devices"}
NOTHING = Q(pk__in=[])


def key(value: str) -> int:
    """A TMF id in the path as a primary key (0, which matches nothing, if it is not one)."""
    return tmf_key(value)


def lifecycle(valid_from: dt.date, valid_to: dt.date | None, day: dt.date, sellable: bool = True) -> str:
    if valid_from > day:
        return ACTIVE
    if valid_to is not None and valid_to <= day:
        return OBSOLETE
    return LAUNCHED if sellable else RETIRED


def _condition(status: str, day: dt.date, has_sellable: bool) -> Q:
    in_effect = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    if status == ACTIVE:
        return Q(valid_from__gt=day)
    if status == OBSOLETE:
        return Q(valid_to__lte=day)
    if status == LAUNCHED:
        return in_effect & Q(sellable=True) if has_sellable else in_effect
    return in_effect & Q(sellable=False) if has_sellable else NOTHING


def brand_days() -> dict[dt.date, list[str]]:
    """Each business day it is now somewhere, with the brand timezones where it is that day."""
    moment = clock.now()
    days: dict[dt.date, list[str]] = defaultdict(list)
    for timezone in Brand.objects.values_list("timezone", flat=True).distinct():
        days[moment.astimezone(ZoneInfo(timezone)).date()].append(timezone)
    return days


def lifecycle_q(value: str | None, *, has_sellable: bool = True) -> Q | None:
    """The `lifecycleStatus` filter (one status or several, comma-separated) as a query on dated
    rows with a `brand`, each row judged on its own brand's business day. None: no filter."""
    wanted = split_values(value)
    if not wanted:
        return None
    unknown = [status for status in wanted if status not in STATUSES]
    if unknown:
        raise ServiceError(f"lifecycleStatus: unknown status {unknown[0]!r}; known: {', '.join(STATUSES)}",
                           field="lifecycleStatus")
    days = brand_days()
    parts = [Q(brand__timezone__in=zones) & _condition(status, day, has_sellable)
             for status in wanted for day, zones in days.items()]
    return reduce(or_, parts, NOTHING)


def offering_ref(product) -> dict:
    return {"id": str(product.pk), "href": f"{BASE}/productOffering/{product.pk}", "name": product.name,
            "@referredType": "ProductOffering"}


def specification_ref(product) -> dict:
    return {"id": str(product.pk), "href": f"{BASE}/productSpecification/{product.pk}", "name": product.name,
            "@referredType": "ProductSpecification"}


def price_name(price) -> str:
    return price.charge.name or price.charge.product.name


def price_ref(price) -> dict:
    return {"id": str(price.pk), "href": f"{BASE}/productOfferingPrice/{price.pk}", "name": price_name(price),
            "@referredType": "ProductOfferingPrice"}


def category_ref(kind: str) -> dict:
    return {"id": kind, "href": f"{BASE}/category/{kind}", "name": CATEGORIES.get(kind, kind),
            "@referredType": "Category"}


def catalog_ref(brand) -> dict:
    return {"id": brand.code, "href": f"{BASE}/catalog/{brand.code}", "name": brand.name, "@referredType": "Catalog"}
