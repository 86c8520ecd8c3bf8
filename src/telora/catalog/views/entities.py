"""The generic catalogue screens: a list, a page, a create and an edit form and closing, for
every section. What differs per section lives in `sections.py` (and `details.py` for pages).

Rows are read through `for_user`, so another brand's catalogue is a 404, and narrowed to the
active brand's catalogue (its own and the ones shared with it). A shared row is read-only:
its page offers no buttons and every write view answers 403 (`required_action = "change"`).
Writes go to the catalogue's single-entity services, which check a form exactly as a file.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.catalog.forms.base import CloseForm
from telora.catalog.schema.errors import CatalogError
from telora.catalog.selectors.usage import used_by
from telora.catalog.services import close_entity, save_entity
from telora.catalog.views import details
from telora.catalog.views.common import (
    CURRENT,
    ENDED,
    FUTURE,
    choices_for,
    default_day,
    error_lines,
    item_of,
    live,
    may_change,
    owners,
    state_of,
)
from telora.catalog.views.sections import Nav, Section
from telora.core import clock
from telora.core.services import ServiceError
from telora.ui.search import words_match
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedObjectMixin,
    ServiceFormView,
    area_allowed,
    attach_service_error,
)

STATES = [("", gettext_lazy("Current and future")), (CURRENT, gettext_lazy("In effect today")),
          (FUTURE, gettext_lazy("Starting later")), (ENDED, gettext_lazy("Closed")), ("all", gettext_lazy("All"))]


class SectionMixin:
    """A screen of one catalogue section (given to `as_view(section=...)`)."""

    area = "catalog"
    section: Section = None

    @property
    def model(self):
        return self.section.model

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = self.section
        context["nav"] = Nav(current=self.section.key)
        return context

    def detail_url(self, obj) -> str:
        return reverse(f"catalog:{self.section.name}_detail", args=[obj.pk])


class EntityFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, widget=forms.TextInput(
        attrs={"placeholder": gettext_lazy("Code or name"), "autocomplete": "off"}))
    state = forms.ChoiceField(label=gettext_lazy("Validity"), choices=STATES, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)

    def __init__(self, *args, section: Section, **kwargs):
        super().__init__(*args, **kwargs)
        if section.kind_field:
            self.fields["kind"].choices = [("", gettext_lazy("Any kind"))] + [(k, k) for k in section.kinds]
        else:
            del self.fields["kind"]


class EntityListView(SectionMixin, ScopedListView):
    template_name = "catalog/list.html"
    results_template_name = "catalog/_list_table.html"
    filter_form_class = EntityFilterForm

    def get_filter_form_kwargs(self):
        return {"section": self.section}

    def get_base_queryset(self):
        section = self.section
        return (section.model.objects.for_user(self.request.user).filter(brand_id__in=owners(self.brand))
                .select_related("brand", *section.related).prefetch_related(*section.prefetch).order_by("code"))

    def filter_queryset(self, queryset, data):
        day = clock.today(self.brand) if self.brand else clock.today()
        if data.get("q"):
            queryset = queryset.filter(words_match(data["q"], ["code", "name"]))
        state = data.get("state") or ""
        if state == "":
            queryset = live(queryset, day)
        elif state == CURRENT:
            queryset = queryset.at(day)
        elif state == FUTURE:
            queryset = queryset.filter(valid_from__gt=day)
        elif state == ENDED:
            queryset = queryset.filter(valid_to__lte=day)
        if data.get("kind") and self.section.kind_field:
            queryset = queryset.filter(**{self.section.kind_field: data["kind"]})
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        day = clock.today(self.brand) if self.brand else clock.today()
        ctx = {"day": day}
        context["title"] = self.section.label
        context["rows"] = [
            {"obj": obj, "state": state_of(obj, day), "shared": self.brand is not None and obj.brand_id != self.brand.pk,
             "cells": [(column.render(obj, ctx), column.css) for column in self.section.columns]}
            for obj in context["object_list"]
        ]
        context["can_create"] = area_allowed(self.request.user, self.brand, "catalog", "change")
        return context


class EntityDetailView(SectionMixin, ScopedDetailView):
    def get_template_names(self):
        return [f"catalog/detail/{self.section.name}.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj, user = self.object, self.request.user
        day = clock.today(obj.brand)
        context.update(
            title=obj.name, day=day, state=state_of(obj, day), currency=obj.brand.currency,
            can_change=may_change(user, obj), used_by=[u for u in used_by(obj, user, day) if u.total],
            shared_from=obj.brand if self.brand is None or obj.brand_id != self.brand.pk else None,
        )
        context.update(details.extra(self.section.key, obj, day, self.request))
        return context


class CatalogFormMixin:
    """Runs the form's data through one catalogue service and routes the schema's errors."""

    template_name = "catalog/form.html"

    def get_template_names(self):
        section = getattr(self, "section", None)
        return ([f"catalog/forms/{section.name}.html"] if section else []) + super().get_template_names()

    def form_valid(self, form):
        try:
            result = self.perform(form, actor=self.actor(), at=clock.now())
        except CatalogError as exc:
            form.add_schema_errors(exc.errors)
            return self.form_invalid(form)
        except ServiceError as exc:
            attach_service_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, self.get_success_message(result))
        return HttpResponseRedirect(self.get_success_url(result))


class EntityCreateView(SectionMixin, CatalogFormMixin, AreaMixin, ServiceFormView):
    action = "change"

    def get_form_class(self):
        return self.section.form_class

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        day = clock.today(self.brand) if self.brand else clock.today()
        kwargs["initial"] = {**kwargs.get("initial", {}), "effective_from": day}
        return {**kwargs, "brand": self.brand, "choices": choices_for(self.brand, day) if self.brand else {}}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("New %(what)s") % {"what": self.section.singular}
        context["cancel_url"] = reverse(f"catalog:{self.section.name}_list")
        return context

    def perform(self, form, *, actor, at):
        if self.brand is None:
            raise ServiceError(_("Choose a brand to work in first."))
        day = form.cleaned_data.get("effective_from") or clock.today(self.brand)
        return save_entity(self.brand, self.section.key, form.to_item(), actor=actor, at=at, effective_from=day)

    def get_success_message(self, result):
        return _("%(what)s %(code)s created.") % {"what": str(self.section.singular).capitalize(), "code": result.code}

    def get_success_url(self, result=None):
        return self.detail_url(result)


class EntityEditView(SectionMixin, CatalogFormMixin, ScopedObjectMixin, ServiceFormView):
    required_action = "change"

    def get_form_class(self):
        return self.section.form_class

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        obj = self.object
        day = default_day(obj.brand, obj)
        kwargs["initial"] = {**kwargs.get("initial", {}), "effective_from": day}
        return {**kwargs, "brand": obj.brand, "choices": choices_for(obj.brand, day),
                "item": item_of(obj, self.section.key, day), "editing": True}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(what)s %(code)s") % {"what": self.section.singular, "code": self.object.code}
        context["cancel_url"] = self.detail_url(self.object)
        return context

    def perform(self, form, *, actor, at):
        obj = self.object
        day = form.cleaned_data.get("effective_from") or default_day(obj.brand, obj)
        item = item_of(obj, self.section.key, day)
        for key in form.owned_keys():
            item.pop(key, None)
        item.update(form.to_item())
        item["code"] = obj.code
        return save_entity(obj.brand, self.section.key, item, actor=actor, at=at, effective_from=day)

    def get_success_message(self, result):
        return _("%(what)s %(code)s saved.") % {"what": str(self.section.singular).capitalize(), "code": result.code}

    def get_success_url(self, result=None):
        return self.detail_url(self.object)


class EntityCloseView(SectionMixin, ScopedObjectMixin, ServiceFormView):
    """End an entity (and its prices or rates) from a date; refused while others still use it."""

    required_action = "change"
    form_class = CloseForm
    template_name = "catalog/close.html"

    def get_initial(self):
        return {"effective_from": default_day(self.object.brand, self.object)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Close %(what)s %(code)s") % {"what": self.section.singular, "code": self.object.code}
        context["cancel_url"] = self.detail_url(self.object)
        day = default_day(self.object.brand, self.object)
        context["used_by"] = [u for u in used_by(self.object, self.request.user, day) if u.total]
        return context

    def form_valid(self, form):
        obj = self.object
        day = form.cleaned_data.get("effective_from") or clock.today(obj.brand)
        try:
            close_entity(obj.brand, self.section.key, obj.code, actor=self.actor(), at=clock.now(), effective_from=day)
        except ServiceError as exc:
            for line in error_lines(exc):
                form.add_error(None, line)
            return self.form_invalid(form)
        messages.success(self.request, _("%(code)s is closed from %(day)s.") % {"code": obj.code, "day": day})
        return HttpResponseRedirect(self.detail_url(obj))
