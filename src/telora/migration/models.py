"""What the migration import keeps: which object each source row became, and each import run
with its report and per-file checkpoints.

`SourceMapping` makes the import idempotent: (brand, entity, source system, source id) is unique,
so a row imported once is "already imported" the next time. `OpeningReceivable` keeps what the
receivables ledger has no room for: the old system's invoice number, dates and amount.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned, brand_key_indexed_elsewhere, index_when_set

ENTITIES = ("customer", "address", "contact", "account", "subscription", "product", "balance", "usage", "receivable")
RUN_STATUSES = ("queued", "running", "done", "failed")


class MigrationRun(BrandOwned):
    """One import (or dry run) of a set of files into a brand; `report` is what it found."""

    rights_area = "migration"

    source_system = models.CharField(_("source system"), max_length=40)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=[(s, s) for s in RUN_STATUSES], default="queued")
    files = models.JSONField(default=list, blank=True)  # [{"name": ..., "path": ...}] kept in storage
    report = models.JSONField(default=dict, blank=True)  # see services.runner.Report.as_dict
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{'dry run' if self.dry_run else 'import'} #{self.pk} from {self.source_system}"


class SourceMapping(BrandOwned):
    """Source row (entity, source system, source id) became `object_id` of the entity's model."""

    rights_area = "migration"

    brand = brand_key_indexed_elsewhere()  # migration_mapping_once leads with it
    entity = models.CharField(max_length=16, choices=[(e, e) for e in ENTITIES])
    source_system = models.CharField(max_length=40)
    source_id = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    run = models.ForeignKey(MigrationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                            db_index=False)  # indexed where set (Meta)
    # accounts: the last day the old system billed recurring charges for (accounts.csv billed_through),
    # read again when a later run imports the account's lines (services/billed.py)
    billed_through = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "entity", "source_system", "source_id"],
                                               name="migration_mapping_once")]
        indexes = [models.Index(fields=["entity", "object_id"], name="migration_mapping_object"),
                   index_when_set("run", "migration_mapping_run")]

    def __str__(self) -> str:
        return f"{self.source_system}:{self.entity}:{self.source_id} → {self.object_id}"


class FileCheckpoint(BrandOwned):
    """How far a file (by content hash) got: a file imported in chunks resumes after `lines_done`."""

    rights_area = "migration"

    source_system = models.CharField(max_length=40)
    entity = models.CharField(max_length=16)
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.IntegerField(default=0)
    lines_done = models.IntegerField(default=0)  # the last line committed
    done = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "source_system", "sha256"],
                                               name="migration_checkpoint_once")]

    def __str__(self) -> str:
        return f"{self.name}: line {self.lines_done}"


class OpeningReceivable(BrandOwned):
    """An invoice left open in the old system, owed by the account: its receivables ledger entry
    (cause "invoice") carries the amount; the number and dates live here."""

    rights_area = "migration"

    account = models.ForeignKey("customers.BillingAccount", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("invoice number"), max_length=40)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    ledger_entry = models.ForeignKey("billing.ARLedgerEntry", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [models.UniqueConstraint(fields=["brand", "number"], name="migration_receivable_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.amount} {self.currency}"
