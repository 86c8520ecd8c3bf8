"""TMF620 productSpecification: what a catalogue product is, technically (list, get).

Each product has its own specification with the product's id: `productNumber` is the product
code, `productSpecCharacteristic` lists the service type (`serviceType`) and then the product's
attributes (download_mbit, ...), each with its one fixed value as the default
`productSpecCharacteristicValue`. The characteristics are not configurable per order.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, TimePeriod, TmfSchema, day_period, select_fields, selectable, wanted_fields
from telora.catalog.models import Product
from telora.catalog.tmf.common import BASE, key, lifecycle, lifecycle_q
from telora.core import clock

router = Router(tags=["productSpecification"])


class CharacteristicValue(TmfSchema):
    value: Any = None
    valueType: str | None = None
    isDefault: bool | None = None


class SpecCharacteristic(TmfSchema):
    name: str
    description: str | None = None
    valueType: str | None = None
    configurable: bool | None = None
    minCardinality: int | None = None
    maxCardinality: int | None = None
    productSpecCharacteristicValue: list[CharacteristicValue] | None = None


class ProductSpecificationOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    productNumber: str | None = Field(None, description="The product code")
    lifecycleStatus: str | None = Field(None, description="Active (starts later), Launched, Retired, Obsolete")
    isBundle: bool | None = None
    validFor: TimePeriod | None = None
    productSpecCharacteristic: list[SpecCharacteristic] | None = None
    type: str = Field("ProductSpecification", alias="@type")


FIELDS = selectable(ProductSpecificationOut)


class SpecificationFilter(TmfSchema):
    lifecycleStatus: str | None = Field(None, description="One status or several, comma-separated")
    name: str | None = None
    productNumber: str | None = Field(None, description="The product code")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


def value_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def characteristic(name: str, value, description: str | None = None) -> dict:
    kind = value_type(value)
    return {"name": name, "description": description, "valueType": kind, "configurable": False,
            "minCardinality": 1, "maxCardinality": 1,
            "productSpecCharacteristicValue": [{"value": value, "valueType": kind, "isDefault": True}]}


def render(product: Product) -> dict:
    items = [characteristic("serviceType", product.service_type, "The kind of service the product is for")] \
        if product.service_type else []
    items += [characteristic(name, product.attributes[name]) for name in sorted(product.attributes)]
    return {
        "id": str(product.pk), "href": f"{BASE}/productSpecification/{product.pk}", "@type": "ProductSpecification",
        "name": product.name, "productNumber": product.code, "isBundle": False,
        "lifecycleStatus": lifecycle(product.valid_from, product.valid_to, clock.today(product.brand),
                                     product.sellable),
        "validFor": day_period(product.valid_from, product.valid_to, product.brand.timezone),
        "productSpecCharacteristic": items,
    }


def _specifications(request):
    require_perm(request, "catalog.view")
    return Product.objects.for_user(principal(request), "view").select_related("brand")


@router.get("/productSpecification", response={200: list[ProductSpecificationOut], **ERRORS}, **TMF)
def list_product_specification(request, response: HttpResponse, paging: Query[Paging],
                               filters: Query[SpecificationFilter]):
    rows = _specifications(request)
    status = lifecycle_q(filters.lifecycleStatus)
    if status is not None:
        rows = rows.filter(status)
    if filters.name is not None:
        rows = rows.filter(name=filters.name)
    if filters.productNumber is not None:
        rows = rows.filter(code=filters.productNumber)
    wanted = wanted_fields(filters.fields, FIELDS)
    return [select_fields(render(p), wanted) for p in page(rows.order_by("brand__code", "code", "id"), paging,
                                                           response)]


@router.get("/productSpecification/{id}", response={200: ProductSpecificationOut, **ERRORS}, **TMF)
def retrieve_product_specification(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, FIELDS)
    return select_fields(render(get_object_or_404(_specifications(request), pk=key(id))), wanted)
