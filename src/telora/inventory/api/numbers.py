"""/api/v1/inventory/numbers and number-groups: phone numbers (list, get, reserve, release) and
their groups (list).

`release` gives a reservation back (the counterpart of `reserve`). An allocated number is given
back by ending or changing its subscription, which puts it in quarantine.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock
from telora.core.services.actors import Actor
from telora.inventory import services
from telora.inventory.api.schemas import NumberGroupOut, NumberOut, ReleaseIn, ReserveIn
from telora.inventory.models import NumberStatus
from telora.inventory.selectors import number_groups_for_user, numbers_for_user

router = Router(tags=["inventory"])


class NumberFilter(Schema):
    brand: str | None = Field(None, description="Brand code")
    status: NumberStatus | None = None
    group: str | None = Field(None, description="Number group code")
    number: str | None = Field(None, description="The number's beginning, in international digits "
                                                 "(+45 20, 004520 and 4520 are the same)")


class GroupFilter(Schema):
    brand: str | None = Field(None, description="Brand code")
    is_active: bool | None = None


def _numbers(request):
    require_perm(request, "inventory.view")
    return numbers_for_user(principal(request)).select_related("brand")


def _number(request, number_id: int):
    return get_object_or_404(_numbers(request), pk=number_id)


def _prefix(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits[2:] if digits.startswith("00") else digits


@router.get("/numbers", response={200: list[NumberOut], **ERRORS})
def list_numbers(request, response: HttpResponse, paging: Query[Paging], filters: Query[NumberFilter]):
    rows = _numbers(request)
    if filters.brand:
        rows = rows.filter(brand__code=filters.brand)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.group is not None:
        rows = rows.filter(group__code=filters.group)
    if filters.number:
        rows = rows.filter(number__startswith=_prefix(filters.number))
    return page(rows.order_by("number", "id"), paging, response)


@router.get("/numbers/{int:number_id}", response={200: NumberOut, **ERRORS})
def get_number(request, number_id: int):
    return _number(request, number_id)


@router.post("/numbers/{int:number_id}/reserve", response={200: NumberOut, **ERRORS})
def reserve_number(request, number_id: int, payload: ReserveIn | None = None):
    """Hold the number for `ttl_minutes` for the `reference` (an order)."""
    require_perm(request, "inventory.change")
    payload = payload or ReserveIn()
    item = _number(request, number_id)
    ttl = dt.timedelta(minutes=payload.ttl_minutes) if payload.ttl_minutes else None
    services.reserve_number(item.brand, item, actor=Actor.from_request(request), at=clock.now(), ttl=ttl,
                            reference=payload.reference)
    return _number(request, number_id)


@router.post("/numbers/{int:number_id}/release", response={200: NumberOut, **ERRORS})
def release_number(request, number_id: int, payload: ReleaseIn | None = None):
    """End a reservation at once: the number is available again."""
    require_perm(request, "inventory.change")
    payload = payload or ReleaseIn()
    item = _number(request, number_id)
    services.cancel_number_reservation(item.brand, item, actor=Actor.from_request(request), at=clock.now(),
                                       reference=payload.reference)
    return _number(request, number_id)


@router.get("/number-groups", response={200: list[NumberGroupOut], **ERRORS})
def list_number_groups(request, response: HttpResponse, paging: Query[Paging], filters: Query[GroupFilter]):
    require_perm(request, "inventory.view")
    rows = number_groups_for_user(principal(request)).select_related("brand")
    if filters.brand:
        rows = rows.filter(brand__code=filters.brand)
    if filters.is_active is not None:
        rows = rows.filter(is_active=filters.is_active)
    return page(rows.order_by("brand__code", "code", "id"), paging, response)
