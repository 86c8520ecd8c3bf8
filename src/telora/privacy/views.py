"""Data protection on screen: the customer page's privacy panel (consents, export, erasure) and the
brand's retention rules."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.customers.models import Customer
from telora.customers.selectors import customers_for_user
from telora.privacy import selectors
from telora.privacy.forms import ConsentForm, RetentionForm
from telora.privacy.models import Erasure, RetentionPolicy
from telora.privacy.services import record_consent, set_retention, start_erasure, start_export
from telora.privacy.services.erasure import erasure_blockers
from telora.ui.views.generic import AreaMixin, ServiceFormView, ShellMixin


def customer_panel(request, customer: Customer):
    """The privacy card on the customer page: current consents, their history, export and erase buttons."""
    user = request.user
    if not rights.has_perm(user, customer.brand, "customers.view"):
        return None
    can_erase = rights.has_perm(user, customer.brand, "privacy.erase")
    erasure = Erasure.objects.filter(customer=customer).first()
    return "privacy/_panel.html", {
        "customer": customer, "consents": selectors.current_consents(customer),
        "history": selectors.consent_history(customer)[:20], "erasure": erasure,
        "can_export": rights.has_perm(user, customer.brand, "privacy.export"),
        "can_erase": can_erase and erasure is None,
        "blockers": erasure_blockers(customer) if can_erase and erasure is None else [],
        "can_consent": erasure is None and rights.has_perm(user, customer.brand, "customers.change"),
        "consent_form": ConsentForm(),
    }


class CustomerActionView(ShellMixin, View):
    """A POST about a customer the user may see (another brand's: 404) needing `perm` there (else 403)."""

    http_method_names = ["post"]
    perm = ""

    def check_rights(self) -> None:
        self.customer = get_object_or_404(customers_for_user(self.request.user), pk=self.kwargs["pk"])
        if not rights.has_perm(self.request.user, self.customer.brand, self.perm):
            raise PermissionDenied

    def back(self):
        return HttpResponseRedirect(reverse("customers:customer_detail", args=[self.customer.pk]))


class ExportStartView(CustomerActionView):
    perm = "privacy.export"

    def post(self, request, *args, **kwargs):
        try:
            job = start_export(self.customer, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
            return self.back()
        messages.success(request, _("The export is being prepared; download it from this page when it is done."))
        return HttpResponseRedirect(reverse("ui:job_detail", args=[job.pk]))


class EraseStartView(CustomerActionView):
    perm = "privacy.erase"

    def post(self, request, *args, **kwargs):
        if request.POST.get("confirm") != self.customer.number:
            messages.error(request, _("Type the customer number to confirm the erasure."))
            return self.back()
        try:
            job = start_erasure(self.customer, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
            return self.back()
        messages.success(request, _("The erasure has started."))
        return HttpResponseRedirect(reverse("ui:job_detail", args=[job.pk]))


class ConsentCreateView(CustomerActionView):
    perm = "customers.change"

    def post(self, request, *args, **kwargs):
        form = ConsentForm(request.POST)
        if not form.is_valid():
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
            return self.back()
        try:
            record_consent(self.customer, actor=self.actor(), at=clock.now(), channel=form.cleaned_data["channel"],
                           purpose=form.cleaned_data["purpose"], granted=form.cleaned_data["granted"],
                           source=form.cleaned_data["source"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Consent recorded."))
        return self.back()


class RetentionView(AreaMixin, ServiceFormView):
    """The active brand's retention rules: read with privacy.view, saved with privacy.change."""

    area = "privacy"
    template_name = "privacy/retention.html"
    form_class = RetentionForm
    title = gettext_lazy("Data protection: retention")
    success_message = gettext_lazy("Retention rules saved. The daily task applies them.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = RetentionPolicy.objects.filter(brand=self.brand).first()
        return kwargs

    def post(self, request, *args, **kwargs):
        if not rights.has_perm(request.user, self.brand, "privacy.change"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = rights.has_perm(self.request.user, self.brand, "privacy.change")
        context["policy"] = RetentionPolicy.objects.filter(brand=self.brand).first()
        context["erasures"] = Erasure.objects.filter(brand=self.brand).select_related("customer")[:20]
        return context

    def perform(self, form, *, actor, at):
        values = {name: form.cleaned_data[name] for name in RetentionForm.Meta.fields}
        return set_retention(self.brand, actor=actor, at=at, **values)

    def get_success_url(self, result=None):
        return reverse("privacy:retention")
