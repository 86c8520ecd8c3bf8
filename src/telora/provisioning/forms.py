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
    # a line's whole history, from its subscription page (kept as the filters change)
    subscription = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False, widget=forms.HiddenInput)


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
                                                            ("mvne_json", _("mvne_json (HTTPS/JSON, signed callbacks)")),
                                                            ("hlr_soap", _("hlr_soap (SOAP 1.1, answers in the call)")),
                                                            ("hlr_soap12", _("hlr_soap12 (SOAP 1.2, answers in the call)"))])
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
    # the SOAP adapters' WS-Security UsernameToken
    username = forms.CharField(label=_("SOAP user (WS-Security)"), max_length=200, required=False,
                               widget=forms.PasswordInput(render_value=False),
                               help_text=_("Stored sealed, never shown. Leave empty to keep the stored one."))
    password = forms.CharField(label=_("SOAP password (WS-Security)"), max_length=500, required=False,
                               widget=forms.PasswordInput(render_value=False),
                               help_text=_("Stored sealed, never shown. Leave empty to keep the stored one."))

    SECRET_FIELDS = ("api_key", "callback_secret", "username", "password")


class SequencingFileForm(forms.Form):
    """A sequencing YAML uploaded or pasted: checked first (a dry run), then applied."""

    MAX_BYTES = 256 * 1024

    file = forms.FileField(label=_("Sequencing file"), required=False,
                           help_text=_("A YAML file as `telora provisioning sequencing export` writes it."))
    text = forms.CharField(label=_("Or paste it"), required=False, strip=False, max_length=MAX_BYTES,
                           widget=forms.Textarea(attrs={"rows": 10, "class": "font-monospace", "spellcheck": "false"}))
    source_name = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > self.MAX_BYTES:
                self.add_error("file", _("The file is larger than 256 KB."))
                return data
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", _("The file is not UTF-8 text."))
                return data
            data["source"] = upload.name[:200]
        else:
            data["source"] = (data.get("source_name") or "pasted text")[:200]
        if not (data.get("text") or "").strip() and not self.errors:
            self.add_error("file", _("Choose a file or paste its text."))
        return data


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
