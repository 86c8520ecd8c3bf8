"""Provisioning towards networks: where a brand's requests go (targets), the requests, and every
exchange on the wire (see docs/provisioning.md)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned

OPERATIONS = ("create", "change_services", "bar", "unbar", "sim_swap", "number_change", "delete")
STATES = ("queued", "sent", "acknowledged", "completed", "failed", "cancelled")
TERMINAL = ("completed", "failed", "cancelled")
# a later answer never takes a request back (an out-of-order "in progress" after "completed")
RANK = {"queued": 0, "sent": 1, "acknowledged": 2, "completed": 3, "failed": 3, "cancelled": 3}
ADAPTERS = ("manual", "mvne_json", "hlr_soap", "hlr_soap12")


class NetworkTarget(BrandOwned):
    """A system a brand provisions (the host operator's HLR/HSS through its API, …) and the adapter that
    reaches it. Credentials are sealed (core.sealing) and never shown back."""

    code = models.SlugField(_("code"), max_length=40, default="network")
    name = models.CharField(_("name"), max_length=120)
    adapter = models.CharField(_("adapter"), max_length=20, choices=[(a, a) for a in ADAPTERS], default="manual")
    url = models.URLField(_("API address"), blank=True)
    callback_url = models.URLField(_("callback address given to the operator"), blank=True)
    desk = models.SlugField(_("desk of the manual adapter"), max_length=64, default="network")
    timeout_seconds = models.PositiveSmallIntegerField(_("answer timeout (s)"), default=10)
    max_tries = models.PositiveSmallIntegerField(_("tries before a request fails"), default=6)
    sealed_credentials = models.BinaryField(null=True, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    rights_area = "provisioning"

    class Meta:
        ordering = ["brand_id", "code"]
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="provisioning_target_code_per_brand")]

    def __str__(self) -> str:
        return f"{self.name} ({self.adapter})"


class ProvisioningRequest(BrandOwned):
    """One operation asked of one target for one line, with its state, tries and answers. The
    idempotency key (the flow step, without its try) is sent with every try: the target carries out a
    request once whatever the number of tries."""

    target = models.ForeignKey(NetworkTarget, on_delete=models.PROTECT, related_name="requests")
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    flow_instance = models.ForeignKey("workflows.FlowInstance", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    step_key = models.CharField(max_length=120, blank=True)
    operation = models.CharField(_("operation"), max_length=20, choices=[(o, o) for o in OPERATIONS])
    payload = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=16, choices=[(s, s) for s in STATES], default="queued")
    tries = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=160, unique=True)
    correlation_id = models.CharField(_("operator's reference"), max_length=120, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)  # the flow waiting for it was told
    # sequencing: the requests one order operation became share a group (the flow step's key) and run in
    # their position's order; `step` is the sequencing's step name (docs/provisioning.md, Sequencing)
    group_key = models.CharField(max_length=160, blank=True)
    step = models.CharField(_("step"), max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    rights_area = "provisioning"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_try_at"], condition=Q(state="queued"), name="provisioning_due"),
            models.Index(fields=["brand", "state", "created_at"], name="provisioning_brand_state"),
            models.Index(fields=["target", "correlation_id"], name="provisioning_correlation"),
            # one line's open requests, oldest first: a request waits for the line's earlier ones
            models.Index(fields=["subscription", "id"], condition=Q(state__in=("queued", "sent", "acknowledged")),
                         name="provisioning_line_open"),
            models.Index(fields=["group_key", "position"], condition=~Q(group_key=""), name="provisioning_group"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.payload.get('msisdn', '')} ({self.state})".strip()

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    def shown_payload(self) -> dict:
        """The payload as screens show it: secrets masked (the adapter sends the real one)."""
        from telora.provisioning.adapters import mask

        return mask(self.payload)


class ProvisioningExchange(BrandOwned):
    """One message on the wire: a request sent and its answer, or a callback received (secrets masked)."""

    request = models.ForeignKey(ProvisioningRequest, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="exchanges")
    target = models.ForeignKey(NetworkTarget, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=[("request", "request"), ("callback", "callback"),
                                                    ("manual", "manual"), ("poll", "poll")])
    url = models.CharField(max_length=500, blank=True)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    rights_area = "provisioning"

    class Meta:
        ordering = ["at", "id"]


class Sequencing(BrandOwned):
    """A brand's sequencing for one target: the network steps of each order operation, as a checked
    document (provisioning/sequencing.py cleans it; `telora provisioning sequencing` applies and exports it)."""

    target = models.OneToOneField(NetworkTarget, on_delete=models.CASCADE, related_name="sequencing")
    document = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    source = models.CharField(_("applied from"), max_length=200, blank=True)
    updated_at = models.DateTimeField()

    rights_area = "provisioning"

    class Meta:
        ordering = ["brand_id", "target_id"]

    def __str__(self) -> str:
        return f"sequencing of {self.target.code} (version {self.version})"


BREAKER_STATES = ("closed", "open", "half_open")


class TargetReliability(BrandOwned):
    """A target's circuit breaker and how lost answers are chased (provisioning/breaker.py, polling.py).

    The breaker is shared by every worker through this row: `closed` sends; `open` sends nothing until
    `retry_at` (the requests stay queued, no try taken); then `half_open` lets one probe through (held
    by `probe_until`, so a dead worker's probe is taken over) and closes on its success or opens again.
    One row per target, made with the defaults when first needed."""

    target = models.OneToOneField(NetworkTarget, on_delete=models.CASCADE, related_name="reliability")
    # settings
    failure_threshold = models.PositiveSmallIntegerField(_("consecutive failures that open the breaker"), default=5)
    failure_rate = models.PositiveSmallIntegerField(_("failure rate that opens it (%)"), default=50)
    window_size = models.PositiveSmallIntegerField(_("tries the rate is measured over"), default=20)
    cooldown_seconds = models.PositiveIntegerField(_("cool-down before a probe (s)"), default=30)
    poll_after_seconds = models.PositiveIntegerField(_("ask the operator after this long without an answer (s)"),
                                                     default=300)
    give_up_hours = models.PositiveSmallIntegerField(_("fail a request unanswered after (h)"), default=24)
    # state
    state = models.CharField(_("breaker"), max_length=10, choices=[(s, s) for s in BREAKER_STATES], default="closed")
    consecutive_failures = models.PositiveIntegerField(default=0)
    recent = models.CharField(max_length=200, blank=True)  # the last tries, oldest first: "1" answered, "0" failed
    opened_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)  # open: when a probe may go
    probe_until = models.DateTimeField(null=True, blank=True)  # half open: the probe's lease
    last_error = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    rights_area = "provisioning"

    def __str__(self) -> str:
        return f"{self.target_id}: {self.state}"


# --- barring (provisioning/barring.py) -------------------------------------------------------------------

BAR_REASONS = ("balance", "order", "dunning")
BAR_AT = ("zero", "low", "off")
BAR_SCOPES = ("outgoing", "all")
# what "outgoing chargeable" means at the network unless the brand lists its own (service codes the host
# operator knows: outgoing calls, outgoing SMS, data, premium-rate and roaming)
CHARGEABLE_SERVICES = ("voice_out", "sms_out", "data", "premium", "roaming")


class BarringSettings(BrandOwned):
    """How a brand bars prepaid lines that run out of balance: at which level (zero, or the line's
    low-balance threshold, or never), what the network bars (outgoing chargeable services, or everything),
    the grace below zero left for usage already in flight, and which target is asked. One row per brand;
    a brand without one has the defaults (bar at zero, outgoing chargeable, no grace, target `network`)."""

    bar_at = models.CharField(_("bar when the balance reaches"), max_length=8, choices=[(c, c) for c in BAR_AT],
                              default="zero")
    scope = models.CharField(_("what is barred"), max_length=10, choices=[(c, c) for c in BAR_SCOPES],
                             default="outgoing")
    services = models.JSONField(_("services barred (outgoing chargeable)"), default=list)
    grace = models.DecimalField(_("grace below zero for usage in flight"), max_digits=18, decimal_places=6,
                                default=0)
    target_code = models.SlugField(_("target"), max_length=40, default="network")
    updated_at = models.DateTimeField()

    rights_area = "provisioning"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand"], name="provisioning_barring_settings_per_brand"),
                       models.CheckConstraint(condition=Q(grace__gte=0), name="provisioning_barring_grace_positive")]

    def barred_services(self) -> list[str]:
        """What a balance bar asks the network to bar."""
        if self.scope == "all":
            return ["all"]
        return sorted(self.services or CHARGEABLE_SERVICES)


class LineBar(BrandOwned):
    """One reason a line is barred (balance, order suspension, dunning), from when to when, and the
    network requests it caused. Reasons are tracked apart: the network is asked to bar what the open
    reasons together need, and to unbar only when none is left. At most one open bar per line and reason."""

    subscription = models.ForeignKey("customers.Subscription", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=12, choices=[(r, r) for r in BAR_REASONS])
    services = models.JSONField(_("services barred"), default=list)  # ["all"]: everything
    started_at = models.DateTimeField()
    started_by = models.CharField(max_length=80)  # event:<id>, order:<id>, a person
    since = models.DateTimeField(null=True, blank=True)  # the balance reached the level (the record's time)
    balance = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)  # when it started
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=80, blank=True)
    bar_request = models.ForeignKey(ProvisioningRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    end_request = models.ForeignKey(ProvisioningRequest, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    rights_area = "provisioning"

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "reason"], condition=Q(ended_at__isnull=True),
                                               name="provisioning_one_open_bar_per_reason")]
        indexes = [models.Index(fields=["brand", "reason"], condition=Q(ended_at__isnull=True),
                                name="provisioning_open_bars")]

    def __str__(self) -> str:
        return f"{self.reason} bar of {self.subscription_id}"

    @property
    def open(self) -> bool:
        return self.ended_at is None
