"""Users, for partner administrators and provisioning scripts.

Reads start from `User.objects.for_user(principal, "view")`: a user outside the caller's brands
is a 404. Writes need `users.change`; the services in telora.core.services.users enforce the
rest (nobody grants more than they hold, only system administrators touch system administrators).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import F, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock, rights
from telora.core.models import Brand, Role, User
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.users import create_user, update_user

router = Router(tags=["users"])


def _check_email(value: str) -> str:
    value = value.strip()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError("enter a valid e-mail address") from None
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_check_email)]  # no email-validator package needed


class GrantOut(Schema):
    brand: str
    role: str


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    is_active: bool
    is_system_admin: bool
    language: str
    date_joined: dt.datetime
    last_login: dt.datetime | None
    grants: list[GrantOut]

    @staticmethod
    def resolve_grants(user: User, context) -> list[dict]:
        """Only grants in brands where the caller sees users: other brands stay private."""
        visible = rights.brands_with(principal(context["request"]), "users.view")
        return [
            {"brand": grant.brand.code, "role": grant.role.name}
            for grant in user.grants.all()
            if visible is rights.ALL or grant.brand_id in visible
        ]


class UserFilter(Schema):
    brand: str | None = Field(None, description="Only users holding a role in this brand (its code)")
    q: str | None = Field(None, description="Text in the user name, first or last name, or e-mail")


class GrantIn(Schema):
    brand: str = Field(max_length=40, description="Brand code")
    role: str = Field(max_length=100, description="Role name: the brand's own role, else a platform role")


class UserCreate(Schema):
    username: str = Field(min_length=1, max_length=150)
    email: Email = ""
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    password: str | None = Field(None, max_length=256, description="Leave out for a user who logs in some other way")
    language: str = Field("", max_length=8)
    is_system_admin: bool = False
    grants: list[GrantIn] = Field(default_factory=list)


class UserPatch(Schema):
    """Only the fields sent are changed; none may be null."""

    first_name: str = Field(None, max_length=150)
    last_name: str = Field(None, max_length=150)
    email: Email = None
    is_active: bool = None


def _users(request):
    return User.objects.for_user(principal(request), "view").prefetch_related("grants__brand", "grants__role")


def _resolve_grants(request, grants: list[GrantIn]) -> list[tuple[Brand, Role]]:
    """Brand codes and role names to objects; the caller needs users.change in each brand."""
    brands = Brand.objects.for_user(principal(request))
    pairs = []
    for i, grant in enumerate(grants):
        brand = brands.filter(code=grant.brand).first()
        if brand is None:
            raise ServiceError(f"unknown brand {grant.brand!r}", field=f"grants[{i}].brand")
        if not rights.has_perm(principal(request), brand, "users.change"):
            raise PermissionDeniedError(f"You lack users.change in brand {brand.code}.")
        role = (
            Role.objects.filter(Q(brand=brand) | Q(brand__isnull=True), name=grant.role)
            .order_by(F("brand").asc(nulls_last=True))
            .first()
        )
        if role is None:
            raise ServiceError(f"no role {grant.role!r} in brand {brand.code}", field=f"grants[{i}].role")
        pairs.append((brand, role))
    return pairs


@router.get("", response={200: list[UserOut], **ERRORS})
def list_users(request, response: HttpResponse, paging: Query[Paging], filters: Query[UserFilter]):
    require_perm(request, "users.view")
    users = _users(request)
    if filters.brand:
        visible = rights.brands_with(principal(request), "users.view")
        in_brand = Q(grants__brand__code=filters.brand)
        if visible is not rights.ALL:
            in_brand &= Q(grants__brand_id__in=visible)
        users = users.filter(in_brand)
    if filters.q:
        text = filters.q.strip()
        users = users.filter(
            Q(username__icontains=text) | Q(first_name__icontains=text)
            | Q(last_name__icontains=text) | Q(email__icontains=text)
        )
    return page(users.distinct().order_by("username", "pk"), paging, response)


@router.get("/{int:user_id}", response={200: UserOut, **ERRORS})
def get_user(request, user_id: int):
    require_perm(request, "users.view")
    return get_object_or_404(_users(request), pk=user_id)


@router.post("", response={201: UserOut, **ERRORS})
def post_user(request, response: HttpResponse, payload: UserCreate):
    require_perm(request, "users.change")
    grants = _resolve_grants(request, payload.grants)
    user = create_user(
        actor=Actor.from_request(request), at=clock.now(), username=payload.username, password=payload.password,
        email=payload.email, first_name=payload.first_name, last_name=payload.last_name,
        language=payload.language, is_superuser=payload.is_system_admin, grants=grants,
    )
    response["Location"] = reverse("api:get_user", kwargs={"user_id": user.pk})
    return Status(201, user)


@router.patch("/{int:user_id}", response={200: UserOut, **ERRORS})
def patch_user(request, user_id: int, payload: UserPatch):
    require_perm(request, "users.change")
    user = get_object_or_404(_users(request), pk=user_id)
    values = payload.model_dump(exclude_unset=True)
    if values:
        update_user(user, actor=Actor.from_request(request), at=clock.now(), **values)
    return _users(request).get(pk=user_id)
