"""TMF620 catalog and category (list, get).

A brand's catalogue is one `catalog` whose id is the brand code; the caller sees those of the
brands where they hold catalog.view and those shared with such a brand. `relatedParty` names the
owner (role "owner") and the brands it is shared with (role "sharedWith"); a brand reading another's
shared catalogue sees only the shares with its own brands.
The product kinds are the categories, the same in every catalogue (ids plan, addon, one_time,
device); find a category's offerings with `productOffering?category.id=plan`.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, Ref, TmfSchema, select_fields, selectable, split_values, wanted_fields
from telora.catalog.models import CatalogShare
from telora.catalog.tmf.common import BASE, CATEGORIES, LAUNCHED, category_ref
from telora.core import rights
from telora.core.models import Brand

router = Router(tags=["catalog"])


class CatalogOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    catalogType: str | None = None
    lifecycleStatus: str | None = None
    category: list[Ref] | None = None
    relatedParty: list[Ref] | None = None
    type: str = Field("Catalog", alias="@type")


class CategoryOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    isRoot: bool | None = None
    lifecycleStatus: str | None = None
    type: str = Field("Category", alias="@type")


CATALOG_FIELDS = selectable(CatalogOut)
CATEGORY_FIELDS = selectable(CategoryOut)


class CatalogFilter(TmfSchema):
    name: str | None = None
    lifecycleStatus: str | None = Field(None, description="Catalogues are always Launched")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


def _party(brand, role: str) -> dict:
    return {"id": brand.code, "name": brand.name, "role": role, "@referredType": "Organization"}


def render_catalog(brand: Brand, shared_with: list[Brand]) -> dict:
    return {
        "id": brand.code, "href": f"{BASE}/catalog/{brand.code}", "@type": "Catalog", "name": brand.name,
        "description": f"Product catalogue of {brand.name}", "catalogType": "ProductCatalog",
        "lifecycleStatus": LAUNCHED, "category": [category_ref(kind) for kind in CATEGORIES],
        "relatedParty": [_party(brand, "owner")] + [_party(other, "sharedWith") for other in shared_with],
    }


def _catalogues(request):
    require_perm(request, "catalog.view")
    reach = rights.brands_with(principal(request), "catalog.view")
    if reach is rights.ALL:
        return Brand.objects.all(), reach
    owners = CatalogShare.objects.filter(shared_with_id__in=reach).values("brand_id")
    return Brand.objects.filter(Q(pk__in=reach) | Q(pk__in=owners)), reach


def _render_all(brands: list[Brand], reach, wanted) -> list[dict]:
    """Catalogues with the shares the caller may know of: all of their own catalogues' shares,
    and of another brand's catalogue only the shares with the caller's brands."""
    shares = CatalogShare.objects.filter(brand__in=brands).select_related("shared_with").order_by("shared_with__code")
    if reach is not rights.ALL:
        shares = shares.filter(Q(brand_id__in=reach) | Q(shared_with_id__in=reach))
    shared: dict[int, list[Brand]] = defaultdict(list)
    for share in shares:
        shared[share.brand_id].append(share.shared_with)
    return [select_fields(render_catalog(brand, shared[brand.pk]), wanted) for brand in brands]


@router.get("/catalog", response={200: list[CatalogOut], **ERRORS}, **TMF)
def list_catalog(request, response: HttpResponse, paging: Query[Paging], filters: Query[CatalogFilter]):
    rows, reach = _catalogues(request)
    if filters.name is not None:
        rows = rows.filter(name=filters.name)
    statuses = split_values(filters.lifecycleStatus)
    if statuses and LAUNCHED not in statuses:
        rows = rows.none()
    wanted = wanted_fields(filters.fields, CATALOG_FIELDS)
    return _render_all(page(rows.order_by("code"), paging, response), reach, wanted)


@router.get("/catalog/{id}", response={200: CatalogOut, **ERRORS}, **TMF)
def retrieve_catalog(request, id: str, fields: str | None = None):
    rows, reach = _catalogues(request)
    wanted = wanted_fields(fields, CATALOG_FIELDS)
    return _render_all([get_object_or_404(rows, code=id)], reach, wanted)[0]


def render_category(kind: str) -> dict:
    return {"id": kind, "href": f"{BASE}/category/{kind}", "@type": "Category", "name": CATEGORIES[kind],
            "description": f"Products of kind {kind}", "isRoot": True, "lifecycleStatus": LAUNCHED}


@router.get("/category", response={200: list[CategoryOut], **ERRORS}, **TMF)
def list_category(request, response: HttpResponse, paging: Query[Paging], fields: str | None = None):
    require_perm(request, "catalog.view")
    wanted = wanted_fields(fields, CATEGORY_FIELDS)
    return [select_fields(render_category(kind), wanted) for kind in page(list(CATEGORIES), paging, response)]


@router.get("/category/{id}", response={200: CategoryOut, **ERRORS}, **TMF)
def retrieve_category(request, id: str, fields: str | None = None):
    require_perm(request, "catalog.view")
    if id not in CATEGORIES:
        raise Http404(f"No category {id!r}; the categories are {', '.join(CATEGORIES)}.")
    return select_fields(render_category(id), wanted_fields(fields, CATEGORY_FIELDS))
