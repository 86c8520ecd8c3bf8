"""Forms of the letters screens: filters, the template editor, triggers, ad-hoc letters, resend."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.letters.constants import CHANNELS, EVENT_TYPES, PURPOSES, STATES, TRIGGER_CHANNELS


def _choices(values, blank=None):
    choices = [(v, v.replace("_", " ")) for v in values]
    return [("", blank), *choices] if blank else choices


class OutboxFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=_choices(STATES, _("Any state")), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=_choices(CHANNELS, _("Any channel")), required=False)
    q = forms.CharField(label=_("Recipient or subject"), max_length=100, required=False)


class TemplateForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40, help_text=_("What triggers name: welcome, invoice, ..."))
    channel = forms.ChoiceField(label=_("Channel"), choices=_choices(CHANNELS))
    language = forms.CharField(label=_("Language"), max_length=8, required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=_choices(PURPOSES),
                                help_text=_("Marketing letters go only to customers who opted in."))
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    subject = forms.CharField(label=_("Subject (e-mail, printed letter)"), max_length=300, required=False)
    text = forms.CharField(label=_("Text (e-mail text part, SMS)"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace small"}))
    html = forms.CharField(label=_("HTML (e-mail HTML part, printed letter)"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace small"}))
    attach_invoice = forms.BooleanField(label=_("Attach the invoice PDF"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    activate = forms.BooleanField(label=_("Use it at once"), required=False, initial=True)


class TriggerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    event_type = forms.ChoiceField(label=_("When"), choices=_choices(EVENT_TYPES))
    template_code = forms.SlugField(label=_("Template code"), max_length=40)
    channel = forms.ChoiceField(label=_("Channel"), choices=_choices(TRIGGER_CHANNELS))
    conditions = forms.CharField(
        label=_("Conditions (JSON)"), required=False, initial="[]",
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace small"}),
        help_text=_('A list of {"field": ..., "op": ..., "value": ...}; fields: payload.<key>, customer_group, '
                    'customer_kind, customer_language, service_type, subscription_status; ops: eq ne in not_in '
                    'gt gte lt lte exists missing.'))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_conditions(self):
        text = self.cleaned_data["conditions"].strip() or "[]"
        if len(text) > 10_000:
            raise forms.ValidationError(_("at most 10,000 characters"))
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("not JSON: %(error)s") % {"error": exc}) from None


class AdHocForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=_choices(CHANNELS))
    template_code = forms.SlugField(label=_("Template"), max_length=40, required=False,
                                    help_text=_("Pick a template, or write the letter below."))
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    recipient = forms.CharField(label=_("Recipient"), max_length=254, required=False,
                                help_text=_("Empty: the customer's own address or number."))


class ResendForm(forms.Form):
    recipient = forms.CharField(label=_("Send to"), max_length=254, required=False)
