"""TMF635 Usage Management v4: rated usage (list, get), each with how it was rated.

A RatedUsage row is a TMF Usage with status "rated":
- `usageDate` the record's start, `usageType` its service (voice, sms, mms, data, content);
- `usageCharacteristic` the record as it came (originatingNumber, destinationNumber, duration,
  volume or quantity, location, direction, recordId, source) and Telora's rating explanation
  (zone, timeBand, ratePlan, rateKey, chargedQuantity, bundleUse, discount, balanceAfter);
- `relatedParty` the customer; `ratedProductUsage` one item: the charge before tax as
  `taxExcludedRatingAmount` (an exact JSON number), `offerTariffType` the zone, `usageRatingTag`
  "usage", "included usage" (drawn from a bundle at no charge) or "non included usage" (a bundle
  covered part of it), `productRef` the subscription (its TMF637 product), `isBilled` false.

Lists are newest first. The table is partitioned by month: a list without `product.id` (or
`subscription`, or `relatedParty.id`) covers at most what `usageDate.gt`/`usageDate.lt` say, and
without `usageDate.gt` the 31 days before `usageDate.lt` (or now). Needs rating.view; a brand
sees its own usage only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpResponse
from ninja import Field, Query, Router

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import (
    TMF,
    FilterDateTime,
    Money,
    Ref,
    TmfSchema,
    id_or_error,
    key,
    select_fields,
    selectable,
    split_values,
    wanted_fields,
)
from telora.core import clock, rights
from telora.customers.models import Subscription
from telora.customers.tmf.common import PRODUCT_BASE, customer_ref
from telora.rating.models import RatedUsage, RatingBatch

router = Router(tags=["usage"])

BASE = "/tmf-api/usageManagement/v4/usage"
DEFAULT_DAYS = 31
UNITS = {"voice": "second", "data": "byte", "sms": "message", "mms": "message", "content": "item"}


class UsageCharacteristic(TmfSchema):
    name: str
    value: Any = None
    valueType: str | None = None


class RatedProductUsage(TmfSchema):
    isBilled: bool | None = None
    ratingAmountType: str | None = None
    ratingDate: dt.datetime | None = None
    usageRatingTag: str | None = None
    offerTariffType: str | None = None
    taxExcludedRatingAmount: Money | None = None
    productRef: Ref | None = None
    type: str = Field("RatedProductUsage", alias="@type")


class UsageOut(TmfSchema):
    id: str
    href: str
    description: str | None = None
    usageDate: dt.datetime | None = None
    usageType: str | None = None
    status: str | None = None
    usageCharacteristic: list[UsageCharacteristic] | None = None
    relatedParty: list[Ref] | None = None
    ratedProductUsage: list[RatedProductUsage] | None = None
    type: str = Field("Usage", alias="@type")


FIELDS = selectable(UsageOut)


class UsageFilter(TmfSchema):
    product_id: str | None = Field(None, alias="product.id", description="The subscription's id (TMF637 product)")
    subscription: str | None = Field(None, description="Same as product.id")
    relatedParty_id: str | None = Field(None, alias="relatedParty.id", description="The customer's id")
    usageDate_gt: FilterDateTime | None = Field(None, alias="usageDate.gt", description="Usage from (exclusive)")
    usageDate_gte: FilterDateTime | None = Field(None, alias="usageDate.gte", description="Usage from (inclusive)")
    usageDate_lt: FilterDateTime | None = Field(None, alias="usageDate.lt", description="Usage before (exclusive)")
    usageDate_lte: FilterDateTime | None = Field(None, alias="usageDate.lte", description="Usage until (inclusive)")
    usageType: str | None = Field(None, description="voice, sms, mms, data, content (comma-separated: any)")
    status: str | None = Field(None, description="rated (the only status of rated usage)")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


def _number(value) -> Decimal:
    """An amount as written on the wire: its digits without trailing zeros (0.625000 -> 0.625)."""
    return value.normalize() if value else Decimal(0)


def _char(name: str, value, value_type: str = "string") -> dict | None:
    if value is None or value == "":
        return None
    return {"name": name, "value": value, "valueType": value_type}


def _rating_tag(row: RatedUsage) -> str:
    if not row.bundle_use:
        return "usage"
    return "included usage" if not row.charge else "non included usage"


def render(row: RatedUsage, subscription: Subscription | None, rated_at: dt.datetime | None) -> dict:
    measured = {"voice": "duration", "data": "volume"}.get(row.service, "quantity")
    bundle_use = [{"bundle": code, "allowance": allowance, "units": units, "periodStart": start}
                  for _key, code, allowance, start, units in (row.bundle_use or [])]
    items = [
        _char("originatingNumber", row.a_number), _char("destinationNumber", row.b_number),
        _char(measured, row.usage, "integer"), _char("unit", UNITS.get(row.service)),
        _char("location", row.location), _char("direction", row.direction),
        _char("recordId", row.record_id), _char("source", row.source),
        _char("zone", row.zone), _char("timeBand", row.band), _char("ratePlan", row.rate_plan),
        _char("rateKey", row.rate_key), _char("rateOverride", row.override or None),
        _char("chargedQuantity", row.quantity, "integer"),
        _char("bundleUse", bundle_use or None, "array"),
        _char("discount", _number(row.discount), "number"),
        _char("balanceAfter", _number(row.balance_after) if row.balance_after is not None else None, "number"),
    ]
    product = {"id": str(row.subscription_id), "href": f"{PRODUCT_BASE}/{row.subscription_id}",
               "name": row.a_number, "@referredType": "Product"}
    target = f" to {row.b_number}" if row.b_number else ""
    return {
        "id": str(row.pk), "href": f"{BASE}/{row.pk}", "@type": "Usage",
        "description": f"{row.service} from {row.a_number}{target}",
        "usageDate": row.start_time, "usageType": row.service, "status": "rated",
        "usageCharacteristic": [item for item in items if item is not None],
        "relatedParty": [customer_ref(subscription.customer)] if subscription is not None else [],
        "ratedProductUsage": [{
            "@type": "RatedProductUsage", "isBilled": False, "ratingAmountType": "total", "ratingDate": rated_at,
            "usageRatingTag": _rating_tag(row), "offerTariffType": row.zone or None,
            "taxExcludedRatingAmount": {"unit": row.currency, "value": _number(row.charge)},
            "productRef": product,
        }],
    }


def _render_all(rows: list[RatedUsage], wanted) -> list[dict]:
    subscriptions = Subscription.objects.select_related("customer").in_bulk({r.subscription_id for r in rows})
    rated_at = dict(RatingBatch.objects.filter(pk__in={r.batch_id for r in rows}).values_list("id", "done_at"))
    return [select_fields(render(r, subscriptions.get(r.subscription_id), rated_at.get(r.batch_id)), wanted)
            for r in rows]


def _usage(request):
    require_perm(request, "rating.view")
    rows = RatedUsage.objects.all()
    brands = rights.brands_with(principal(request), "rating.view")
    if brands is not rights.ALL:
        rows = rows.filter(brand_id__in=brands)
    return rows


def _id(value: str, field: str) -> int:
    return id_or_error(value, field)


@router.get("/usage", response={200: list[UsageOut], **ERRORS}, **TMF)
def list_usage(request, response: HttpResponse, paging: Query[Paging], filters: Query[UsageFilter]):
    """Rated usage, newest first. Without a product or party filter, at most the usageDate range
    asked for, and the 31 days before usageDate.lt (or now) when usageDate.gt is not given."""
    rows = _usage(request)
    product = filters.product_id or filters.subscription
    bound = False
    if product:
        rows = rows.filter(subscription_id=_id(product, "product.id"))
        bound = True
    if filters.relatedParty_id:
        customer = _id(filters.relatedParty_id, "relatedParty.id")
        rows = rows.filter(subscription_id__in=list(Subscription.objects.filter(customer_id=customer)
                                                    .values_list("pk", flat=True)))
        bound = True
    lower, upper = filters.usageDate_gt or filters.usageDate_gte, filters.usageDate_lt or filters.usageDate_lte
    if lower is None and not bound:
        lower = (upper or clock.now()) - dt.timedelta(days=DEFAULT_DAYS)
        rows = rows.filter(start_time__gte=lower)
    if filters.usageDate_gt:
        rows = rows.filter(start_time__gt=filters.usageDate_gt)
    if filters.usageDate_gte:
        rows = rows.filter(start_time__gte=filters.usageDate_gte)
    if filters.usageDate_lt:
        rows = rows.filter(start_time__lt=filters.usageDate_lt)
    if filters.usageDate_lte:
        rows = rows.filter(start_time__lte=filters.usageDate_lte)
    if filters.usageType:
        rows = rows.filter(service__in=split_values(filters.usageType))
    if filters.status and "rated" not in split_values(filters.status):
        rows = rows.none()
    wanted = wanted_fields(filters.fields, FIELDS)
    return _render_all(page(rows.order_by("-start_time", "-id"), paging, response), wanted)


@router.get("/usage/{id}", response={200: UsageOut, **ERRORS}, **TMF)
def retrieve_usage(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, FIELDS)
    row = _usage(request).filter(pk=key(id)).first()
    if row is None:
        raise Http404(f"No usage {id}.")
    return _render_all([row], wanted)[0]
