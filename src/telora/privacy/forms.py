from django import forms
from django.utils.translation import gettext_lazy as _

from telora.privacy.constants import CHANNELS, PURPOSES
from telora.privacy.models import RetentionPolicy


def _choices(values):
    return [(v, v.replace("_", " ")) for v in values]


SMALL = {"class": "form-select form-select-sm"}


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=_choices(PURPOSES), widget=forms.Select(attrs=SMALL))
    granted = forms.TypedChoiceField(label=_("Decision"), choices=[("yes", _("granted")), ("no", _("refused"))],
                                     coerce=lambda v: v == "yes", widget=forms.Select(attrs=SMALL))
    channel = forms.ChoiceField(label=_("Channel"), choices=_choices(CHANNELS), initial="phone",
                                widget=forms.Select(attrs=SMALL))
    source = forms.CharField(label=_("Source"), max_length=200, required=False,
                             help_text=_("Where it was given: a call, a form, a document reference."))


class RetentionForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["usage_detail_months", "failed_record_days", "closed_customer_years"]
