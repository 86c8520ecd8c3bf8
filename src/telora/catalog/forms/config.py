"""Forms of the catalogue's setup: taxes, bill cycles, billing groups, customer groups, sales
channels and SIM types."""

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.catalog.constants import FORM_FACTORS, SALE_INTERFACES
from telora.catalog.forms.base import (
    AmountField,
    CatalogForm,
    CodeChoiceField,
    CodeField,
    CodesField,
    TextField,
    WholeField,
    put,
)

NONE = _("— none —")


def with_blank(choices, label=NONE) -> list:
    return [("", label), *choices]


class NamedForm(CatalogForm):
    """Customer groups and sales channels: a code and a name."""

    code = CodeField()
    name = TextField(label=_("Name"))

    field_order = ["code", "name"]

    def to_item(self) -> dict:
        item = {}
        put(item, "code", self.value("code"))
        put(item, "name", self.value("name"))
        return item


class TaxForm(NamedForm):
    section = "taxes"
    percent = AmountField(label=_("Percent"), help_text=_("From 0 to 100, e.g. 25 or 12.5."))
    default = forms.BooleanField(label=_("Default tax"), required=False,
                                 help_text=_("Products without a tax of their own use it. One tax at most."))

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "percent", self.value("percent"))
        item["default"] = bool(self.value("default"))
        return item


class BillCycleForm(NamedForm):
    section = "bill_cycles"
    anchor_day = WholeField(label=_("Anchor day"), help_text=_(
        "The day of the month bill periods start (1 to 31); a shorter month uses its last day."))

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "anchor_day", self.value("anchor_day"))
        return item


class BillingGroupForm(NamedForm):
    section = "billing_groups"
    bill_cycle = CodeChoiceField(label=_("Bill cycle"), required=False)
    description = TextField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def setup_choices(self):
        self.fields["bill_cycle"].choices = with_blank(self.choices.get("bill_cycles", []))

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "bill_cycle", self.value("bill_cycle"))
        put(item, "description", self.value("description"))
        return item


class CustomerGroupForm(NamedForm):
    section = "customer_groups"


class SalesChannelForm(NamedForm):
    section = "sales_channels"
    default_for = CodesField(label=_("Default channel of"), choices=[(i, i) for i in SALE_INTERFACES],
                             help_text=_("Sales entered there without a channel are recorded in this one."))

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "default_for", list(self.value("default_for") or []))
        return item


class SimTypeForm(NamedForm):
    section = "sim_types"
    form_factor = CodeChoiceField(label=_("Form factor"), choices=with_blank([(f, f) for f in FORM_FACTORS]))
    description = TextField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "form_factor", self.value("form_factor"))
        put(item, "description", self.value("description"))
        return item
