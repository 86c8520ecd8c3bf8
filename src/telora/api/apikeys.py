"""API keys for automation: create, list, rotate and revoke keys without the GUI.

Reads start from `ApiKey.objects.for_user(principal, "view")`: one's own keys and those of the
users one manages; any other key is a 404. The services in telora.core.services.users decide the
rest: a key acting through this API manages only keys no wider than itself, and needs
`users.change` in each of their brands. A token is in the answer that creates it, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from telora.api.auth import principal
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock
from telora.core.models import ApiKey, Brand, User
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.users import MAX_ROTATION_OVERLAP, create_api_key, revoke_api_key, rotate_api_key

router = Router(tags=["api-keys"])
BrandCode = Annotated[str, StringConstraints(max_length=32)]
Permission = Annotated[str, StringConstraints(max_length=64)]


class ApiKeyOut(Schema):
    key_id: str
    name: str
    user: str = Field(description="The owner's user name")
    brands: list[str]
    permissions: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool = Field(description="Not revoked, not expired, owner active")

    @staticmethod
    def resolve_user(key: ApiKey) -> str:
        return key.user.username

    @staticmethod
    def resolve_brands(key: ApiKey) -> list[str]:
        return sorted(b.code for b in key.brands.all())

    @staticmethod
    def resolve_active(key: ApiKey) -> bool:
        return key.is_active and (key.expires_at is None or key.expires_at > clock.now())


class ApiKeyCreated(ApiKeyOut):
    token: str = Field(description="The secret to send as `Authorization: Bearer <token>`; shown this once")


class ApiKeyFilter(Schema):
    user: str | None = Field(None, max_length=150, description="Only this user's keys (user name)")
    active: bool | None = Field(None, description="Only active (true) or only revoked or expired (false) keys")


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=80)
    user: str | None = Field(None, max_length=150, description="Owner's user name; the caller when left out")
    brands: list[BrandCode] = Field(min_length=1, max_length=200, description="Brand codes the key reaches")
    permissions: list[Permission] = Field(min_length=1, max_length=500, description="Permissions, e.g. customers.view")
    expires_at: dt.datetime | None = Field(None, description="When the key stops working; never when left out")


class ApiKeyRotate(Schema):
    overlap_minutes: int = Field(0, ge=0, le=int(MAX_ROTATION_OVERLAP.total_seconds() // 60),
                                 description="Minutes the old key keeps working (it expires then); 0 revokes it now")


def _keys(request, action: str = "view"):
    return ApiKey.objects.for_user(principal(request), action).select_related("user").prefetch_related("brands")


def _owner(request, username: str | None) -> User:
    if not username:
        return request.user
    user = User.objects.for_user(principal(request), "view").filter(username=username).first()
    if user is None and username == request.user.username:
        user = request.user
    if user is None:
        raise ServiceError(f"unknown user {username!r}", field="user")
    return user


def _brands(request, codes: list[str]) -> list[Brand]:
    reachable = {b.code: b for b in Brand.objects.for_user(principal(request)).filter(code__in=codes)}
    for i, code in enumerate(codes):
        if code not in reachable:
            raise ServiceError(f"unknown brand {code!r}", field=f"brands[{i}]")
    return [reachable[code] for code in dict.fromkeys(codes)]


@router.get("", response=list[ApiKeyOut], summary="List API keys")
def list_keys(request, response: HttpResponse, paging: Query[Paging], filters: Query[ApiKeyFilter]):
    keys = _keys(request)
    if filters.user:
        keys = keys.filter(user__username=filters.user)
    if filters.active is not None:
        live = Q(revoked_at__isnull=True, user__is_active=True) & (
            Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now()))
        keys = keys.filter(live) if filters.active else keys.exclude(live)
    return page(keys.order_by("-created_at", "pk"), paging, response)


@router.post("", response={201: ApiKeyCreated, **ERRORS}, summary="Create an API key (the token is shown once)")
def create_key(request, payload: ApiKeyCreate):
    at = clock.now()
    if payload.expires_at is not None and payload.expires_at <= at:
        raise ServiceError("expires_at: give a time in the future", field="expires_at")
    key, token = create_api_key(actor=Actor.from_request(request), at=at, user=_owner(request, payload.user),
                                name=payload.name, brands=_brands(request, payload.brands),
                                permissions=payload.permissions, expires_at=payload.expires_at)
    key.token = token
    return Status(201, key)


@router.get("/{key_id}", response={200: ApiKeyOut, **ERRORS}, summary="One API key")
def get_key(request, key_id: str):
    return get_object_or_404(_keys(request), key_id=key_id)


@router.post("/{key_id}/rotate", response={201: ApiKeyCreated, **ERRORS},
             summary="Replace a key by a new one with the same rights (the new token is shown once)")
def rotate_key(request, key_id: str, payload: ApiKeyRotate):
    key = get_object_or_404(_keys(request, "change"), key_id=key_id)
    new, token = rotate_api_key(key, actor=Actor.from_request(request), at=clock.now(),
                                overlap=dt.timedelta(minutes=payload.overlap_minutes))
    new.token = token
    return Status(201, new)


@router.post("/{key_id}/revoke", response={200: ApiKeyOut, **ERRORS}, summary="Revoke a key now")
def revoke_key(request, key_id: str):
    key = get_object_or_404(_keys(request, "change"), key_id=key_id)
    return revoke_api_key(key, actor=Actor.from_request(request), at=clock.now())
