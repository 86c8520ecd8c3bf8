"""The home page, switching brand, and the global search."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from telora.core import clock
from telora.core.middleware import SESSION_BRAND_KEY, available_brands
from telora.core.models import AuditEvent, Job
from telora.ui import search as search_registry
from telora.ui.context import menu_for
from telora.ui.views.generic import ScopedObjectMixin, ShellMixin, area_allowed, is_htmx, safe_next


def greeting(hour: int) -> str:
    if 5 <= hour < 12:
        return _("Good morning")
    if 12 <= hour < 18:
        return _("Good afternoon")
    return _("Good evening")


class HomeView(ShellMixin, TemplateView):
    template_name = "ui/home.html"
    title = gettext_lazy("Home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        moment = clock.now()
        hour = clock.localtime(moment, self.brand).hour if self.brand else moment.hour
        context["greeting"] = greeting(hour)
        context["areas"] = menu_for(user, self.brand)
        context["my_recent_changes"] = AuditEvent.objects.filter(actor_user=user).order_by("-at", "-id")[:6]
        if self.brand is not None and area_allowed(user, self.brand, "jobs"):
            context["active_jobs"] = Job.objects.for_user(user).filter(
                brand=self.brand, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])[:5]
        return context


def _opens_in(request, url: str, brand) -> bool:
    """Whether the page at `url` is still one the user may open after switching to `brand`."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return False
    view_class = getattr(match.func, "view_class", None)
    area = getattr(view_class, "area", None)
    if view_class is None or area is None or issubclass(view_class, ScopedObjectMixin):
        return True  # pages about one object check the object's own brand, not the active one
    return area_allowed(request.user, brand, area, getattr(view_class, "action", "view"))


@require_POST
@login_required
def switch_brand(request):
    """Work in another brand without logging out; only brands the user holds can be chosen."""
    try:
        brand_id = int(request.POST.get("brand", ""))
    except ValueError:
        raise Http404 from None
    brand = available_brands(request.user).filter(pk=brand_id).first()
    if brand is None:
        raise Http404
    request.session[SESSION_BRAND_KEY] = brand.pk
    messages.info(request, _("You now work in %(brand)s.") % {"brand": brand.name})
    target = safe_next(request, reverse("ui:home"))
    if not _opens_in(request, target, brand):
        target = reverse("ui:home")
    return HttpResponseRedirect(target)


class SearchView(ShellMixin, TemplateView):
    """Full results page, or (for HTMX as one types in the header) the dropdown alone."""

    title = gettext_lazy("Search")

    def get_template_names(self):
        return ["ui/search/_dropdown.html" if is_htmx(self.request) else "ui/search/results.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()[:200]
        results = search_registry.search(self.request.user, self.brand, query)
        context.update(
            query=query,
            search_query=query,
            query_long_enough=len(query) >= search_registry.MIN_QUERY_LENGTH,
            min_length=search_registry.MIN_QUERY_LENGTH,
            results=results,
            groups=search_registry.grouped(results),
        )
        return context
