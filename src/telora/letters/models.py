"""Templates (versioned per brand, code, channel and language), triggers (event type -> template), the
outbox (one Letter row per message, with what was rendered and what the gateway said), print batches
and customers' letter preferences."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned
from telora.letters.constants import CHANNELS, PURPOSES, STATES, TRIGGER_CHANNELS


def _choices(values):
    return [(v, v.replace("_", " ")) for v in values]


class LetterTemplate(BrandOwned):
    """One version of a brand's template for a code ("welcome"), channel and language. A save adds a
    version; old versions are never edited; at most one per (code, channel, language) is active."""

    code = models.SlugField(_("code"), max_length=40)
    channel = models.CharField(_("channel"), max_length=8, choices=_choices(CHANNELS))
    language = models.CharField(_("language"), max_length=8)
    version = models.PositiveIntegerField(_("version"))
    active = models.BooleanField(_("active"), default=False)
    purpose = models.CharField(_("purpose"), max_length=10, choices=_choices(PURPOSES), default="service")
    name = models.CharField(_("name"), max_length=120, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)  # e-mail only
    text = models.TextField(_("text"), blank=True)  # e-mail text part, the SMS
    html = models.TextField(_("HTML"), blank=True)  # e-mail HTML part, the printed letter's body
    attachments = models.JSONField(_("attachments"), default=list, blank=True)  # names: "invoice_pdf"
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)

    rights_area = "letters"

    class Meta:
        ordering = ["code", "channel", "language", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "code", "channel", "language", "version"],
                                    name="letters_template_version_once"),
            models.UniqueConstraint(fields=["brand", "code", "channel", "language"], condition=Q(active=True),
                                    name="letters_template_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.channel} {self.language} v{self.version}"


class Trigger(BrandOwned):
    """When an event of `event_type` happens in the brand and every condition holds, a letter from the
    template `template_code` goes out on `channel`. Conditions are data: [{"field", "op", "value"}]."""

    name = models.CharField(_("name"), max_length=120)
    event_type = models.CharField(_("event type"), max_length=60)
    template_code = models.SlugField(_("template"), max_length=40)
    channel = models.CharField(_("channel"), max_length=10, choices=_choices(TRIGGER_CHANNELS))
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    rights_area = "letters"

    class Meta:
        ordering = ["event_type", "name"]
        indexes = [models.Index(fields=["brand", "event_type"], name="letters_trigger_event")]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.template_code} ({self.channel})"


class PrintBatch(BrandOwned):
    """Printed letters handed to the print house together: one PDF and a manifest CSV."""

    number = models.PositiveIntegerField(_("batch"))
    letters_count = models.PositiveIntegerField(_("letters"), default=0)
    pdf = models.CharField(max_length=300)
    manifest = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    printed_at = models.DateTimeField(_("printed"), null=True, blank=True)
    printed_by = models.CharField(max_length=200, blank=True)

    rights_area = "letters"

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["brand", "number"], name="letters_batch_number_once")]

    def __str__(self) -> str:
        return f"print batch {self.number}"


class Letter(BrandOwned):
    """One message in the outbox: to whom, what exactly (rendered once, kept), and what became of it."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=_choices(CHANNELS))
    purpose = models.CharField(_("purpose"), max_length=10, choices=_choices(PURPOSES), default="service")
    recipient = models.CharField(_("recipient"), max_length=254)  # e-mail, E.164 digits, or the address lines
    template = models.ForeignKey(LetterTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    language = models.CharField(_("language"), max_length=8, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    attachments = models.JSONField(default=list, blank=True)  # [{"name", "path", "content_type"}] in storage
    pdf = models.CharField(max_length=300, blank=True)  # printed letters: the rendered letter in storage
    state = models.CharField(_("state"), max_length=10, choices=_choices(STATES), default="queued")
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(_("provider reference"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    log = models.JSONField(default=list, blank=True)  # [{"at", "what", "detail"}]: each try, receipt, resend
    idempotency_key = models.CharField(max_length=200)
    trigger = models.ForeignKey(Trigger, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    event_id = models.CharField(max_length=64, blank=True)
    print_batch = models.ForeignKey(PrintBatch, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="letters")
    resend_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"))
    created_by = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    rights_area = "letters"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["brand", "idempotency_key"], name="letters_letter_key_once")]
        indexes = [
            models.Index(fields=["state", "next_try_at"], name="letters_letter_due",
                         condition=Q(state__in=["queued", "sending"])),
            models.Index(fields=["customer", "-created_at"], name="letters_letter_customer"),
            models.Index(fields=["channel", "provider_ref"], name="letters_letter_provider_ref",
                         condition=~Q(provider_ref="")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} letter {self.pk} to {self.recipient}"


class LetterPreference(BrandOwned):
    """How a customer wants to hear from the brand (empty: the brand's default)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("preferred channel"), max_length=8, choices=_choices(CHANNELS), blank=True)
    updated_at = models.DateTimeField()

    rights_area = "customers"

    def __str__(self) -> str:
        return f"prefers {self.channel or 'default'}"
