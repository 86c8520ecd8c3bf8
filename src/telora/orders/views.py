"""Orders on screen: the list (filters, CSV export), the order page (items, step log, diagram when the
workflow engine runs), cancel and notes, and the Orders panel on the customer page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views import View

from telora.core import clock, rights
from telora.core.exports import csv_writer
from telora.core.services import ServiceError
from telora.orders import selectors
from telora.orders.forms import CancelForm, NoteForm, OrderFilterForm
from telora.orders.models import Order
from telora.orders.services import add_note, cancel_order
from telora.ui.views.generic import ScopedDetailView, ScopedListView, ShellMixin

EXPORT_LIMIT = 50_000


TAB_ROWS = 50


def may_see_orders(user, brand) -> bool:
    return rights.has_perm(user, brand, "orders.view")


def customer_tab(request, customer) -> dict:
    """The Orders tab of the customer page: the customer's latest orders (the newest first)."""
    rows = list(Order.objects.filter(customer=customer).select_related("subscription")[:TAB_ROWS + 1])
    return {"orders": rows[:TAB_ROWS], "more_orders": len(rows) > TAB_ROWS}


def customer_order_count(customer) -> int:
    return Order.objects.filter(customer=customer).count()


class OrderListView(ScopedListView):
    model = Order
    area = "orders"
    template_name = "orders/order_list.html"
    filter_form_class = OrderFilterForm

    def get_base_queryset(self):
        return selectors.orders_for_user(self.request.user).filter(brand=self.brand)

    def filter_queryset(self, queryset, data):
        return selectors.filter_orders(queryset, **data)

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "csv":
            return self.export()
        return super().get(request, *args, **kwargs)

    def export(self):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="orders.csv"'
        writer = csv_writer(response)
        writer.writerow(["number", "type", "state", "customer", "subscription", "channel", "created_at",
                         "requested_at", "completed_at", "reason"])
        for order in self.get_queryset()[:EXPORT_LIMIT]:
            writer.writerow([order.number, order.order_type, order.state, order.customer.number,
                             order.subscription.identifier if order.subscription else "", order.channel,
                             order.created_at.isoformat(), order.requested_at.isoformat(),
                             order.completed_at.isoformat() if order.completed_at else "", order.state_reason])
        return response


class OrderDetailView(ScopedDetailView):
    model = Order
    template_name = "orders/order_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order = self.object
        can_change = rights.has_perm(self.request.user, order.brand, "orders.change")
        context.update(title=_("Order %(number)s") % {"number": order.number}, customer=order.customer,
                       items=order.items.select_related("subscription"), steps=selectors.step_log(order),
                       notes=order.notes.all(), can_change=can_change,
                       can_cancel=can_change and order.is_open, cancel_form=CancelForm(), note_form=NoteForm(),
                       diagram_url=self.diagram_url(order), diagram=selectors.flow_diagram(order))
        return context

    def diagram_url(self, order) -> str | None:
        """The workflows app's viewer for the order's instance, when the engine runs and offers it."""
        from django.apps import apps
        from django.urls import NoReverseMatch, reverse

        if order.flow_instance_id is None or not apps.is_installed("telora.workflows"):
            return None
        try:
            return reverse("workflows:instance", args=[order.flow_instance_id])
        except NoReverseMatch:  # the engine has no instance page: its flow version's diagram
            FlowInstance = apps.get_model("workflows", "FlowInstance")
            version_id = FlowInstance.objects.filter(pk=order.flow_instance_id).values_list("version_id", flat=True).first()
            return reverse("workflows:version", args=[version_id]) if version_id else None


class OrderActionView(ShellMixin, View):
    """A POST on an order the user may see (else 404) needing orders.change in its brand (else 403)."""

    http_method_names = ["post"]

    def check_rights(self) -> None:
        self.order = get_object_or_404(selectors.orders_for_user(self.request.user), pk=self.kwargs["pk"])
        if not rights.has_perm(self.request.user, self.order.brand, "orders.change"):
            raise PermissionDenied

    def back(self):
        return HttpResponseRedirect(self.order.get_absolute_url())


class OrderCancelView(OrderActionView):
    def post(self, request, *args, **kwargs):
        form = CancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the reason for cancelling."))
            return self.back()
        try:
            cancel_order(self.order, actor=self.actor(), at=clock.now(), reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Order cancelled."))
        return self.back()


class OrderNoteView(OrderActionView):
    def post(self, request, *args, **kwargs):
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
            return self.back()
        try:
            add_note(self.order, actor=self.actor(), at=clock.now(), text=form.cleaned_data["text"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        return self.back()
