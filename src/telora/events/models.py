"""The outbox of domain events, each consumer's position in it, and the webhook subscriptions (TMF630
hubs) with their deliveries and the tries of each delivery."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import BigIntegerField, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned


class CurrentTransactionId(models.Func):
    """`pg_current_xact_id()` as a bigint: the id of the transaction that writes the row."""

    function = "pg_current_xact_id"
    template = "%(function)s()"
    output_field = BigIntegerField()


class Event(BrandOwned):
    """Something happened that others may care about, written in the transaction that made it happen.

    `txid` is the writing transaction's id, set by PostgreSQL. Ids (`id`) are handed out when rows
    are inserted but become visible when their transaction commits, in another order; consumers
    therefore read in (txid, id) order and only below the oldest transaction still running, so an
    event committed late is never passed over (see services/dispatch.py)."""

    type = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=64, blank=True)  # "customers.subscription"
    subject_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    at = models.DateTimeField()
    actor_label = models.CharField(max_length=200, blank=True)
    txid = models.BigIntegerField(db_default=Cast(Cast(CurrentTransactionId(), TextField()), BigIntegerField()),
                                  editable=False)

    rights_area = "webhooks"

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["txid", "id"], name="events_event_order"),
                   models.Index(fields=["brand", "type", "-at"], name="events_event_brand_type")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class ConsumerPosition(models.Model):
    """Where one consumer has got to: the last (txid, id) it handled, and its trouble if it is stuck."""

    name = models.CharField(max_length=64, primary_key=True)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)  # events handed to the consumer, for the screens
    failures = models.PositiveIntegerField(default=0)  # in a row, on the event after the position
    last_error = models.TextField(blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.txid}/{self.event_id}"


class ParkedEvent(models.Model):
    """An event a consumer failed on too often: skipped so the consumer goes on, kept to look at."""

    consumer = models.CharField(max_length=64)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    error = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"event {self.event_id} parked by {self.consumer}"


class HubSubscription(BrandOwned):
    """A TMF630 hub registration: POST events of the listed types to `callback`, signed with `secret`."""

    api = models.CharField(max_length=64)  # the TMF API it was registered on ("customerManagement")
    callback = models.URLField(_("callback"), max_length=500)
    query = models.CharField(_("query"), max_length=500, blank=True)
    event_types = ArrayField(models.CharField(max_length=64), default=list)  # Telora types it receives
    secret = models.BinaryField()  # sealed (core.sealing); shown once when registered
    api_key = models.ForeignKey("core.ApiKey", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    owner_label = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    rights_area = "webhooks"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["brand"], condition=models.Q(deleted_at__isnull=True),
                                name="events_hub_live")]

    def __str__(self) -> str:
        return f"hub {self.pk} → {self.callback}"

    @property
    def principal(self):
        """Whose rights decide what it may receive: the API key that registered it, else the user."""
        return self.api_key or self.user


class WebhookDelivery(BrandOwned):
    """One event for one hub: pending until a try answers 2xx, dead after too many failed tries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("dead letter")

    subscription = models.ForeignKey(HubSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    tries = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    rights_area = "webhooks"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="events_delivery_once")]
        indexes = [models.Index(fields=["next_try_at"], condition=models.Q(status="pending"),
                                name="events_delivery_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} of event {self.event_id}"


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery: what came back (status and the start of the body) or why none did."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # at most RESPONSE_KEEP characters
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"try of delivery {self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}"
