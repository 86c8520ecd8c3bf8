"""Rating storage: intake files, staged records and their batches, rated usage (partitioned by
month, written with COPY), the key table that makes "never charged twice" a database guarantee,
failed records, bundle counters, and the prepaid ledger with its cached balance and events."""

import datetime as dt
from decimal import Decimal

from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from telora.core.models.brands import BrandOwned
from telora.rating.engine.results import PARSE_ERROR

FILE_STATUSES = ("received", "staged", "rated", "failed")
BATCH_STATUSES = ("pending", "done")
FAILED_STATUSES = ("open", "rerated", "deleted")
LEDGER_CAUSES = ("usage", "topup", "adjustment", "rerate", "renewal", "ocs")  # ocs: a pre-rated source's balance
RENEWAL_STATUSES = ("paid", "negative", "skipped")  # negative: paid into the brand's grace


def _choices(values):
    return [(v, v) for v in values]


class UsageSource(BrandOwned):
    """Where a source's files are pulled from: the collector takes complete files from `inbox`,
    imports them in `format`, and moves each to `archive` (taken in) or `errors` (refused)."""

    rights_area = "rating"

    code = models.CharField(_("source"), max_length=64)
    format = models.CharField(_("format"), max_length=16)
    inbox = models.CharField(_("inbox folder"), max_length=500)
    archive = models.CharField(_("archive folder"), max_length=500)
    errors = models.CharField(_("error folder"), max_length=500)
    settle_seconds = models.PositiveIntegerField(_("settle seconds"), default=10)
    pattern = models.CharField(_("file pattern"), max_length=100, default="*")
    enabled = models.BooleanField(_("enabled"), default=True)
    # An OCS source: its records carry their charge (and the prepaid balance after them), kept as
    # given instead of rated by the tariff (engine Rater.take_rated).
    pre_rated = models.BooleanField(_("pre-rated (OCS)"), default=False)
    # The largest charge a pre-priced record of this source may carry; None: TELORA_USAGE_MAX_CHARGE.
    max_charge = models.DecimalField(_("largest charge"), max_digits=18, decimal_places=6, null=True, blank=True)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # SFTP pull (empty host: a folder source). Files are downloaded into the inbox's .download
    # folder and taken in from there; `sftp_secret` holds the password and private key sealed
    # (services.sealing), never shown back.
    sftp_host = models.CharField(_("SFTP host"), max_length=255, blank=True)
    sftp_port = models.PositiveIntegerField(_("SFTP port"), default=22)
    sftp_user = models.CharField(_("SFTP user"), max_length=100, blank=True)
    sftp_path = models.CharField(_("remote folder"), max_length=500, blank=True)
    sftp_secret = models.BinaryField(null=True, blank=True, editable=False)
    sftp_host_key = models.CharField(_("host key fingerprint"), max_length=100, blank=True)
    sftp_after = models.CharField(_("after import"), max_length=10, default="keep")
    sftp_after_folder = models.CharField(_("remote move folder"), max_length=500, blank=True)
    every_minutes = models.PositiveIntegerField(_("every (minutes)"), default=1)
    last_pull_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="rating_source_once")]

    def __str__(self):
        return self.code

    @property
    def is_sftp(self) -> bool:
        return bool(self.sftp_host)


class RatingSettings(BrandOwned):
    """A brand's rating settings: the prepaid balance at or under which a low-balance event fires
    (in the brand's currency; a plan product's own threshold wins). No row: the defaults."""

    rights_area = "rating"

    low_balance_threshold = models.DecimalField(_("low-balance threshold"), max_digits=18, decimal_places=6,
                                                default=Decimal(5))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand"], name="rating_settings_once")]

    def __str__(self):
        return f"rating settings of {self.brand_id}"


class RemoteFile(BrandOwned):
    """A file seen on an SFTP source, remembered by (source, name, size, sha256): fetched once.
    `status` is "pending" while the import is committed but the remote move or delete is not
    done yet (a crash there is repaired by the next pull), then "done"; "refused" when the
    intake refused it (left on the remote); `duplicate` when its content had been taken in
    before (a renamed copy)."""

    rights_area = "rating"

    source = models.ForeignKey(UsageSource, on_delete=models.CASCADE, related_name="remote_files")
    name = models.CharField(max_length=300)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    mtime = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, default="pending")
    duplicate = models.BooleanField(default=False)
    file = models.ForeignKey("UsageFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    fetched_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "name", "size", "sha256"],
                                               name="rating_remote_file_once")]
        indexes = [models.Index(fields=["source", "sha256"], name="rating_remote_sha")]

    def __str__(self):
        return f"{self.source_id}/{self.name}"


class UsageFile(BrandOwned):
    """One usage file taken in; the same content twice from a source is refused (sha256)."""

    rights_area = "rating"

    source = models.CharField(_("source"), max_length=64)
    name = models.CharField(_("name"), max_length=300)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(_("format"), max_length=16)
    size = models.BigIntegerField(default=0)
    status = models.CharField(_("status"), max_length=10, choices=_choices(FILE_STATUSES), default="received")
    read = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    duplicate = models.IntegerField(default=0)
    ignored = models.IntegerField(default=0)
    parse_seconds = models.FloatField(default=0)
    rate_seconds = models.FloatField(default=0)
    persist_seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(_("received"))
    staged_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(_("refused because"), max_length=1000, blank=True)  # status "failed": why
    stored = models.CharField(max_length=500, blank=True)  # an upload kept for the background intake

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "source", "sha256"], name="rating_file_once")]

    def __str__(self):
        return f"{self.source}/{self.name}"


class RatingBatch(BrandOwned):
    """Records of one file in one subscription partition: rated as one job, in one transaction.
    Batches of a partition are rated one at a time, in the order they were made.

    `payload` holds the records until the batch is rated, packed by `services.staging` (one row
    per batch, not per record: staging a million records costs one write of a few megabytes per
    batch, not a million rows written, read back and deleted)."""

    rights_area = "rating"

    file = models.ForeignKey(UsageFile, on_delete=models.CASCADE, related_name="batches")
    partition = models.SmallIntegerField()
    status = models.CharField(max_length=10, choices=_choices(BATCH_STATUSES), default="pending")
    records = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    duplicate = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    payload = models.BinaryField(default=b"")

    class Meta:
        indexes = [models.Index(fields=["brand", "status", "partition", "id"], name="rating_batch_pending")]

    def __str__(self):
        return f"batch {self.pk} ({self.file_id}, partition {self.partition})"


class UsageKey(models.Model):
    """(brand, source, record_id) of every rated record: the primary key refuses a second charge
    across all monthly partitions, which PostgreSQL cannot do with a unique index there."""

    pk = models.CompositePrimaryKey("brand_id", "source", "record_id")
    # No database foreign key: its check would run once per rated record at every commit (a
    # million trigger events for a million records); brands are never deleted.
    brand = models.ForeignKey("core.Brand", on_delete=models.DO_NOTHING, related_name="+", db_index=False,
                              db_constraint=False)
    source = models.CharField(max_length=64)
    record_id = models.CharField(max_length=128)
    claimed_on = models.DateField()  # forgotten after TELORA_USAGE_KEY_DAYS (services.storage.forget_keys)

    class Meta:
        indexes = [BrinIndex(fields=["claimed_on"], name="rating_usagekey_claimed")]

    def __str__(self):
        return f"{self.source}:{self.record_id}"



class RatedUsage(models.Model):
    """A rated record with how it was rated. The table is PARTITIONED BY RANGE (start_time), one
    partition a month made on demand (see services.storage); written with COPY only."""

    id = models.BigAutoField(primary_key=True)  # the table's key is (id, start_time)
    brand = models.ForeignKey("core.Brand", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    source = models.CharField(max_length=64)
    record_id = models.CharField(max_length=128)
    subscription = models.ForeignKey("customers.Subscription", on_delete=models.DO_NOTHING, related_name="+",
                                     db_constraint=False)
    service = models.CharField(max_length=8)
    a_number = models.CharField(max_length=32)
    b_number = models.CharField(max_length=64)
    start_time = models.DateTimeField()
    usage = models.BigIntegerField()
    quantity = models.BigIntegerField()
    zone = models.CharField(max_length=40, blank=True)
    band = models.CharField(max_length=40, blank=True)
    rate_plan = models.CharField(max_length=40, blank=True)
    rate_key = models.CharField(max_length=200, blank=True)
    override = models.CharField(max_length=120, blank=True, default="")  # the rate overrides that priced it
    bundle_use = models.JSONField(default=list)
    discount = models.DecimalField(max_digits=18, decimal_places=6)
    charge = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    balance_after = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    # The rest of the record as it came, so that it can be rated again exactly (re-rating).
    location = models.CharField(max_length=2, blank=True, default="")
    direction = models.CharField(max_length=3, default="out")
    record_charge = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    file = models.ForeignKey(UsageFile, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    batch = models.ForeignKey(RatingBatch, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)

    class Meta:
        db_table = "rating_ratedusage"

    def __str__(self):
        return f"{self.source}:{self.record_id} {self.charge}"



class FailedRecord(BrandOwned):
    """A record that was not rated, with its reason and the original, to fix and re-rate or delete."""

    rights_area = "rating"

    file = models.ForeignKey(UsageFile, on_delete=models.PROTECT, null=True, related_name="failures")
    source = models.CharField(max_length=64)
    record_id = models.CharField(max_length=128, blank=True)
    line = models.IntegerField(default=0)
    reason = models.CharField(max_length=32)
    detail = models.CharField(max_length=500, blank=True)
    original = models.JSONField(default=dict)  # the record's fields, or {"text": line} for unreadable ones
    status = models.CharField(max_length=10, choices=_choices(FAILED_STATUSES), default="open")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["brand", "status", "reason"], name="rating_failed_open")]

    @classmethod
    def unreadable(cls, failure, *, brand_id: int, file_id: int | None, source: str, at) -> "FailedRecord":
        """The row of a line a parser could not read (a ParseFailure), found at intake or by the worker."""
        return cls(brand_id=brand_id, file_id=file_id, source=source, record_id=failure.record_id[:128],
                   line=failure.line, reason=PARSE_ERROR, detail=(failure.reason or "")[:500],
                   original={"text": failure.text}, created_at=at)

    @classmethod
    def of_record(cls, record, reason: str, detail: str, *, brand_id: int, file_id: int | None, source: str,
                  at) -> "FailedRecord":
        """The row of a record that was read but not rated, its fields kept as JSON (times as ISO
        text in UTC, amounts as text) so that it can be rated again."""
        original = {name: (value.astimezone(dt.UTC).isoformat() if isinstance(value, dt.datetime) else
                           str(value) if value is not None and not isinstance(value, (int, str)) else value)
                    for name, value in record._asdict().items()} if hasattr(record, "_asdict") else {}
        return cls(brand_id=brand_id, file_id=file_id, source=source, record_id=record.record_id[:128],
                   line=getattr(record, "line", 0), reason=reason, detail=(detail or "")[:500], original=original,
                   created_at=at)


class BundleCounter(models.Model):
    """Units drawn from one allowance of a bundle a subscription holds, in one period."""

    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, related_name="+")
    bundle = models.CharField(max_length=120)  # the BundleInstance key
    code = models.CharField(max_length=40)
    allowance = models.SmallIntegerField()
    period_start = models.DateField(null=True)
    period_end = models.DateField(null=True)
    amount = models.BigIntegerField()
    used = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "bundle", "allowance", "period_start"],
                                               name="rating_counter_once", nulls_distinct=False)]

    def __str__(self):
        return f"{self.bundle}#{self.allowance} {self.period_start}: {self.used}/{self.amount}"



class PrepaidBalance(models.Model):
    """The prepaid balance now (the sum of the ledger, kept with it in the same transaction)."""

    subscription = models.OneToOneField("customers.Subscription", on_delete=models.PROTECT, primary_key=True,
                                        related_name="+")
    balance = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"{self.subscription_id}: {self.balance}"



class PrepaidBalanceEntry(models.Model):
    """One change of a prepaid balance: a rated record, a top-up or an adjustment."""

    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    balance_after = models.DecimalField(max_digits=18, decimal_places=6)
    cause = models.CharField(max_length=12, choices=_choices(LEDGER_CAUSES))
    reference = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["subscription", "at"], name="rating_ledger_sub")]

    def __str__(self):
        return f"{self.cause} {self.amount} -> {self.balance_after}"



class BalanceEvent(models.Model):
    """The balance crossed the low threshold or reached zero, or a renewal could not be paid
    (kind renewal_skipped, record_id "renewal:<id>", threshold: the fee); consumed by letters and
    provisioning."""

    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16)
    record_id = models.CharField(max_length=128)
    at = models.DateTimeField()
    balance = models.DecimalField(max_digits=18, decimal_places=6)
    threshold = models.DecimalField(max_digits=18, decimal_places=6)
    consumed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.kind} {self.subscription_id} at {self.record_id}"


class PrepaidRenewal(BrandOwned):
    """A prepaid line's recurring fee of one product instance for one bill period, taken from the
    balance on the period's first day (see billing.services.renewals). Unique per instance and
    period: a repeated or crashed run never takes a fee twice.

    Rating grants the instance's bundles in the period except over [starts_at, granted_from) when
    the renewal was paid late, and not at all while it is skipped (granted_from None).
    """

    rights_area = "rating"

    subscription = models.ForeignKey("customers.Subscription", on_delete=models.PROTECT, related_name="+")
    instance = models.ForeignKey("customers.ProductInstance", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    starts_at = models.DateTimeField(_("covers from"))  # the period's (or the instance's) first moment
    ends_at = models.DateTimeField(_("covers until"))
    amount = models.DecimalField(_("fee"), max_digits=18, decimal_places=6)
    status = models.CharField(_("status"), max_length=10, choices=_choices(RENEWAL_STATUSES))
    entry = models.OneToOneField(PrepaidBalanceEntry, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    granted_from = models.DateTimeField(_("bundles from"), null=True, blank=True)
    created_at = models.DateTimeField(_("first tried"))
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "period_start"], name="rating_renewal_once")]
        indexes = [models.Index(fields=["subscription", "period_start"], name="rating_renewal_sub"),
                   models.Index(fields=["brand", "status", "period_end"], name="rating_renewal_open")]
        ordering = ["-period_start", "id"]

    def __str__(self):
        return f"renewal {self.instance_id} {self.period_start}: {self.status}"
