"""Forms for selling a subscription and acting on one (plan, add-ons, suspend, resume, terminate, SIM)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.customers.constants import CIRCUIT_TYPES, INSTALLATION_TYPES, MOBILE_TYPES, NUMBER_TYPES
from telora.customers.forms.common import text
from telora.customers.forms.offers import Offer, by_kind, number_groups, sim_types

NEXT_OR_CHOSEN = [("next", _("Next free")), ("chosen", _("Choose one"))]


def _offer_choices(items: list[Offer]):
    return [(offer.code, offer.label) for offer in items]


def _address_choices(customer, empty):
    return [("", empty)] + [(a.pk, str(a)) for a in customer.addresses.order_by("id")]


def _role_default(customer, role: str):
    return next((a.pk for a in customer.addresses.order_by("id") if role in a.roles), "")


class SimChoiceMixin(forms.Form):
    sim_choice = forms.ChoiceField(label=_("SIM card"), choices=NEXT_OR_CHOSEN, initial="next",
                                   widget=forms.RadioSelect)
    sim_type = forms.ChoiceField(label=_("SIM type"), required=False)
    sim = text(_("ICCID"), 22, placeholder="8931…", autocomplete="off", inputmode="numeric")

    def setup_sim(self, brand):
        self.fields["sim_type"].choices = [("", _("Any type"))] + [(t.code, t.name) for t in sim_types(brand)]

    def clean_sim_fields(self, data):
        if data.get("sim_choice") == "chosen" and not data.get("sim"):
            self.add_error("sim", _("Type or scan the ICCID of the card, or take the next free one."))

    def sim_values(self) -> dict:
        data = self.cleaned_data
        if data.get("sim_choice") == "chosen":
            return {"sim": data["sim"], "sim_type": None}
        return {"sim": None, "sim_type": data.get("sim_type") or None}


class SubscriptionForm(SimChoiceMixin):
    """Sell a subscription of one service type; fields of other service types are left out."""

    billing_account = forms.ChoiceField(label=_("Billing account"))
    plan = forms.ChoiceField(label=_("Plan"), widget=forms.RadioSelect)
    addons = forms.MultipleChoiceField(label=_("Add-ons"), required=False, widget=forms.CheckboxSelectMultiple)
    one_time = forms.MultipleChoiceField(label=_("One-time products"), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    number_choice = forms.ChoiceField(label=_("Phone number"), choices=NEXT_OR_CHOSEN, initial="next",
                                      widget=forms.RadioSelect)
    number_group = forms.ChoiceField(label=_("Number group"), required=False)
    number = text(_("Number"), 30, placeholder="+31 6 12345678", autocomplete="off")
    identifier = text(_("Circuit id"), 64, placeholder="FIB-000123", autocomplete="off")
    billing_address = forms.ChoiceField(label=_("Billing address"), required=False)
    shipping_address = forms.ChoiceField(label=_("Shipping address"), required=False)
    installation_address = forms.ChoiceField(label=_("Installation address"), required=False)
    channel = forms.ChoiceField(label=_("Sales channel"), required=False)
    activate = forms.BooleanField(label=_("Activate now"), required=False, initial=True,
                                  help_text=_("Otherwise the line waits as pending until activated."))

    def __init__(self, *args, customer, service_type: str, offers: list[Offer], **kwargs):
        accounts = list(customer.accounts.filter(status="active").order_by("number"))
        kwargs["initial"] = {
            "billing_account": accounts[0].pk if len(accounts) == 1 else "",
            "billing_address": "", "shipping_address": _role_default(customer, "shipping"),
            "installation_address": _role_default(customer, "installation"), **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        self.service_type = service_type
        self.offers = {offer.code: offer for offer in offers}
        self.fields["billing_account"].choices = [("", "—")] + [(a.pk, f"{a.number} · {a.name}") for a in accounts]
        self.fields["plan"].choices = _offer_choices(by_kind(offers, "plan"))
        if len(self.fields["plan"].choices) == 1:
            self.initial.setdefault("plan", self.fields["plan"].choices[0][0])
        self.fields["addons"].choices = _offer_choices(by_kind(offers, "addon"))
        self.fields["one_time"].choices = _offer_choices(by_kind(offers, "one_time", "device"))
        self.fields["billing_address"].choices = _address_choices(customer, _("The account's billing address"))
        self.fields["shipping_address"].choices = _address_choices(customer, _("No shipping"))
        self.fields["installation_address"].choices = _address_choices(customer, _("None"))
        self.setup_channel(customer.brand)
        if service_type in MOBILE_TYPES:
            self.setup_sim(customer.brand)
        else:
            for name in ("sim_choice", "sim_type", "sim"):
                del self.fields[name]
        if service_type in NUMBER_TYPES:
            groups = number_groups(customer.brand)
            self.fields["number_group"].choices = [("", _("Regular numbers"))] + [
                (g.code, f"{g.name} ({customer.brand.currency} {g.one_time_price:.2f})" if g.one_time_price
                 else g.name) for g in groups]
        else:
            for name in ("number_choice", "number_group", "number"):
                del self.fields[name]
        if service_type not in CIRCUIT_TYPES:
            del self.fields["identifier"]
        else:
            self.fields["identifier"].required = True
        if service_type not in INSTALLATION_TYPES:
            del self.fields["installation_address"]

    def clean(self):
        data = super().clean()
        if self.service_type in MOBILE_TYPES:
            self.clean_sim_fields(data)
        if data.get("number_choice") == "chosen" and not data.get("number"):
            self.add_error("number", _("Type the number, or take the next free one."))
        return data

    def setup_channel(self, brand):
        """The brand's sales channels; blank records the sale in the GUI's default channel, if any."""
        from telora.catalog.selectors import default_channel, sales_channels

        default = default_channel(brand, "gui")
        blank = _("Default (%(name)s)") % {"name": default.name} if default else _("None")
        self.fields["channel"].choices = [("", blank)] + [(c.code, c.name) for c in sales_channels(brand)]

    def service_values(self) -> dict:
        """The keyword arguments of `create_subscription`."""
        data = self.cleaned_data
        values = {
            "billing_account": int(data["billing_account"]), "service_type": self.service_type,
            "plan": data["plan"], "addons": data.get("addons") or [], "one_time": data.get("one_time") or [],
            "activate": bool(data.get("activate")), "channel": data.get("channel") or None, "interface": "gui",
        }
        for name in ("billing_address", "shipping_address", "installation_address"):
            if data.get(name):
                values[name] = int(data[name])
        if self.service_type in MOBILE_TYPES:
            values.update(self.sim_values())
        if self.service_type in NUMBER_TYPES:
            if data.get("number_choice") == "chosen":
                values["number"] = data["number"]
            else:
                values["number_group"] = data.get("number_group") or None
        if self.service_type in CIRCUIT_TYPES:
            values["identifier"] = data["identifier"]
        return values


class WhenMixin(forms.Form):
    """When a change happens: now, at the start of the next bill period, or on a date (an order waits
    until then; without the orders module only "now" is taken)."""

    when = forms.ChoiceField(label=_("When"), required=False, initial="now", choices=[
        ("now", _("Now")), ("next_period", _("At the start of the next bill period")), ("date", _("On a date"))])
    when_date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("when") == "date" and not data.get("when_date"):
            self.add_error("when_date", _("Give the date the change should happen."))
        return data

    def when_values(self) -> dict:
        mode = self.cleaned_data.get("when") or "now"
        return {"mode": mode, "date": self.cleaned_data.get("when_date") if mode == "date" else None}


class ProductChoiceForm(WhenMixin):
    """One product of the offers: a new plan, an add-on or a one-time product."""

    product = forms.ChoiceField(label=_("Product"), widget=forms.RadioSelect)

    def __init__(self, *args, offers: list[Offer], label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offers = {offer.code: offer for offer in offers}
        self.fields["product"].choices = _offer_choices(offers)
        if label:
            self.fields["product"].label = label


class ReasonForm(WhenMixin):
    reason = text(_("Reason"), 200, placeholder=_("Why, in a few words (kept in the history)"))

    def __init__(self, *args, reason_required: bool = False, confirm_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if confirm_label:
            self.fields["confirm"] = forms.BooleanField(label=confirm_label, required=True)


class SwapSimForm(SimChoiceMixin):
    reason = text(_("Reason"), 200, placeholder=_("Lost, broken, other size…"))

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_sim(brand)

    def clean(self):
        data = super().clean()
        self.clean_sim_fields(data)
        return data


class ChangeNumberForm(forms.Form):
    """A new number for the line: the next free one (of a group) or one the CSR types."""

    number_choice = forms.ChoiceField(label=_("New number"), choices=NEXT_OR_CHOSEN, initial="next",
                                      widget=forms.RadioSelect)
    number_group = forms.ChoiceField(label=_("Number group"), required=False)
    number = text(_("Number"), 30, placeholder="+31 6 12345678", autocomplete="off")
    reason = text(_("Reason"), 200, placeholder=_("Unwanted calls…"))

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number_group"].choices = [("", _("Regular numbers"))] + [
            (g.code, f"{g.name} ({brand.currency} {g.one_time_price:.2f})" if g.one_time_price else g.name)
            for g in number_groups(brand)]

    def clean(self):
        data = super().clean()
        if data.get("number_choice") == "chosen" and not data.get("number"):
            self.add_error("number", _("Type the number, or take the next free one."))
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        values = {"reason": data.get("reason") or ""}
        if data.get("number_choice") == "chosen":
            values["number"] = data["number"]
        elif data.get("number_group"):
            values["number_group"] = data["number_group"]
        return values
