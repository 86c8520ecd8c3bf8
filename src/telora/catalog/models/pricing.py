"""Discounts and price lists: the layers that change what a product costs."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from telora.catalog.constants import DISCOUNT_TARGETS, SERVICES
from telora.catalog.models.base import CatalogEntity, CatalogRow, DatedRow
from telora.catalog.models.config import CustomerGroup, SalesChannel
from telora.catalog.models.products import Product, ProductCharge
from telora.catalog.models.rating import AMOUNT, Zone


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
