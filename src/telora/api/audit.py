"""The audit trail, read only: who changed what, when, from where."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core.models import AuditEvent

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    actor: str
    api_key_id: int | None
    brand: str | None
    object_type: str
    object_id: str
    object_repr: str
    action: str
    changes: dict[str, Any] = Field(description='{"field": [old, new]}')
    message: str
    request_id: str

    @staticmethod
    def resolve_actor(event: AuditEvent) -> str:
        return event.actor_label

    @staticmethod
    def resolve_api_key_id(event: AuditEvent) -> int | None:
        return event.actor_api_key_id

    @staticmethod
    def resolve_brand(event: AuditEvent) -> str | None:
        return event.brand.code if event.brand_id else None


class AuditFilter(Schema):
    object_type: str | None = Field(None, description='e.g. "core.user"')
    object_id: str | None = None
    action: str | None = None


@router.get("", response={200: list[AuditEventOut], **ERRORS})
def list_audit_events(request, response: HttpResponse, paging: Query[Paging], filters: Query[AuditFilter]):
    require_perm(request, "audit.view")
    events = AuditEvent.objects.for_user(principal(request)).select_related("brand")
    for name, value in filters.model_dump(exclude_none=True).items():
        events = events.filter(**{name: value})
    return page(events.order_by("-at", "-id"), paging, response)
