"""Number groups: classes of numbers with their one-time price (regular, gold...)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from telora.core import clock
from telora.core.services import ServiceError
from telora.inventory import services
from telora.inventory.forms import NumberGroupForm
from telora.inventory.models import NumberGroup, NumberStatus, PhoneNumber, free_q
from telora.inventory.selectors import number_groups_for_user
from telora.inventory.views.common import may
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedObjectMixin,
    ServiceFormView,
)

GROUP_FIELDS = ("code", "name", "one_time_price", "quarantine_days", "is_active")


def with_counts(queryset):
    """Groups with their numbers counted: in total, free now, and by stored status."""
    counts = {f"n_{status}": Count("numbers", filter=Q(numbers__status=status)) for status in NumberStatus.values}
    free = _prefixed(free_q(PhoneNumber, clock.now()))
    return queryset.annotate(total=Count("numbers"), free=Count("numbers", filter=free), **counts)


def _prefixed(q: Q) -> Q:
    """`free_q` of PhoneNumber, seen from its group (every lookup under numbers__)."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    for child in q.children:
        out.children.append(_prefixed(child) if isinstance(child, Q) else (f"numbers__{child[0]}", child[1]))
    return out


class GroupListView(ScopedListView):
    model = NumberGroup
    area = "inventory"
    title = gettext_lazy("Number groups")
    template_name = "inventory/groups/list.html"

    def get_base_queryset(self):
        return with_counts(number_groups_for_user(self.request.user).filter(brand=self.brand)).order_by("code")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = may(self.request.user, self.brand, "change") if self.brand else False
        return context


class GroupDetailView(ScopedDetailView):
    model = NumberGroup
    area = "inventory"
    template_name = "inventory/groups/detail.html"
    context_object_name = "group"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        group = with_counts(NumberGroup.objects.filter(pk=self.object.pk)).get()
        context.update(title=group.name, counted=group, can_change=may(self.request.user, group, "change"),
                       statuses=[(s, label, getattr(group, f"n_{s}")) for s, label in NumberStatus.choices])
        return context


class GroupCreateView(AreaMixin, ServiceFormView):
    area = "inventory"
    action = "change"
    title = gettext_lazy("New number group")
    template_name = "inventory/form.html"
    form_class = NumberGroupForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = reverse("inventory:group_list")
        return context

    def perform(self, form, *, actor, at):
        return services.create_number_group(self.brand, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Number group %(code)s created.") % {"code": result.code}

    def get_success_url(self, result=None):
        return reverse("inventory:group_detail", args=[result.pk])


class GroupEditView(ScopedObjectMixin, ServiceFormView):
    model = NumberGroup
    area = "inventory"
    required_action = "change"
    template_name = "inventory/form.html"
    form_class = NumberGroupForm
    context_object_name = "group"

    def get_initial(self):
        return {name: getattr(self.object, name) for name in GROUP_FIELDS}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit number group %(code)s") % {"code": self.object.code}
        context["cancel_url"] = reverse("inventory:group_detail", args=[self.object.pk])
        return context

    def perform(self, form, *, actor, at):
        return services.update_number_group(self.object, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Number group %(code)s saved.") % {"code": result.code}

    def get_success_url(self, result=None):
        return reverse("inventory:group_detail", args=[self.object.pk])


class GroupDeleteView(ScopedObjectMixin, View):
    """Remove an empty group (POST); a group holding numbers is refused with the reason."""

    model = NumberGroup
    area = "inventory"
    required_action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        group = self.object
        try:
            services.delete_number_group(group, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("inventory:group_detail", args=[group.pk]))
        messages.success(request, _("Number group %(code)s deleted.") % {"code": group.code})
        return HttpResponseRedirect(reverse("inventory:group_list"))
