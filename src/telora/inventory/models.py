"""SIM cards, phone numbers, number groups, per-brand inventory settings and import batches.

Every row belongs to one brand and is read through `objects.for_user(principal, action)`
(rights area "inventory"). Status changes go through `telora.inventory.services`, which
enforce the transitions below; the database keeps identifiers unique per brand.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned, brand_key_indexed_elsewhere, index_when_set
from telora.inventory.validation import format_number

DEFAULT_QUARANTINE_DAYS = 90
DEFAULT_RESERVATION_MINUTES = 30


class InventorySettings(BrandOwned):
    """A brand's inventory policy (one row per brand; absent means the defaults)."""

    quarantine_days = models.PositiveIntegerField(_("quarantine days"), default=DEFAULT_QUARANTINE_DAYS)
    reservation_minutes = models.PositiveIntegerField(_("reservation minutes"), default=DEFAULT_RESERVATION_MINUTES)

    rights_area = "inventory"

    class Meta:
        verbose_name = _("inventory settings")
        verbose_name_plural = _("inventory settings")
        constraints = [models.UniqueConstraint(fields=["brand"], name="inventory_settings_one_per_brand")]

    def __str__(self) -> str:
        return f"inventory settings of brand {self.brand_id}"


class NumberGroup(BrandOwned):
    """A class of numbers sold at its own one-time price (regular, gold, ...)."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    one_time_price = models.DecimalField(_("one-time price"), max_digits=18, decimal_places=6, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    quarantine_days = models.PositiveIntegerField(
        _("quarantine days"), null=True, blank=True, help_text=_("empty: the brand's setting")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"))

    rights_area = "inventory"

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="inventory_numbergroup_code")]

    def __str__(self) -> str:
        return self.name


class ImportBatch(BrandOwned):
    """One CSV upload: what it read, imported, skipped as unchanged, and refused (with reasons)."""

    class Kind(models.TextChoices):
        SIMS = "sims", _("SIM cards")
        NUMBERS = "numbers", _("phone numbers")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    rows_read = models.IntegerField(_("rows read"), default=0)
    rows_imported = models.IntegerField(_("rows imported"), default=0)
    rows_unchanged = models.IntegerField(_("rows unchanged"), default=0)
    rows_failed = models.IntegerField(_("rows failed"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)  # "line N: field: reason"
    errors_truncated = models.IntegerField(_("errors not stored"), default=0)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey("core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=200)
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    rights_area = "inventory"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.file_name})"


class SimStatus(models.TextChoices):
    AVAILABLE = "available", _("available")
    RESERVED = "reserved", _("reserved")
    ALLOCATED = "allocated", _("allocated")
    BLOCKED = "blocked", _("blocked")
    RETIRED = "retired", _("retired")


# Allowed moves; services refuse the rest. Unblocking returns a card to where it was.
SIM_TRANSITIONS: dict[str, frozenset[str]] = {
    SimStatus.AVAILABLE: frozenset({SimStatus.RESERVED, SimStatus.ALLOCATED, SimStatus.BLOCKED, SimStatus.RETIRED}),
    SimStatus.RESERVED: frozenset({SimStatus.AVAILABLE, SimStatus.ALLOCATED, SimStatus.BLOCKED, SimStatus.RETIRED}),
    SimStatus.ALLOCATED: frozenset({SimStatus.AVAILABLE, SimStatus.BLOCKED, SimStatus.RETIRED}),
    SimStatus.BLOCKED: frozenset({SimStatus.AVAILABLE, SimStatus.ALLOCATED, SimStatus.RETIRED}),
    SimStatus.RETIRED: frozenset(),
}


class SimCard(BrandOwned):
    """A physical SIM card. Its PIN/PUK codes are sealed (see sealing.py), never plain fields."""

    brand = brand_key_indexed_elsewhere()  # inventory_sim_iccid leads with it
    iccid = models.CharField(_("ICCID"), max_length=20)
    imsi = models.CharField(_("IMSI"), max_length=15)
    sealed_secrets = models.BinaryField(null=True, blank=True, editable=False)
    sim_type = models.CharField(_("SIM type"), max_length=40, blank=True)
    partner = models.CharField(_("wholesale partner"), max_length=100, blank=True)
    batch = models.CharField(_("batch"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=SimStatus.choices, default=SimStatus.AVAILABLE)
    previous_status = models.CharField(max_length=12, blank=True, editable=False)  # before blocking
    reserved_until = models.DateTimeField(_("reserved until"), null=True, blank=True)
    reserved_for = models.CharField(_("reserved for"), max_length=120, blank=True)
    allocated_at = models.DateTimeField(_("allocated"), null=True, blank=True)
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                     db_index=False)  # indexed where set (Meta)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    rights_area = "inventory"

    class Meta:
        ordering = ["iccid"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "iccid"], name="inventory_sim_iccid"),
            models.UniqueConstraint(fields=["brand", "imsi"], name="inventory_sim_imsi"),
            models.CheckConstraint(condition=Q(iccid__regex=r"^89[0-9]{17,18}$"), name="inventory_sim_iccid_digits"),
            models.CheckConstraint(condition=Q(imsi__regex=r"^[0-9]{15}$"), name="inventory_sim_imsi_digits"),
            models.CheckConstraint(condition=~Q(status="reserved") | Q(reserved_until__isnull=False),
                                   name="inventory_sim_reservation_ends"),
        ]
        indexes = [
            # next free card: WHERE brand, status [, sim_type] ORDER BY sim_type, iccid
            models.Index(fields=["brand", "status", "sim_type", "iccid"], name="inventory_sim_free"),
            models.Index(fields=["reserved_until"], condition=Q(status="reserved"), name="inventory_sim_reserved"),
            index_when_set("import_batch", "inventory_sim_batch"),
        ]

    def __str__(self) -> str:
        return self.iccid

    def __repr__(self) -> str:
        return f"<SimCard {self.iccid} {self.status}>"  # never the secrets


class NumberStatus(models.TextChoices):
    AVAILABLE = "available", _("available")
    RESERVED = "reserved", _("reserved")
    ALLOCATED = "allocated", _("allocated")
    QUARANTINED = "quarantined", _("quarantined")
    PORTED_OUT = "ported_out", _("ported out")  # left for another operator (services/porting.py)


NUMBER_ORIGINS = (("own", _("own range")), ("ported_in", _("ported in")))

NUMBER_TRANSITIONS: dict[str, frozenset[str]] = {
    NumberStatus.AVAILABLE: frozenset({NumberStatus.RESERVED, NumberStatus.ALLOCATED}),
    NumberStatus.RESERVED: frozenset({NumberStatus.AVAILABLE, NumberStatus.ALLOCATED}),
    NumberStatus.ALLOCATED: frozenset({NumberStatus.QUARANTINED}),
    NumberStatus.QUARANTINED: frozenset({NumberStatus.AVAILABLE, NumberStatus.PORTED_OUT}),
    NumberStatus.PORTED_OUT: frozenset({NumberStatus.AVAILABLE}),  # ported back in
}


class PhoneNumber(BrandOwned):
    """A phone number (MSISDN) held by the brand, stored as E.164 digits without '+'."""

    brand = brand_key_indexed_elsewhere()  # inventory_number_unique leads with it
    number = models.CharField(_("number"), max_length=15)
    group = models.ForeignKey(NumberGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="numbers",
                              db_index=False)  # indexed where set (Meta)
    status = models.CharField(_("status"), max_length=12, choices=NumberStatus.choices, default=NumberStatus.AVAILABLE)
    reserved_until = models.DateTimeField(_("reserved until"), null=True, blank=True)
    reserved_for = models.CharField(_("reserved for"), max_length=120, blank=True)
    allocated_at = models.DateTimeField(_("allocated"), null=True, blank=True)
    quarantine_until = models.DateTimeField(_("quarantined until"), null=True, blank=True)
    origin = models.CharField(_("origin"), max_length=10, choices=NUMBER_ORIGINS, default="own",
                              db_default="own")  # a default in the table too: the imports COPY without it
    ported_at = models.DateTimeField(_("last ported"), null=True, blank=True)
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                     db_index=False)  # indexed where set (Meta)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    rights_area = "inventory"

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "number"], name="inventory_number_unique"),
            models.CheckConstraint(condition=Q(number__regex=r"^[1-9][0-9]{6,14}$"), name="inventory_number_e164"),
            models.CheckConstraint(condition=~Q(status="reserved") | Q(reserved_until__isnull=False),
                                   name="inventory_number_reservation_ends"),
            models.CheckConstraint(condition=~Q(status="quarantined") | Q(quarantine_until__isnull=False),
                                   name="inventory_number_quarantine_ends"),
        ]
        indexes = [
            # next free number: WHERE brand, status [, group] ORDER BY group, number
            models.Index(fields=["brand", "status", "group", "number"], name="inventory_number_free"),
            models.Index(fields=["reserved_until"], condition=Q(status="reserved"), name="inventory_number_reserved"),
            models.Index(fields=["quarantine_until"], condition=Q(status="quarantined"),
                         name="inventory_number_quarantine"),
            index_when_set("group", "inventory_number_group"),
            index_when_set("import_batch", "inventory_number_batch"),
        ]

    def __str__(self) -> str:
        return self.e164

    @property
    def e164(self) -> str:
        return "+" + self.number

    @property
    def display(self) -> str:
        """The number as people read it (+45 20 12 34 56)."""
        return format_number(self.number)


def is_free(item: SimCard | PhoneNumber, at: dt.datetime) -> bool:
    """Free to hand out: available, or a reservation or quarantine that has run out by `at`."""
    if item.status == "available":
        return True
    if item.status == "reserved":
        return item.reserved_until is not None and item.reserved_until <= at
    if item.status == "quarantined":
        return item.quarantine_until is not None and item.quarantine_until <= at
    return False


def free_q(model: type[SimCard] | type[PhoneNumber], at: dt.datetime) -> Q:
    """The same rule as `is_free`, for querysets of `model`."""
    q = Q(status="available") | Q(status="reserved", reserved_until__lte=at)
    if model is PhoneNumber:
        q |= Q(status="quarantined", quarantine_until__lte=at)
    return q
