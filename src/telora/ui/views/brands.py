"""Brands (system administrators only), and the brand logo every user of a brand sees in the header."""

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from telora.core.models import Brand
from telora.core.services import brands as brand_services
from telora.ui.forms.brands import BrandForm, logo_kind
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedObjectMixin,
    ServiceFormView,
)


class BrandListView(ScopedListView):
    model = Brand
    area = "brands"
    title = _("Brands")
    template_name = "ui/brands/list.html"

    def get_base_queryset(self):
        return Brand.objects.for_user(self.request.user).order_by("code")


class BrandDetailView(ScopedDetailView):
    model = Brand
    area = "brands"
    admin_only = True
    template_name = "ui/brands/detail.html"
    context_object_name = "shown_brand"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.object.name
        return context


class BrandCreateView(AreaMixin, ServiceFormView):
    area = "brands"
    title = _("New brand")
    template_name = "ui/brands/form.html"
    form_class = BrandForm

    def perform(self, form, *, actor, at):
        return brand_services.create_brand(actor=actor, at=at, **form.values())

    def get_success_message(self, result):
        return _("Brand %(name)s created.") % {"name": result.name}

    def get_success_url(self, result=None):
        return reverse("ui:brand_detail", args=[result.pk])


class BrandEditView(ScopedObjectMixin, ServiceFormView):
    model = Brand
    area = "brands"
    admin_only = True
    required_action = "change"
    template_name = "ui/brands/form.html"
    form_class = BrandForm
    context_object_name = "shown_brand"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.name}
        return context

    def perform(self, form, *, actor, at):
        return brand_services.update_brand(self.object, actor=actor, at=at, **form.values())

    def get_success_message(self, result):
        return _("Brand %(name)s saved.") % {"name": result.name}

    def get_success_url(self, result=None):
        return reverse("ui:brand_detail", args=[self.object.pk])


class BrandLogoView(ScopedObjectMixin, View):
    """The logo, for anyone working in the brand. Served by us, not as a raw media URL, because
    media files are not public and the check belongs to the brand."""

    model = Brand

    def get(self, request, *args, **kwargs):
        logo = self.object.logo
        if not logo:
            raise Http404
        try:
            handle = logo.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        kind = logo_kind(handle) or "octet-stream"
        response = FileResponse(handle, content_type=f"image/{kind}" if kind != "octet-stream"
                                else "application/octet-stream")
        response["Cache-Control"] = "private, max-age=3600"
        return response
