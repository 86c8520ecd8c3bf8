"""Adjustments: the brand's list (pending ones first) and a new ad-hoc credit or debit with its reason
(billing.adjust; billing.adjust_large at or above the brand's threshold, judged by the service)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.billing import services
from telora.billing.forms import AdjustmentForm
from telora.billing.models import Adjustment
from telora.billing.services.runs import settings_of
from telora.billing.views.common import AREA, may
from telora.core.services import ServiceError
from telora.customers.models import BillingAccount
from telora.ui.views.generic import AreaMixin, ScopedListView, ServiceFormView


class AdjustmentListView(ScopedListView):
    model = Adjustment
    area = AREA
    title = gettext_lazy("Adjustments")
    template_name = "billing/adjustments/list.html"
    paginate_by = 50

    def get_base_queryset(self):
        queryset = (Adjustment.objects.for_user(self.request.user).filter(brand=self.brand)
                    .select_related("account__customer", "invoice").order_by("-id"))
        if self.request.GET.get("account"):
            queryset = queryset.filter(account__number=self.request.GET["account"].strip())
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_adjust"] = may(self.request.user, self.brand, "adjust")
        return context


class AdjustmentCreateView(AreaMixin, ServiceFormView):
    area = AREA
    action = "adjust"
    title = gettext_lazy("New adjustment")
    template_name = "billing/adjustments/form.html"
    form_class = AdjustmentForm

    def check_rights(self) -> None:
        super().check_rights()
        if self.brand is None:
            raise PermissionDenied  # an adjustment is on an account of the active brand

    def get_initial(self):
        return {"account": self.request.GET.get("account", "")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["large"] = settings_of(self.brand).large_adjustment
        context["currency"] = self.brand.currency
        context["may_large"] = may(self.request.user, self.brand, "adjust_large")
        return context

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        account = BillingAccount.objects.filter(brand=self.brand, number=data["account"].strip()).first()
        if account is None:
            raise ServiceError(_("account: no billing account %(n)s in this brand") % {"n": data["account"]},
                               field="account")
        return services.create_adjustment(account, data["amount"], reason=data["reason"], actor=actor, at=at)

    def get_success_message(self, result) -> str:
        return _("Adjustment of %(amount)s recorded on account %(account)s; the next invoice bills it.") % {
            "amount": result.amount.normalize(), "account": result.account.number}

    def get_success_url(self, result=None) -> str:
        return reverse("billing:adjustment_list")
