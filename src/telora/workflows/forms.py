"""The brand's business calendar form (weekend, working hours, public holidays)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

WEEKDAYS = [(1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")), (5, _("Friday")),
            (6, _("Saturday")), (7, _("Sunday"))]


class BusinessCalendarForm(forms.Form):
    weekend = forms.TypedMultipleChoiceField(label=_("Weekend"), choices=WEEKDAYS, coerce=int, required=False,
                                             widget=forms.CheckboxSelectMultiple)
    opens = forms.TimeField(label=_("Working hours open"), widget=forms.TimeInput(attrs={"type": "time"}))
    closes = forms.TimeField(label=_("Working hours close"), widget=forms.TimeInput(attrs={"type": "time"}))
    holidays = forms.CharField(label=_("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 14}),
                               help_text=_("One a line: YYYY-MM-DD name. Due times and timers in business time "
                                           "skip these days, the weekend and the hours outside working hours."))
