"""Discounts and price lists: the layers that change what a product costs."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from telora.catalog.constants import DISCOUNT_TARGETS, SERVICES
from telora.catalog.models.base import CatalogEntity, CatalogRow, DatedRow
from telora.catalog.models.config import CustomerGroup, SalesChannel
from telora.catalog.models.products import Product, ProductCharge
from telora.catalog.models.rating import AMOUNT, SERVICE_CHOICES, RatePlan, Zone


class Discount(CatalogEntity):
    """usage: `percent` off rated usage of `services` in `zones` (none = all zones);
    recurring: `percent` off the recurring price for `months` (none = for ever)."""

    applies_to = models.CharField(max_length=16, choices=[(t, t) for t in DISCOUNT_TARGETS])
    percent = models.DecimalField(max_digits=9, decimal_places=6)
    services = ArrayField(models.CharField(max_length=16, choices=[(s, s) for s in SERVICES]),
                          default=list, blank=True)
    months = models.PositiveSmallIntegerField(null=True, blank=True)
    zones = models.ManyToManyField(Zone, through="DiscountZone", related_name="+", blank=True)
    products = models.ManyToManyField(Product, through="DiscountProduct", related_name="+")


class DiscountZone(CatalogRow):
    discount = models.ForeignKey(Discount, on_delete=models.CASCADE)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["discount", "zone"], name="catalog_discount_zone")]


class DiscountProduct(CatalogRow):
    discount = models.ForeignKey(Discount, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["discount", "product"], name="catalog_discount_product")]


class PriceList(CatalogEntity):
    """Overrides product prices for a sales channel and/or customer group (none = everyone).
    Of the lists that apply, the highest `priority` wins, then the more specific one."""

    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    customer_group = models.ForeignKey(CustomerGroup, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    priority = models.IntegerField(default=0)


class PriceListItem(DatedRow):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    charge = models.ForeignKey(ProductCharge, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**AMOUNT)

    class Meta(DatedRow.Meta):
        ordering = ["price_list", "charge", "valid_from"]
        constraints = DatedRow.Meta.constraints + [
            models.UniqueConstraint(fields=["price_list", "charge", "valid_from"], name="catalog_item_version"),
        ]

    def __str__(self) -> str:
        return f"{self.price_list.code} {self.charge}"


class RateOverride(DatedRow):
    """A customer group's own usage rate: for `service` in `zone` (and `band`, blank: every band)
    on `rate_plan` (none: every plan), either a replacement rate (`price` per `unit` with
    increments, setup and minimum, as a plan rate) or `percent` off the usage charge. Rating finds
    it before the plan's rate; a customer's own price agreement (customers app) comes first."""

    customer_group = models.ForeignKey(CustomerGroup, on_delete=models.CASCADE, related_name="rate_overrides")
    rate_plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    service = models.CharField(max_length=16, choices=SERVICE_CHOICES)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="+")
    band = models.CharField(max_length=40, blank=True)  # blank: every band
    price = models.DecimalField(**AMOUNT, null=True, blank=True)
    unit = models.PositiveBigIntegerField(null=True, blank=True)
    first_increment = models.PositiveBigIntegerField(null=True, blank=True)
    next_increment = models.PositiveBigIntegerField(null=True, blank=True)
    setup = models.DecimalField(**AMOUNT, default=0)
    minimum = models.DecimalField(**AMOUNT, default=0)
    percent = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta(DatedRow.Meta):
        ordering = ["customer_group", "service", "zone", "band", "valid_from"]
        constraints = DatedRow.Meta.constraints + [
            models.UniqueConstraint(fields=["customer_group", "rate_plan", "service", "zone", "band", "valid_from"],
                                    nulls_distinct=False, name="catalog_rate_override_version"),
            models.CheckConstraint(
                condition=(Q(price__isnull=False, unit__isnull=False, first_increment__isnull=False,
                             next_increment__isnull=False, percent__isnull=True)
                           | Q(price__isnull=True, percent__isnull=False)),
                name="catalog_rate_override_price_or_percent"),
        ]

    def __str__(self) -> str:
        return " ".join(filter(None, [self.customer_group.code, self.rate_plan and self.rate_plan.code, self.service,
                                      self.zone.code, self.band]))
