"""The TMF630 hub, mounted on every TM Forum API Telora serves (`hub_router(api)`), and
/api/v1/webhooks: the deliveries and a "deliver again".

    POST   /tmf-api/<api>/v4/hub        {"callback": "https://…", "query": "eventType=CustomerCreateEvent"}
                                        -> 201 {"id", "callback", "query", "secret"}  (secret shown once)
    GET    /tmf-api/<api>/v4/hub        the caller's live registrations on this API
    GET    /tmf-api/<api>/v4/hub/{id}
    DELETE /tmf-api/<api>/v4/hub/{id}   -> 204

A registration belongs to a brand (`brand`, a code, when the caller works in several) and to the API
key that made it (or the user, with a session). Registering needs webhooks.change in the brand; a
registration is visible to holders of webhooks.view in its brand (never its secret), deleted by
holders of webhooks.change there. Another brand's registration is a 404.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, TmfSchema, key
from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.events.models import HubSubscription, WebhookDelivery
from telora.events.services.deliveries import redeliver
from telora.events.services.hubs import delete_hub, register_hub


class HubIn(TmfSchema):
    callback: str = Field(description="http(s) URL Telora POSTs the events to (at most 500 characters)")
    query: str | None = Field(None, description="eventType=Name[,Name…]; empty: every event type of this API")
    brand: str | None = Field(None, description="brand code; needed when you work in several brands")


class HubOut(TmfSchema):
    id: str
    callback: str
    query: str | None = None
    eventTypes: list[str]
    brand: str
    secret: str | None = Field(None, description="HMAC-SHA256 signing secret; only in the answer to POST")
    type: str = Field("Hub", alias="@type")


def _render(hub: HubSubscription, secret: str | None = None) -> dict:
    return {"id": str(hub.pk), "callback": hub.callback, "query": hub.query or None, "eventTypes": hub.event_types,
            "brand": hub.brand.code, "secret": secret, "@type": "Hub"}


def _brand(request, code: str | None) -> Brand:
    held = rights.brands_with(principal(request), "webhooks.change")
    brands = Brand.objects.all() if held is rights.ALL else Brand.objects.filter(pk__in=held)
    if code:
        brand = brands.filter(code=code).first()
        if brand is None:
            raise ServiceError(f"brand: you cannot register webhooks in {code!r}", field="brand")
        return brand
    if brands.count() != 1:
        raise ServiceError("brand: give the brand code (you work in several brands)", field="brand")
    return brands.get()


def _hubs(request, api: str):
    """Live registrations of this API in the brands where the caller holds webhooks.view."""
    return HubSubscription.objects.for_user(principal(request), "view").filter(api=api, deleted_at__isnull=True)


def hub_router(api: str) -> Router:
    """One hub router for one TMF API (a ninja router may be mounted once, so each API gets its own)."""
    router = Router(tags=["hub"])

    @router.post("/hub", response={201: HubOut, **ERRORS}, summary="Register a listener (TMF630 hub)", **TMF)
    def register(request, response: HttpResponse, payload: HubIn):
        require_perm(request, "webhooks.change")
        hub, secret = register_hub(_brand(request, payload.brand), actor=Actor.from_request(request),
                                   at=clock.now(), api=api, callback=payload.callback, query=payload.query or "")
        response["Location"] = f"hub/{hub.pk}"
        return Status(201, _render(hub, secret))

    @router.get("/hub", response={200: list[HubOut], **ERRORS}, summary="Registered listeners", **TMF)
    def list_hubs(request, response: HttpResponse, paging: Query[Paging]):
        require_perm(request, "webhooks.view")
        return [_render(h) for h in page(_hubs(request, api).select_related("brand").order_by("id"), paging,
                                         response)]

    @router.get("/hub/{id}", response={200: HubOut, **ERRORS}, summary="One listener", **TMF)
    def get_hub(request, id: str):
        require_perm(request, "webhooks.view")
        return _render(get_object_or_404(_hubs(request, api).select_related("brand"), pk=key(id)))

    @router.delete("/hub/{id}", response={204: None, **ERRORS}, summary="Unregister a listener (TMF630 hub)")
    def unregister(request, id: str):
        require_perm(request, "webhooks.change")
        hub = get_object_or_404(_hubs(request, api), pk=key(id))
        delete_hub(hub, actor=Actor.from_request(request), at=clock.now())
        return Status(204, None)

    return router


def mount_hub(tmf_api, api: str) -> None:
    """Add the hub to a TMF API once (urls.py may be imported again in tests)."""
    if not getattr(tmf_api, "_telora_hub", False):
        tmf_api.add_router("", hub_router(api))
        tmf_api._telora_hub = True


# /api/v1/webhooks ---------------------------------------------------------------------------------

router = Router(tags=["webhooks"])


class AttemptOut(Schema):
    at: dt.datetime
    status_code: int | None
    response_body: str
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    brand: str
    hub: int
    callback: str
    event_id: int
    event_type: str
    status: str
    tries: int
    next_try_at: dt.datetime | None
    last_status_code: int | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    attempts: list[AttemptOut] = []


class DeliveryFilter(Schema):
    status: str | None = None
    hub: int | None = None


def _delivery(d: WebhookDelivery, attempts: bool = False) -> dict:
    return {"id": d.pk, "brand": d.brand.code, "hub": d.subscription_id, "callback": d.subscription.callback,
            "event_id": d.event_id, "event_type": d.event.type, "status": d.status, "tries": d.tries,
            "next_try_at": d.next_try_at, "last_status_code": d.last_status_code, "created_at": d.created_at,
            "delivered_at": d.delivered_at, "attempts": list(d.attempts.all()) if attempts else []}


def _deliveries(request):
    require_perm(request, "webhooks.view")
    return WebhookDelivery.objects.for_user(principal(request)).select_related("brand", "subscription", "event")


@router.get("/deliveries", response={200: list[DeliveryOut], **ERRORS}, summary="Webhook deliveries")
def list_deliveries(request, response: HttpResponse, paging: Query[Paging], filters: Query[DeliveryFilter]):
    rows = _deliveries(request)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.hub:
        rows = rows.filter(subscription_id=filters.hub)
    return [_delivery(d) for d in page(rows.order_by("-id"), paging, response)]


@router.get("/deliveries/{int:delivery_id}", response={200: DeliveryOut, **ERRORS}, summary="One delivery and its tries")
def get_delivery(request, delivery_id: int):
    return _delivery(get_object_or_404(_deliveries(request), pk=delivery_id), attempts=True)


@router.post("/deliveries/{int:delivery_id}/redeliver", response={202: DeliveryOut, **ERRORS},
             summary="Deliver again")
def post_redeliver(request, delivery_id: int):
    delivery = get_object_or_404(_deliveries(request), pk=delivery_id)
    delivery = redeliver(delivery, actor=Actor.from_request(request), at=clock.now())
    return Status(202, _delivery(WebhookDelivery.objects.select_related("brand", "subscription", "event")
                                 .get(pk=delivery.pk), attempts=True))
