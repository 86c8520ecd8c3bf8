"""Subscriptions, the products on them over time, and who held which number when.

A subscription is one service (a mobile line, a fiber connection) of a customer, billed on one
billing account. Its products are `ProductInstance` rows over [start_at, end_at); a plan change
ends one instance and starts the next at the same moment, so history is never rewritten.
`NumberAssignment` keeps the number history rating needs: one number is never held by two
subscriptions at the same moment, which an exclusion constraint guarantees.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from telora.catalog.constants import PRODUCT_KINDS, SERVICE_TYPES
from telora.core.models import BrandOwned, index_when_set
from telora.customers.constants import INSTANCE_END_REASONS, SUBSCRIPTION_STATUSES
from telora.customers.models.accounts import BillingAccount
from telora.customers.models.customers import Address, Customer, _choices


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Subscription(BrandOwned):
    """One service of a customer: mobile (MSISDN and SIM), fixed or VoIP (number), broadband or fiber
    (circuit id). Status moves pending → active ⇄ suspended → terminated."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    billing_account = models.ForeignKey(BillingAccount, on_delete=models.PROTECT, related_name="subscriptions")
    service_type = models.CharField(_("service type"), max_length=24, choices=_choices(SERVICE_TYPES))
    identifier = models.CharField(_("identifier"), max_length=64, blank=True)  # MSISDN digits, number, circuit id
    phone_number = models.ForeignKey("inventory.PhoneNumber", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("phone number"))
    sim = models.ForeignKey("inventory.SimCard", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                            verbose_name=_("SIM card"))
    status = models.CharField(_("status"), max_length=12, choices=_choices(SUBSCRIPTION_STATUSES), default="pending")
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    # the nullable keys are indexed where set (index_when_set in Meta): most lines have none
    billing_address = models.ForeignKey(Address, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                        verbose_name=_("billing address"), db_index=False)
    shipping_address = models.ForeignKey(Address, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("shipping address"), db_index=False)
    installation_address = models.ForeignKey(Address, on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="+", verbose_name=_("installation address"), db_index=False)
    commitment_end = models.DateTimeField(_("commitment ends"), null=True, blank=True)
    channel = models.ForeignKey("catalog.SalesChannel", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("sold through"), db_index=False)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended since"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated"), null=True, blank=True)

    rights_area = "customers"

    class Meta:
        ordering = ["brand_id", "customer_id", "id"]
        constraints = [
            # A live subscription's identifier (number or circuit id) is its own in the brand.
            models.UniqueConstraint(fields=["brand", "identifier"], name="customers_subscription_live_identifier",
                                    condition=~Q(status="terminated") & ~Q(identifier="")),
            models.UniqueConstraint(fields=["sim"], name="customers_subscription_live_sim",
                                    condition=~Q(status="terminated") & Q(sim__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["identifier", "brand"], name="customers_subscription_ident", condition=~Q(identifier="")),
            index_when_set("billing_address", "customers_sub_billing_addr"),
            index_when_set("shipping_address", "customers_sub_shipping_addr"),
            index_when_set("installation_address", "customers_sub_install_addr"),
            index_when_set("channel", "customers_sub_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} {self.identifier or self.pk}"

    @property
    def is_live(self) -> bool:
        return self.status != "terminated"


class ProductInstance(BrandOwned):
    """A catalogue product on a subscription over [start_at, end_at); end_at None means still on.

    One-time products and devices are a single moment: they start and end at the sale.
    """

    # indexed by customers_instance_open, which leads with it
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="products", db_index=False)
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=_choices(PRODUCT_KINDS))  # the product's, kept
    start_at = models.DateTimeField(_("starts"))
    end_at = models.DateTimeField(_("ends"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=16, blank=True, choices=_choices(INSTANCE_END_REASONS))
    # The sales channel of the sale that started it: its price lists price the product (billing).
    channel = models.ForeignKey("catalog.SalesChannel", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("sold through"), db_index=False)  # where set (Meta)
    created_at = models.DateTimeField(_("created"))

    rights_area = "customers"

    class Meta:
        ordering = ["subscription_id", "start_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__isnull=True) | Q(end_at__gte=F("start_at")),
                                   name="customers_instance_window"),
        ]
        indexes = [
            models.Index(fields=["subscription", "end_at"], name="customers_instance_open"),
            index_when_set("channel", "customers_instance_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} on {self.subscription_id}"

    def is_on(self, at) -> bool:
        return self.start_at <= at and (self.end_at is None or self.end_at > at)


class NumberAssignment(BrandOwned):
    """Subscription S held `number` over [valid_from, valid_to). Rating asks: who had it at time T?"""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="number_history")
    number = models.CharField(_("number"), max_length=15)  # E.164 digits without '+'
    valid_from = models.DateTimeField(_("from"))
    valid_to = models.DateTimeField(_("to"), null=True, blank=True)

    rights_area = "customers"

    class Meta:
        ordering = ["number", "valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                                   name="customers_assignment_window"),
            # the number compared as an integer (E.164 digits fit in one; a digit string has no
            # leading zero): the GiST index checks text through btree_gist's general text support, at
            # twice the cost a row (the migration import writes tens of thousands)
            ExclusionConstraint(
                name="customers_assignment_no_overlap",
                expressions=[
                    ("brand", RangeOperators.EQUAL),
                    (Cast("number", models.BigIntegerField()), RangeOperators.EQUAL),
                    (TsTzRange("valid_from", "valid_to", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
            ),
        ]
        indexes = [
            # subscription_for_number: WHERE brand, number AND valid_from <= T ORDER BY valid_from DESC LIMIT 1
            models.Index(fields=["number", "brand", "-valid_from"], name="customers_assignment_lookup"),
        ]

    def __str__(self) -> str:
        return f"+{self.number} → {self.subscription_id}"
