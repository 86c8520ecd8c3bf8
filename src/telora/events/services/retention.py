"""Old events go once every consumer has passed them and their webhook deliveries are settled."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef

from telora.core import clock
from telora.events.models import ConsumerPosition, Event, WebhookDelivery
from telora.events.registry import consumers


def purge_events(*, at: dt.datetime | None = None, chunk: int = 5000) -> int:
    now = at or clock.now()
    cutoff = now - dt.timedelta(days=settings.TELORA_EVENTS_KEEP_DAYS)
    names = [c.name for c in consumers()]
    positions = list(ConsumerPosition.objects.filter(name__in=names).values_list("txid", "event_id"))
    if len(positions) < len(names):
        return 0  # a consumer that never ran still needs everything
    horizon = min(positions, default=None)
    if horizon is None:
        return 0
    pending = WebhookDelivery.objects.filter(event=OuterRef("pk"), status=WebhookDelivery.Status.PENDING)
    removed = 0
    while True:
        ids = list(Event.objects.filter(at__lt=cutoff, txid__lte=horizon[0])
                   .exclude(txid=horizon[0], id__gt=horizon[1]).exclude(Exists(pending))
                   .values_list("pk", flat=True)[:chunk])
        if not ids:
            return removed
        removed += Event.objects.filter(pk__in=ids).delete()[0]
