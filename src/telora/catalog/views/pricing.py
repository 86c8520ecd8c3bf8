"""Dated changes on one entity's page: a rate of a rate plan (add, change, end), a rate override
of a customer group (add, change, end) and a product's price from a date. Earlier versions stay as they were; the services write the new ones."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.catalog import models as m
from telora.catalog.constants import PRICE, PRICED_KINDS, RECURRING, RECURRING_KINDS
from telora.catalog.forms.base import EffectiveFromField
from telora.catalog.forms.products import PriceChangeForm
from telora.catalog.forms.rating import RateForm, RateOverrideForm
from telora.catalog.services import (
    remove_rate,
    remove_rate_override,
    save_rate,
    save_rate_override,
    set_price,
)
from telora.catalog.views.common import choices_for, default_day, error_lines, item_of, show_amount
from telora.catalog.views.entities import CatalogFormMixin
from telora.catalog.views.sections import SECTIONS, Nav
from telora.core import clock
from telora.core.services import ServiceError
from telora.ui.views.generic import ScopedObjectMixin, ServiceFormView


class OnePageMixin(CatalogFormMixin, ScopedObjectMixin):
    area = "catalog"
    required_action = "change"
    section_key = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = SECTIONS[self.section_key]
        context["nav"] = Nav(current=self.section_key)
        context["cancel_url"] = self.get_success_url()
        return context

    def get_success_url(self, result=None):
        return reverse(f"catalog:{SECTIONS[self.section_key].name}_detail", args=[self.object.pk])


def _rate_key(request) -> tuple[str, str, str | None] | None:
    source = request.POST if request.method == "POST" else request.GET
    service, zone = source.get("key_service"), source.get("key_zone")
    if not service or not zone:
        return None
    return service, zone, source.get("key_band") or None


class RateFormView(OnePageMixin, ServiceFormView):
    """Add a rate to a rate plan, or change one (?key_service=voice&key_zone=DK&key_band=PEAK)."""

    model = m.RatePlan
    section_key = "rate_plans"
    form_class = RateForm
    template_name = "catalog/rate_form.html"

    def existing_rate(self) -> dict | None:
        key = _rate_key(self.request)
        if key is None:
            return None
        day = default_day(self.object.brand)
        rates = item_of(self.object, "rate_plans", day).get("rates", [])
        return next((dict(r) for r in rates if (r["service"], r["zone"], r.get("band")) == key), None)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        plan, day = self.object, default_day(self.object.brand)
        choices = choices_for(plan.brand, day, {"zones": m.Zone})
        choices["bands"] = [(b, b) for b in sorted({band.band for band in plan.time_band_set.bands.all()})] \
            if plan.time_band_set else []
        existing = self.existing_rate()
        kwargs["initial"] = {**kwargs.get("initial", {}), "effective_from": day}
        return {**kwargs, "brand": plan.brand, "choices": choices, "item": existing, "editing": existing is not None}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = (_("Change a rate of %(plan)s") if _rate_key(self.request) else
                            _("New rate in %(plan)s")) % {"plan": self.object.code}
        context["rate_key"] = _rate_key(self.request)
        return context

    def perform(self, form, *, actor, at):
        plan = self.object
        day = form.cleaned_data.get("effective_from") or default_day(plan.brand)
        save_rate(plan.brand, plan.code, form.to_item(), actor=actor, at=at, effective_from=day)
        return plan

    def get_success_message(self, result):
        return _("Rate saved.")


class RateEndForm(forms.Form):
    effective_from = EffectiveFromField(label=gettext_lazy("Ends on"), help_text=gettext_lazy(
        "From this date the rate no longer holds. Empty: today."))


class RateEndView(OnePageMixin, ServiceFormView):
    model = m.RatePlan
    section_key = "rate_plans"
    form_class = RateEndForm
    template_name = "catalog/close.html"

    def dispatch(self, request, *args, **kwargs):
        self.key = _rate_key(request)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"effective_from": default_day(self.object.brand)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        service, zone, band = self.key or ("?", "?", None)
        context["title"] = _("End the %(service)s rate for %(zone)s%(band)s in %(plan)s") % {
            "service": service, "zone": zone, "band": f" {band}" if band else "", "plan": self.object.code}
        context["hidden"] = {"key_service": service, "key_zone": zone, "key_band": band or ""}
        context["submit_label"] = _("End the rate")
        return context

    def form_valid(self, form):
        plan = self.object
        if self.key is None:
            form.add_error(None, _("Which rate? Open this page from the rate plan."))
            return self.form_invalid(form)
        day = form.cleaned_data.get("effective_from") or default_day(plan.brand)
        try:
            remove_rate(plan.brand, plan.code, *self.key, actor=self.actor(), at=clock.now(), effective_from=day)
        except ServiceError as exc:
            for line in error_lines(exc):
                form.add_error(None, line)
            return self.form_invalid(form)
        messages.success(self.request, _("The rate ends on %(day)s.") % {"day": day})
        return HttpResponseRedirect(self.get_success_url())


class PriceChangeView(OnePageMixin, ServiceFormView):
    """A new amount for one of a product's charges from a date (the earlier price stays)."""

    model = m.Product
    section_key = "products"
    form_class = PriceChangeForm
    template_name = "catalog/price_form.html"

    def charge_choices(self) -> tuple[list, dict]:
        product = self.object
        item = item_of(product, "products", default_day(product.brand))
        currency = product.brand.currency
        codes = []
        if product.kind in RECURRING_KINDS:
            codes.append((RECURRING, _("Recurring price per month"), item.get(RECURRING)))
        if product.kind in PRICED_KINDS:
            codes.append((PRICE, _("Price"), item.get(PRICE)))
        codes += [(c["code"], c["name"], c["price"]) for c in item.get("one_time", [])]
        choices = [(code, f"{label} ({show_amount(amount, currency) if amount is not None else '—'})")
                   for code, label, amount in codes]
        return choices, {code: amount for code, _label, amount in codes}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        choices, amounts = self.charge_choices()
        charge = self.request.GET.get("charge") or (choices[0][0] if choices else "")
        kwargs["initial"] = {**kwargs.get("initial", {}), "effective_from": default_day(self.object.brand),
                             "charge": charge, "amount": amounts.get(charge)}
        return {**kwargs, "brand": self.object.brand, "choices": {"charges": choices}}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Change a price of %(code)s") % {"code": self.object.code}
        return context

    def perform(self, form, *, actor, at):
        product = self.object
        data = form.cleaned_data
        day = data.get("effective_from") or default_day(product.brand)
        set_price(product.brand, product.code, data["charge"], data.get("amount"), actor=actor, at=at,
                  effective_from=day)
        return product

    def get_success_message(self, result):
        return _("Price saved.")


def _override_key(request) -> tuple[str | None, str, str, str | None] | None:
    source = request.POST if request.method == "POST" else request.GET
    service, zone = source.get("key_service"), source.get("key_zone")
    if not service or not zone:
        return None
    return source.get("key_rate_plan") or None, service, zone, source.get("key_band") or None


def _override_label(key) -> str:
    rate_plan, service, zone, band = key
    return " ".join(filter(None, (service, zone, band, f"({rate_plan})" if rate_plan else None)))


class RateOverrideFormView(OnePageMixin, ServiceFormView):
    """Add a rate override to a customer group, or change one (?key_service=voice&key_zone=EU…)."""

    model = m.CustomerGroup
    section_key = "customer_groups"
    form_class = RateOverrideForm
    template_name = "catalog/rate_override_form.html"

    def existing(self) -> dict | None:
        key = _override_key(self.request)
        if key is None:
            return None
        day = default_day(self.object.brand)
        overrides = item_of(self.object, "customer_groups", day).get("rate_overrides", [])
        return next((dict(o) for o in overrides
                     if (o.get("rate_plan"), o["service"], o["zone"], o.get("band")) == key), None)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        group, day = self.object, default_day(self.object.brand)
        choices = choices_for(group.brand, day, {"zones": m.Zone, "rate_plans": m.RatePlan})
        choices["bands"] = [(b, b) for b in sorted(set(m.TimeBand.objects.filter(brand=group.brand)
                                                       .values_list("band", flat=True)))]
        existing = self.existing()
        kwargs["initial"] = {**kwargs.get("initial", {}), "effective_from": day}
        return {**kwargs, "brand": group.brand, "choices": choices, "item": existing, "editing": existing is not None}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        key = _override_key(self.request)
        context["title"] = (_("Change a rate override of %(group)s") if key else
                            _("New rate override for %(group)s")) % {"group": self.object.code}
        context["override_key"] = key
        return context

    def perform(self, form, *, actor, at):
        group = self.object
        day = form.cleaned_data.get("effective_from") or default_day(group.brand)
        item = form.to_item()
        key = _override_key(self.request)
        if key is not None:  # the key fields are disabled when editing: they come from the page's key
            for name, value in zip(("rate_plan", "service", "zone", "band"), key, strict=True):
                if value is not None:
                    item[name] = value
        save_rate_override(group.brand, group.code, item, actor=actor, at=at, effective_from=day)
        return group

    def get_success_message(self, result):
        return _("Rate override saved.")


class RateOverrideEndView(OnePageMixin, ServiceFormView):
    model = m.CustomerGroup
    section_key = "customer_groups"
    form_class = RateEndForm
    template_name = "catalog/close.html"

    def dispatch(self, request, *args, **kwargs):
        self.key = _override_key(request)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"effective_from": default_day(self.object.brand)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rate_plan, service, zone, band = self.key or (None, "?", "?", None)
        context["title"] = _("End the override %(what)s of %(group)s") % {
            "what": _override_label((rate_plan, service, zone, band)), "group": self.object.code}
        context["hidden"] = {"key_rate_plan": rate_plan or "", "key_service": service, "key_zone": zone,
                             "key_band": band or ""}
        context["submit_label"] = _("End the override")
        return context

    def form_valid(self, form):
        group = self.object
        if self.key is None:
            form.add_error(None, _("Which override? Open this page from the customer group."))
            return self.form_invalid(form)
        day = form.cleaned_data.get("effective_from") or default_day(group.brand)
        try:
            remove_rate_override(group.brand, group.code, *self.key, actor=self.actor(), at=clock.now(),
                                 effective_from=day)
        except ServiceError as exc:
            for line in error_lines(exc):
                form.add_error(None, line)
            return self.form_invalid(form)
        messages.success(self.request, _("The override ends on %(day)s.") % {"day": day})
        return HttpResponseRedirect(self.get_success_url())
