"""Products, their charges and dated prices, bundles they include and the rules that combine them."""

from django.db import models

from telora.catalog.constants import PRODUCT_KINDS, RULE_KINDS, SERVICE_TYPES
from telora.catalog.models.base import CatalogEntity, CatalogRow, DatedRow
from telora.catalog.models.config import Tax
from telora.catalog.models.rating import AMOUNT, Bundle, RatePlan


class Product(CatalogEntity):
    kind = models.CharField(max_length=16, choices=[(k, k) for k in PRODUCT_KINDS])
    service_type = models.CharField(max_length=24, blank=True, choices=[(s, s) for s in SERVICE_TYPES])
    rate_plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    tax = models.ForeignKey(Tax, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    commitment_months = models.PositiveSmallIntegerField(default=0)
    attributes = models.JSONField(default=dict, blank=True)
    sellable = models.BooleanField(default=True)  # False: kept for existing subscriptions, not sold
    # A prepaid plan's low-balance threshold; None: the brand's (rating settings)
    low_balance_threshold = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    bundles = models.ManyToManyField(Bundle, through="ProductBundle", related_name="+", blank=True)


class ProductBundle(CatalogRow):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "bundle"], name="catalog_product_bundle")]


class ProductCharge(CatalogRow):
    """A charge a product makes: `recurring` (monthly), `price` (its one-off price) or a named
    one-time fee (ACTIVATION...). The amount lives in dated `ProductPrice` rows."""

    class Kind(models.TextChoices):
        RECURRING = "recurring"
        ONE_TIME = "one_time"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="charges")
    code = models.CharField(max_length=40)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["product", "code"]
        constraints = [models.UniqueConstraint(fields=["product", "code"], name="catalog_charge_code")]

    def __str__(self) -> str:
        return f"{self.product.code} {self.code}"


class ProductPrice(DatedRow):
    charge = models.ForeignKey(ProductCharge, on_delete=models.CASCADE, related_name="prices")
    amount = models.DecimalField(**AMOUNT)

    class Meta(DatedRow.Meta):
        ordering = ["charge", "valid_from"]
        constraints = DatedRow.Meta.constraints + [
            models.UniqueConstraint(fields=["charge", "valid_from"], name="catalog_price_version"),
        ]

    def __str__(self) -> str:
        return f"{self.charge} {self.amount}"


class ProductRule(CatalogRow):
    """requires_any / excludes / at_most `count` of `targets`, checked when the product is present."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=16, choices=[(k, k) for k in RULE_KINDS])
    count = models.PositiveSmallIntegerField(null=True, blank=True)  # at_most only
    position = models.PositiveSmallIntegerField(default=0)
    targets = models.ManyToManyField(Product, through="ProductRuleTarget", related_name="+")

    class Meta:
        ordering = ["product", "kind", "position"]


class ProductRuleTarget(CatalogRow):
    rule = models.ForeignKey(ProductRule, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "product"], name="catalog_rule_target")]
