"""Forms of the rating screens: list filters (files, failed records), a usage file upload, the
bulk actions on failed records, a subscription's usage period and a prepaid top-up."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.rating import formats
from telora.rating.engine.results import FAILURE_REASONS
from telora.rating.models import FAILED_STATUSES, FILE_STATUSES, UsageFile, UsageSource

ANY_STATUS = "any"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024


def known_sources(brand, limit: int = 200) -> list[str]:
    """The brand's source codes: configured sources and those files came from."""
    if brand is None:
        return []
    codes = set(UsageSource.objects.filter(brand=brand).values_list("code", flat=True)[:limit])
    codes |= set(UsageFile.objects.filter(brand=brand).order_by("source").values_list("source", flat=True)
                 .distinct()[:limit])
    return sorted(codes)


def _date(label):
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


class FileFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(
        attrs={"placeholder": _("part of the file name"), "autocomplete": "off"}))
    source = forms.ChoiceField(label=_("Source"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *((s, s) for s in FILE_STATUSES)])
    format = forms.ChoiceField(label=_("Format"), required=False)
    received_from = _date(_("Received from"))
    received_to = _date(_("Received to"))

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", _("Any source"))] + [(s, s) for s in known_sources(brand)]
        self.fields["format"].choices = [("", _("Any format"))] + [(f, f) for f in [*formats.names(), "records"]]


class UploadForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"))
    source = forms.CharField(label=_("Source"), max_length=64, widget=forms.TextInput(
        attrs={"list": "rating-sources", "autocomplete": "off"}),
        help_text=_("The switch or platform the file comes from; a record id is charged once per source."))
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(name, f"{name}: {formats.get(name).title}") for name in formats.names()]

    def clean_source(self):
        return self.cleaned_data["source"].strip()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 GB: put it in a source's inbox instead."))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class FailedFilterForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), required=False,
                               choices=[("", _("Any reason")), *((r, r) for r in FAILURE_REASONS)])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[*((s, s) for s in FAILED_STATUSES), (ANY_STATUS, _("Any status"))])
    source = forms.ChoiceField(label=_("Source"), required=False)
    file = forms.IntegerField(label=_("File"), required=False, min_value=1, widget=forms.NumberInput(
        attrs={"placeholder": _("file number")}))
    a_number = forms.CharField(label=_("A-number"), required=False, max_length=40, widget=forms.TextInput(
        attrs={"placeholder": _("digits"), "inputmode": "tel", "autocomplete": "off"}))
    created_from = _date(_("From"))
    created_to = _date(_("To"))

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", _("Any source"))] + [(s, s) for s in known_sources(brand)]

    def clean_status(self):
        return self.cleaned_data.get("status") or "open"


class FailedActionForm(forms.Form):
    """The bulk form under the failed records: the chosen rows (`ids`, read by the view), or all
    that match the filter."""

    action = forms.ChoiceField(choices=[("rerate", "rerate"), ("delete", "delete")])
    all_matching = forms.BooleanField(required=False)
    confirm = forms.BooleanField(required=False)


class UsagePeriodForm(forms.Form):
    month = forms.CharField(label=_("Month"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    start = _date(_("From"))
    end = _date(_("To"))

    def clean_month(self):
        text = (self.cleaned_data.get("month") or "").strip()
        if not text:
            return None
        try:
            year, month = (int(part) for part in text.split("-"))
            if not 1 <= month <= 12 or not 1900 < year < 3000:
                raise ValueError
        except ValueError:
            raise forms.ValidationError(_("A month is written YYYY-MM.")) from None
        return year, month

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Give both dates, or none."))
        if start and end and end < start:
            self.add_error("end", _("The end is before the start."))
        return data


class TopUpForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False,
                                widget=forms.TextInput(attrs={"placeholder": _("voucher, receipt…")}))
