"""An order, its items, its own log entries (the flow's steps live with the flow instance), notes and files.

Nothing here is deleted: a cancelled or failed order stays with its reason, so the log of every
change to a customer's services is complete.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned
from telora.orders.constants import CHANNELS, ITEM_ACTIONS, ORDER_TYPES, REQUEST_MODES, STATES


def _choices(values):
    return [(v, v.replace("_", " ")) for v in values]


class Order(BrandOwned):
    """One change asked for by a customer, a CSR, the API or the system, with its gap-free number."""

    number = models.CharField(_("number"), max_length=32)
    order_type = models.CharField(_("type"), max_length=24, choices=_choices(ORDER_TYPES))
    channel = models.CharField(_("channel"), max_length=16, choices=_choices(CHANNELS))
    sales_channel = models.ForeignKey("catalog.SalesChannel", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="orders")
    state = models.CharField(_("state"), max_length=16, choices=_choices(STATES), default="acknowledged")
    state_reason = models.CharField(_("reason"), max_length=500, blank=True)
    request_mode = models.CharField(_("when"), max_length=16, choices=_choices(REQUEST_MODES), default="now")
    requested_at = models.DateTimeField(_("requested for"))
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    flow_key = models.CharField(_("flow"), max_length=64, blank=True)
    flow_instance_id = models.BigIntegerField(null=True, blank=True)  # workflows.FlowInstance (an app above may be absent)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    rights_area = "orders"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["brand", "number"], name="orders_order_number_per_brand")]
        indexes = [
            models.Index(fields=["brand", "state", "requested_at"], name="orders_due"),
            models.Index(fields=["customer", "-created_at"], name="orders_of_customer"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("orders:order_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in ("acknowledged", "inProgress", "pending", "held")


class OrderItem(models.Model):
    """One product or subscription change of an order (TMF622 productOrderItem)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=10, choices=_choices(ITEM_ACTIONS))
    operation = models.CharField(max_length=24, choices=_choices(ORDER_TYPES))
    product_offering = models.CharField(max_length=64, blank=True)  # catalogue product code
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    characteristics = models.JSONField(default=dict)  # the operation's inputs (plan, reason, sim, …)
    state = models.CharField(max_length=16, choices=_choices(STATES), default="acknowledged")
    result = models.JSONField(default=dict)  # what it made (subscription id, instance id, …)

    class Meta:
        ordering = ["order_id", "position"]
        constraints = [models.UniqueConstraint(fields=["order", "position"], name="orders_item_position")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.position} {self.operation}"


class OrderEntry(models.Model):
    """The order's own log entries (created, started, completed, cancelled, failed, a note added);
    the flow's steps are the flow instance's FlowStep rows, shown beside these."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField()
    kind = models.CharField(max_length=24)
    actor_label = models.CharField(max_length=200)
    message = models.CharField(max_length=1000, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class OrderNote(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notes")
    at = models.DateTimeField()
    author = models.CharField(max_length=200)
    text = models.TextField(max_length=4000)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class OrderFile(models.Model):
    """A document of the order (a signed form, a porting authorisation), kept as a file of the customer."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="files")
    file = models.ForeignKey("customers.CustomerFile", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "file"], name="orders_file_once")]

    def __str__(self) -> str:
        return f"{self.order_id}: file {self.file_id}"


class TaskRun(models.Model):
    """A service task's effect, once per step key: a retry of the same step returns the same outputs."""

    step_key = models.CharField(max_length=200, unique=True)
    task = models.CharField(max_length=64)
    outputs = models.JSONField(default=dict)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return self.step_key
