"""Forms of the billing screens: starting a test run, comparing runs, the invoice search, an
adjustment and the brand's billing settings."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.billing.models import INVOICE_STATUSES, BillingSettings, BillRun
from telora.catalog.models import BillCycle, BillingGroup

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _owners(brand) -> list[int]:
    from telora.catalog.selectors import catalogue_owners

    return catalogue_owners(brand) if brand is not None else []


class RunStartForm(forms.Form):
    cycle = forms.ChoiceField(label=_("Bill cycle"))
    period = forms.CharField(label=_("Period"), max_length=7, help_text=_("The month the period starts in: YYYY-MM."),
                             widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "autocomplete": "off"}))
    groups = forms.MultipleChoiceField(label=_("Billing groups"), required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=_("None chosen: every account of the cycle."))

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        owners = _owners(brand)
        self.fields["cycle"].choices = [(c.code, f"{c.code} · {c.name}")
                                        for c in BillCycle.objects.filter(brand_id__in=owners).order_by("code")]
        self.fields["groups"].choices = [(g.code, f"{g.code} · {g.name}")
                                         for g in BillingGroup.objects.filter(brand_id__in=owners).order_by("code")]

    def clean_period(self):
        value = self.cleaned_data["period"].strip()
        if not PERIOD.match(value):
            raise forms.ValidationError(_("Give the month as YYYY-MM."))
        return value


class CompareForm(forms.Form):
    other = forms.ModelChoiceField(label=_("Compare with"), queryset=BillRun.objects.none())

    def __init__(self, *args, run=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = (BillRun.objects.for_user(user).filter(brand_id=run.brand_id)
                                         .exclude(pk=run.pk).select_related("cycle").order_by("-id"))
        self.fields["other"].label_from_instance = lambda r: (
            f"#{r.pk} {r.kind} {r.cycle.code} {r.period_start:%Y-%m} ({r.status})")


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(
        attrs={"placeholder": _("invoice, account or customer number, or name"), "autocomplete": "off"}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *((s, s) for s in INVOICE_STATUSES)])
    run = forms.IntegerField(label=_("Run"), required=False, min_value=1)
    period = forms.CharField(label=_("Period"), required=False, max_length=7,
                             widget=forms.TextInput(attrs={"placeholder": "YYYY-MM", "autocomplete": "off"}))

    def clean_period(self):
        value = (self.cleaned_data.get("period") or "").strip()
        if value and not PERIOD.match(value):
            raise forms.ValidationError(_("Give the month as YYYY-MM."))
        return value


class AdjustmentForm(forms.Form):
    account = forms.CharField(label=_("Billing account"), max_length=40,
                              widget=forms.TextInput(attrs={"placeholder": _("account number"), "autocomplete": "off"}))
    amount = forms.DecimalField(label=_("Net amount"), max_digits=18, decimal_places=6,
                                help_text=_("Negative credits the customer, positive debits; billed on the next "
                                            "invoice, tax added there."))
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class BillingSettingsForm(forms.ModelForm):
    """The brand's billing settings (services.settings.update_settings judges the values)."""

    class Meta:
        model = BillingSettings
        fields = ["payment_terms_days", "iban", "large_adjustment", "late_usage_periods", "late_usage_report_periods",
                  "prepaid_renewal_policy", "prepaid_renewal_grace"]
        help_texts = {
            "prepaid_renewal_policy": _("A prepaid line's plan and add-on fees are taken from its balance on the "
                                        "first day of each period. When the balance cannot pay: skip the "
                                        "renewal (the bundles wait until a top-up pays) and notify, or renew "
                                        "anyway within the grace below."),
            "prepaid_renewal_grace": _("How far below zero a renewal may take the balance (renew anyway); "
                                       "beyond it the renewal is skipped."),
            "large_adjustment": _("Adjustments of this amount or more need the right for large adjustments."),
        }

    def clean_prepaid_renewal_grace(self):
        value = self.cleaned_data["prepaid_renewal_grace"]
        if value is not None and value < 0:
            raise forms.ValidationError(_("The grace is how far below zero: 0 or more."))
        return value
