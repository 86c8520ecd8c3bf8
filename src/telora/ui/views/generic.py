"""The pieces every GUI screen is built from, so each screen only says what is its own.

The rules they enforce, for core's screens and every later app's:
- login required: anonymous visitors go to the login page;
- a screen of an area the user lacks in the active brand is a 403 (`AreaMixin`);
- objects are read through `Model.objects.for_user(user, action)`, so anything outside the
  user's reach is a 404, exactly like a row that does not exist (`ScopedObjectMixin`);
- writes call one service with `actor=Actor.from_request(request)` and `at=clock.now()`, and a
  `ServiceError` is shown on the form field it names (`ServiceFormView`, `ServiceActionView`);
- dates are shown in the active brand's timezone, text in the user's language.
"""

from __future__ import annotations

import contextlib
import zoneinfo
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, resolve_url
from django.template.response import SimpleTemplateResponse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView, ListView, TemplateView, View

from telora.core import clock, rights
from telora.core.middleware import current_brand
from telora.core.services import Actor, ServiceError

DEFAULT_PAGE_SIZE = 25


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def area_allowed(user, brand, area_code: str, action: str = "view") -> bool:
    """May `user` use `area_code` (with `action`) in `brand`?

    System administrators may always (even before any brand exists); admin-only areas are theirs alone.
    """
    if rights.is_system_admin(user):
        return True
    if rights.get_area(area_code).admin_only:
        return False
    return brand is not None and rights.has_perm(user, brand, f"{area_code}.{action}")


@contextlib.contextmanager
def localised(user, brand):
    """Dates in the brand's timezone and text in the user's language while a screen renders."""
    with contextlib.ExitStack() as stack:
        if brand is not None:
            stack.enter_context(timezone.override(zoneinfo.ZoneInfo(brand.timezone)))
        if getattr(user, "language", ""):
            stack.enter_context(translation.override(user.language))
        yield


def safe_next(request, fallback: str) -> str:
    """The `next` URL of a form if it points back into this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def attach_service_error(form, exc: ServiceError, field_map: dict[str, str] | None = None) -> None:
    """Show a refused write on the field it names (or above the form when it names none)."""
    field = (field_map or {}).get(exc.field, exc.field)
    message = exc.message
    if exc.field and message.startswith(f"{exc.field}: "):
        message = message[len(exc.field) + 2:]
    form.add_error(field if field in form.fields else None, message)


class ShellMixin(AccessMixin):
    """Logged in, with `self.brand` (the active brand) and the screen's menu area for the header."""

    area: str | None = None  # the menu area this screen belongs to; highlights the menu item
    title = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            if is_htmx(request):
                # A partial (search, polling) after the session expired: send the whole page to log in.
                current = urlsplit(request.headers.get("HX-Current-URL", ""))
                back_to = (current.path or "/") + (f"?{current.query}" if current.query else "")
                response = HttpResponse(status=204)
                response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back_to})}"
                return response
            return self.handle_no_permission()
        self.brand = current_brand(request)
        self.check_rights()
        with localised(request.user, self.brand):
            response = super().dispatch(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()  # inside the locale, not after dispatch returns
        return response

    def check_rights(self) -> None:
        """Raise PermissionDenied (403) or Http404 before the screen does any work."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("current_area", self.area)
        context.setdefault("title", self.title)
        return context

    def actor(self) -> Actor:
        return Actor.from_request(self.request)


class AreaMixin(ShellMixin):
    """A screen of an area: 403 unless the user holds `<area>.<action>` in the active brand."""

    action = "view"

    def check_rights(self) -> None:
        if self.area is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must name its area")
        if not area_allowed(self.request.user, self.brand, self.area, self.action):
            raise PermissionDenied


class ScopedObjectMixin(ShellMixin):
    """A screen about one object, looked up through `for_user`: out of reach means 404.

    `object_action` decides visibility (404 without it); `required_action` is what the screen
    does with a visible object (403 without it, e.g. "change" on an edit form). The object's own
    brand is what counts, not the active brand: a link from search or the audit log opens.
    """

    model = None
    object_action = "view"
    required_action: str | None = None
    admin_only = False  # screens of admin-only areas: a visible object still gives 403 to others
    context_object_name: str | None = None

    def scoped_queryset(self, action: str):
        return self.model.objects.for_user(self.request.user, action)

    def check_rights(self) -> None:
        self.object = get_object_or_404(self.scoped_queryset(self.object_action), pk=self.kwargs["pk"])
        if self.admin_only and not rights.is_system_admin(self.request.user):
            raise PermissionDenied
        if self.required_action and not self.scoped_queryset(self.required_action).filter(pk=self.object.pk).exists():
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context[self.context_object_name or self.object._meta.model_name] = self.object
        return context


class ScopedListView(AreaMixin, ListView):
    """A paged list of what the user may see, narrowed by an optional filter form (GET).

    Subclasses set `model`, `area`, `template_name`, and optionally `filter_form_class` with
    `filter_queryset(queryset, cleaned_data)`. With `results_template_name`, an HTMX request
    gets only the results (the filter form updates the table as people type).
    """

    paginate_by = DEFAULT_PAGE_SIZE
    filter_form_class = None
    results_template_name: str | None = None

    def get_base_queryset(self):
        return self.model.objects.for_user(self.request.user, "view")

    def get_filter_form_kwargs(self) -> dict:
        return {}

    def filter_queryset(self, queryset, data: dict):
        return queryset

    def get_queryset(self):
        queryset = self.get_base_queryset()
        self.filter_form = None
        if self.filter_form_class is not None:
            self.filter_form = self.filter_form_class(self.request.GET, **self.get_filter_form_kwargs())
            if self.filter_form.is_valid():
                queryset = self.filter_queryset(queryset, self.filter_form.cleaned_data)
            else:
                queryset = queryset.none()
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        return context

    def get_template_names(self):
        if self.results_template_name and is_htmx(self.request):
            return [self.results_template_name]
        return super().get_template_names()


class ScopedDetailView(ScopedObjectMixin, TemplateView):
    """One object's page; `self.object` is already checked by the time the template renders."""


class ServiceFormView(FormView):
    """A form whose valid input goes to one service call in `perform(form, actor=, at=)`.

    `perform` returns the object it wrote (the view redirects to `get_success_url(obj)`) or a
    response. A `ServiceError` shows on the field it names; `service_field_map` maps a service's
    field names to the form's ("grants" -> "role").
    """

    success_message = ""
    service_field_map: dict[str, str] = {}

    def perform(self, form, *, actor: Actor, at):
        """Subclasses call their one service here; the result picks the success URL."""
        raise NotImplementedError

    def form_valid(self, form):
        try:
            result = self.perform(form, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            attach_service_error(form, exc, self.service_field_map)
            return self.form_invalid(form)
        if isinstance(result, HttpResponse):
            return result
        message = self.get_success_message(result)
        if message:
            messages.success(self.request, message)
        return HttpResponseRedirect(self.get_success_url(result))

    def get_success_message(self, result) -> str:
        return str(self.success_message)

    def get_success_url(self, result=None) -> str:
        if result is not None and hasattr(result, "get_absolute_url"):
            return result.get_absolute_url()
        return super().get_success_url()


class ServiceActionView(ScopedObjectMixin, View):
    """A button (POST only) doing one service call on one object, e.g. revoke or remove."""

    http_method_names = ["post"]
    success_message = ""

    def perform(self, obj, *, actor: Actor, at):
        """Subclasses call their one service on `obj` here."""
        raise NotImplementedError

    def get_success_url(self) -> str:
        """Subclasses say where the button leads back to."""
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        try:
            self.perform(self.object, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            if self.success_message:
                messages.success(request, self.success_message)
        return HttpResponseRedirect(safe_next(request, self.get_success_url()))


__all__ = [
    "AreaMixin",
    "ScopedDetailView",
    "ScopedListView",
    "ScopedObjectMixin",
    "ServiceActionView",
    "ServiceFormView",
    "ShellMixin",
    "area_allowed",
    "attach_service_error",
    "is_htmx",
    "localised",
    "safe_next",
]
