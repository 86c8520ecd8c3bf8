"""What the customer screens share: the area, scoped look-ups, renamed service fields, history feeds."""

from __future__ import annotations

import contextlib

from django.db.models import Q
from django.urls import reverse

from telora.core.models import AuditEvent
from telora.core.services import ServiceError
from telora.customers.models import Customer, Subscription
from telora.customers.selectors import customers_for_user, subscriptions_for_user
from telora.ui.templatetags.telora_ui import latest_visible
from telora.ui.views.generic import ScopedObjectMixin

AREA = "customers"


class CustomerObjectMixin(ScopedObjectMixin):
    """A screen about one customer (`pk`); other brands' customers are 404s."""

    model = Customer
    area = AREA
    context_object_name = "customer"

    def scoped_queryset(self, action):
        return customers_for_user(self.request.user, action)

    @property
    def customer(self) -> Customer:
        return self.object


class SubscriptionObjectMixin(ScopedObjectMixin):
    """A screen about one subscription (`pk`)."""

    model = Subscription
    area = AREA
    context_object_name = "subscription"

    def scoped_queryset(self, action):
        return subscriptions_for_user(self.request.user, action).select_related("customer__brand")


class ChildObjectMixin(ScopedObjectMixin):
    """A screen about an address, contact, account or file: visible through its own brand's rights."""

    area = AREA

    def scoped_queryset(self, action):
        return self.model.objects.for_user(self.request.user, action).select_related("customer__brand", "brand")

    @property
    def customer(self) -> Customer:
        return self.object.customer

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customer"] = self.object.customer
        return context


def customer_url(customer, tab: str | None = None) -> str:
    url = reverse("customers:customer_detail", args=[customer.pk if hasattr(customer, "pk") else customer])
    return f"{url}?tab={tab}" if tab else url


@contextlib.contextmanager
def fields_as(mapping: dict[str, str]):
    """Re-raise a service's refusal under the form's name for the field (address `roles` -> `address_roles`)."""
    try:
        yield
    except ServiceError as exc:
        if exc.field not in mapping:
            raise
        message = exc.message
        if message.startswith(f"{exc.field}: "):
            message = message[len(exc.field) + 2:]
        target = mapping[exc.field]
        raise ServiceError(f"{target}: {message}" if target else message, field=target or None,
                           code=exc.code) from exc


def indexed_fields(exc: ServiceError) -> ServiceError:
    """`addons[1]` -> `addons`: a list's item error shown on the list's field."""
    if exc.field and "[" in exc.field:
        base = exc.field.split("[", 1)[0]
        message = exc.message
        if message.startswith(f"{exc.field}: "):
            message = message[len(exc.field) + 2:]
        return ServiceError(f"{base}: {message}", field=base, code=exc.code)
    return exc


def history_feed(user, objects) -> tuple[list[AuditEvent], bool]:
    """The audit events of several objects the viewer may read, newest first: (events, more)."""
    condition = Q(pk__in=[])
    by_type: dict[str, list[str]] = {}
    for obj in objects:
        by_type.setdefault(obj._meta.label_lower, []).append(str(obj.pk))
    for object_type, ids in by_type.items():
        condition |= Q(object_type=object_type, object_id__in=ids)
    return latest_visible(user, AuditEvent.objects.filter(condition))
