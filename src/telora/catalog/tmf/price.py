"""TMF620 productOfferingPrice: each dated version of a product's price (list, get).

A product has charges (its monthly `recurring` price, its one-off `price`, named one-time fees
such as ACTIVATION); each charge has price versions over [validFor.startDateTime, endDateTime).
A version is one productOfferingPrice: `priceType` recurring (monthly) or oneTime, `price` as TMF
Money with an exact value in the brand's currency, net of tax. Price-list overrides (channels,
customer groups) are not published here yet. Telora adds `chargeCode` and `productOffering`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import (
    TMF,
    Money,
    Ref,
    TimePeriod,
    TmfSchema,
    day_period,
    select_fields,
    selectable,
    wanted_fields,
)
from telora.catalog.export import format_amount
from telora.catalog.models import ProductCharge, ProductPrice
from telora.catalog.tmf.common import BASE, key, lifecycle, lifecycle_q, offering_ref, price_name
from telora.core import clock
from telora.core.money import minor_unit
from telora.core.services.actors import ServiceError

router = Router(tags=["productOfferingPrice"])

PRICE_TYPES = {ProductCharge.Kind.RECURRING: "recurring", ProductCharge.Kind.ONE_TIME: "oneTime"}


class ProductOfferingPriceOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    lifecycleStatus: str | None = Field(None, description="Active (starts later), Launched (in effect), Obsolete")
    isBundle: bool | None = None
    priceType: str | None = Field(None, description="recurring or oneTime")
    recurringChargePeriodType: str | None = None
    recurringChargePeriodLength: int | None = None
    price: Money | None = None
    validFor: TimePeriod | None = None
    chargeCode: str | None = Field(None, description="Telora extension: recurring, price, or the one-time fee's code")
    productOffering: Ref | None = Field(None, description="Telora extension: the offering this price belongs to")
    type: str = Field("ProductOfferingPrice", alias="@type")


FIELDS = selectable(ProductOfferingPriceOut)


class PriceFilter(TmfSchema):
    lifecycleStatus: str | None = Field(None, description="One status or several, comma-separated")
    name: str | None = None
    priceType: str | None = Field(None, description="recurring or oneTime")
    productOffering_id: str | None = Field(None, alias="productOffering.id",
                                           description="Telora extension: prices of one offering")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


def render(row: ProductPrice) -> dict:
    charge, brand = row.charge, row.brand
    recurring = charge.kind == ProductCharge.Kind.RECURRING
    amount = format_amount(row.amount, minor_unit(brand.currency))
    return {
        "id": str(row.pk), "href": f"{BASE}/productOfferingPrice/{row.pk}", "@type": "ProductOfferingPrice",
        "name": price_name(row), "isBundle": False,
        "lifecycleStatus": lifecycle(row.valid_from, row.valid_to, clock.today(brand)),
        "priceType": PRICE_TYPES[charge.kind],
        "recurringChargePeriodType": "month" if recurring else None,
        "recurringChargePeriodLength": 1 if recurring else None,
        "price": {"unit": brand.currency, "value": Decimal(amount)},
        "validFor": day_period(row.valid_from, row.valid_to, brand.timezone),
        "chargeCode": charge.code,
        "productOffering": offering_ref(charge.product),
    }


def _prices(request):
    require_perm(request, "catalog.view")
    return ProductPrice.objects.for_user(principal(request), "view").select_related("brand", "charge__product")


@router.get("/productOfferingPrice", response={200: list[ProductOfferingPriceOut], **ERRORS}, **TMF)
def list_product_offering_price(request, response: HttpResponse, paging: Query[Paging],
                                filters: Query[PriceFilter]):
    """Every price version (past, current, future) of the offerings the caller may see."""
    rows = _prices(request)
    status = lifecycle_q(filters.lifecycleStatus, has_sellable=False)
    if status is not None:
        rows = rows.filter(status)
    if filters.name is not None:
        rows = rows.filter(Q(charge__name=filters.name) | Q(charge__name="", charge__product__name=filters.name))
    if filters.priceType is not None:
        kinds = [kind for kind, name in PRICE_TYPES.items() if name == filters.priceType]
        if not kinds:
            raise ServiceError(f"priceType: give {' or '.join(PRICE_TYPES.values())}", field="priceType")
        rows = rows.filter(charge__kind__in=kinds)
    if filters.productOffering_id is not None:
        rows = rows.filter(charge__product_id=key(filters.productOffering_id))
    wanted = wanted_fields(filters.fields, FIELDS)
    order = ("brand__code", "charge__product__code", "charge__code", "valid_from", "id")
    return [select_fields(render(row), wanted) for row in page(rows.order_by(*order), paging, response)]


@router.get("/productOfferingPrice/{id}", response={200: ProductOfferingPriceOut, **ERRORS}, **TMF)
def retrieve_product_offering_price(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, FIELDS)
    return select_fields(render(get_object_or_404(_prices(request), pk=key(id))), wanted)
