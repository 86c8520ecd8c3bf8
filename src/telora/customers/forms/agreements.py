"""The price agreement form of the customer page's panel. Checks the shapes; the service checks
the catalogue (zone, rate plan, band) and the rights."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.catalog.constants import SERVICES
from telora.catalog.models import RatePlan, Zone
from telora.customers.forms.common import catalogue_rows

MAX_UNITS = 10**12


class PriceAgreementForm(forms.Form):
    service = forms.ChoiceField(label=_("Service"), choices=[(s, s) for s in SERVICES])
    zone = forms.CharField(label=_("Zone"), max_length=40)
    rate_plan = forms.CharField(label=_("Rate plan"), max_length=40, required=False,
                                help_text=_("blank: every rate plan"))
    band = forms.CharField(label=_("Band"), max_length=40, required=False, help_text=_("blank: every band"))
    price = forms.DecimalField(label=_("Price"), max_digits=18, decimal_places=6, min_value=0, required=False)
    unit = forms.IntegerField(label=_("per unit"), min_value=1, max_value=MAX_UNITS, required=False)
    first_increment = forms.IntegerField(label=_("first increment"), min_value=0, max_value=MAX_UNITS, initial=1)
    next_increment = forms.IntegerField(label=_("next increment"), min_value=1, max_value=MAX_UNITS, initial=1)
    percent = forms.DecimalField(label=_("or discount %"), max_digits=9, decimal_places=6, min_value=0,
                                 max_value=100, required=False)
    valid_from = forms.DateTimeField(label=_("Valid from"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     help_text=_("blank: now"))
    valid_to = forms.DateTimeField(label=_("Valid to"), required=False,
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.brand = brand
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-select form-select-sm" if name == "service"
                                          else "form-control form-control-sm")
        self.fields["zone"].widget.attrs["list"] = "agreement-zones"  # the catalogue's codes, offered as typed
        self.fields["rate_plan"].widget.attrs["list"] = "agreement-rate-plans"

    def zones(self):
        return catalogue_rows(Zone, self.brand)

    def rate_plans(self):
        return catalogue_rows(RatePlan, self.brand)

    def _local(self, value):
        """A time entered on the page is the brand's wall-clock time."""
        if value is None or self.brand is None:
            return value
        return value.replace(tzinfo=None).replace(tzinfo=ZoneInfo(self.brand.timezone))

    def service_values(self) -> dict:
        data = self.cleaned_data
        values = {key: data[key] for key in ("service", "zone", "rate_plan", "band", "note")}
        if data["percent"] is not None:
            values["percent"] = data["percent"]
        else:
            values.update(price=data["price"], unit=data["unit"], first_increment=data["first_increment"],
                          next_increment=data["next_increment"])
        values["valid_from"] = self._local(data["valid_from"])
        values["valid_to"] = self._local(data["valid_to"])
        return values
