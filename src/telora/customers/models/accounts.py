"""Billing accounts: where a customer's subscriptions are billed, how, and within what credit."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned, brand_key_indexed_elsewhere
from telora.customers.constants import ACCOUNT_STATUSES, INVOICE_DELIVERIES, PAYMENT_METHODS
from telora.customers.models.customers import Address, Customer, _choices


class BillingAccount(BrandOwned):
    """One invoice stream. `payment_method_ref` is a reference at the payment provider (a mandate id,
    a token), never a card number: services refuse anything that looks like one."""

    brand = brand_key_indexed_elsewhere()  # customers_account_number leads with it
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts")
    number = models.CharField(_("account number"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=_choices(ACCOUNT_STATUSES), default="active")
    bill_cycle = models.ForeignKey("catalog.BillCycle", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("bill cycle"))
    billing_group = models.ForeignKey("catalog.BillingGroup", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("billing group"))
    invoice_delivery = models.CharField(_("invoice delivery"), max_length=8, choices=_choices(INVOICE_DELIVERIES),
                                        default="email")
    invoice_email = models.EmailField(_("invoice e-mail"), max_length=254, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=18, decimal_places=6, default=0)
    payment_method = models.CharField(_("payment method"), max_length=16, choices=_choices(PAYMENT_METHODS),
                                      default="invoice")
    payment_method_ref = models.CharField(_("payment method reference"), max_length=100, blank=True)
    billing_address = models.ForeignKey(Address, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                        verbose_name=_("billing address"))
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    rights_area = "customers"

    class Meta:
        ordering = ["brand_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "number"], name="customers_account_number"),
            models.CheckConstraint(condition=models.Q(credit_limit__gte=0), name="customers_account_credit_limit"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"
