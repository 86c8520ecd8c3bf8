"""Forms of products (charges, bundles, attributes, rules), a price change from a date,
discounts and price lists."""

import yaml
from django import forms
from django.utils.translation import gettext_lazy as _

from telora.catalog import yamlio
from telora.catalog.constants import PRODUCT_KINDS, SERVICE_TYPES, SERVICES
from telora.catalog.forms.base import (
    AmountField,
    CatalogForm,
    CodeChoiceField,
    CodeField,
    CodesField,
    EffectiveFromField,
    RowForm,
    TextField,
    WholeField,
    put,
    row_formset,
    split_path,
)
from telora.catalog.forms.config import NamedForm, with_blank

KIND_LABELS = {"plan": _("plan (main product)"), "addon": _("add-on"), "one_time": _("one-time"),
               "device": _("device")}


class OneTimeRow(RowForm):
    code = CodeField(help_text="", widget=forms.TextInput(attrs={"class": "font-monospace"}))
    name = TextField(label=_("Name"))
    price = AmountField(label=_("Price"))

    def to_row(self) -> dict:
        row = {}
        for key in ("code", "name", "price"):
            put(row, key, self.cleaned_data.get(key))
        return row


OneTimeRows = row_formset(OneTimeRow, extra=1)
OneTimeRows.title = _("One-time charges")
OneTimeRows.help_text = _("Fees charged once, e.g. activation or installation.")


class AtMostRow(RowForm):
    count = WholeField(label=_("At most"))
    of = CodesField(label=_("Of these products"))

    def setup_choices(self):
        self.fields["of"].choices = self.choices.get("products", [])

    def to_row(self) -> dict:
        row = {}
        put(row, "count", self.cleaned_data.get("count"))
        row["of"] = self.cleaned_data.get("of") or []
        return row


AtMostRows = row_formset(AtMostRow, extra=1)
AtMostRows.title = _("Limits")
AtMostRows.help_text = _("A subscription with this product holds at most so many of the products ticked.")


def attributes_text(value) -> str:
    if not value:
        return ""
    return yaml.safe_dump(dict(value), sort_keys=True, allow_unicode=True, default_flow_style=False).strip()


class ProductForm(NamedForm):
    section = "products"
    kind = CodeChoiceField(label=_("Kind"), choices=with_blank([(k, KIND_LABELS[k]) for k in PRODUCT_KINDS], ""))
    service_type = CodeChoiceField(label=_("Service type"), required=False,
                                   choices=with_blank([(s, s) for s in SERVICE_TYPES]),
                                   help_text=_("Required for a plan."))
    sellable = forms.BooleanField(label=_("Sellable"), required=False, initial=True, help_text=_(
        "Untick to stop selling it; existing subscriptions keep it."))
    rate_plan = CodeChoiceField(label=_("Rate plan"), required=False, help_text=_("How its usage is rated."))
    tax = CodeChoiceField(label=_("Tax"), required=False, help_text=_("Empty: the brand's default tax."))
    recurring = AmountField(label=_("Recurring price per month"), required=False,
                            help_text=_("Plans and add-ons. Net of tax, in the brand's currency."))
    price = AmountField(label=_("Price"), required=False, help_text=_("One-time products and devices."))
    commitment_months = WholeField(label=_("Commitment (months)"), required=False)
    low_balance_threshold = AmountField(label=_("Low-balance threshold"), required=False, help_text=_(
        "Prepaid plans: the balance at or under which the subscriber is warned. Empty: the brand's (rating "
        "settings)."))
    bundles = CodesField(label=_("Bundles"))
    requires_any = CodesField(label=_("Requires one of"), help_text=_("Sold only with one of these products."))
    excludes = CodesField(label=_("Cannot be combined with"))
    attributes = TextField(label=_("Attributes"), required=False, widget=forms.Textarea(
        attrs={"rows": 4, "class": "font-monospace", "placeholder": "download_mbit: 500"}),
        help_text=_("Free data for provisioning and the shop, one 'name: value' per line (YAML)."))
    rows = {"one_time": OneTimeRows, "at_most": AtMostRows}
    code_lists = ("bundles", "requires_any", "excludes")

    def setup_choices(self):
        for name, key in (("rate_plan", "rate_plans"), ("tax", "taxes")):
            self.fields[name].choices = with_blank(self.choices.get(key, []))
        self.fields["bundles"].choices = self.choices.get("bundles", [])
        own = self.initial.get("code")
        products = [(code, label) for code, label in self.choices.get("products", []) if code != own]
        self.fields["requires_any"].choices = self.fields["excludes"].choices = products

    def prepare_item(self, item):
        rules = item.pop("rules", None) or {}
        limits = rules.get("at_most") or []
        item.update(requires_any=rules.get("requires_any", []), excludes=rules.get("excludes", []),
                    at_most=[limits] if isinstance(limits, dict) else list(limits))
        item["attributes"] = attributes_text(item.get("attributes"))
        item.setdefault("sellable", True)
        return item

    def clean_attributes(self):
        text = self.cleaned_data.get("attributes")
        if not text:
            return {}
        try:
            return yamlio.load(text)
        except yamlio.YamlError as exc:
            raise forms.ValidationError(str(exc)) from None

    def route_path(self, parts):
        return parts[1:] if parts and parts[0] == "rules" else parts

    def owned_keys(self):
        return super().owned_keys() | {"rules"}

    def to_item(self) -> dict:
        item = super().to_item()
        for key in ("kind", "service_type", "rate_plan", "tax", "recurring", "price", "commitment_months",
                    "low_balance_threshold"):
            put(item, key, self.value(key))
        item["sellable"] = bool(self.value("sellable"))
        item["one_time"] = self.row_items("one_time")
        item["bundles"] = self.value("bundles") or []
        item["attributes"] = self.value("attributes") if self.value("attributes") is not None else {}
        rules = {}
        for key in ("requires_any", "excludes"):
            if self.value(key):
                rules[key] = self.value(key)
        limits = self.row_items("at_most")
        if limits:
            rules["at_most"] = limits
        if rules:
            item["rules"] = rules
        return item


class PriceChangeForm(CatalogForm):
    """A new amount for one charge of a product from a date (set_price)."""

    section = "products"
    charge = forms.ChoiceField(label=_("Charge"))
    amount = AmountField(label=_("New amount"), required=False, help_text=_(
        "Net of tax, in the brand's currency. Empty: the charge has no price from that date."))
    effective_from = EffectiveFromField()

    def setup_choices(self):
        self.fields["charge"].choices = self.choices.get("charges", [])

    def add_schema_error(self, path, message):
        parts = split_path(path)
        if parts and parts[0] == "charge":
            self.add_error("charge", message)
        elif parts and (parts[0] in ("recurring", "price") or parts[-1] == "price"):
            self.add_error("amount", message)
        else:
            self.add_error(None, f"{path}: {message}" if path else message)


class DiscountForm(NamedForm):
    section = "discounts"
    applies_to = CodeChoiceField(label=_("Applies to"), choices=with_blank([
        ("usage", _("usage — off rated calls, SMS or data")),
        ("recurring", _("recurring — off the monthly price")),
    ], ""))
    percent = AmountField(label=_("Percent off"), help_text=_("More than 0, at most 100."))
    services = CodesField(label=_("Services"), choices=[(s, s) for s in SERVICES],
                          help_text=_("Usage discounts: the services it takes off."))
    zones = CodesField(label=_("Zones"), help_text=_("Usage discounts: none ticked means every zone."))
    months = WholeField(label=_("For months"), required=False, help_text=_(
        "Recurring discounts: how many months from the start; empty for ever."))
    products = CodesField(label=_("Products"), help_text=_("The products it applies to."))
    code_lists = ("services", "zones", "products")

    def setup_choices(self):
        self.fields["zones"].choices = self.choices.get("zones", [])
        self.fields["products"].choices = self.choices.get("products", [])

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "applies_to", self.value("applies_to"))
        put(item, "percent", self.value("percent"))
        for key in ("services", "zones"):
            if self.value(key):
                item[key] = self.value(key)
        item["products"] = self.value("products") or []
        put(item, "months", self.value("months"))
        return item


class PriceItemRow(RowForm):
    target = CodeChoiceField(label=_("Product charge"))
    price = AmountField(label=_("Price"))
    yaml_names = {"product": "target", "charge": "target"}

    def setup_choices(self):
        self.fields["target"].choices = with_blank(self.choices.get("charges", []), "")

    @classmethod
    def initial_from(cls, row):
        return {"target": f"{row.get('product')} {row.get('charge')}", "price": row.get("price")}

    def to_row(self) -> dict:
        target = (self.cleaned_data.get("target") or "").split(" ", 1)
        row = {}
        if target[0]:
            row["product"] = target[0]
            put(row, "charge", target[1] if len(target) > 1 else None)
        put(row, "price", self.cleaned_data.get("price"))
        return row


PriceItemRows = row_formset(PriceItemRow, extra=2)
PriceItemRows.title = _("Prices")
PriceItemRows.help_text = _("The prices this list sets instead of the products' own, net of tax.")


class PriceListForm(NamedForm):
    section = "price_lists"
    channel = CodeChoiceField(label=_("Sales channel"), required=False, help_text=_("Empty: every channel."))
    customer_group = CodeChoiceField(label=_("Customer group"), required=False,
                                     help_text=_("Empty: every customer."))
    priority = WholeField(label=_("Priority"), required=False, help_text=_(
        "Of the lists that apply, the highest priority wins, then the more specific one."))
    rows = {"items": PriceItemRows}

    def setup_choices(self):
        self.fields["channel"].choices = with_blank(self.choices.get("sales_channels", []))
        self.fields["customer_group"].choices = with_blank(self.choices.get("customer_groups", []))

    def to_item(self) -> dict:
        item = super().to_item()
        for key in ("channel", "customer_group", "priority"):
            put(item, key, self.value(key))
        item["items"] = self.row_items("items")
        return item

