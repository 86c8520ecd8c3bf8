"""The brand form (system administrators only)."""

import zoneinfo

from babel import Locale
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from telora.core import rights

MAX_LOGO_BYTES = 512 * 1024
# Raster images only: an SVG logo could carry script, and logos are served from our own origin.
LOGO_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
}


def timezone_choices():
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
            if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/"))]


def country_choices():
    territories = Locale("en").territories
    return sorted(((code, f"{name} ({code})") for code, name in territories.items()
                   if len(code) == 2 and code.isalpha()), key=lambda c: c[1])


def installed_modules() -> list[str]:
    from telora.core.modules import installed, switchable

    return [m for m in switchable() if m in installed()]


def language_choices():
    return list(settings.LANGUAGES)


class ColourInput(forms.TextInput):
    input_type = "color"

    def __init__(self, attrs=None):
        super().__init__({"class": "form-control-color", **(attrs or {})})


def logo_kind(upload) -> str | None:
    head = upload.read(8)
    upload.seek(0)
    for signature, kind in LOGO_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF":
        upload.seek(8)
        is_webp = upload.read(4) == b"WEBP"
        upload.seek(0)
        return "webp" if is_webp else None
    return None


class BrandForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=32,
                           help_text=_("Short and permanent: used in numbers, files and the API."))
    name = forms.CharField(label=_("Name"), max_length=120)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3,
                               help_text=_("ISO 4217, e.g. EUR."))
    timezone = forms.ChoiceField(label=_("Timezone"), choices=timezone_choices,
                                 help_text=_("Business days (bill cycles, time bands) follow this timezone."))
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    language = forms.ChoiceField(label=_("Language"), choices=language_choices,
                                 help_text=_("The language of letters and invoices to customers."))
    logo = forms.FileField(label=_("Logo"), required=False,
                           help_text=_("PNG, JPEG, GIF or WebP, at most 512 KB."))
    primary_colour = forms.CharField(label=_("Primary colour"), widget=ColourInput, initial="#206bc4")
    secondary_colour = forms.CharField(label=_("Secondary colour"), widget=ColourInput, initial="#1e293b")
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                   help_text=_("Nobody works in an inactive brand."))
    modules = forms.MultipleChoiceField(
        label=_("Modules"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("The parts of Telora this brand uses; the others leave its menus, screens and API."))

    def __init__(self, *args, brand=None, **kwargs):
        if brand is not None:
            current = {name: getattr(brand, name) for name in (
                "code", "name", "currency", "timezone", "country", "language",
                "primary_colour", "secondary_colour", "is_active")}
            current["modules"] = [m for m in installed_modules() if m not in brand.modules_off]
            kwargs["initial"] = {**current, **(kwargs.get("initial") or {})}
        else:
            kwargs["initial"] = {"modules": list(installed_modules()), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.fields["modules"].choices = [(m, rights.get_area(m).label) for m in installed_modules()]
        if brand is not None:
            self.fields["code"].disabled = True  # numbers and files already carry it

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo:
            return None
        if logo.size > MAX_LOGO_BYTES:
            raise forms.ValidationError(_("The logo is larger than 512 KB."))
        if logo_kind(logo) is None:
            raise forms.ValidationError(_("The logo must be a PNG, JPEG, GIF or WebP image."))
        return logo

    def values(self) -> dict:
        """What to hand the brand service: every field, the logo only when a new one came."""
        data = {name: value for name, value in self.cleaned_data.items() if name not in ("logo", "modules")}
        data["modules_off"] = [m for m in installed_modules() if m not in self.cleaned_data.get("modules", [])]
        if self.fields["code"].disabled:
            data.pop("code")
        if self.cleaned_data.get("logo"):
            data["logo"] = self.cleaned_data["logo"]
        return data
