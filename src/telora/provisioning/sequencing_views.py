"""Provisioning -> Sequencing: the active brand's sequencing as a product manager reads it (per order
operation the steps, what each sends, for which lines, after what) and as YAML; a file is checked first
(a dry run listing what would change) and applied with provisioning.change."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View

from telora.core import clock
from telora.core.models import AuditEvent
from telora.provisioning import sequencing
from telora.provisioning.forms import SequencingFileForm
from telora.provisioning.models import NetworkTarget, Sequencing
from telora.provisioning.sequencing import SequencingError
from telora.provisioning.sequencing_services import apply_sequencing, export_sequencing
from telora.ui.views.generic import AreaMixin, area_allowed

CHECK, APPLY = "check", "apply"
OPERATION_LABELS = {
    "activate": gettext_lazy("Activate (a new line)"), "change_services": gettext_lazy("Change services"),
    "suspend": gettext_lazy("Suspend (bar)"), "resume": gettext_lazy("Resume (unbar)"),
    "sim_swap": gettext_lazy("SIM swap"), "number_change": gettext_lazy("Number change"),
    "terminate": gettext_lazy("Terminate (delete)"),
}


def readable(document: dict | None) -> list[dict]:
    """Per order operation, its steps in the order they run for a line that has every service."""
    rows = []
    for operation in sequencing.ORDER_OPERATIONS:
        steps = (document or {}).get("operations", {}).get(operation)
        if steps:
            named = [dict(s, says=sequencing.describe(s)) for s in steps]
        else:
            only = sequencing.SINGLE_STEP[operation]
            named = [{"step": only, "do": only, "services": {}, "when": [], "unless": [], "after": [],
                      "description": _("No sequencing: the one request."), "says": only.replace("_", " ")}]
        rows.append({"operation": operation, "label": OPERATION_LABELS[operation], "steps": named,
                     "configured": bool(steps)})
    return rows


class SequencingView(AreaMixin, FormView):
    """GET shows; POST checks (provisioning.view) or applies (provisioning.change) a file."""

    area = "provisioning"
    title = gettext_lazy("Provisioning: sequencing")
    template_name = "provisioning/sequencing.html"
    form_class = SequencingFileForm

    def target(self):
        code = self.request.GET.get("target") or self.request.POST.get("target") or "network"
        return NetworkTarget.objects.for_user(self.request.user).filter(brand=self.brand, code=code).first()

    def may_apply(self) -> bool:
        return area_allowed(self.request.user, self.brand, "provisioning", "change")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        target = self.target()
        row = Sequencing.objects.filter(target=target).first() if target is not None else None
        document = row.document if row is not None else None
        context.update(
            target=target, sequencing_row=row, operations=readable(document), may_apply=self.may_apply(),
            targets=NetworkTarget.objects.for_user(self.request.user).filter(brand=self.brand),
            service_types=(document or {}).get("service_types", {}),
            yaml_text=sequencing.to_yaml(document) if document else "",
            recent=AuditEvent.objects.filter(brand=self.brand, object_type="provisioning.sequencing")
            .order_by("-at")[:8] if self.brand is not None else [])
        return context

    def form_valid(self, form):
        action = APPLY if self.request.POST.get("action") == APPLY else CHECK
        data = form.cleaned_data
        context = {"form": form, "action": action, "source": data["source"], "checked_text": data["text"]}
        if self.brand is None:
            form.add_error(None, _("Choose a brand to work in first."))
            return self.form_invalid(form)
        if action == APPLY and not self.may_apply():
            form.add_error(None, _("You lack provisioning.change in %(brand)s: you can check a file, not apply it.")
                           % {"brand": self.brand.code})
            return self.form_invalid(form)
        try:
            result = apply_sequencing(self.brand, data["text"], actor=self.actor(), at=clock.now(),
                                      dry_run=action == CHECK, source=data["source"])
        except SequencingError as exc:
            context["errors"] = exc.lines()
        else:
            context["result"] = result
        return self.render_to_response(self.get_context_data(**context))


class SequencingExportView(AreaMixin, View):
    """The brand's sequencing of a target as a YAML file (the shipped default if it has none yet)."""

    area = "provisioning"

    def get(self, request, *args, **kwargs):
        if self.brand is None:
            return HttpResponse(_("Choose a brand to work in first."), status=400, content_type="text/plain")
        target = get_object_or_404(NetworkTarget.objects.for_user(request.user).filter(brand=self.brand),
                                   code=request.GET.get("target") or "network")
        response = HttpResponse(export_sequencing(self.brand, target.code),
                                content_type="application/yaml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.brand.code}-sequencing-{target.code}.yaml"'
        return response
