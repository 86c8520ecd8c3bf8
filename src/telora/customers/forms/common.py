"""What several customer forms share: catalogue rows a brand may use today, languages, countries."""

from __future__ import annotations

from babel import Locale
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from telora.catalog.selectors import catalogue_owners
from telora.core import clock

LANGUAGE_CODES = ("en", "nl", "de", "fr", "es", "it", "pt", "da", "sv", "nb", "fi", "pl", "tr", "ar")


def catalogue_rows(model, brand):
    """`model` rows (customer groups, bill cycles…) of the catalogues the brand sells, in effect today.

    Read without catalog rights on purpose: a CSR picks a customer group without opening the catalogue.
    """
    if brand is None:
        return model.objects.none()
    return (model.objects.at(clock.today(brand)).filter(brand_id__in=catalogue_owners(brand))
            .select_related("brand").order_by("code"))


class CatalogueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code})"


def _locale():
    try:
        return Locale.parse(translation.get_language() or "en", sep="-")
    except (ValueError, TypeError):
        return Locale("en")


def language_choices(brand=None):
    locale = _locale()
    codes = list(LANGUAGE_CODES)
    if brand is not None and brand.language not in codes:
        codes.insert(0, brand.language)
    named = [(code, (locale.languages.get(code) or code).capitalize()) for code in codes]
    return [("", _("Brand default"))] + sorted(named, key=lambda pair: pair[1])


def country_choices():
    territories = _locale().territories
    return sorted(((code, name) for code, name in territories.items() if len(code) == 2 and code.isalpha()),
                  key=lambda pair: pair[1])


def text(label, max_length, required=False, **attrs):
    return forms.CharField(label=label, max_length=max_length, required=required,
                           widget=forms.TextInput(attrs=attrs) if attrs else None)
