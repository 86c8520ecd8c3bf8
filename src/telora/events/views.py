"""Webhooks on screen: the active brand's deliveries (filter by status), one delivery with every try
and a "deliver again" button, and the brand's hub registrations. webhooks.view to read,
webhooks.change to deliver again; another brand's delivery is a 404."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telora.core import rights
from telora.events.models import HubSubscription, WebhookDelivery
from telora.events.services.deliveries import body_of, redeliver
from telora.ui.views.generic import ScopedDetailView, ScopedListView, ServiceActionView


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("any"))] + list(WebhookDelivery.Status.choices))
    event_type = forms.CharField(label=_("Event type"), required=False, max_length=64)


class DeliveryListView(ScopedListView):
    model = WebhookDelivery
    area = "webhooks"
    template_name = "events/deliveries.html"
    filter_form_class = DeliveryFilterForm
    title = _("Webhook deliveries")

    def get_base_queryset(self):
        return (super().get_base_queryset().filter(brand=self.brand)
                .select_related("subscription", "event").order_by("-id"))

    def filter_queryset(self, queryset, data):
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("event_type"):
            queryset = queryset.filter(event__type=data["event_type"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hubs"] = (HubSubscription.objects.for_user(self.request.user).filter(brand=self.brand,
                           deleted_at__isnull=True).order_by("-id")[:50])
        return context


class DeliveryDetailView(ScopedDetailView):
    model = WebhookDelivery
    area = "webhooks"
    template_name = "events/delivery_detail.html"
    context_object_name = "delivery"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        delivery = self.object
        context["title"] = _("Delivery %(id)s") % {"id": delivery.pk}
        context["attempts"] = delivery.attempts.all()
        context["body"] = body_of(delivery).decode()
        context["can_redeliver"] = (rights.has_perm(self.request.user, delivery.brand_id, "webhooks.change")
                                    and delivery.subscription.deleted_at is None)
        return context


class RedeliverView(ServiceActionView):
    model = WebhookDelivery
    area = "webhooks"
    required_action = "change"
    success_message = _("The delivery is queued again.")

    def perform(self, obj, *, actor, at):
        redeliver(obj, actor=actor, at=at)

    def get_success_url(self) -> str:
        return reverse("events:delivery_detail", args=[self.object.pk])
