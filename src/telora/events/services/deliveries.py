"""Webhook deliveries: the "webhooks" consumer turns events into one delivery per matching hub, and the
sender POSTs them, signed, retrying with exponential backoff until a 2xx answer or the dead letter.

Each try is stored with its status code and the start of the answer. Sending happens outside the
consumer (a job), in its own short transaction per delivery: a crash during a try leaves the delivery
pending, so it is tried again (receivers deduplicate on X-Telora-Event-Id).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from telora.core import clock, rights
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event
from telora.events import outbound
from telora.events.models import Event, HubSubscription, WebhookAttempt, WebhookDelivery
from telora.events.registry import consumer
from telora.events.signing import EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, open_secret, sign
from telora.events.types import EVENT_TYPES

logger = logging.getLogger(__name__)

BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=6)


def max_tries() -> int:
    return int(getattr(settings, "TELORA_WEBHOOK_MAX_TRIES", 8))


def backoff(tries: int) -> dt.timedelta:
    """Wait after the `tries`-th failed try: 30 s, 1 min, 2 min, 4 min … at most 6 h."""
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, tries - 1))


def may_receive(hub: HubSubscription, event_type: str, at: dt.datetime) -> bool:
    """The hub's owner (API key, else user) must still be active and may view what the event is about."""
    owner = hub.principal
    if owner is None or not owner.is_active:
        return False
    if hub.api_key is not None and hub.api_key.expires_at is not None and hub.api_key.expires_at <= at:
        return False
    area = EVENT_TYPES[event_type].area
    return (rights.has_perm(owner, hub.brand_id, "webhooks.view")
            and rights.has_perm(owner, hub.brand_id, f"{area}.view"))


@consumer("webhooks", batch=True)
def fan_out(events) -> None:
    """One delivery per (live hub of the event's brand wanting its type, event); unique, so a
    re-delivered event makes no second delivery."""
    brand_ids = {e.brand_id for e in events}
    hubs: dict[int, list[HubSubscription]] = {}
    for hub in (HubSubscription.objects.filter(brand_id__in=brand_ids, deleted_at__isnull=True)
                .select_related("api_key__user", "user")):
        hubs.setdefault(hub.brand_id, []).append(hub)
    if not hubs:
        return
    now = clock.now()
    allowed: dict[tuple[int, str], bool] = {}
    rows = []
    for event in events:
        for hub in hubs.get(event.brand_id, ()):
            if event.type not in hub.event_types:
                continue
            key = (hub.pk, event.type)
            if key not in allowed:
                allowed[key] = may_receive(hub, event.type, now)
            if allowed[key]:
                rows.append(WebhookDelivery(brand_id=event.brand_id, subscription=hub, event_id=event.id,
                                            next_try_at=now, created_at=now))
    if rows:
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        from telora.events.jobs import defer_send

        transaction.on_commit(defer_send, robust=True)


def envelope(event: Event, brand_code: str) -> dict:
    """The TMF event envelope: eventId, eventTime, eventType (TMF name), title (Telora type) and
    event.<resource> with id, href, @type and the event's payload fields."""
    kind = EVENT_TYPES[event.type]
    resource_key = kind.resource[0].lower() + kind.resource[1:]
    resource = {"id": event.subject_id, "href": kind.href.format(id=event.subject_id), "@type": kind.resource,
                **event.payload}
    return {"eventId": str(event.pk), "eventTime": event.at.isoformat(), "eventType": kind.tmf_name,
            "title": event.type, "domain": brand_code, "event": {resource_key: resource}}


def body_of(delivery: WebhookDelivery) -> bytes:
    payload = envelope(delivery.event, delivery.brand.code)
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def _try(delivery: WebhookDelivery, now: dt.datetime) -> WebhookAttempt:
    hub = delivery.subscription
    if hub.deleted_at is not None:
        answer = outbound.Answer(None, "", "refused: the hub registration was deleted", 0)
    elif not may_receive(hub, delivery.event.type, now):
        answer = outbound.Answer(None, "", "refused: the registration's owner may no longer receive this event", 0)
    else:
        body = body_of(delivery)
        timestamp = int(now.timestamp())
        headers = {"Content-Type": "application/json", "User-Agent": "Telora-Webhooks/1",
                   EVENT_HEADER: str(delivery.event_id), TIMESTAMP_HEADER: str(timestamp),
                   SIGNATURE_HEADER: sign(open_secret(hub.secret, hub.pk), timestamp, body)}
        answer = outbound.post(hub.callback, body, headers)
    attempt = WebhookAttempt.objects.create(delivery=delivery, at=now, status_code=answer.status_code,
                                            response_body=answer.body, error=answer.error,
                                            duration_ms=answer.duration_ms)
    delivery.tries += 1
    delivery.last_status_code = answer.status_code
    if answer.ok:
        delivery.status, delivery.delivered_at, delivery.next_try_at = WebhookDelivery.Status.DELIVERED, now, None
    elif delivery.tries >= max_tries() or hub.deleted_at is not None:
        delivery.status, delivery.next_try_at = WebhookDelivery.Status.DEAD, None
    else:
        delivery.next_try_at = now + backoff(delivery.tries)
    delivery.save(update_fields=["tries", "last_status_code", "status", "delivered_at", "next_try_at"])
    return attempt


def send_one(*, at: dt.datetime | None = None) -> WebhookAttempt | None:
    """Try the most overdue pending delivery (skipping ones another sender holds); None when none is due."""
    now = at or clock.now()
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("subscription__api_key__user", "subscription__user", "event", "brand")
                    .filter(status=WebhookDelivery.Status.PENDING, next_try_at__lte=now)
                    .order_by("next_try_at", "id").first())
        if delivery is None:
            return None
        return _try(delivery, now)


def send_due(*, limit: int = 500) -> int:
    """Send what is due now, at most `limit` tries; the number of tries made."""
    done = 0
    while done < limit and send_one() is not None:
        done += 1
    return done


@transaction.atomic
def redeliver(delivery: WebhookDelivery, *, actor: Actor, at: dt.datetime) -> WebhookDelivery:
    """Deliver again by hand (after a dead letter, or to send a delivered event once more): pending now,
    with a fresh round of tries; the earlier tries stay listed."""
    if actor.principal is None or not rights.has_perm(actor.principal, delivery.brand_id, "webhooks.change"):
        raise PermissionDeniedError("You lack webhooks.change in this delivery's brand.")
    delivery = WebhookDelivery.objects.select_for_update().select_related("subscription", "brand").get(pk=delivery.pk)
    if delivery.subscription.deleted_at is not None:
        raise ServiceError("delivery: its hub registration was deleted", field="delivery", code="conflict")
    old = {"status": delivery.status, "tries": delivery.tries}
    delivery.status, delivery.tries, delivery.next_try_at = WebhookDelivery.Status.PENDING, 0, at
    delivery.save(update_fields=["status", "tries", "next_try_at"])
    record_event(actor=actor, at=at, action="redeliver", obj=delivery, brand=delivery.brand,
                 old=old, new={"status": delivery.status, "tries": 0})
    from telora.events.jobs import defer_send

    transaction.on_commit(defer_send, robust=True)
    return delivery
