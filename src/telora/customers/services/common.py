"""What the customers services share: rights, catalogue lookups for a brand, field checks, audit fields."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from telora.catalog.models import in_effect
from telora.catalog.selectors import catalogue_owners
from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.customers.validation import InvalidValue, find_pan

CUSTOMER_FIELDS = [
    "number", "kind", "status", "status_reason", "parent", "name", "first_name", "last_name", "company_name",
    "id_type", "id_number", "birth_date", "registration_number", "vat_number", "customer_group", "language",
    "email", "phone", "notes", "closed_at",
]
CONTACT_FIELDS = ["role", "first_name", "last_name", "email", "phone"]
ADDRESS_FIELDS = ["roles", "street1", "street2", "postcode", "city", "state", "country"]
ACCOUNT_FIELDS = [
    "number", "name", "status", "bill_cycle", "billing_group", "invoice_delivery", "invoice_email", "currency",
    "credit_limit", "payment_method", "payment_method_ref", "billing_address", "closed_at",
]
SUBSCRIPTION_FIELDS = [
    "customer", "billing_account", "service_type", "identifier", "phone_number", "sim", "status", "status_reason",
    "billing_address", "shipping_address", "installation_address", "commitment_end", "activated_at",
    "suspended_at", "terminated_at", "channel",
]
INSTANCE_FIELDS = ["subscription", "product", "kind", "start_at", "end_at", "end_reason", "channel"]
ASSIGNMENT_FIELDS = ["subscription", "number", "valid_from", "valid_to"]


def sale_channel(brand: Brand, channel, interface: str | None, at: dt.datetime, *, owners: list[int] | None = None):
    """The sales channel a sale is recorded in: the one named (row or code), else the default of
    the interface it came through (catalogue `default_for`), else none (the brand has no default).
    `owners`: the brand's `catalogue_owners`, when the caller has them already."""
    from telora.catalog.models import SalesChannel
    from telora.catalog.selectors import default_channel

    if channel not in (None, ""):
        return catalog_row(SalesChannel, brand, channel, "channel", at=at, owners=owners)
    return default_channel(brand, interface, clock.localtime(at, brand).date(), owners=owners) if interface else None


def require(actor: Actor, brand, perm: str = "customers.change") -> None:
    """People and API keys need `perm` in the brand; actors without a principal are platform jobs."""
    if actor.principal is None and actor.job:
        return
    if not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in brand {getattr(brand, 'code', brand)}.")


def for_inventory(actor: Actor) -> Actor:
    """The actor the inventory sees when a subscription takes or gives back a SIM or number.

    Selling a line is a customers.change right; the SIM and number move as part of it, so the
    inventory is told this is the customers app acting (its audit label still names the person)
    rather than asking the CSR for inventory.change too.
    """
    if actor.principal is None:
        return actor
    return Actor(job=f"customers ({actor.label})", request_id=actor.request_id, address=actor.address)


def from_inventory(func, *args, **kwargs):
    """Call an inventory service; a SIM or number it does not hold is bad input here (400), not a 404."""
    try:
        return func(*args, **kwargs)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise ServiceError(exc.message, field=exc.field, code="unknown") from None
        raise


def fail(field: str, reason: str, code: str = "invalid") -> ServiceError:
    return ServiceError(f"{field}: {reason}", field=field, code=code)


def text(values: dict, field: str, limit: int, *, required: bool = False) -> str:
    value = (values.get(field) or "").strip()
    if required and not value:
        raise fail(field, "is required")
    if len(value) > limit:
        raise fail(field, f"is longer than {limit} characters")
    return value


def no_pan(field: str, value: str) -> str:
    """Refuse a value holding what looks like a payment card number: Telora never stores one."""
    found = find_pan(value)
    if found:
        raise fail(field, f"looks like a payment card number ({found}); card numbers are never stored here. "
                          "Give the payment provider's reference (token or mandate id) instead", code="card_number")
    return value


def clean_email(field: str, value: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise fail(field, f"{value!r} is not a valid e-mail address") from None
    return value


def check(field: str, func, *args):
    """Run a validation.* function, turning InvalidValue into a ServiceError on `field`."""
    try:
        return func(*args)
    except InvalidValue as exc:
        raise fail(field, str(exc)) from None


def catalog_row(model, brand: Brand, value, field: str, *, at: dt.datetime | None = None,
                owners: list[int] | None = None):
    """A catalogue row (object, id or code) the brand may use and which exists today, or a clear error.
    `owners`: the brand's `catalogue_owners`, when the caller has them already (one read per sale)."""
    if value is None or value == "":
        return None
    ids = catalogue_owners(brand) if owners is None else owners
    if isinstance(value, model):
        row = value if value.brand_id in ids else None
    else:
        lookup = {"pk": value} if isinstance(value, int) else {"code": value}
        rows = {r.brand_id: r for r in model.objects.filter(brand_id__in=ids, **lookup)}
        row = next((rows[i] for i in ids if i in rows), None)
    noun = model._meta.verbose_name
    if row is None:
        raise fail(field, f"no {noun} {getattr(value, 'code', value)!r} in the catalogue of {brand.code}",
                   code="unknown")
    if not in_effect(row, clock.localtime(at or clock.now(), brand).date()):
        raise fail(field, f"{noun} {row.code} is not valid now (valid {row.valid_from} – {row.valid_to or '…'})")
    return row


def own(obj, brand: Brand, field: str, model, *, customer=None):
    """An object (or id) of `model` in the brand (and of the customer, if given), or a clear error."""
    if obj is None or obj == "":
        return None
    if not isinstance(obj, model):
        found = model.objects.filter(brand=brand, pk=obj).first()
        if found is None:
            raise fail(field, f"no {model._meta.verbose_name} {obj} in brand {brand.code}", code="unknown")
        obj = found
    if obj.brand_id != brand.pk:
        raise fail(field, "belongs to another brand")
    if customer is not None and getattr(obj, "customer_id", customer.pk) != customer.pk:
        raise fail(field, f"belongs to another customer than {customer.number}")
    return obj


def django_check(validator):
    """A Django field validator as a validation.* style function (raising InvalidValue)."""

    def run(value):
        try:
            validator(value)
        except ValidationError as exc:
            raise InvalidValue(exc.messages[0]) from None
        return value

    return run


def subscription_facts(subscription, **extra) -> dict:
    """The ids and state a subscription's domain event carries (events.emit payload)."""
    return {"subscription_id": subscription.pk, "customer_id": subscription.customer_id,
            "billing_account_id": subscription.billing_account_id, "identifier": subscription.identifier,
            "service_type": subscription.service_type, "status": subscription.status, **extra}
