"""Health and identity: what a load balancer and an integrator ask first."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError, connection
from ninja import Router, Schema
from ninja.errors import HttpError

from telora import __version__
from telora.api import errors
from telora.api.auth import principal
from telora.core import rights
from telora.core.models import Brand

logger = logging.getLogger("telora.api")
router = Router(tags=["system"])


class Health(Schema):
    status: str
    database: str
    version: str


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return "unavailable"
    return "ok"


@router.get("/healthz", auth=None, response={200: Health, 503: errors.Error})
def healthz(request):
    """Liveness and readiness: 200 when the database answers, else 503. No authentication."""
    database = database_status()
    if database != "ok":
        raise HttpError(503, "The database does not answer.")
    return {"status": "ok", "database": database, "version": __version__}


class WhoamiUser(Schema):
    id: int
    username: str
    is_system_admin: bool


class WhoamiKey(Schema):
    id: int
    key_id: str
    name: str
    expires_at: dt.datetime | None = None


class BrandPermissions(Schema):
    code: str
    name: str
    permissions: list[str]


class Whoami(Schema):
    user: WhoamiUser
    api_key: WhoamiKey | None
    brands: list[BrandPermissions]


def _permissions_by_brand(who) -> list[dict]:
    if rights.is_system_admin(who):
        everything = sorted(rights.all_permissions())
        return [{"code": b.code, "name": b.name, "permissions": everything} for b in Brand.objects.all()]
    held = rights.permission_map(who)
    brands = Brand.objects.filter(pk__in=list(held)).order_by("code")
    return [{"code": b.code, "name": b.name, "permissions": sorted(held[b.pk])} for b in brands]


@router.get("/whoami", response={200: Whoami, **errors.ERRORS})
def whoami(request):
    """The caller: the user, the API key if one was used, and the permissions held per brand
    (for a key, its owner's rights narrowed to the key)."""
    who = principal(request)
    user = request.user
    key = request.api_key
    return {
        "user": {"id": user.pk, "username": user.username, "is_system_admin": rights.is_system_admin(user)},
        "api_key": key and {
            "id": key.pk, "key_id": key.key_id, "name": key.name, "expires_at": key.expires_at,
        },
        "brands": _permissions_by_brand(who),
    }
