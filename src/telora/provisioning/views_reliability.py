"""The target's reliability on screen: its circuit breaker (state, settings, closing it by hand) and
reconciliation with the network (started as a job, followed with a progress bar, its differences
listed). Reading needs provisioning.view, settings provisioning.change, starting a reconciliation
provisioning.work; targets are those of the active brand (another brand's are not reachable)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from telora.core import clock
from telora.core.models import Job
from telora.core.services import ServiceError
from telora.core.services.jobs import start_job
from telora.provisioning import breaker
from telora.provisioning.models import NetworkTarget, TargetReliability
from telora.ui.views.generic import AreaMixin

AREA = "provisioning"
POLL_SECONDS = 2


class ReliabilityForm(forms.Form):
    failure_threshold = forms.IntegerField(label=gettext_lazy("Failures in a row that open the breaker"),
                                           min_value=1, max_value=100)
    failure_rate = forms.IntegerField(label=gettext_lazy("Failure rate that opens it (%)"), min_value=1,
                                      max_value=100)
    window_size = forms.IntegerField(label=gettext_lazy("Tries the rate is measured over"), min_value=5,
                                     max_value=200)
    cooldown_seconds = forms.IntegerField(label=gettext_lazy("Cool-down before a probe (s)"), min_value=5,
                                          max_value=3600)
    poll_after_seconds = forms.IntegerField(label=gettext_lazy("Ask the operator after silence of (s)"),
                                            min_value=30, max_value=86_400)
    give_up_hours = forms.IntegerField(label=gettext_lazy("Fail a request without a final answer after (h)"),
                                       min_value=1, max_value=168)


def reliability_context(user, brand, target: NetworkTarget) -> dict:
    """What the target page and the reconciliation page show: the breaker and the latest reconciliation."""
    from telora.core import rights

    row = TargetReliability.objects.filter(target=target).first()
    job = (Job.objects.filter(kind="provisioning.reconcile", brand=brand, params__target_id=target.pk)
           .order_by("-created_at", "-id").first())
    initial = {name: getattr(row, name) if row else TargetReliability._meta.get_field(name).default
               for name in ReliabilityForm.base_fields}
    return {"target": target, "breaker": row, "reliability_form": ReliabilityForm(initial=initial),
            "reconcile_job": job, "poll_seconds": POLL_SECONDS,
            "may_change": rights.has_perm(user, brand, "provisioning.change"),
            "may_reconcile": rights.has_perm(user, brand, "provisioning.work") and target.adapter != "manual"}


class TargetActionMixin(AreaMixin):
    area = AREA

    def target(self) -> NetworkTarget:
        return get_object_or_404(NetworkTarget.objects.for_user(self.request.user, self.action)
                                 .filter(brand=self.brand), code=self.kwargs["code"])

    def back(self):
        return HttpResponseRedirect(reverse("provisioning:target", args=[self.kwargs["code"]]))


class ReconcileView(TargetActionMixin, TemplateView):
    """GET: the latest reconciliation of the target (a fragment for HTMX while it runs); POST
    (provisioning.work): start one."""

    title = gettext_lazy("Provisioning: reconciliation")
    template_name = "provisioning/reconcile.html"

    def dispatch(self, request, *args, **kwargs):
        self.action = "work" if request.method == "POST" else "view"
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["provisioning/_reconcile.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(reliability_context(self.request.user, self.brand, self.target()))
        return context

    def post(self, request, *args, **kwargs):
        target = self.target()
        if target.adapter == "manual":
            messages.error(request, _("A manual target has no subscriber list to compare with."))
            return self.back()
        start_job("provisioning.reconcile", actor=self.actor(), at=clock.now(), brand=self.brand,
                  params={"target_id": target.pk}, title=f"Reconciliation of {self.brand.code}/{target.code}")
        messages.success(request, _("The reconciliation runs; this page follows it."))
        return HttpResponseRedirect(reverse("provisioning:reconcile", args=[target.code]))


class ReliabilitySettingsView(TargetActionMixin, TemplateView):
    """POST (provisioning.change): the breaker's and polling's settings of the target."""

    action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        target = self.target()
        form = ReliabilityForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                messages.error(request, f"{form.fields[field].label}: {' '.join(errors)}")
            return self.back()
        try:
            breaker.configure(target, actor=self.actor(), at=clock.now(), **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Reliability settings saved."))
        return self.back()


class BreakerCloseView(TargetActionMixin, TemplateView):
    """POST (provisioning.change): a person closes the breaker (the operator is back)."""

    action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            breaker.close_by_hand(self.target(), actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The breaker is closed; the held requests go now."))
        return self.back()
