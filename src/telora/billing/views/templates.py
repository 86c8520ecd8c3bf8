"""Invoice templates: the active brand's versions, an editor (prefilled with the active template or
Telora's default) that checks without saving, previews the sample invoice as PDF, or saves a new
version; a version's page, its preview, and activating it. Reading needs billing.view, everything
else billing.change; another brand's versions are a 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from telora.billing.documents.labels import LANGUAGES
from telora.billing.models import InvoiceTemplate
from telora.billing.services import templates as service
from telora.billing.views.common import AREA, may
from telora.core import clock
from telora.core.services import ServiceError
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedObjectMixin,
    ServiceActionView,
    ServiceFormView,
)


class TemplateForm(forms.Form):
    source = forms.CharField(label=gettext_lazy("Template"), strip=False,
                             widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false",
                                                          "class": "font-monospace small"}))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False,
                           help_text=gettext_lazy("What changed, for the version list."))
    activate = forms.BooleanField(label=gettext_lazy("Use it for invoices at once"), required=False, initial=True)


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


class TemplateListView(ScopedListView):
    model = InvoiceTemplate
    area = AREA
    title = gettext_lazy("Invoice templates")
    template_name = "billing/invoice_templates/list.html"
    paginate_by = 50

    def get_base_queryset(self):
        return InvoiceTemplate.objects.for_user(self.request.user).filter(brand=self.brand).defer("source")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(can_change=may(self.request.user, self.brand, "change"), languages=LANGUAGES,
                       active=InvoiceTemplate.objects.filter(brand=self.brand, active=True).first())
        return context


class TemplateEditView(AreaMixin, ServiceFormView):
    """The editor. Its three buttons: check (nothing is kept), preview (the sample invoice as PDF),
    save (a new version)."""

    area = AREA
    action = "change"
    title = gettext_lazy("Edit the invoice template")
    template_name = "billing/invoice_templates/edit.html"
    form_class = TemplateForm

    def check_rights(self) -> None:
        super().check_rights()
        if self.brand is None:
            raise PermissionDenied  # a template belongs to the active brand

    def get_initial(self):
        start = None
        if self.request.GET.get("from"):
            start = (InvoiceTemplate.objects.for_user(self.request.user, "change").filter(brand=self.brand)
                     .filter(pk=self.request.GET["from"]).first() if self.request.GET["from"].isdigit() else None)
        source = start.source if start else (service.active_template(self.brand) or service.default_source())
        return {"source": source, "activate": True}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["active"] = InvoiceTemplate.objects.filter(brand=self.brand, active=True).defer("source").first()
        return context

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        step = self.request.POST.get("step", "save")
        if step == "check":
            service.check_template(self.brand, data["source"])
            return self.render_to_response(self.get_context_data(form=form, checked=True))
        if step == "preview":
            return _pdf(service.preview_pdf(self.brand, data["source"]), "invoice-template-preview.pdf")
        return service.save_template(self.brand, data["source"], note=data["note"], activate=data["activate"],
                                     actor=actor, at=at)

    def get_success_message(self, result) -> str:
        if result.active:
            return _("Version %(v)s is saved and used for this brand's invoices from now on.") % {"v": result.version}
        return _("Version %(v)s is saved; activate it to use it.") % {"v": result.version}

    def get_success_url(self, result=None) -> str:
        return reverse("billing:template_list")


class TemplateDetailView(ScopedDetailView):
    model = InvoiceTemplate
    area = AREA
    template_name = "billing/invoice_templates/detail.html"
    context_object_name = "template"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=_("Invoice template version %(v)s") % {"v": self.object.version},
                       can_change=may(self.request.user, self.object, "change"))
        return context


class TemplatePreviewView(ScopedObjectMixin, View):
    """The brand's sample invoice as PDF with this version (billing.view: it shows no customer's data)."""

    model = InvoiceTemplate
    area = AREA

    def get(self, request, *args, **kwargs):
        try:
            data = service.preview_pdf(self.object.brand, self.object.source)
        except ServiceError as exc:  # a version that no longer renders (the brand's data changed)
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("billing:template_detail", args=[self.object.pk]))
        return _pdf(data, f"invoice-template-v{self.object.version}.pdf")


class DefaultPreviewView(AreaMixin, View):
    """The brand's sample invoice as PDF with Telora's default template."""

    area = AREA

    def get(self, request, *args, **kwargs):
        if self.brand is None:
            raise PermissionDenied
        try:
            data = service.preview_pdf(self.brand, service.default_source())
        except ServiceError as exc:  # a render stopped by a limit (an overloaded machine): say so
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("billing:template_list"))
        return _pdf(data, "invoice-template-default.pdf")


class TemplateActivateView(ServiceActionView):
    model = InvoiceTemplate
    area = AREA
    required_action = "change"

    def perform(self, obj, *, actor, at):
        service.activate(obj, actor=actor, at=at)
        self.success_message = _("Version %(v)s is used for this brand's invoices from now on.") % {"v": obj.version}

    def get_success_url(self) -> str:
        return reverse("billing:template_list")


class UseDefaultView(AreaMixin, View):
    """Back to Telora's default template (the brand's versions are kept)."""

    area = AREA
    action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if self.brand is None:
            raise PermissionDenied
        try:
            service.use_default(self.brand, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("This brand's invoices use Telora's default template from now on."))
        return HttpResponseRedirect(reverse("billing:template_list"))


__all__ = ["DefaultPreviewView", "TemplateActivateView", "TemplateDetailView", "TemplateEditView", "TemplateForm",
           "TemplateListView", "TemplatePreviewView", "UseDefaultView"]
