from django import forms
from django.utils.translation import gettext_lazy as _

from telora.provisioning.models import OPERATIONS, STATES

AGES = [("", _("Any age")), ("1h", _("Last hour")), ("1d", _("Last day")), ("7d", _("Last week")),
        ("stuck", _("Open for over an hour"))]


def _choices(values, empty):
    return [("", empty), *((v, v.replace("_", " ")) for v in values)]


class LogFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=_choices(STATES, _("Any state")), required=False)
    operation = forms.ChoiceField(label=_("Operation"), choices=_choices(OPERATIONS, _("Any operation")),
                                  required=False)
    target = forms.CharField(label=_("Target"), max_length=40, required=False)
    age = forms.ChoiceField(label=_("Age"), choices=AGES, required=False)
    q = forms.CharField(label=_("Number or reference"), max_length=100, required=False)


class ManualForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("completed", _("Done at the operator")),
                                                            ("failed", _("Could not be done"))])
    reference = forms.CharField(label=_("Operator's reference"), max_length=120, required=False)
    reason = forms.CharField(label=_("Reason (when it failed)"), max_length=500, required=False)
