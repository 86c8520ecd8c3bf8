"""Number porting: the national operators, a brand's connection to its clearing house, the porting
requests (in and out) and every message exchanged with the clearing house (see docs/porting.md)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned

DIRECTIONS = ("in", "out")
STATES = ("draft", "submitted", "accepted", "rejected", "scheduled", "completed", "cancelled", "failed")
OPEN_STATES = ("draft", "submitted", "accepted", "scheduled")
TERMINAL = ("rejected", "completed", "cancelled", "failed")
ADAPTERS = ("portsim_json",)
# reason codes Telora gives or reads (the clearing house's own codes are kept as they come)
REASONS = {
    "UNKNOWN_NUMBER": "the number is not a live number of the donor",
    "AUTH_MISMATCH": "the authorisation data does not match the donor's customer",
    "DEBT": "the customer's debt blocks porting (as the operator configured)",
    "CONTRACT": "the subscription cannot be ported now (pending order or not active)",
    "NO_ANSWER": "the donor did not answer before the deadline",
    "CANCELLED": "cancelled before the porting window",
    "WINDOW_PASSED": "the porting window has passed",
}


class Operator(models.Model):
    """An operator of a country's numbering plan with its porting code (loaded from data/operators.csv)."""

    country = models.CharField(_("country"), max_length=2)
    code = models.CharField(_("porting code"), max_length=16)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, default="mno")  # mno or mvno

    class Meta:
        ordering = ["country", "name"]
        constraints = [models.UniqueConstraint(fields=["country", "code"], name="porting_operator_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ClearingHouse(BrandOwned):
    """How a brand reaches its country's porting clearing house: the adapter, the addresses, Telora's
    own operator code there, the donor's answer deadline, and the port-out debt rule. Credentials are
    sealed and never shown back."""

    name = models.CharField(_("name"), max_length=120)
    adapter = models.CharField(_("adapter"), max_length=20, choices=[(a, a) for a in ADAPTERS],
                               default="portsim_json")
    url = models.URLField(_("API address"))
    callback_url = models.URLField(_("callback address given to the clearing house"), blank=True)
    operator_code = models.CharField(_("our operator code"), max_length=16)
    answer_hours = models.PositiveSmallIntegerField(_("hours the donor has to answer"), default=24)
    timeout_seconds = models.PositiveSmallIntegerField(_("answer timeout (s)"), default=10)
    # None: debt never blocks a port-out (the rule of many regulators); a value: an open balance above it does
    port_out_debt_limit = models.DecimalField(_("port-out refused above this debt"), max_digits=18,
                                              decimal_places=2, null=True, blank=True)
    sealed_credentials = models.BinaryField(null=True, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    rights_area = "porting"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand"], name="porting_clearing_house_per_brand")]

    def __str__(self) -> str:
        return self.name


class PortingRequest(BrandOwned):
    """One number moving in (from a donor operator) or out (to a recipient), with its state machine:
    draft → submitted → accepted/rejected → scheduled → completed, or cancelled / failed."""

    direction = models.CharField(_("direction"), max_length=3, choices=[("in", _("port-in")), ("out", _("port-out"))])
    state = models.CharField(_("state"), max_length=12, choices=[(s, s) for s in STATES], default="draft")
    number = models.CharField(_("number"), max_length=15)  # E.164 digits without '+'
    donor_code = models.CharField(_("donor operator"), max_length=16)
    recipient_code = models.CharField(_("recipient operator"), max_length=16)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    flow_instance = models.ForeignKey("workflows.FlowInstance", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    # the customer's authorisation (account number, PIN, ID number): sealed; `authorisation_hint` is what
    # screens show (the last characters only)
    sealed_authorisation = models.BinaryField(null=True, blank=True, editable=False)
    authorisation_hint = models.CharField(_("authorisation"), max_length=120, blank=True)
    requested_date = models.DateField(_("requested date"))
    window_at = models.DateTimeField(_("porting window"), null=True, blank=True)
    answer_deadline = models.DateTimeField(_("answer deadline"), null=True, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    correlation_id = models.CharField(_("clearing house reference"), max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)  # the waiting flow was told of the answer

    rights_area = "porting"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["brand", "state", "requested_date"], name="porting_brand_state"),
            models.Index(fields=["number", "brand"], name="porting_number"),
            models.Index(fields=["correlation_id"], condition=~Q(correlation_id=""), name="porting_correlation"),
        ]
        constraints = [
            # one open porting of a number per brand and direction at a time
            models.UniqueConstraint(fields=["brand", "number", "direction"], name="porting_one_open_per_number",
                                    condition=Q(state__in=OPEN_STATES)),
        ]

    def __str__(self) -> str:
        return f"port-{self.direction} +{self.number} ({self.state})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("porting:request", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def other_operator(self) -> str:
        return self.donor_code if self.direction == "in" else self.recipient_code


class PortingMessage(BrandOwned):
    """One message with the clearing house: sent by Telora (with its answer) or received as a signed
    callback. Secrets (authorisation data, keys) are masked. An outgoing message is sent after its
    transaction commits and retried until it gets an answer (the same idempotency key each time)."""

    request = models.ForeignKey(PortingRequest, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="messages")
    clearing_house = models.ForeignKey(ClearingHouse, on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=3, choices=[("out", "out"), ("in", "in")])
    kind = models.CharField(max_length=24)  # submit, cancel, complete, answer; port_answer, port_out_request, …
    state = models.CharField(max_length=10, default="done")  # out: pending, sent, failed; in: done, refused
    payload = models.JSONField(default=dict)  # what to send (secrets sealed apart: see services.outgoing)
    sealed_payload = models.BinaryField(null=True, blank=True, editable=False)
    idempotency_key = models.CharField(max_length=160, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    url = models.CharField(max_length=500, blank=True)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    rights_area = "porting"

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["next_try_at"], condition=Q(state="pending"), name="porting_message_due")]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} ({self.state})"
