"""Forms of what rating needs: zones, time band sets with their bands, rate plans, one rate,
and bundles with their allowances."""

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.catalog.constants import DAYS, SERVICES
from telora.catalog.forms.base import (
    AmountField,
    CatalogForm,
    CodeChoiceField,
    CodesField,
    EffectiveFromField,
    ListTextField,
    RowForm,
    TextField,
    WholeField,
    put,
    row_formset,
)
from telora.catalog.forms.config import NamedForm, with_blank

SERVICE_CHOICES = [(s, s) for s in SERVICES]
DAY_LABELS = {"mon": _("Mon"), "tue": _("Tue"), "wed": _("Wed"), "thu": _("Thu"), "fri": _("Fri"),
              "sat": _("Sat"), "sun": _("Sun")}


class ZoneForm(NamedForm):
    section = "zones"
    prefixes = ListTextField(label=_("Prefixes"), required=False, help_text=_(
        "Destination prefixes for voice, SMS and MMS: E.164 digits, separated by commas (45, 4530)."))
    countries = ListTextField(label=_("Countries"), required=False, help_text=_(
        "Where data is used: ISO 3166 codes (DK, SE), or * for every other country."))
    code_lists = ("prefixes", "countries")

    def to_item(self) -> dict:
        item = super().to_item()
        item["prefixes"] = self.value("prefixes") or []
        item["countries"] = self.value("countries") or []
        return item


class BandRow(RowForm):
    band = TextField(label=_("Band"), widget=forms.TextInput(attrs={"class": "font-monospace", "size": 10}))
    days = CodesField(label=_("Days"), choices=[(d, DAY_LABELS[d]) for d in DAYS])
    start = TextField(label=_("From"), widget=forms.TextInput(attrs={"placeholder": "08:00", "size": 5}))
    end = TextField(label=_("To"), widget=forms.TextInput(attrs={"placeholder": "18:00", "size": 5}))
    default = forms.BooleanField(label=_("Default"), required=False)
    yaml_names = {"from": "start", "to": "end"}

    def to_row(self) -> dict:
        data = self.cleaned_data
        row = {}
        put(row, "band", data.get("band"))
        if data.get("default"):
            row["default"] = True
        if data.get("days"):
            row["days"] = data["days"]
        put(row, "from", data.get("start"))
        put(row, "to", data.get("end"))
        return row


BandRows = row_formset(BandRow)
BandRows.title = _("Bands")
BandRows.help_text = _("The first band whose days and hours match a call wins; the default band takes the rest. "
                       "Hours are HH:MM; a band that crosses midnight is two bands.")


class TimeBandSetForm(NamedForm):
    section = "time_bands"
    rows = {"bands": BandRows}

    def to_item(self) -> dict:
        item = super().to_item()
        item["bands"] = self.row_items("bands")
        return item


class RatePlanForm(NamedForm):
    section = "rate_plans"
    time_bands = CodeChoiceField(label=_("Time bands"), required=False, help_text=_(
        "Needed when rates differ by band (peak, off-peak)."))

    def setup_choices(self):
        self.fields["time_bands"].choices = with_blank(self.choices.get("time_bands", []))

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "time_bands", self.value("time_bands"))
        return item


class RateForm(CatalogForm):
    """One rate of a rate plan (service, zone and band are its key), from a date."""

    section = "rate_plans"
    service = CodeChoiceField(label=_("Service"), choices=with_blank(SERVICE_CHOICES, ""))
    zone = CodeChoiceField(label=_("Zone"))
    band = CodeChoiceField(label=_("Band"), required=False)
    price = AmountField(label=_("Price"), help_text=_("Per unit, net of tax."))
    unit = WholeField(label=_("Unit"), help_text=_(
        "Seconds, messages or bytes the price is for: 60 is per minute, 1048576 per MB."))
    first_increment = WholeField(label=_("First increment"))
    next_increment = WholeField(label=_("Next increments"))
    setup = AmountField(label=_("Set-up fee"), required=False)
    minimum = AmountField(label=_("Minimum charge"), required=False)
    effective_from = EffectiveFromField()

    field_order = ["service", "zone", "band", "price", "unit", "first_increment", "next_increment", "setup",
                   "minimum", "effective_from"]

    def setup_choices(self):
        self.fields["zone"].choices = with_blank(self.choices.get("zones", []), "")
        self.fields["band"].choices = with_blank(self.choices.get("bands", []), _("every band"))
        if self.editing:
            for name in ("service", "zone", "band"):
                self.fields[name].disabled = True

    def initial_from(self, item: dict) -> dict:
        initial = {key: value for key, value in item.items() if key != "increments"}
        first, following = (list(item.get("increments") or []) + [None, None])[:2]
        return {**initial, "first_increment": first, "next_increment": following}

    def route_path(self, parts):
        if parts and parts[0] == "increments":
            return ["next_increment" if len(parts) > 1 and parts[1] == 1 else "first_increment"]
        return parts

    def to_item(self) -> dict:
        item = {}
        for key in ("service", "zone", "band", "price", "unit", "setup", "minimum"):
            put(item, key, self.value(key))
        first, following = self.value("first_increment"), self.value("next_increment")
        if first is not None or following is not None:
            item["increments"] = [first, following]
        return item


class RateOverrideForm(CatalogForm):
    """One rate override of a customer group (rate plan, service, zone and band are its key):
    a replacement rate, or a discount percent off usage, from a date."""

    section = "customer_groups"
    rate_plan = CodeChoiceField(label=_("Rate plan"), required=False)
    service = CodeChoiceField(label=_("Service"), choices=with_blank(SERVICE_CHOICES, ""))
    zone = CodeChoiceField(label=_("Zone"))
    band = CodeChoiceField(label=_("Band"), required=False)
    price = AmountField(label=_("Price"), required=False, help_text=_("Per unit, net of tax; replaces the plan's rate."))
    unit = WholeField(label=_("Unit"), required=False, help_text=_(
        "Seconds, messages or bytes the price is for: 60 is per minute, 1048576 per MB."))
    first_increment = WholeField(label=_("First increment"), required=False)
    next_increment = WholeField(label=_("Next increments"), required=False)
    setup = AmountField(label=_("Set-up fee"), required=False)
    minimum = AmountField(label=_("Minimum charge"), required=False)
    discount = AmountField(label=_("Or: discount %"), required=False, help_text=_(
        "Percent off the usage charge at the plan's rate, instead of a replacement price."))
    effective_from = EffectiveFromField()

    field_order = ["rate_plan", "service", "zone", "band", "price", "unit", "first_increment", "next_increment",
                   "setup", "minimum", "discount", "effective_from"]

    def setup_choices(self):
        self.fields["rate_plan"].choices = with_blank(self.choices.get("rate_plans", []), _("every rate plan"))
        self.fields["zone"].choices = with_blank(self.choices.get("zones", []), "")
        self.fields["band"].choices = with_blank(self.choices.get("bands", []), _("every band"))
        if self.editing:
            for name in ("rate_plan", "service", "zone", "band"):
                self.fields[name].disabled = True

    def initial_from(self, item: dict) -> dict:
        initial = {key: value for key, value in item.items() if key != "increments"}
        first, following = (list(item.get("increments") or []) + [None, None])[:2]
        return {**initial, "first_increment": first, "next_increment": following}

    def route_path(self, parts):
        if parts and parts[0] == "increments":
            return ["next_increment" if len(parts) > 1 and parts[1] == 1 else "first_increment"]
        return parts

    def to_item(self) -> dict:
        item = {}
        for key in ("rate_plan", "service", "zone", "band", "price", "unit", "setup", "minimum", "discount"):
            put(item, key, self.value(key))
        first, following = self.value("first_increment"), self.value("next_increment")
        if first is not None or following is not None:
            item["increments"] = [first, following]
        return item


class AllowanceRow(RowForm):
    service = CodeChoiceField(label=_("Service"), choices=with_blank(SERVICE_CHOICES, ""))
    zones = CodesField(label=_("Zones"), help_text=_("None: every zone."))
    amount = WholeField(label=_("Amount"), help_text=_("Seconds, messages or bytes."))

    def setup_choices(self):
        self.fields["zones"].choices = self.choices.get("zones", [])

    def to_row(self) -> dict:
        data = self.cleaned_data
        row = {}
        put(row, "service", data.get("service"))
        row["zones"] = data.get("zones") or []
        put(row, "amount", data.get("amount"))
        return row


AllowanceRows = row_formset(AllowanceRow)
AllowanceRows.title = _("Allowances")
AllowanceRows.help_text = _("What the bundle includes: voice in seconds (30000 = 500 minutes), SMS and MMS in "
                            "messages, data in bytes (10737418240 = 10 GB).")


class BundleForm(NamedForm):
    section = "bundles"
    period = CodeChoiceField(label=_("Period"), choices=with_blank([
        ("bill_cycle", _("bill_cycle — renews with the bill period")),
        ("month", _("month — renews on the 1st")),
        ("once", _("once — never renews")),
    ], ""))
    rows = {"allowances": AllowanceRows}

    def to_item(self) -> dict:
        item = super().to_item()
        put(item, "period", self.value("period"))
        item["allowances"] = self.row_items("allowances")
        return item
