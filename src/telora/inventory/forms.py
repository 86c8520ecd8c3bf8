"""Forms of the inventory screens: list filters, a SIM card or number by hand, number groups,
reservations and reasons, and CSV uploads."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.inventory.models import ImportBatch, NumberGroup, NumberStatus, SimCard, SimStatus

NO_GROUP = "none"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def _distinct(brand, field: str, limit: int = 300) -> list[str]:
    if brand is None:
        return []
    values = (SimCard.objects.filter(brand=brand).exclude(**{field: ""}).order_by(field)
              .values_list(field, flat=True).distinct()[:limit])
    return list(values)


class SimFilterForm(forms.Form):
    q = forms.CharField(label=_("ICCID or IMSI"), required=False, widget=forms.TextInput(
        attrs={"placeholder": _("digits, e.g. 89314404…"), "autocomplete": "off", "inputmode": "numeric"}))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *SimStatus.choices])
    sim_type = forms.ChoiceField(label=_("SIM type"), required=False)
    batch = forms.ChoiceField(label=_("Batch"), required=False)

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sim_type"].choices = [("", _("Any type"))] + [(v, v) for v in _distinct(brand, "sim_type")]
        self.fields["batch"].choices = [("", _("Any batch"))] + [(v, v) for v in _distinct(brand, "batch")]


class NumberFilterForm(forms.Form):
    q = forms.CharField(label=_("Number"), required=False, widget=forms.TextInput(
        attrs={"placeholder": _("digits anywhere in the number"), "autocomplete": "off", "inputmode": "tel"}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *NumberStatus.choices])
    group = forms.ChoiceField(label=_("Group"), required=False)

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        groups = NumberGroup.objects.filter(brand=brand).order_by("code") if brand else []
        self.fields["group"].choices = [("", _("Any group")), (NO_GROUP, _("No group"))] + [
            (str(g.pk), f"{g.name} ({g.code})") for g in groups]


class SimForm(forms.Form):
    iccid = forms.CharField(label=_("ICCID"), max_length=40, widget=forms.TextInput(
        attrs={"class": "font-monospace", "inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("19 or 20 digits starting with 89, with a Luhn check digit."))
    imsi = forms.CharField(label=_("IMSI"), max_length=40, widget=forms.TextInput(
        attrs={"class": "font-monospace", "inputmode": "numeric", "autocomplete": "off"}))
    pin1 = forms.CharField(label=_("PIN1"), required=False, max_length=20)
    puk1 = forms.CharField(label=_("PUK1"), required=False, max_length=20)
    pin2 = forms.CharField(label=_("PIN2"), required=False, max_length=20)
    puk2 = forms.CharField(label=_("PUK2"), required=False, max_length=20)
    sim_type = forms.CharField(label=_("SIM type"), required=False, max_length=100, widget=forms.TextInput(
        attrs={"list": "sim-types", "autocomplete": "off"}))
    partner = forms.CharField(label=_("Wholesale partner"), required=False, max_length=200)
    batch = forms.CharField(label=_("Batch"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("pin1", "puk1", "pin2", "puk2"):
            self.fields[name].widget = forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"})


class NumberForm(forms.Form):
    number = forms.CharField(label=_("Number"), max_length=40, help_text=_(
        "Any usual spelling: +45 20 12 34 56, 0045…, or the national form in the brand's country."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    group = forms.ModelChoiceField(label=_("Group"), queryset=NumberGroup.objects.none(), required=False,
                                   empty_label=_("No group"))

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        if brand is not None:
            self.fields["group"].queryset = NumberGroup.objects.filter(brand=brand, is_active=True).order_by("code")


class NumberGroupForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40, help_text=_("Letters, digits, '-' and '_'."))
    name = forms.CharField(label=_("Name"), max_length=120)
    one_time_price = forms.DecimalField(label=_("One-time price"), min_value=0, max_digits=18, decimal_places=6,
                                        initial=0, help_text=_("What a customer pays to get a number of this group, "
                                                               "net of tax, in the brand's currency."))
    quarantine_days = forms.IntegerField(label=_("Quarantine days"), required=False, min_value=0, help_text=_(
        "How long a released number rests before it is offered again. Empty: the brand's setting."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True, help_text=_(
        "Inactive groups are not offered when a number is chosen for a customer."))


class ReserveForm(forms.Form):
    reference = forms.CharField(label=_("For"), required=False, max_length=120, help_text=_(
        "What the reservation is for, e.g. an order number."))
    minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=1, help_text=_(
        "Empty: the brand's default reservation time."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class UploadForm(forms.Form):
    what = forms.ChoiceField(label=_("What the file holds"), choices=ImportBatch.Kind.choices,
                             widget=forms.RadioSelect, initial=ImportBatch.Kind.SIMS)
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "UTF-8, comma- or semicolon-separated; the first line names the columns."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 200 MB."))
        return upload
