"""Customers, their contacts, addresses and uploaded files.

Every row carries its brand and is read through `objects.for_user(principal, action)` in the
rights area "customers". Writes go through `telora.customers.services`.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from telora.core.models import BrandOwned, brand_key_indexed_elsewhere
from telora.customers.constants import (
    ADDRESS_ROLES,
    CONTACT_ROLES,
    CUSTOMER_KINDS,
    CUSTOMER_STATUSES,
    ID_TYPES,
)


def _choices(values):
    return [(v, v.replace("_", " ")) for v in values]


class Customer(BrandOwned):
    """A person (private) or an organisation (business); businesses may form a hierarchy."""

    brand = brand_key_indexed_elsewhere()  # customers_customer_number leads with it
    number = models.CharField(_("customer number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=10, choices=_choices(CUSTOMER_KINDS))
    status = models.CharField(_("status"), max_length=10, choices=_choices(CUSTOMER_STATUSES), default="active")
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent"))
    name = models.CharField(_("name"), max_length=300)  # shown everywhere; made from the fields below
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    id_type = models.CharField(_("identity document"), max_length=20, blank=True, choices=_choices(ID_TYPES))
    id_number = models.CharField(_("document number"), max_length=40, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    customer_group = models.ForeignKey("catalog.CustomerGroup", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("customer group"))
    language = models.CharField(_("language"), max_length=8)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=15, blank=True)  # E.164 digits without '+'
    notes = models.TextField(_("notes"), blank=True)
    search_text = models.TextField(editable=False, default="")  # normalise_text(name + company), for search
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    rights_area = "customers"

    class Meta:
        ordering = ["brand_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "number"], name="customers_customer_number"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="customers_customer_not_own_parent"),
        ]
        indexes = [
            # Global search: name fragments through trigrams, e-mail and phone by exact value or prefix.
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="customers_customer_trgm"),
            models.Index(OpClass(Lower("email"), name="varchar_pattern_ops"), F("brand"),
                         name="customers_customer_email", condition=~Q(email="")),
            models.Index(fields=["phone", "brand"], name="customers_customer_phone", condition=~Q(phone="")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def is_business(self) -> bool:
        return self.kind == "business"


class Contact(BrandOwned):
    """A person to talk to about the customer's account (a business's buyer, a technical contact)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(_("role"), max_length=12, choices=_choices(CONTACT_ROLES), default="primary")
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=15, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    rights_area = "customers"

    class Meta:
        ordering = ["customer_id", "role", "last_name", "id"]
        indexes = [
            models.Index(OpClass(Lower("email"), name="varchar_pattern_ops"), F("brand"),
                         name="customers_contact_email", condition=~Q(email="")),
            models.Index(fields=["phone", "brand"], name="customers_contact_phone", condition=~Q(phone="")),
        ]

    def __str__(self) -> str:
        return " ".join(filter(None, [self.first_name, self.last_name]))


class Address(BrandOwned):
    """A postal address of the customer with the roles it plays (legal, billing, shipping, installation)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    roles = ArrayField(models.CharField(max_length=16, choices=_choices(ADDRESS_ROLES)), default=list)
    street1 = models.CharField(_("street and number"), max_length=200)
    street2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state or province"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    rights_area = "customers"

    class Meta:
        ordering = ["customer_id", "id"]
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return ", ".join(filter(None, [self.street1, self.street2, f"{self.postcode} {self.city}", self.country]))


def customer_file_path(instance: CustomerFile, filename: str) -> str:
    """customers/<brand code>/<customer id>/<random>-<name>: unguessable, grouped per customer."""
    return f"customers/{instance.brand.code}/{instance.customer_id}/{uuid.uuid4().hex[:12]}-" \
           f"{get_valid_filename(filename)[-120:]}"


class CustomerFile(BrandOwned):
    """A document kept with the customer (ID scan, signed contract). Read it only through a rights check."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(upload_to=customer_file_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True)
    content_type = models.CharField(_("content type"), max_length=120)
    size = models.BigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey("core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    uploaded_by_label = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(_("uploaded"))

    rights_area = "customers"

    class Meta:
        ordering = ["customer_id", "-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.name
