"""API keys: one's own and those of the users one manages. The token is shown once, never stored."""

import datetime as dt
import zoneinfo

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telora.core import clock
from telora.core.models import ApiKey
from telora.core.services import users as user_services
from telora.ui.forms.users import ApiKeyForm
from telora.ui.views.generic import AreaMixin, ScopedListView, ServiceActionView, ServiceFormView


class ApiKeyListView(ScopedListView):
    model = ApiKey
    area = "users"
    title = _("API keys")
    template_name = "ui/apikeys/list.html"

    def get_base_queryset(self):
        return (ApiKey.objects.for_user(self.request.user).select_related("user").prefetch_related("brands")
                .order_by("revoked_at", "-created_at"))

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "now": clock.now()}


class ApiKeyCreateView(AreaMixin, ServiceFormView):
    area = "users"
    title = _("New API key")
    template_name = "ui/apikeys/form.html"
    form_class = ApiKeyForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor_user": self.request.user}

    def get_initial(self):
        user_id = self.request.GET.get("user", "")
        return {"user": int(user_id)} if user_id.isdigit() else {}  # from a user's page; the form checks reach

    def expiry(self, day: dt.date | None) -> dt.datetime | None:
        """A key set to expire on a day stops working when that day begins in the brand's timezone."""
        if day is None:
            return None
        tz = zoneinfo.ZoneInfo(self.brand.timezone) if self.brand else dt.UTC
        return dt.datetime.combine(day, dt.time.min, tzinfo=tz)

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        key, token = user_services.create_api_key(
            actor=actor, at=at, user=data["user"], name=data["name"], brands=data["brands"],
            permissions=data["permissions"], expires_at=self.expiry(data.get("expires_at")),
        )
        # The token is rendered into this one response and kept nowhere else, so it cannot be shown again.
        response = TemplateResponse(self.request, "ui/apikeys/created.html", {
            **self.get_context_data(form=form), "key": key, "token": token, "title": _("API key created"),
        })
        response["Cache-Control"] = "no-store"
        return response


class ApiKeyRevokeView(ServiceActionView):
    model = ApiKey
    area = "users"
    success_message = _("API key revoked. Programs using it are refused from now on.")

    def perform(self, obj, *, actor, at):
        user_services.revoke_api_key(obj, actor=actor, at=at)

    def get_success_url(self):
        return reverse("ui:apikey_list")
