"""TMF630 hub registrations: a callback URL and a filter, per brand and per API key (or user)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

from django.db import transaction

from telora.core import rights
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event
from telora.events.models import HubSubscription
from telora.events.outbound import CallbackError, check_url
from telora.events.signing import new_secret, seal_secret
from telora.events.types import EVENT_TYPES, types_named, types_of_api

QUERY_MAX = 500
LIVE_PER_BRAND = 200  # live registrations a brand may hold


def event_types_for(api: str, query: str) -> list[str]:
    """The Telora event types a hub on `api` with TMF query `query` receives.

    `eventType=CustomerCreateEvent` (repeat it, or separate names with commas) names TMF event types
    or Telora types ("balance.low"); an empty query means every event type of the API."""
    query = (query or "").strip()
    if len(query) > QUERY_MAX:
        raise ServiceError(f"query: at most {QUERY_MAX} characters", field="query")
    if not query:
        found = types_of_api(api)
        if not found:
            raise ServiceError(f"query: {api} has no events of its own; name them, e.g. eventType=CustomerCreateEvent",
                               field="query")
        return found
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, max_num_fields=50)
    except ValueError:
        raise ServiceError("query: write it as eventType=Name[,Name…][&eventType=…]", field="query") from None
    found: list[str] = []
    for name, value in pairs:
        if name != "eventType":
            raise ServiceError(f"query: {name!r} cannot be filtered on; only eventType", field="query")
        for item in filter(None, (v.strip() for v in value.split(","))):
            codes = types_named(item)
            if not codes:
                raise ServiceError(f"query: unknown eventType {item!r}", field="query")
            found.extend(c for c in codes if c not in found)
    if not found:
        raise ServiceError("query: name at least one eventType", field="query")
    return found


@transaction.atomic
def register_hub(brand, *, actor: Actor, at: dt.datetime, api: str, callback: str,
                 query: str = "") -> tuple[HubSubscription, str]:
    """Register a callback; returns the subscription and its signing secret (shown this once)."""
    if actor.principal is None or not rights.has_perm(actor.principal, brand, "webhooks.change"):
        raise PermissionDeniedError(f"You lack webhooks.change in brand {brand.code}.")
    try:
        callback = check_url(callback)
    except CallbackError as exc:
        raise ServiceError(f"callback: {exc}", field="callback") from None
    types = event_types_for(api, query)
    if HubSubscription.objects.filter(brand=brand, deleted_at__isnull=True).count() >= LIVE_PER_BRAND:
        raise ServiceError(f"callback: brand {brand.code} already has {LIVE_PER_BRAND} live registrations",
                           field="callback", code="conflict")
    secret = new_secret()
    hub = HubSubscription.objects.create(
        brand=brand, api=api[:64], callback=callback, query=(query or "").strip(), event_types=types, secret=b"",
        api_key=actor.api_key, user=None if actor.api_key is not None else actor.user, owner_label=actor.label[:200],
        created_at=at)
    hub.secret = seal_secret(secret, hub.pk)
    hub.save(update_fields=["secret"])
    record_event(actor=actor, at=at, action="create", obj=hub, brand=brand,
                 new={"api": hub.api, "callback": callback, "query": hub.query, "event_types": types})
    return hub, secret


@transaction.atomic
def delete_hub(hub: HubSubscription, *, actor: Actor, at: dt.datetime) -> HubSubscription:
    """Stop sending to the callback; the deliveries made stay visible, pending ones are not tried again."""
    if actor.principal is None or not rights.has_perm(actor.principal, hub.brand_id, "webhooks.change"):
        raise PermissionDeniedError("You lack webhooks.change in this hub's brand.")
    hub = HubSubscription.objects.select_for_update().get(pk=hub.pk)
    if hub.deleted_at is None:
        hub.deleted_at = at
        hub.save(update_fields=["deleted_at"])
        record_event(actor=actor, at=at, action="delete", obj=hub, brand=hub.brand,
                     old={"callback": hub.callback, "event_types": hub.event_types})
    return hub


def known_types() -> list[str]:
    return list(EVENT_TYPES)
