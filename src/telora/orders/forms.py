from django import forms
from django.utils.translation import gettext_lazy as _

from telora.orders.constants import ORDER_TYPES, STATES


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Number"), required=False, max_length=32)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("any"))] + [(s, s) for s in STATES])
    order_type = forms.ChoiceField(label=_("Type"), required=False,
                                   choices=[("", _("any"))] + [(t, t.replace("_", " ")) for t in ORDER_TYPES])
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=32)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    desk = forms.SlugField(label=_("Waiting at desk"), required=False, max_length=64,
                           help_text=_("a desk code: credit, network, …"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
