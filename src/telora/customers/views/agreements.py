"""Price agreements on the customer page: the panel lists them; adding and ending one are POSTs
needing customers.price_agreement in the customer's brand (another brand's customer: 404)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.customers.forms.agreements import PriceAgreementForm
from telora.customers.models import Customer
from telora.customers.selectors import customers_for_user, price_agreements_for_user
from telora.customers.services import add_price_agreement, end_price_agreement
from telora.customers.services.agreements import RIGHT
from telora.ui.views.generic import ShellMixin


def agreements_panel(request, customer: Customer):
    """The price agreements card: every agreement (ended ones too) and, with the right, the form."""
    user = request.user
    if not rights.has_perm(user, customer.brand, "customers.view"):
        return None
    now = clock.now()
    agreements = list(price_agreements_for_user(user).filter(customer=customer)[:50])
    return "customers/_agreements.html", {
        "customer": customer, "agreements": [(a, a.in_effect(now), a.valid_to is None or a.valid_to > now)
                                             for a in agreements],
        "can_change": rights.has_perm(user, customer.brand, RIGHT) and customer.closed_at is None,
        "form": PriceAgreementForm(brand=customer.brand),
    }


class AgreementActionView(ShellMixin, View):
    http_method_names = ["post"]

    def check_rights(self) -> None:
        self.customer = get_object_or_404(customers_for_user(self.request.user), pk=self.kwargs["pk"])
        if not rights.has_perm(self.request.user, self.customer.brand, RIGHT):
            raise PermissionDenied

    def back(self):
        return HttpResponseRedirect(reverse("customers:customer_detail", args=[self.customer.pk]) + "#agreements")


class AgreementCreateView(AgreementActionView):
    def post(self, request, *args, **kwargs):
        form = PriceAgreementForm(request.POST, brand=self.customer.brand)
        if not form.is_valid():
            messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
            return self.back()
        try:
            add_price_agreement(self.customer, actor=self.actor(), at=clock.now(), **form.service_values())
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Price agreement added."))
        return self.back()


class AgreementEndView(AgreementActionView):
    def post(self, request, *args, **kwargs):
        agreement = get_object_or_404(self.customer.price_agreements, pk=self.kwargs["agreement"])
        try:
            end_price_agreement(agreement, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Price agreement ended."))
        return self.back()
