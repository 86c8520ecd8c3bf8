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


class TargetForm(forms.Form):
    """A brand's target. The secret fields are write-only: empty keeps what is stored."""

    code = forms.SlugField(label=_("Code"), max_length=40, initial="network")
    name = forms.CharField(label=_("Name"), max_length=120)
    adapter = forms.ChoiceField(label=_("Adapter"), choices=[("manual", _("manual (a person at a desk)")),
                                                            ("mvne_json", _("mvne_json (HTTPS/JSON, signed callbacks)"))])
    url = forms.URLField(label=_("API address"), required=False, assume_scheme="https")
    callback_url = forms.URLField(label=_("Callback address given to the operator"), required=False,
                                    assume_scheme="https")
    desk = forms.SlugField(label=_("Desk of the manual adapter"), max_length=64, initial="network")
    timeout_seconds = forms.IntegerField(label=_("Answer timeout (s)"), min_value=1, max_value=120, initial=10)
    max_tries = forms.IntegerField(label=_("Tries before a request fails"), min_value=1, max_value=30, initial=6)
    api_key = forms.CharField(label=_("API key"), required=False, widget=forms.PasswordInput(render_value=False),
                              help_text=_("Stored sealed, never shown. Leave empty to keep the stored one."))
    callback_secret = forms.CharField(label=_("Callback signing secret"), required=False,
                                      widget=forms.PasswordInput(render_value=False),
                                      help_text=_("Stored sealed, never shown. Leave empty to keep the stored one."))


class BarringForm(forms.Form):
    """The brand's barring from balance (provisioning/barring.py)."""

    bar_at = forms.ChoiceField(label=_("Bar a prepaid line when its balance reaches"), choices=[
        ("zero", _("zero")), ("low", _("its low-balance threshold (the plan's, else the rating settings')")),
        ("off", _("never (no barring from balance)"))])
    scope = forms.ChoiceField(label=_("What the network bars"), choices=[
        ("outgoing", _("outgoing chargeable services (listed below)")), ("all", _("everything"))])
    services = forms.CharField(label=_("Outgoing chargeable services"), max_length=900, required=False,
                               help_text=_("Service codes the host operator knows, separated by spaces or commas."))
    grace = forms.DecimalField(label=_("Grace below zero for usage in flight"), min_value=0, max_digits=18,
                               decimal_places=6, initial=0,
                               help_text=_("How far below zero usage already under way when the bar is asked may take "
                                           "the balance before it is shown as beyond the grace."))
    target_code = forms.SlugField(label=_("Network target"), max_length=40, initial="network")
