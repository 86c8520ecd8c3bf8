"""Config as code in the browser: check a catalogue file (a dry run listing what would change),
apply it (catalog.apply), and download the active brand's catalogue as YAML."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View

from telora.catalog import yamlio
from telora.catalog.export import export_yaml
from telora.catalog.forms.code import CatalogFileForm
from telora.catalog.services import apply_catalog
from telora.catalog.views.common import error_lines
from telora.catalog.views.sections import Nav
from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services import ServiceError
from telora.ui.views.generic import AreaMixin, area_allowed

CHECK, APPLY = "check", "apply"


class ConfigView(AreaMixin, FormView):
    """Upload (or paste) a file; "Check" runs it as a dry run, "Apply" writes it. A checked file
    comes back in a hidden field, so applying what was checked needs no second upload."""

    area = "catalog"
    title = gettext_lazy("Config as code")
    template_name = "catalog/config.html"
    form_class = CatalogFileForm

    def may_apply(self) -> bool:
        return area_allowed(self.request.user, self.brand, "catalog", "apply")

    def get_initial(self):
        return {"effective_from": clock.today(self.brand) if self.brand else None}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["nav"] = Nav(current="config")
        context["may_apply"] = self.may_apply()
        context["today"] = clock.today(self.brand) if self.brand else clock.today()
        if self.brand is not None:
            context["recent"] = AuditEvent.objects.filter(brand=self.brand, action="config_apply").order_by("-at")[:8]
        return context

    def form_valid(self, form):
        action = APPLY if self.request.POST.get("action") == APPLY else CHECK
        data = form.cleaned_data
        context = {"form": form, "action": action, "source": data["source"], "checked_text": data["text"]}
        if self.brand is None:
            form.add_error(None, _("Choose a brand to work in first."))
            return self.form_invalid(form)
        if action == APPLY and not self.may_apply():
            form.add_error(None, _("You lack catalog.apply in %(brand)s: you can check a file, not apply it.")
                           % {"brand": self.brand.code})
            return self.form_invalid(form)
        try:
            parsed = yamlio.load(data["text"])
        except yamlio.YamlError as exc:
            form.add_error("file", _("Not valid YAML: %(error)s") % {"error": exc})
            return self.form_invalid(form)
        code = parsed.get("brand", {}).get("code") if isinstance(parsed, dict) and \
            isinstance(parsed.get("brand"), dict) else None
        if code is not None and code != self.brand.code:
            form.add_error("file", _("This file is the catalogue of brand %(file)s; you work in %(brand)s. "
                                     "Switch brand to apply it there.") % {"file": code, "brand": self.brand.code})
            return self.form_invalid(form)
        try:
            result = apply_catalog(parsed, actor=self.actor(), at=clock.now(), effective_from=data["effective_from"],
                                   check=action == CHECK, source=data["source"],
                                   perm="catalog.apply" if action == APPLY else "catalog.view")
        except ServiceError as exc:
            context["errors"] = error_lines(exc)
        else:
            context["result"] = result
        return self.render_to_response(self.get_context_data(**context))


class ExportView(AreaMixin, View):
    """The active brand's own catalogue on a date (?at=YYYY-MM-DD, default today) as a YAML file."""

    area = "catalog"

    def get(self, request, *args, **kwargs):
        if self.brand is None:
            return HttpResponse(_("Choose a brand to work in first."), status=400, content_type="text/plain")
        try:
            day = dt.date.fromisoformat(request.GET["at"]) if request.GET.get("at") else clock.today(self.brand)
        except ValueError:
            return HttpResponse(_("Not a date: write YYYY-MM-DD."), status=400, content_type="text/plain")
        response = HttpResponse(export_yaml(self.brand, day), content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.brand.code}-catalog-{day.isoformat()}.yaml"'
        return response
