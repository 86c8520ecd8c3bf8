"""Filter forms of the audit log and the job list."""

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.core.models import Brand, Job
from telora.ui.forms.fields import BrandChoiceField, DateTimeLocalInput
from telora.ui.forms.users import brands_where


class AuditFilterForm(forms.Form):
    object_type = forms.CharField(label=_("Object type"), required=False,
                                  widget=forms.TextInput(attrs={"placeholder": "core.user"}))
    object_id = forms.CharField(label=_("Object id"), required=False)
    actor = forms.CharField(label=_("User"), required=False, widget=forms.TextInput(
        attrs={"placeholder": _("user, api-key:…, job:…"), "title": _("User name, API key or job that made the change.")}))
    action = forms.CharField(label=_("Action"), required=False,
                             widget=forms.TextInput(attrs={"placeholder": "update"}))
    brand = BrandChoiceField(label=_("Brand"), queryset=Brand.objects.none(), required=False,
                             empty_label=_("All brands"))
    since = forms.DateTimeField(label=_("From"), required=False, widget=DateTimeLocalInput())
    until = forms.DateTimeField(label=_("Until"), required=False, widget=DateTimeLocalInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands_where(user, "audit.view")

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            self.add_error("until", _("Must be later than the start."))
        return data


STATUS_CHOICES = [("", _("Any status"))] + list(Job.Status.choices)


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
