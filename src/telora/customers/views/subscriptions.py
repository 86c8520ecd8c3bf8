"""Selling a subscription and acting on one: its page, plan changes, add-ons, suspend, resume, terminate.

Each action is a small form (a choice, a reason, a confirmation) calling one customers service; a
refusal (a catalogue rule, a state the subscription is not in) shows on the form.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from telora.catalog.selectors import effective_price
from telora.core import clock
from telora.core.services import ServiceError
from telora.customers import services
from telora.customers.actions import take
from telora.customers.constants import NUMBER_TYPES
from telora.customers.forms.offers import by_kind, offers, service_types_on_sale
from telora.customers.forms.subscriptions import (
    ChangeNumberForm,
    ProductChoiceForm,
    ReasonForm,
    SubscriptionForm,
    SwapSimForm,
)
from telora.customers.panels import subscription_panels_for
from telora.customers.selectors import number_history, product_history, products_on
from telora.customers.templatetags.customers_ui import identifier
from telora.customers.views.common import (
    CustomerObjectMixin,
    SubscriptionObjectMixin,
    history_feed,
    indexed_fields,
)
from telora.ui.views.generic import ScopedDetailView, ServiceActionView, ServiceFormView, attach_service_error


def with_order(message: str, outcome) -> str:
    """The success message of an action, naming the order that carried it (when orders run)."""
    order = outcome.order
    if order is None:
        return message
    if outcome.result is not None:
        return _("%(message)s Order %(number)s.") % {"message": message, "number": order.number}
    if order.state == "acknowledged":
        return _("Order %(number)s taken; it runs on %(date)s.") % {
            "number": order.number, "date": clock.localtime(order.requested_at, order.brand).strftime("%Y-%m-%d %H:%M")}
    return _("Order %(number)s taken: %(state)s.") % {"number": order.number, "state": order.get_state_display()}


def rule_messages(exc: ServiceError) -> list[str]:
    """The broken catalogue rules of a refusal (`products: A requires B; C excludes D`), one per line."""
    message = exc.message.split(": ", 1)[1] if exc.message.startswith("products: ") else exc.message
    return [part.strip() for part in message.split("; ") if part.strip()]


class RuleErrorsMixin:
    """Shows a refusal by the catalogue's combination rules as a list above the products."""

    def form_valid(self, form):
        try:
            result = self.perform(form, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            if exc.code == "rules" or exc.field == "products":
                form.rule_errors = rule_messages(exc)
                form.rule_codes = {message.split()[0] for message in form.rule_errors}
                form.add_error(None, _("The catalogue does not allow this combination of products."))
            else:
                attach_service_error(form, indexed_fields(exc), self.service_field_map)
            return self.form_invalid(form)
        message = self.get_success_message(result)
        if message:
            messages.success(self.request, message)
        return HttpResponseRedirect(self.get_success_url(result))


class SubscriptionCreateView(RuleErrorsMixin, CustomerObjectMixin, ServiceFormView):
    """Sell a line: first the service type (tiles), then plan, add-ons, one-time products, SIM and number."""

    required_action = "change"
    template_name = "customers/subscription_form.html"
    form_class = SubscriptionForm
    service_field_map = {"iccid": "sim", "group": "number_group"}

    def service_type(self) -> str | None:
        wanted = self.request.POST.get("service_type") or self.request.GET.get("service_type")
        return wanted if wanted in self.on_sale else None

    def get(self, request, *args, **kwargs):
        self.on_sale = service_types_on_sale(self.customer.brand)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.on_sale = service_types_on_sale(self.customer.brand)
        if self.service_type() is None:
            return HttpResponseRedirect(request.path)
        return super().post(request, *args, **kwargs)

    def get_form(self, form_class=None):
        service_type = self.service_type()
        if service_type is None:
            return None
        self.offers = offers(self.customer.brand, service_type, self.customer)
        return SubscriptionForm(**self.get_form_kwargs(), customer=self.customer, service_type=service_type,
                                offers=self.offers)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        service_type = self.service_type()
        context.update(title=_("New subscription for %(name)s") % {"name": self.customer.name},
                       service_types=self.on_sale, service_type=service_type,
                       has_account=self.customer.accounts.filter(status="active").exists())
        if service_type is not None:
            context.update(plans=by_kind(self.offers, "plan"), addons=by_kind(self.offers, "addon"),
                           one_time=by_kind(self.offers, "one_time", "device"))
        return context

    def perform(self, form, *, actor, at):
        values = form.service_values()
        return take("sign_up", self.customer, values, actor=actor, at=at,
                    run=lambda at: services.create_subscription(self.customer, actor=actor, at=at, **values))

    def get_success_message(self, outcome):
        if outcome.result is None:
            return with_order("", outcome)
        return with_order(_("Subscription %(identifier)s sold.") % {"identifier": identifier(outcome.result)},
                          outcome)

    def get_success_url(self, outcome=None):
        if outcome.result is None:
            return outcome.order.get_absolute_url()
        return reverse("customers:subscription_detail", args=[outcome.result.pk])


class SubscriptionDetailView(SubscriptionObjectMixin, ScopedDetailView):
    template_name = "customers/subscription_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscription = self.object
        instances = list(product_history(subscription))
        assignments = list(number_history(subscription))
        current = [i for i in products_on(subscription) if i.kind in ("plan", "addon")]
        day = clock.localtime(clock.now(), subscription.brand).date()
        for instance in current:
            instance.monthly = effective_price(instance.product, "recurring", day, channel=instance.channel,
                                               customer_group=subscription.customer.customer_group)
        context.update(
            customer=subscription.customer,
            title=identifier(subscription),
            current=current, monthly=sum(i.monthly for i in current if i.monthly is not None),
            instances=instances, assignments=assignments, number_types=NUMBER_TYPES,
            can_change=subscription.is_live and self.scoped_queryset("change").filter(pk=subscription.pk).exists(),
        )
        context["events"], context["more"] = history_feed(self.request.user, [subscription, *instances,
                                                                               *assignments])
        context["panels"] = subscription_panels_for(self.request, subscription)
        return context


class SubscriptionFormMixin(SubscriptionObjectMixin):
    """An action form on one live subscription; redirects back to the subscription's page."""

    required_action = "change"
    template_name = "customers/action_form.html"
    heading = ""
    intro = ""
    submit_label = ""
    danger = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(customer=self.object.customer, title=self.heading, intro=self.intro,
                       submit_label=self.submit_label, danger=self.danger)
        return context

    def get_success_url(self, result=None):
        return reverse("customers:subscription_detail", args=[self.object.pk])


class ProductActionView(RuleErrorsMixin, SubscriptionFormMixin, ServiceFormView):
    """Choose one product of the offers (a plan, an add-on, a one-time product)."""

    form_class = ProductChoiceForm
    template_name = "customers/product_form.html"
    kinds: tuple[str, ...] = ()
    service_field_map = {"plan": "product"}

    def choices(self):
        return by_kind(offers(self.object.brand, self.object.service_type, self.object.customer), *self.kinds)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "offers": self.choices()}


class ChangePlanView(ProductActionView):
    kinds = ("plan",)

    @property
    def heading(self):
        return _("Change the plan of %(line)s") % {"line": identifier(self.object)}

    @property
    def intro(self):
        return _("The current plan ends now and the new one starts at the same moment; add-ons stay. "
                 "A plan with a commitment binds from today.")

    @property
    def submit_label(self):
        return _("Change plan")

    def choices(self):
        current = {i.product.code for i in products_on(self.object) if i.kind == "plan"}
        return [offer for offer in super().choices() if offer.code not in current]

    def perform(self, form, *, actor, at):
        plan = form.cleaned_data["product"]
        return take("change_plan", self.object, {"plan": plan}, actor=actor, at=at, when=form.when_values(),
                    run=lambda at: services.change_plan(self.object, plan, actor=actor, at=at, interface="gui"))

    def get_success_message(self, outcome):
        if outcome.result is None:
            return with_order("", outcome)
        return with_order(_("Plan changed to %(plan)s.") % {"plan": outcome.result.product.name}, outcome)


class AddAddonView(ProductActionView):
    kinds = ("addon",)

    @property
    def heading(self):
        return _("Add an add-on to %(line)s") % {"line": identifier(self.object)}

    @property
    def submit_label(self):
        return _("Add add-on")

    def perform(self, form, *, actor, at):
        product = form.cleaned_data["product"]
        return take("add_addon", self.object, {"product": product}, actor=actor, at=at, when=form.when_values(),
                    run=lambda at: services.add_addon(self.object, product, actor=actor, at=at, interface="gui"))

    def get_success_message(self, outcome):
        if outcome.result is None:
            return with_order("", outcome)
        return with_order(_("Add-on %(name)s added.") % {"name": outcome.result.product.name}, outcome)


class AddOneTimeView(ProductActionView):
    kinds = ("one_time", "device")

    @property
    def heading(self):
        return _("Sell a one-time product on %(line)s") % {"line": identifier(self.object)}

    @property
    def submit_label(self):
        return _("Sell")

    def perform(self, form, *, actor, at):
        product = form.cleaned_data["product"]
        return take("add_one_time", self.object, {"product": product}, actor=actor, at=at,
                    run=lambda at: services.add_one_time(self.object, product, actor=actor, at=at, interface="gui"))

    def get_success_message(self, outcome):
        if outcome.result is None:
            return with_order("", outcome)
        return with_order(_("%(name)s sold.") % {"name": outcome.result.product.name}, outcome)


class RemoveAddonView(SubscriptionObjectMixin, ServiceActionView):
    required_action = "change"

    def perform(self, obj, *, actor, at):
        instance = get_object_or_404(obj.products.filter(Q(end_at__isnull=True)), pk=self.kwargs["instance"])
        outcome = take("remove_addon", obj, {"instance": instance.pk}, actor=actor, at=at,
                       run=lambda at: services.remove_addon(obj, instance, actor=actor, at=at))
        self.success_message = with_order(_("Add-on %(name)s removed.") % {"name": instance.product.name}, outcome)

    def get_success_url(self):
        return reverse("customers:subscription_detail", args=[self.object.pk])


class ReasonActionView(SubscriptionFormMixin, ServiceFormView):
    """Suspend, resume or terminate: a reason (kept in the history) and, for terminating, a confirmation."""

    form_class = ReasonForm
    reason_required = False
    confirm_label = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "reason_required": self.reason_required,
                "confirm_label": self.confirm_label}


class SuspendView(ReasonActionView):
    reason_required = True

    @property
    def heading(self):
        return _("Suspend %(line)s") % {"line": identifier(self.object)}

    @property
    def intro(self):
        return _("The line stops working until it is resumed; its products stay and keep being billed.")

    @property
    def submit_label(self):
        return _("Suspend")

    def perform(self, form, *, actor, at):
        reason = form.cleaned_data["reason"]
        return take("suspend", self.object, {"reason": reason}, actor=actor, at=at, when=form.when_values(),
                    run=lambda at: services.suspend_subscription(self.object, actor=actor, at=at, reason=reason))

    def get_success_message(self, outcome):
        return with_order(_("Subscription suspended.") if outcome.result is not None or outcome.order is None else "", outcome)


class ResumeView(ReasonActionView):
    @property
    def heading(self):
        return _("Resume %(line)s") % {"line": identifier(self.object)}

    @property
    def submit_label(self):
        return _("Resume")

    def perform(self, form, *, actor, at):
        reason = form.cleaned_data["reason"]
        return take("resume", self.object, {"reason": reason}, actor=actor, at=at, when=form.when_values(),
                    run=lambda at: services.resume_subscription(self.object, actor=actor, at=at, reason=reason))

    def get_success_message(self, outcome):
        return with_order(_("Subscription active again.") if outcome.result is not None or outcome.order is None else "", outcome)


class TerminateView(ReasonActionView):
    danger = True
    reason_required = True

    @property
    def confirm_label(self):
        return _("Yes, terminate this subscription now. This cannot be undone.")

    @property
    def heading(self):
        return _("Terminate %(line)s") % {"line": identifier(self.object)}

    @property
    def intro(self):
        return _("Every product ends now; the number goes to quarantine and a used SIM card is retired.")

    @property
    def submit_label(self):
        return _("Terminate")

    def perform(self, form, *, actor, at):
        reason = form.cleaned_data["reason"]
        return take("terminate", self.object, {"reason": reason}, actor=actor, at=at, when=form.when_values(),
                    run=lambda at: services.terminate_subscription(self.object, actor=actor, at=at, reason=reason))

    def get_success_message(self, outcome):
        return with_order(_("Subscription terminated.") if outcome.result is not None or outcome.order is None else "", outcome)


class ActivateView(SubscriptionObjectMixin, ServiceActionView):
    required_action = "change"

    def perform(self, obj, *, actor, at):
        outcome = take("activate", obj, {}, actor=actor, at=at,
                       run=lambda at: services.activate_subscription(obj, actor=actor, at=at))
        self.success_message = with_order(_("Subscription activated."), outcome)

    def get_success_url(self):
        return reverse("customers:subscription_detail", args=[self.object.pk])


class SwapSimView(SubscriptionFormMixin, ServiceFormView):
    form_class = SwapSimForm
    template_name = "customers/action_form.html"
    service_field_map = {"iccid": "sim", "group": "number_group"}

    @property
    def heading(self):
        return _("New SIM card for %(line)s") % {"line": identifier(self.object)}

    @property
    def intro(self):
        return _("The current card is retired; the number stays.")

    @property
    def submit_label(self):
        return _("Swap SIM")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.object.brand}

    def perform(self, form, *, actor, at):
        values = {"reason": form.cleaned_data["reason"], **form.sim_values()}
        return take("swap_sim", self.object, values, actor=actor, at=at,
                    run=lambda at: services.swap_sim(self.object, actor=actor, at=at, **values))

    def get_success_message(self, outcome):
        if outcome.result is None:
            return with_order("", outcome)
        return with_order(_("SIM card swapped to %(iccid)s.") % {"iccid": outcome.result.sim.iccid}, outcome)


class ChangeNumberView(SubscriptionFormMixin, ServiceFormView):
    form_class = ChangeNumberForm
    template_name = "customers/action_form.html"
    service_field_map = {"number_group": "number_group"}

    @property
    def heading(self):
        return _("New number for %(line)s") % {"line": identifier(self.object)}

    @property
    def intro(self):
        return _("The old number goes to quarantine; the line's number history keeps both.")

    @property
    def submit_label(self):
        return _("Change number")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.object.brand}

    def perform(self, form, *, actor, at):
        values = form.service_values()
        direct = {"number": values.get("number"), "group": values.get("number_group"), "reason": values["reason"]}
        return take("number_change", self.object, values, actor=actor, at=at,
                    run=lambda at: services.change_number(self.object, actor=actor, at=at, **direct))

    def get_success_message(self, outcome):
        if outcome.result is None:
            return with_order("", outcome)
        return with_order(_("Number changed to %(number)s.") % {"number": identifier(outcome.result)}, outcome)
