"""Consents per purpose (history kept: a new row per decision), the brand's retention rules, and the
erasure facts (one row per erased customer, for the warehouse sync to consume later)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned
from telora.privacy.constants import CHANNELS, PURPOSES


def _choices(values):
    return [(v, v.replace("_", " ")) for v in values]


class Consent(BrandOwned):
    """One decision of a customer about one purpose. The latest row per purpose is what holds; older
    rows are the history and are never edited."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=32, choices=_choices(PURPOSES))
    granted = models.BooleanField(_("granted"))
    at = models.DateTimeField(_("given at"))
    channel = models.CharField(_("channel"), max_length=16, choices=_choices(CHANNELS))
    source = models.CharField(_("source"), max_length=200, blank=True)  # a form, a call, a document reference
    recorded_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    rights_area = "customers"

    class Meta:
        ordering = ["customer_id", "purpose", "-at", "-id"]
        indexes = [models.Index(fields=["customer", "purpose", "-at"], name="privacy_consent_latest")]

    def __str__(self) -> str:
        return f"{self.purpose} {'granted' if self.granted else 'refused'}"


class RetentionPolicy(BrandOwned):
    """How long a brand keeps what. Empty means "keep"; the periodic task applies the rest in chunks."""

    usage_detail_months = models.PositiveSmallIntegerField(
        _("rated usage details: months"), null=True, blank=True,
        help_text=_("Rated usage records older than this are deleted (at least 3: billing and re-rating need "
                    "recent ones)."))
    failed_record_days = models.PositiveSmallIntegerField(
        _("failed usage records: days"), null=True, blank=True,
        help_text=_("Failed usage records older than this are deleted, whatever their status."))
    closed_customer_years = models.PositiveSmallIntegerField(
        _("closed customers: years"), null=True, blank=True,
        help_text=_("Customers closed longer than this are anonymised (when nothing is open on them)."))
    updated_at = models.DateTimeField()
    last_applied_at = models.DateTimeField(null=True, blank=True)

    rights_area = "privacy"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand"], name="privacy_retention_one_per_brand")]

    def __str__(self) -> str:
        return f"retention of {self.brand_id}"


class Erasure(BrandOwned):
    """The domain fact "customer X was anonymised at T": what the warehouse sync (issue 20) will read to
    anonymise its own copies. It names fields, never their old values."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    actor_label = models.CharField(max_length=200)
    reason = models.CharField(max_length=40)  # request, retention
    fields = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    synced_at = models.DateTimeField(null=True, blank=True)  # set by the warehouse sync when it has applied it

    rights_area = "privacy"

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"erasure of customer {self.customer_id}"
