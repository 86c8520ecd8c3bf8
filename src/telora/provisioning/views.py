"""Provisioning on screen: the log of requests (filters by state, target, operation, age) and a request's
page with every exchange on the wire; a person completes a manual request there. Reading needs
provisioning.view, the manual queue provisioning.work; another brand's requests are 404.

The callback endpoint is not a screen: the target signs it (HMAC), a bad signature gets 401."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import FormView

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.provisioning import barring, services
from telora.provisioning.adapters import SignatureError
from telora.provisioning.forms import BarringForm, LogFilterForm, ManualForm, TargetForm
from telora.provisioning.models import CHARGEABLE_SERVICES, LineBar, NetworkTarget, ProvisioningRequest
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedObjectMixin,
    attach_service_error,
)

AREA = "provisioning"
AGES = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1), "7d": dt.timedelta(days=7)}


TAB_ROWS = 20
BARS_SHOWN = 200


def may_see(user, brand) -> bool:
    return rights.has_perm(user, brand, "provisioning.view")


def customer_tab(request, customer) -> dict:
    """The Provisioning tab of the customer page: the latest requests for the customer's lines."""
    from telora.provisioning.history import attach_desk_tasks

    rows = list(ProvisioningRequest.objects.filter(brand=customer.brand, subscription__customer=customer)
                .select_related("target", "subscription")[:TAB_ROWS + 1])
    attach_desk_tasks(rows[:TAB_ROWS])
    grace = barring.barring_settings(customer.brand).grace
    bars = [(bar, barring.in_flight(bar, grace)) for bar in barring.bars_for_customer(customer)]
    return {"provisioning_requests": rows[:TAB_ROWS], "more_requests": len(rows) > TAB_ROWS, "line_bars": bars,
            "grace": grace}


def customer_request_count(customer) -> int:
    return ProvisioningRequest.objects.filter(brand=customer.brand, subscription__customer=customer).count()


class LogView(ScopedListView):
    model = ProvisioningRequest
    area = AREA
    title = gettext_lazy("Provisioning log")
    template_name = "provisioning/log.html"
    filter_form_class = LogFilterForm
    paginate_by = 50

    def get_base_queryset(self):
        return (ProvisioningRequest.objects.for_user(self.request.user).filter(brand=self.brand)
                .select_related("target", "subscription", "order"))

    def filter_queryset(self, queryset, data):
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("operation"):
            queryset = queryset.filter(operation=data["operation"])
        if data.get("target"):
            queryset = queryset.filter(target__code=data["target"])
        age = data.get("age")
        if age in AGES:
            queryset = queryset.filter(created_at__gte=clock.now() - AGES[age])
        elif age == "stuck":
            queryset = queryset.filter(created_at__lt=clock.now() - AGES["1h"],
                                       state__in=("queued", "sent", "acknowledged"))
        if data.get("subscription"):
            queryset = queryset.filter(subscription_id=data["subscription"])
        if data.get("q"):
            queryset = queryset.filter(Q(payload__msisdn__icontains=data["q"]) | Q(correlation_id=data["q"])
                                       | Q(idempotency_key=data["q"]))
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["targets"] = (NetworkTarget.objects.for_user(self.request.user).filter(brand=self.brand)
                              .select_related("reliability"))  # an open circuit breaker is announced
        return context


class RequestView(ScopedDetailView):
    model = ProvisioningRequest
    area = AREA
    title = gettext_lazy("Provisioning request")
    template_name = "provisioning/request.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.object
        may_work = rights.has_perm(self.request.user, request.brand, "provisioning.work")
        from telora.provisioning.manual import open_tasks_by_request

        context.update(exchanges=request.exchanges.order_by("at", "id"),
                       desk_task=open_tasks_by_request([request.pk] if request.state == "sent" else []).get(request.pk),
                       manual=may_work and request.target.adapter == "manual" and request.state == "sent",
                       manual_form=ManualForm())
        return context


class ManualView(ScopedObjectMixin, View):
    """A person's answer to a manual request (provisioning.work)."""

    model = ProvisioningRequest
    required_action = "work"

    def post(self, request, *args, **kwargs):
        form = ManualForm(request.POST)
        target = reverse("provisioning:request", args=[self.object.pk])
        if not form.is_valid():
            messages.error(request, _("Choose an outcome."))
            return HttpResponseRedirect(target)
        if self.object.target.adapter != "manual":
            raise PermissionDenied
        try:
            services.complete_by_hand(self.object, reference=form.cleaned_data["reference"],
                                      failed=form.cleaned_data["outcome"] == "failed",
                                      reason=form.cleaned_data["reason"], actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The request is %(state)s.") % {"state": form.cleaned_data["outcome"]})
        return HttpResponseRedirect(target)


@method_decorator(csrf_exempt, name="dispatch")
class CallbackView(View):
    """POST /provisioning/callback/<target>/: a target's signed answer. 401 unsigned or badly signed,
    404 unknown target, 200 otherwise (a duplicate or stale answer too: it is logged and ignored)."""

    def post(self, request, target_id: int):
        target = get_object_or_404(NetworkTarget.objects.filter(active=True), pk=target_id)
        try:
            found = services.receive_callback(target, headers=dict(request.headers), body=request.body,
                                              at=clock.now())
        except SignatureError:
            return HttpResponse(status=401)
        return JsonResponse({"received": True, "known": found is not None})


class TargetListView(ScopedListView):
    model = NetworkTarget
    area = AREA
    title = gettext_lazy("Provisioning: network targets")
    template_name = "provisioning/targets.html"

    def get_base_queryset(self):
        return NetworkTarget.objects.for_user(self.request.user).filter(brand=self.brand).select_related("reliability")


class TargetEditView(AreaMixin, FormView):
    """Create or change a target of the active brand (provisioning.change); secrets are write-only."""

    area = AREA
    action = "change"
    title = gettext_lazy("Provisioning: network target")
    template_name = "provisioning/target_edit.html"
    form_class = TargetForm

    def existing(self):
        code = self.kwargs.get("code")
        if code is None:
            return None
        return get_object_or_404(NetworkTarget.objects.for_user(self.request.user, "change").filter(brand=self.brand),
                                 code=code)

    def get_initial(self):
        target = self.existing()
        if target is None:
            return {}
        return {name: getattr(target, name) for name in ("code", "name", "adapter", "url", "callback_url", "desk",
                                                         "timeout_seconds", "max_tries")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        target = self.existing()
        context.update(target=target, secrets_stored=bool(target and target.sealed_credentials))
        if target is not None:  # its circuit breaker and reconciliation (views_reliability)
            from telora.provisioning.views_reliability import reliability_context

            context.update(reliability_context(self.request.user, self.brand, target))
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        target = self.existing()
        secrets = {k: data[k] for k in TargetForm.SECRET_FIELDS if data[k]}  # empty: keep the stored one
        try:
            saved = services.configure_target(
                self.brand, code=target.code if target else data["code"], name=data["name"], adapter=data["adapter"],
                url=data["url"], callback_url=data["callback_url"], desk=data["desk"],
                timeout_seconds=data["timeout_seconds"], max_tries=data["max_tries"], secrets=secrets,
                actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            attach_service_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Target %(code)s saved.") % {"code": saved.code})
        return HttpResponseRedirect(reverse("provisioning:targets"))


class BarringView(AreaMixin, FormView):
    """The brand's barring from balance: shown with provisioning.view, changed with provisioning.change;
    the lines barred now (their reasons and the requests they caused) below."""

    area = AREA
    title = gettext_lazy("Provisioning: barring")
    template_name = "provisioning/barring.html"
    form_class = BarringForm

    def post(self, request, *args, **kwargs):
        if not rights.has_perm(request.user, self.brand, "provisioning.change"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        settings = barring.barring_settings(self.brand)
        return {"bar_at": settings.bar_at, "scope": settings.scope, "grace": settings.grace,
                "services": " ".join(settings.services or CHARGEABLE_SERVICES), "target_code": settings.target_code}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        settings = barring.barring_settings(self.brand)
        bars = (LineBar.objects.for_user(self.request.user).filter(brand=self.brand, ended_at__isnull=True)
                .select_related("subscription__customer", "bar_request")[:BARS_SHOWN])
        context.update(settings=settings, bars=bars, grace=settings.grace,
                       may_change=rights.has_perm(self.request.user, self.brand, "provisioning.change"))
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            barring.update_barring_settings(self.brand, bar_at=data["bar_at"], scope=data["scope"],
                                            services=data["services"], grace=data["grace"],
                                            target_code=data["target_code"], actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            attach_service_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Barring settings saved."))
        return HttpResponseRedirect(reverse("provisioning:barring"))
