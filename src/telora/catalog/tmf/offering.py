"""TMF620 productOffering: the catalogue's products (list, get).

A product is one offering: `lifecycleStatus` from its dates and `sellable` (see common), its
prices in effect today as `productOfferingPrice` references, its own `productSpecification`
(same id), its kind as `category`, a commitment as a `productOfferingTerm`. Telora adds `code`
(what config files and /api/v1 name it by) and `catalog` (the owning brand's catalogue).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import (
    TMF,
    Quantity,
    Ref,
    TimePeriod,
    TmfSchema,
    day_period,
    select_fields,
    selectable,
    wanted_fields,
)
from telora.catalog.models import Product, in_effect
from telora.catalog.tmf.common import (
    BASE,
    CATEGORIES,
    catalog_ref,
    category_ref,
    key,
    lifecycle,
    lifecycle_q,
    price_ref,
    specification_ref,
)
from telora.core import clock

router = Router(tags=["productOffering"])


class ProductOfferingTerm(TmfSchema):
    name: str | None = None
    description: str | None = None
    duration: Quantity | None = None


class ProductOfferingOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    lifecycleStatus: str | None = Field(None, description="Active (starts later), Launched, Retired (kept for "
                                                          "existing subscriptions, not sold), Obsolete")
    isBundle: bool | None = None
    isSellable: bool | None = None
    validFor: TimePeriod | None = None
    category: list[Ref] | None = None
    productSpecification: Ref | None = None
    productOfferingPrice: list[Ref] | None = Field(None, description="The prices in effect today")
    productOfferingTerm: list[ProductOfferingTerm] | None = None
    code: str | None = Field(None, description="Telora extension: the product code (config files, /api/v1)")
    catalog: Ref | None = Field(None, description="Telora extension: the catalogue (brand) the product belongs to")
    type: str = Field("ProductOffering", alias="@type")


FIELDS = selectable(ProductOfferingOut)


class OfferingFilter(TmfSchema):
    lifecycleStatus: str | None = Field(None, description="One status or several, comma-separated")
    name: str | None = None
    code: str | None = Field(None, description="Telora extension: the product code")
    category_id: str | None = Field(None, alias="category.id", description=f"Product kind: {', '.join(CATEGORIES)}")
    catalog_id: str | None = Field(None, alias="catalog.id", description="The catalogue's id (its brand code)")
    fields: str | None = Field(None, description="Attributes to return, comma-separated (id, href and @type "
                                                 "always come)")


def render(product: Product) -> dict:
    brand = product.brand
    day = clock.today(brand)
    prices = [price for charge in product.charges.all() for price in charge.prices.all() if in_effect(price, day)]
    terms = [{"name": "commitment", "description": f"{product.commitment_months} months minimum",
              "duration": {"amount": product.commitment_months, "units": "month"}}] \
        if product.commitment_months else None
    return {
        "id": str(product.pk), "href": f"{BASE}/productOffering/{product.pk}", "@type": "ProductOffering",
        "name": product.name, "code": product.code,
        "lifecycleStatus": lifecycle(product.valid_from, product.valid_to, day, product.sellable),
        "isBundle": False, "isSellable": product.sellable,
        "validFor": day_period(product.valid_from, product.valid_to, brand.timezone),
        "category": [category_ref(product.kind)],
        "productSpecification": specification_ref(product),
        "productOfferingPrice": [price_ref(price) for price in sorted(prices, key=lambda p: (p.charge.code, p.pk))],
        "productOfferingTerm": terms,
        "catalog": catalog_ref(brand),
    }


def _offerings(request):
    require_perm(request, "catalog.view")
    return (Product.objects.for_user(principal(request), "view").select_related("brand")
            .prefetch_related("charges__prices"))


@router.get("/productOffering", response={200: list[ProductOfferingOut], **ERRORS}, **TMF)
def list_product_offering(request, response: HttpResponse, paging: Query[Paging], filters: Query[OfferingFilter]):
    """Offerings of the caller's catalogues and of those shared with them."""
    rows = _offerings(request)
    status = lifecycle_q(filters.lifecycleStatus)
    if status is not None:
        rows = rows.filter(status)
    if filters.name is not None:
        rows = rows.filter(name=filters.name)
    if filters.code is not None:
        rows = rows.filter(code=filters.code)
    if filters.category_id is not None:
        rows = rows.filter(kind=filters.category_id)
    if filters.catalog_id is not None:
        rows = rows.filter(brand__code=filters.catalog_id)
    wanted = wanted_fields(filters.fields, FIELDS)
    return [select_fields(render(p), wanted)
            for p in page(rows.order_by("brand__code", "code", "id"), paging, response)]


@router.get("/productOffering/{id}", response={200: ProductOfferingOut, **ERRORS}, **TMF)
def retrieve_product_offering(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, FIELDS)
    return select_fields(render(get_object_or_404(_offerings(request), pk=key(id))), wanted)
