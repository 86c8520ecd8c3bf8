"""Business price agreements: one customer's own usage rates, found before its customer group's
rate overrides and the rate plan's rates (see the rating engine's `overrides`)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned
from telora.customers.models.customers import Customer

SERVICES = ("voice", "sms", "mms", "data", "content")
AMOUNT = {"max_digits": 18, "decimal_places": 6}


class PriceAgreement(BrandOwned):
    """For `service` in `zone` (and `band`; blank: every band) on `rate_plan` (blank: every plan),
    from `valid_from` until `valid_to` (exclusive; none: open): a replacement rate (`price` per
    `unit`, increments, setup, minimum, as a plan rate) or `percent` off the usage charge. Codes
    name the brand's catalogue; an ended agreement is kept, never deleted (rated usage names it)."""

    rights_area = "customers"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="price_agreements",
                                 verbose_name=_("customer"))
    rate_plan = models.CharField(_("rate plan"), max_length=40, blank=True)
    service = models.CharField(_("service"), max_length=16, choices=[(s, s) for s in SERVICES])
    zone = models.CharField(_("zone"), max_length=40)
    band = models.CharField(_("band"), max_length=40, blank=True)
    price = models.DecimalField(_("price"), **AMOUNT, null=True, blank=True)
    unit = models.PositiveBigIntegerField(_("unit"), null=True, blank=True)
    first_increment = models.PositiveBigIntegerField(_("first increment"), null=True, blank=True)
    next_increment = models.PositiveBigIntegerField(_("next increment"), null=True, blank=True)
    setup = models.DecimalField(_("setup"), **AMOUNT, default=0)
    minimum = models.DecimalField(_("minimum"), **AMOUNT, default=0)
    percent = models.DecimalField(_("discount percent"), max_digits=9, decimal_places=6, null=True, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["customer", "-valid_from", "pk"]
        indexes = [models.Index(fields=["customer", "valid_from"], name="customers_agreement_from")]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                                   name="customers_agreement_window"),
            models.CheckConstraint(
                condition=(Q(price__isnull=False, unit__isnull=False, first_increment__isnull=False,
                             next_increment__isnull=False, percent__isnull=True)
                           | Q(price__isnull=True, percent__isnull=False)),
                name="customers_agreement_price_or_percent"),
        ]

    def __str__(self) -> str:
        return f"agreement {self.pk}: " + " ".join(filter(None, [self.rate_plan, self.service, self.zone, self.band]))

    @property
    def key(self) -> str:
        """How rated usage names it."""
        return f"customer:{self.pk}"

    def in_effect(self, moment) -> bool:
        return self.valid_from <= moment and (self.valid_to is None or moment < self.valid_to)
