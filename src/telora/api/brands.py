"""Brands the caller works in (read only; brands are managed by system administrators in the GUI)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from telora.api.auth import principal
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core.models import Brand

router = Router(tags=["brands"])


class BrandOut(Schema):
    code: str
    name: str
    currency: str
    timezone: str
    country: str
    language: str
    primary_colour: str
    secondary_colour: str
    logo: str | None
    is_active: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_logo(brand: Brand) -> str | None:
        return brand.logo.url if brand.logo else None


@router.get("", response={200: list[BrandOut], **ERRORS})
def list_brands(request, response: HttpResponse, paging: Query[Paging]):
    brands = Brand.objects.for_user(principal(request)).order_by("code")
    return page(brands, paging, response)


@router.get("/{code}", response={200: BrandOut, **ERRORS})
def get_brand(request, code: str):
    return get_object_or_404(Brand.objects.for_user(principal(request)), code=code)
