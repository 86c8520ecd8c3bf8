"""Logging in (throttled), logging out, and changing one's own password (audited)."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telora.core import clock
from telora.core.middleware import client_address
from telora.core.services import logins
from telora.core.services.users import set_password
from telora.ui.views.generic import ServiceFormView, ShellMixin


class ThrottledAuthenticationForm(AuthenticationForm):
    """Does not even check the password while this user name has failed too often from this address,
    or this address too often for any name (core.services.logins); says how long to wait."""

    error_messages = {
        **AuthenticationForm.error_messages,
        logins.USER: _("Too many failed log-ins for this user name from your address. "
                       "Try again in %(seconds)s seconds."),
        logins.ADDRESS: _("Too many failed log-ins from your address. Try again in %(seconds)s seconds."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.throttled = None
        self.fields["username"].widget.attrs.update({"autofocus": True, "class": "form-control"})
        self.fields["password"].widget.attrs.update({"class": "form-control"})

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        self.throttled = logins.throttle(username, client_address(self.request), at=clock.now())
        if self.throttled:
            raise ValidationError(self.error_messages[self.throttled.reason], code="throttled",
                                  params={"seconds": self.throttled.seconds})
        return super().clean()


class LoginView(auth_views.LoginView):
    template_name = "ui/auth/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        logins.record_attempt(form.cleaned_data["username"], client_address(self.request), succeeded=True,
                              at=clock.now())
        return super().form_valid(form)

    def form_invalid(self, form):
        username = form.data.get("username", "")
        if username and not form.throttled:
            logins.record_attempt(username, client_address(self.request), succeeded=False, at=clock.now())
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.seconds)
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default); the user menu holds a small form for it."""


class PasswordChangeView(ShellMixin, ServiceFormView):
    """Changing one's own password: the old one is checked, the change goes through the audited service."""

    template_name = "ui/auth/password_change.html"
    form_class = PasswordChangeForm
    title = _("Change password")
    service_field_map = {"password": "new_password1"}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        for field in form.fields.values():
            field.widget.attrs.pop("autofocus", None)
        form.fields["old_password"].widget.attrs["autofocus"] = True
        return form

    def perform(self, form, *, actor, at):
        set_password(self.request.user, form.cleaned_data["new_password1"], actor=actor, at=at)
        update_session_auth_hash(self.request, self.request.user)  # stay logged in here, not elsewhere
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(reverse("ui:home"))
