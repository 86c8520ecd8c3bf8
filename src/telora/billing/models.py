"""Billing storage: bill runs and their invoices, the charge marks that make "each charge once per
period" a database guarantee, the accounts-receivable ledger (append-only), CSR adjustments,
parked accounts, and a brand's billing settings."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telora.core.models.brands import BrandOwned

AMOUNT = {"max_digits": 18, "decimal_places": 6}
RUN_KINDS = ("test", "production")
RUN_STATUSES = ("queued", "running", "held", "done", "failed")  # held: services.approval
INVOICE_STATUSES = ("draft", "final")
LINE_KINDS = ("recurring", "proration", "credit", "discount", "one_time", "adjustment", "usage")
MARK_KINDS = ("recurring", "credit", "one_time", "usage", "adjustment")
AR_CAUSES = ("invoice", "credit_note", "payment", "adjustment")
RENEWAL_POLICIES = ("skip_bundles", "go_negative")


def _choices(values):
    return [(v, v) for v in values]


class BillingSettings(BrandOwned):
    """A brand's payment terms and bank account on invoices, the amount above which an
    adjustment needs billing.adjust_large, late usage lookback, and what a prepaid renewal does
    when the balance cannot pay (services.renewals)."""

    rights_area = "billing"

    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=14)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    large_adjustment = models.DecimalField(_("large adjustment from"), max_digits=18, decimal_places=2, default=500)
    # Late usage: how many billed periods before a run's period are checked for usage rated after
    # they were billed (billed as late usage), and how many periods before those are checked only
    # to report what is left unbilled. Each period checked is read once a run, so they cost time.
    late_usage_periods = models.PositiveSmallIntegerField(_("late usage: periods billed back"), default=3)
    late_usage_report_periods = models.PositiveSmallIntegerField(_("late usage: periods reported beyond"),
                                                                 default=3)
    # Prepaid renewals: skip_bundles renews only what the balance pays; go_negative renews anyway
    # while the balance stays at or above -grace (beyond it: skipped as well).
    prepaid_renewal_policy = models.CharField(_("prepaid renewal when the balance cannot pay"), max_length=16,
                                              choices=[("skip_bundles", _("do not renew the bundles; notify")),
                                                       ("go_negative", _("renew; the balance may go negative"))],
                                              default="skip_bundles")
    prepaid_renewal_grace = models.DecimalField(_("negative balance grace"), max_digits=18, decimal_places=2,
                                                default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand"], name="billing_settings_once"),
                       models.CheckConstraint(condition=Q(prepaid_renewal_grace__gte=0),
                                              name="billing_renewal_grace_positive")]


class BillRun(BrandOwned):
    rights_area = "billing"

    kind = models.CharField(_("kind"), max_length=10, choices=_choices(RUN_KINDS))
    status = models.CharField(_("status"), max_length=10, choices=_choices(RUN_STATUSES), default="queued")
    cycle = models.ForeignKey("catalog.BillCycle", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    groups = models.JSONField(_("billing groups"), default=list, blank=True)  # codes; empty: all
    summary = models.JSONField(default=dict, blank=True)
    accounts_total = models.IntegerField(default=0)
    accounts_done = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    approved_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.kind} run {self.pk} {self.period_start:%Y-%m}"


class Invoice(BrandOwned):
    rights_area = "billing"

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="invoices")
    account = models.ForeignKey("customers.BillingAccount", on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("number"), max_length=40, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=_choices(INVOICE_STATUSES))
    period_start = models.DateField()
    period_end = models.DateField()
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3)
    net = models.DecimalField(**AMOUNT)
    tax = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)
    credit_note = models.BooleanField(default=False)
    document = models.JSONField(default=dict)
    pdf = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "number"], name="billing_invoice_number",
                                    condition=Q(number__isnull=False)),
            models.UniqueConstraint(fields=["run", "account"], name="billing_invoice_once_a_run"),
        ]

    def __str__(self):
        return self.number or f"draft {self.pk}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.IntegerField()
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    kind = models.CharField(max_length=12, choices=_choices(LINE_KINDS))
    description = models.CharField(max_length=300)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    quantity = models.DecimalField(**AMOUNT)
    unit_price = models.DecimalField(**AMOUNT, null=True, blank=True)
    amount = models.DecimalField(**AMOUNT)
    tax_code = models.CharField(max_length=40, blank=True)
    service = models.CharField(max_length=8, blank=True)
    zone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["invoice_id", "position"]

    def __str__(self):
        return f"{self.kind} {self.description} {self.amount}"


class ChargeMark(models.Model):
    """A charge billed by a production run: `key` says what (a product instance's id for recurring,
    credit and one-time charges, the subscription's id for usage, the adjustment's id), `period_start`
    for which period. The unique constraint is the guarantee: a charge is billed once a period.
    `run` is None on the marks a migration import wrote for what the old system billed before the
    line came to Telora (docs/migration.md): billed, but by no run of Telora's."""

    brand = models.ForeignKey("core.Brand", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=_choices(MARK_KINDS))
    key = models.CharField(max_length=80)
    period_start = models.DateField()
    period_end = models.DateField()
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    price = models.DecimalField(**AMOUNT, null=True, blank=True)  # recurring: the price a period billed
    covered_to = models.DateField(null=True, blank=True)  # recurring: billed only up to here
    # usage: what this mark billed of the period's rated usage (exact sums; None on marks written
    # before late usage was billed, whose periods are not checked); `detail` per service and zone:
    # [[service, zone, count, quantity, amount], ...]. A period's later "late usage" marks have the
    # key "<subscription>:late:<n>" (n = 1, 2, ...): the unique constraint refuses a late bill twice.
    count = models.BigIntegerField(null=True, blank=True)
    quantity = models.BigIntegerField(null=True, blank=True)
    amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    detail = models.JSONField(null=True, blank=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    run = models.ForeignKey(BillRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "kind", "key", "period_start"],
                                               name="billing_charge_once_a_period")]
        indexes = [models.Index(fields=["subscription", "kind", "period_start"], name="billing_mark_sub")]

    def __str__(self):
        return f"{self.kind} {self.key} {self.period_start}"


class ARLedgerEntry(BrandOwned):
    """One entry of the accounts-receivable ledger: positive owed by the customer, negative owed to
    them. Entries are never edited or deleted (save refuses updates, delete refuses)."""

    rights_area = "billing"

    account = models.ForeignKey("customers.BillingAccount", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    cause = models.CharField(max_length=12, choices=_choices(AR_CAUSES))
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reference = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "at"], name="billing_ar_account")]

    def save(self, *args, **kwargs):
        if self.pk is not None or kwargs.get("force_update"):
            raise ValueError("ledger entries are never edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ledger entries are never deleted")


class Adjustment(BrandOwned):
    """An ad-hoc net credit (negative) or debit (positive) by a CSR, billed on the next invoice."""

    rights_area = "billing"

    account = models.ForeignKey("customers.BillingAccount", on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    amount = models.DecimalField(**AMOUNT)
    reason = models.CharField(_("reason"), max_length=300)
    tax_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.amount} {self.reason}"


class ParkedAccount(models.Model):
    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="parked")
    account = models.ForeignKey("customers.BillingAccount", on_delete=models.PROTECT, related_name="+")
    error = models.TextField()
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "account"], name="billing_parked_once")]

    def __str__(self):
        return f"{self.account_id}: {self.error[:60]}"


class InvoiceTemplate(BrandOwned):
    """One version of a brand's own invoice template (Jinja2 source, rendered in the sandbox).
    Saving makes a new version and old versions are never edited, so any earlier layout can be
    re-activated; at most one version per brand is active (the database guarantees it)."""

    rights_area = "billing"

    version = models.PositiveIntegerField(_("version"))
    source = models.TextField(_("template source"))
    active = models.BooleanField(_("active"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "version"], name="billing_template_version_once"),
            models.UniqueConstraint(fields=["brand"], condition=Q(active=True), name="billing_template_one_active"),
        ]

    def __str__(self):
        return f"v{self.version}{' (active)' if self.active else ''}"
