"""The brand's rating settings (the low-balance threshold) in the active brand: shown with
rating.view, changed with rating.change."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.rating.services.settings import rating_settings, update_rating_settings
from telora.rating.views.common import AREA, may
from telora.ui.views.generic import AreaMixin, ServiceFormView


class RatingSettingsForm(forms.Form):
    low_balance_threshold = forms.DecimalField(
        label=gettext_lazy("Low-balance threshold"), min_value=0, max_digits=18, decimal_places=6,
        help_text=gettext_lazy("A prepaid balance falling to this or below warns the subscriber (a low-balance "
                               "event), in the brand's currency. A prepaid plan product may name its own."))


class RatingSettingsView(AreaMixin, ServiceFormView):
    area = AREA
    action = "view"
    title = gettext_lazy("Rating settings")
    template_name = "rating/settings.html"
    form_class = RatingSettingsForm

    def post(self, request, *args, **kwargs):
        if not may(request.user, self.brand, "change"):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not may(self.request.user, self.brand, "change"):
            for field in form.fields.values():
                field.disabled = True
        return form

    def get_initial(self):
        return {"low_balance_threshold": rating_settings(self.brand).low_balance_threshold.normalize()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = reverse("rating:file_list")
        context["can_change"] = may(self.request.user, self.brand, "change")
        context["brand"] = self.brand
        return context

    def perform(self, form, *, actor, at):
        return update_rating_settings(self.brand, actor=actor, at=at, **form.cleaned_data)

    def get_success_url(self, result=None):
        return reverse("rating:settings")

    def get_success_message(self, result):
        return _("Rating settings of %(brand)s saved.") % {"brand": self.brand.code}
