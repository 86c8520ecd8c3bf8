"""The config-as-code page: a catalogue file uploaded (or pasted) to check and apply."""

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.catalog.forms.base import EffectiveFromField

MAX_BYTES = 5 * 1024 * 1024


class CatalogFileForm(forms.Form):
    file = forms.FileField(label=_("Catalogue file"), required=False, help_text=_("A YAML file as `telora config "
                                                                                  "export` writes it."))
    text = forms.CharField(label=_("Or paste it"), required=False, strip=False, widget=forms.Textarea(
        attrs={"rows": 8, "class": "font-monospace", "spellcheck": "false"}))
    effective_from = EffectiveFromField(help_text=_(
        "New prices and rates hold from this date. Empty: today in the brand's timezone."))
    source_name = forms.CharField(required=False, widget=forms.HiddenInput)  # a checked file's name

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_BYTES:
                self.add_error("file", _("The file is larger than 5 MB."))
                return data
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", _("The file is not UTF-8 text."))
                return data
            data["source"] = upload.name
        else:
            data["source"] = (data.get("source_name") or "pasted text")[:200]
        if not (data.get("text") or "").strip() and not self.errors:
            self.add_error("file", _("Choose a file or paste its text."))
        return data
