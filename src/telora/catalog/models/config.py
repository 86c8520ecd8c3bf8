"""Commercial configuration that is not priced: taxes, bill cycles, billing groups, SIM types,
customer groups and sales channels."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from telora.catalog.constants import FORM_FACTORS
from telora.catalog.models.base import CatalogEntity


class Tax(CatalogEntity):
    percent = models.DecimalField(max_digits=9, decimal_places=6)
    is_default = models.BooleanField(default=False)

    class Meta(CatalogEntity.Meta):
        verbose_name_plural = "taxes"


class BillCycle(CatalogEntity):
    """Bills run monthly from `anchor_day`; a month too short for it uses its last day."""

    anchor_day = models.PositiveSmallIntegerField()


class BillingGroup(CatalogEntity):
    bill_cycle = models.ForeignKey(BillCycle, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.TextField(blank=True)


class SimType(CatalogEntity):
    form_factor = models.CharField(max_length=16, choices=[(f, f) for f in FORM_FACTORS])
    description = models.TextField(blank=True)


class CustomerGroup(CatalogEntity):
    """A segment price lists can target (staff, business, students...)."""


class SalesChannel(CatalogEntity):
    """Where a sale happens (web, shop, telesales, partner); price lists can target one.

    `default_for` names the interfaces (SALE_INTERFACES: gui, api, cli, selfcare, migration) whose
    sales are recorded in this channel when they name none, so every sale has a channel."""

    default_for = ArrayField(models.CharField(max_length=16), default=list, blank=True)
