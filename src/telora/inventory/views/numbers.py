"""Phone numbers: the list with its filters, a number's page with reserve and release, and a
number entered by hand."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.inventory import services
from telora.inventory.forms import NO_GROUP, NumberFilterForm, NumberForm, ReserveForm
from telora.inventory.models import NUMBER_TRANSITIONS, NumberStatus, PhoneNumber
from telora.inventory.selectors import numbers_for_user
from telora.inventory.services.common import policy, quarantine_days
from telora.inventory.views.common import RowFormView, may, status_of
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView, ServiceFormView


class NumberListView(ScopedListView):
    model = PhoneNumber
    area = "inventory"
    title = gettext_lazy("Phone numbers")
    template_name = "inventory/numbers/list.html"
    results_template_name = "inventory/numbers/_table.html"
    filter_form_class = NumberFilterForm
    paginate_by = 50

    def get_filter_form_kwargs(self):
        return {"brand": self.brand}

    def get_base_queryset(self):
        return numbers_for_user(self.request.user).filter(brand=self.brand).order_by("number")

    def filter_queryset(self, queryset, data):
        digits = "".join(ch for ch in data.get("q") or "" if ch.isdigit())
        if digits:
            queryset = queryset.filter(number__contains=digits.lstrip("0") or digits)
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("group") == NO_GROUP:
            queryset = queryset.filter(group__isnull=True)
        elif data.get("group"):
            queryset = queryset.filter(group_id=data["group"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [{"number": n, "status": status_of(n)} for n in context["object_list"]]
        context["can_change"] = may(self.request.user, self.brand, "change") if self.brand else False
        context["can_import"] = may(self.request.user, self.brand, "import") if self.brand else False
        return context


class NumberDetailView(ScopedDetailView):
    model = PhoneNumber
    area = "inventory"
    template_name = "inventory/numbers/detail.html"
    context_object_name = "number"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        number, user = self.object, self.request.user
        status = status_of(number)
        can_change = may(user, number, "change")
        stored = number.status
        context.update(
            title=number.display, status=status, can_change=can_change,
            may_reserve=can_change and NumberStatus.RESERVED in NUMBER_TRANSITIONS[status["code"]],
            may_cancel=can_change and stored == NumberStatus.RESERVED,
            may_release=can_change and stored == NumberStatus.ALLOCATED,
            may_end_quarantine=can_change and stored == NumberStatus.QUARANTINED,
            reserve_form=ReserveForm(),
            reservation_minutes=policy(number.brand).reservation_minutes,
            quarantine_days=quarantine_days(number.brand, number.group),
        )
        return context


class NumberActionView(RowFormView):
    model = PhoneNumber
    verb = ""
    MESSAGES = {"reserve": gettext_lazy("%(number)s reserved."),
                "cancel": gettext_lazy("The reservation of %(number)s is cancelled."),
                "release": gettext_lazy("%(number)s released: it rests in quarantine before it is offered again."),
                "end_quarantine": gettext_lazy("%(number)s is available again.")}

    def get_form_class(self):
        return ReserveForm

    def perform(self, form, *, actor, at):
        item = self.object
        if self.verb == "reserve":
            minutes = form.cleaned_data.get("minutes")
            services.reserve_number(item.brand, item, actor=actor, at=at,
                                    ttl=dt.timedelta(minutes=minutes) if minutes else None,
                                    reference=form.cleaned_data.get("reference") or "")
        elif self.verb == "cancel":
            services.cancel_number_reservation(item.brand, item, actor=actor, at=at)
        elif self.verb == "release":
            services.release_number(item.brand, item, actor=actor, at=at)
        else:
            services.end_quarantine(item.brand, item, actor=actor, at=at)

    def get_success_message(self, result):
        return self.MESSAGES[self.verb] % {"number": result.display}

    def get_success_url(self, result=None):
        return reverse("inventory:number_detail", args=[self.object.pk])


class NumberCreateView(AreaMixin, ServiceFormView):
    area = "inventory"
    action = "change"
    title = gettext_lazy("New phone number")
    template_name = "inventory/form.html"
    form_class = NumberForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.brand}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = reverse("inventory:number_list")
        return context

    def perform(self, form, *, actor, at):
        return services.create_number(self.brand, form.cleaned_data["number"], actor=actor, at=at,
                                      group=form.cleaned_data.get("group"))

    def get_success_message(self, result):
        return _("%(number)s added.") % {"number": result.display}

    def get_success_url(self, result=None):
        return reverse("inventory:number_detail", args=[result.pk])
