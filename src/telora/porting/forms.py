from django import forms
from django.utils.translation import gettext_lazy as _

from telora.porting.models import STATES


def _choices(values, empty):
    return [("", empty), *((v, v.replace("_", " ")) for v in values)]


class RequestFilterForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), required=False,
                                  choices=[("", _("In and out")), ("in", _("Port-in")), ("out", _("Port-out"))])
    state = forms.ChoiceField(label=_("State"), choices=_choices(STATES, _("Any state")), required=False)
    date_from = forms.DateField(label=_("Porting date from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    operator = forms.CharField(label=_("Operator"), max_length=16, required=False)
    q = forms.CharField(label=_("Number or reference"), max_length=40, required=False)


class PortInForm(forms.Form):
    """A port-in for a customer: the number, its donor, the date and the customer's authorisation at the
    donor (sealed by the porting app; never stored in the order)."""

    number = forms.CharField(label=_("Number to port in"), max_length=30)
    donor = forms.ChoiceField(label=_("Donor operator"))
    requested_date = forms.DateField(label=_("Porting date"), widget=forms.DateInput(attrs={"type": "date"}))
    plan = forms.CharField(label=_("Plan (catalogue code)"), max_length=64)
    account_number = forms.CharField(label=_("Account number at the donor"), max_length=80, required=False)
    pin = forms.CharField(label=_("Porting PIN"), max_length=20, required=False,
                          widget=forms.PasswordInput(render_value=False))
    id_number = forms.CharField(label=_("ID number"), max_length=40, required=False)

    def __init__(self, *args, operators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["donor"].choices = [(o.code, f"{o.name} ({o.code})") for o in operators]


class ClearingHouseForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.URLField(label=_("API address"), assume_scheme="https")
    callback_url = forms.URLField(label=_("Callback address given to the clearing house"), required=False,
                                  assume_scheme="https")
    operator_code = forms.CharField(label=_("Our operator code"), max_length=16)
    answer_hours = forms.IntegerField(label=_("Hours the donor has to answer"), min_value=1, max_value=336,
                                      initial=24)
    port_out_debt_limit = forms.DecimalField(label=_("Refuse a port-out above this debt (empty: never)"),
                                             required=False, min_value=0, decimal_places=2, max_digits=18)
    api_key = forms.CharField(label=_("API key"), required=False, widget=forms.PasswordInput(render_value=False),
                              help_text=_("Stored sealed, never shown. Leave empty to keep the stored one."))
    callback_secret = forms.CharField(label=_("Callback signing secret"), required=False,
                                      widget=forms.PasswordInput(render_value=False),
                                      help_text=_("Stored sealed, never shown. Leave empty to keep the stored one."))
