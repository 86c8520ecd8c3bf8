"""The active brand's billing settings: shown with billing.view, changed with billing.change
(services.settings); only the active brand's row is ever read or written here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.billing.forms import BillingSettingsForm
from telora.billing.services.runs import settings_of
from telora.billing.services.settings import update_settings
from telora.billing.views.common import AREA, may
from telora.ui.views.generic import AreaMixin, ServiceFormView


class SettingsView(AreaMixin, ServiceFormView):
    area = AREA
    title = gettext_lazy("Billing settings")
    template_name = "billing/settings.html"
    form_class = BillingSettingsForm

    def check_rights(self) -> None:
        super().check_rights()
        if self.brand is None:
            raise PermissionDenied  # the settings are the active brand's
        if self.request.method == "POST" and not may(self.request.user, self.brand, "change"):
            raise PermissionDenied

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = settings_of(self.brand)
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not may(self.request.user, self.brand, "change"):
            for field in form.fields.values():
                field.disabled = True
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(can_change=may(self.request.user, self.brand, "change"), currency=self.brand.currency)
        return context

    def perform(self, form, *, actor, at):
        return update_settings(self.brand, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result) -> str:
        return _("Billing settings of %(brand)s saved.") % {"brand": self.brand.name}

    def get_success_url(self, result=None) -> str:
        return reverse("billing:settings")
