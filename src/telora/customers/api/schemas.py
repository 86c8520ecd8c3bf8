"""Shapes of Telora's own /api/v1 customer and subscription endpoints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import StringConstraints

from telora.api.guard import ObjectIn
from telora.customers.models import (
    Address,
    Contact,
    CustomerFile,
    PriceAgreement,
    ProductInstance,
    Subscription,
)

CODE = 40  # product, group and type codes
Code = Annotated[str, StringConstraints(max_length=CODE)]
Role = Annotated[str, StringConstraints(max_length=20)]


class Ref(Schema):
    id: int
    number: str
    name: str


class ProductInstanceOut(Schema):
    id: int
    product: str = Field(description="The catalogue product's code")
    name: str
    kind: str
    start_at: dt.datetime
    end_at: dt.datetime | None = Field(description="None while the product is on")
    end_reason: str
    channel: str | None = Field(description="The sales channel it was sold through (its code)")

    @staticmethod
    def resolve_product(instance: ProductInstance) -> str:
        return instance.product.code

    @staticmethod
    def resolve_channel(instance: ProductInstance) -> str | None:
        return instance.channel.code if instance.channel_id else None

    @staticmethod
    def resolve_name(instance: ProductInstance) -> str:
        return instance.product.name


class SubscriptionOut(Schema):
    id: int
    brand: str
    customer: Ref
    billing_account: Ref
    service_type: str
    identifier: str = Field(description="MSISDN or number as E.164 digits, or the circuit id")
    iccid: str | None
    status: str
    status_reason: str
    created_at: dt.datetime
    activated_at: dt.datetime | None
    suspended_at: dt.datetime | None
    terminated_at: dt.datetime | None
    commitment_end: dt.datetime | None
    billing_address: int | None
    shipping_address: int | None
    installation_address: int | None
    channel: str | None = Field(description="The sales channel the line was sold through (its code)")
    products: list[ProductInstanceOut] = Field(description="Every product instance, current and past, oldest first")

    @staticmethod
    def resolve_brand(sub: Subscription) -> str:
        return sub.brand.code

    @staticmethod
    def resolve_customer(sub: Subscription) -> dict:
        return {"id": sub.customer_id, "number": sub.customer.number, "name": sub.customer.name}

    @staticmethod
    def resolve_billing_account(sub: Subscription) -> dict:
        return {"id": sub.billing_account_id, "number": sub.billing_account.number, "name": sub.billing_account.name}

    @staticmethod
    def resolve_iccid(sub: Subscription) -> str | None:
        return sub.sim.iccid if sub.sim_id else None

    @staticmethod
    def resolve_billing_address(sub: Subscription) -> int | None:
        return sub.billing_address_id

    @staticmethod
    def resolve_shipping_address(sub: Subscription) -> int | None:
        return sub.shipping_address_id

    @staticmethod
    def resolve_installation_address(sub: Subscription) -> int | None:
        return sub.installation_address_id

    @staticmethod
    def resolve_channel(sub: Subscription) -> str | None:
        return sub.channel.code if sub.channel_id else None

    @staticmethod
    def resolve_products(sub: Subscription) -> list:
        return sorted(sub.products.all(), key=lambda i: (i.start_at, i.pk))


class SubscriptionCreate(Schema):
    customer: int
    billing_account: int
    service_type: str = Field(max_length=40, description="mobile_postpaid, mobile_prepaid, fixed_line, voip, "
                                                         "broadband, fiber, tv…")
    plan: str = Field(max_length=CODE, description="The plan's product code")
    addons: list[Code] = Field(default_factory=list, max_length=50, description="Add-on product codes")
    one_time: list[Code] = Field(default_factory=list, max_length=50, description="One-time product or device codes")
    number: str | None = Field(None, max_length=40, description="A chosen number; mobile: else the next free one")
    number_group: str | None = Field(None, max_length=CODE, description="Next free number of this number group")
    sim: str | None = Field(None, max_length=40, description="A chosen ICCID; mobile: else the next free card")
    sim_type: str | None = Field(None, max_length=CODE)
    identifier: str = Field("", max_length=64, description="Circuit id (broadband, fiber)")
    billing_address: int | None = None
    shipping_address: int | None = None
    installation_address: int | None = None
    effective_at: dt.datetime | None = Field(None, description="When the line starts (default now); "
                                             "in the past needs customers.backdate")
    channel: str | None = Field(None, max_length=40, description="Sales channel code (default: the channel "
                                                                  "whose default_for includes api)")
    reference: str | None = Field(None, max_length=120, description="Reservation reference of a reserved SIM or number "
                                                    "(default: 'customer <number>')")
    activate: bool = True


class SubscriptionFilter(Schema):
    customer: int | None = Field(None, description="Customer id")
    status: str | None = None
    service_type: str | None = None
    identifier: str | None = Field(None, description="MSISDN (any spelling) or circuit id")
    brand: str | None = Field(None, description="Brand code")


class PlanIn(Schema):
    plan: str = Field(max_length=CODE)
    channel: str | None = Field(None, max_length=40, description="Sales channel code (default: the channel "
                                                                  "whose default_for includes api)")
    effective_at: dt.datetime | None = Field(None, description="When the change takes effect (default now); "
                                             "in the past needs customers.backdate")


class ProductIn(Schema):
    product: str = Field(max_length=CODE)
    channel: str | None = Field(None, max_length=40, description="Sales channel code (default: the channel "
                                                                  "whose default_for includes api)")
    effective_at: dt.datetime | None = Field(None, description="When the change takes effect (default now); "
                                             "in the past needs customers.backdate")


class ReasonIn(ObjectIn):
    reason: str = Field("", max_length=200)
    effective_at: dt.datetime | None = Field(None, description="When the change takes effect (default now); "
                                             "in the past needs customers.backdate")


class EffectiveAt(Schema):
    effective_at: dt.datetime | None = Field(None, description="When the add-on ends (default now); "
                                             "in the past needs customers.backdate")


class SwapSimIn(ObjectIn):
    sim: str | None = Field(None, max_length=40)
    sim_type: str | None = Field(None, max_length=CODE)
    reason: str = Field("", max_length=200)


class SubscriptionPatch(ObjectIn):
    billing_account: int = None
    billing_address: int | None = None
    shipping_address: int | None = None
    installation_address: int | None = None


class AddressOut(Schema):
    id: int
    roles: list[str]
    street1: str
    street2: str
    postcode: str
    city: str
    state: str
    country: str

    @staticmethod
    def resolve_roles(address: Address) -> list[str]:
        return list(address.roles)


class AddressIn(Schema):
    roles: list[Role] = Field(default_factory=lambda: ["legal"], max_length=4,
                              description="legal, billing, shipping, installation")
    street1: str = Field(max_length=200)
    street2: str = Field("", max_length=200)
    postcode: str = Field(max_length=20)
    city: str = Field(max_length=100)
    state: str = Field("", max_length=100)
    country: str = Field("", max_length=2, description="ISO 3166 code; default: the brand's")


class AddressPatch(ObjectIn):
    roles: list[Role] = Field(None, max_length=4)
    street1: str = Field(None, max_length=200)
    street2: str = Field(None, max_length=200)
    postcode: str = Field(None, max_length=20)
    city: str = Field(None, max_length=100)
    state: str = Field(None, max_length=100)
    country: str = Field(None, max_length=2)


class ContactOut(Schema):
    id: int
    role: str
    first_name: str
    last_name: str
    email: str
    phone: str

    @staticmethod
    def resolve_phone(contact: Contact) -> str:
        return f"+{contact.phone}" if contact.phone else ""


class ContactIn(Schema):
    role: str = Field("primary", max_length=12)
    first_name: str = Field("", max_length=100)
    last_name: str = Field(max_length=150)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40, description="Any spelling; stored as E.164 digits")


class ContactPatch(ObjectIn):
    role: str = Field(None, max_length=12)
    first_name: str = Field(None, max_length=100)
    last_name: str = Field(None, max_length=150)
    email: str = Field(None, max_length=254)
    phone: str = Field(None, max_length=40)


class FileOut(Schema):
    id: int
    name: str
    description: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime

    @staticmethod
    def resolve_uploaded_by(row: CustomerFile) -> str:
        return row.uploaded_by_label


class PriceAgreementOut(Schema):
    id: int
    key: str = Field(description="How rated usage names it (its `override`)")
    rate_plan: str | None
    service: str
    zone: str
    band: str | None
    price: Decimal | None
    unit: int | None
    first_increment: int | None
    next_increment: int | None
    setup: Decimal | None
    minimum: Decimal | None
    percent: Decimal | None
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    note: str

    @staticmethod
    def resolve_rate_plan(row: PriceAgreement) -> str | None:
        return row.rate_plan or None

    @staticmethod
    def resolve_band(row: PriceAgreement) -> str | None:
        return row.band or None

    @staticmethod
    def resolve_setup(row: PriceAgreement) -> Decimal | None:
        return row.setup if row.price is not None else None

    @staticmethod
    def resolve_minimum(row: PriceAgreement) -> Decimal | None:
        return row.minimum if row.price is not None else None


class PriceAgreementIn(Schema):
    """Where (service, zone; optional rate plan and band) and what: `price` per `unit` with
    increments (setup, minimum optional), or `percent` off. Amounts as strings ("0.30")."""

    service: str = Field(max_length=16)
    zone: Code
    rate_plan: Code = ""
    band: Code = ""
    price: str | None = Field(None, max_length=30)
    unit: int | None = Field(None, ge=1, le=10**12)
    first_increment: int = Field(1, ge=0, le=10**12)
    next_increment: int = Field(1, ge=1, le=10**12)
    setup: str = Field("0", max_length=30)
    minimum: str = Field("0", max_length=30)
    percent: str | None = Field(None, max_length=30)
    valid_from: dt.datetime | None = Field(None, description="Default now; earlier needs customers.backdate")
    valid_to: dt.datetime | None = None
    note: str = Field("", max_length=200)


class PriceAgreementEnd(Schema):
    end_at: dt.datetime | None = Field(None, description="Default now")
