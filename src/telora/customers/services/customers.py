"""Creating and changing customers, their contacts and their addresses."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q

from telora.catalog.models import CustomerGroup
from telora.core.models import Brand
from telora.core.models.brands import validate_country, validate_language
from telora.core.services.actors import Actor
from telora.core.services.audit import record_event, snapshot
from telora.core.services.sequences import next_number
from telora.customers.constants import (
    ADDRESS_ROLES,
    CONTACT_ROLES,
    CUSTOMER_KINDS,
    CUSTOMER_STATUSES,
    ID_TYPES,
)
from telora.customers.models import Address, BillingAccount, Contact, Customer, Subscription
from telora.customers.services.common import (
    ADDRESS_FIELDS,
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    catalog_row,
    check,
    clean_email,
    django_check,
    fail,
    no_pan,
    require,
    text,
)
from telora.customers.validation import clean_phone, clean_vat, normalise_text
from telora.events.services import emit

EDITABLE = ("kind", "first_name", "last_name", "company_name", "id_type", "id_number", "birth_date",
            "registration_number", "vat_number", "customer_group", "parent", "language", "email", "phone", "notes",
            "status", "status_reason")
PRIVATE_ONLY = ("id_type", "id_number", "birth_date")
BUSINESS_ONLY = ("registration_number", "vat_number")


def _choice(field: str, value: str, allowed, *, blank: bool = False) -> str:
    if blank and not value:
        return ""
    if value not in allowed:
        raise fail(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _parent(customer: Customer, parent, brand: Brand) -> Customer | None:
    if parent is None or parent == "":
        return None
    if not isinstance(parent, Customer):
        found = Customer.objects.filter(brand=brand, pk=parent).first()
        if found is None:
            raise fail("parent", f"no customer {parent} in brand {brand.code}", code="unknown")
        parent = found
    if parent.brand_id != brand.pk:
        raise fail("parent", "belongs to another brand")
    if parent.kind != "business":
        raise fail("parent", f"{parent.number} is a private customer; only business customers have children")
    if parent.status == "closed":
        raise fail("parent", f"{parent.number} is closed")
    seen, step = set(), parent
    while step is not None:  # a hierarchy never loops back on itself
        if customer.pk is not None and step.pk == customer.pk:
            raise fail("parent", f"{parent.number} is below {customer.number}; a customer cannot be its own ancestor")
        if step.pk in seen:
            break
        seen.add(step.pk)
        step = step.parent
    return parent


def _apply(customer: Customer, values: dict, brand: Brand, at: dt.datetime) -> None:
    """Check every field of `values` (merged over the customer's current state) and set them."""
    merged = {name: getattr(customer, name) for name in EDITABLE if name not in ("customer_group", "parent")}
    merged["customer_group"] = customer.customer_group
    merged["parent"] = customer.parent
    merged.update(values)
    kind = _choice("kind", merged["kind"], CUSTOMER_KINDS)
    customer.kind = kind
    customer.first_name = text(merged, "first_name", 100)
    customer.last_name = text(merged, "last_name", 150, required=kind == "private")
    customer.company_name = text(merged, "company_name", 200, required=kind == "business")
    wrong_kind = BUSINESS_ONLY if kind == "private" else PRIVATE_ONLY
    for name in wrong_kind:
        if merged.get(name):
            raise fail(name, f"only {'business' if kind == 'private' else 'private'} customers have one")
    customer.id_type = _choice("id_type", merged.get("id_type") or "", ID_TYPES, blank=True)
    customer.id_number = no_pan("id_number", text(merged, "id_number", 40))
    if customer.id_number and not customer.id_type:
        raise fail("id_type", "say what kind of document the number belongs to")
    birth = merged.get("birth_date")
    if isinstance(birth, str) and birth:
        try:
            birth = dt.date.fromisoformat(birth)
        except ValueError:
            raise fail("birth_date", f"{birth!r} is not a date (YYYY-MM-DD)") from None
    if birth and not (dt.date(1900, 1, 1) <= birth <= at.date()):
        raise fail("birth_date", f"{birth} is not a plausible birth date")
    customer.birth_date = birth or None
    customer.registration_number = text(merged, "registration_number", 40)
    customer.vat_number = check("vat_number", clean_vat, merged.get("vat_number") or "")
    if "customer_group" in values:  # checked when given: a group closed since stays on existing customers
        customer.customer_group = catalog_row(CustomerGroup, brand, values["customer_group"], "customer_group", at=at)
    customer.parent = _parent(customer, merged.get("parent"), brand)
    customer.language = text(merged, "language", 8) or brand.language
    check("language", django_check(validate_language), customer.language)
    customer.email = clean_email("email", merged.get("email") or "")
    phone = (merged.get("phone") or "").strip()
    customer.phone = check("phone", clean_phone, phone, brand.country) if phone else ""
    customer.notes = no_pan("notes", (merged.get("notes") or "").strip())
    customer.status = _choice("status", merged.get("status") or "active", CUSTOMER_STATUSES)
    customer.status_reason = text(merged, "status_reason", 200)
    customer.name = (customer.company_name if kind == "business"
                     else " ".join(filter(None, [customer.first_name, customer.last_name])))
    customer.search_text = normalise_text(" ".join(filter(None, [customer.name, customer.company_name
                                                                 if kind == "private" else ""])))


@transaction.atomic
def create_customer(brand: Brand, *, actor: Actor, at: dt.datetime, kind: str, **values) -> Customer:
    """A new customer numbered from the brand's "customer" sequence (gap-free).

    `values`: first_name, last_name (private), company_name (business), id_type, id_number,
    birth_date (private), registration_number, vat_number (business), customer_group (object,
    id or code), parent (a business customer or its id), language (default: the brand's), email,
    phone (normalised to E.164 in the brand's country), notes, status.
    """
    require(actor, brand)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        name = sorted(unknown)[0]
        raise fail(name, "is not a customer field")
    customer = Customer(brand=brand, kind=kind, created_at=at, updated_at=at)
    _apply(customer, {"kind": kind, **values}, brand, at)
    if customer.status == "closed":
        raise fail("status", "a new customer cannot be closed")
    customer.number = next_number(brand, "customer", at=at)
    customer.save()
    record_event(actor=actor, at=at, action="create", obj=customer, brand=brand,
                 new=snapshot(customer, CUSTOMER_FIELDS))
    emit("customer.created", brand=brand, subject=customer, at=at, actor=actor,
         payload={"customer_id": customer.pk, "number": customer.number, "kind": customer.kind})
    return customer


def _lock(model, obj):
    return model.objects.select_for_update().select_related("brand").get(pk=obj.pk)


@transaction.atomic
def update_customer(customer: Customer, *, actor: Actor, at: dt.datetime, **values) -> Customer:
    """Change any of the fields `create_customer` takes; closing needs every subscription terminated."""
    require(actor, customer.brand)
    customer = _lock(Customer, customer)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise fail(sorted(unknown)[0], "is not a customer field you can change")
    old = snapshot(customer, CUSTOMER_FIELDS)
    was = customer.status
    _apply(customer, values, customer.brand, at)
    if customer.status == "closed" and was != "closed":
        live = Subscription.objects.filter(customer=customer).exclude(status="terminated").count()
        if live:
            raise fail("status", f"{customer.number} has {live} subscription(s) not terminated; terminate them first",
                       code="state")
        customer.closed_at = at
    elif customer.status != "closed":
        customer.closed_at = None
    if customer.kind == "private" and customer.children.exists():
        raise fail("kind", f"{customer.number} has customers below it, so it stays a business customer")
    customer.updated_at = at
    customer.save()
    new = snapshot(customer, CUSTOMER_FIELDS)
    if new != old:
        record_event(actor=actor, at=at, action="update", obj=customer, brand=customer.brand, old=old, new=new)
        emit("customer.changed", brand=customer.brand, subject=customer, at=at, actor=actor,
             payload={"customer_id": customer.pk, "number": customer.number, "status": customer.status,
                      "changed": sorted(k for k in new if new[k] != old.get(k))})
    return customer


# ---- contacts and addresses -----------------------------------------------------------------
# A customer's contact persons and addresses are added and corrected the same way; `fields` are the
# audited ones and `apply(row, values, brand)` checks `values` (merged over the row) and sets them.


def _add_part(customer: Customer, model, fields, apply, values: dict, *, actor: Actor, at: dt.datetime):
    require(actor, customer.brand)
    row = model(brand=customer.brand, customer=customer, created_at=at, updated_at=at)
    apply(row, values, customer.brand)
    row.save()
    record_event(actor=actor, at=at, action="create", obj=row, brand=customer.brand,
                 new={"customer": customer.pk, **snapshot(row, fields)})
    return row


def _update_part(row, fields, apply, values: dict, what: str, *, actor: Actor, at: dt.datetime):
    require(actor, row.brand)
    row = _lock(type(row), row)
    unknown = set(values) - set(fields)
    if unknown:
        raise fail(sorted(unknown)[0], f"is not {what}")
    old = snapshot(row, fields)
    apply(row, values, row.brand)
    row.updated_at = at
    row.save()
    record_event(actor=actor, at=at, action="update", obj=row, brand=row.brand, old=old, new=snapshot(row, fields))
    return row


# ---- contacts -------------------------------------------------------------------------------


def _apply_contact(contact: Contact, values: dict, brand: Brand) -> None:
    merged = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    merged.update(values)
    contact.role = _choice("role", merged["role"] or "primary", CONTACT_ROLES)
    contact.first_name = text(merged, "first_name", 100)
    contact.last_name = text(merged, "last_name", 150, required=True)
    contact.email = clean_email("email", merged.get("email") or "")
    phone = (merged.get("phone") or "").strip()
    contact.phone = check("phone", clean_phone, phone, brand.country) if phone else ""


@transaction.atomic
def add_contact(customer: Customer, *, actor: Actor, at: dt.datetime, last_name: str, first_name: str = "",
                role: str = "primary", email: str = "", phone: str = "") -> Contact:
    values = dict(role=role, first_name=first_name, last_name=last_name, email=email, phone=phone)
    return _add_part(customer, Contact, CONTACT_FIELDS, _apply_contact, values, actor=actor, at=at)


@transaction.atomic
def update_contact(contact: Contact, *, actor: Actor, at: dt.datetime, **values) -> Contact:
    return _update_part(contact, CONTACT_FIELDS, _apply_contact, values, "a contact field", actor=actor, at=at)


@transaction.atomic
def remove_contact(contact: Contact, *, actor: Actor, at: dt.datetime) -> None:
    require(actor, contact.brand)
    old = snapshot(contact, CONTACT_FIELDS)
    record_event(actor=actor, at=at, action="delete", obj=contact, brand=contact.brand, old=old)
    contact.delete()


# ---- addresses ------------------------------------------------------------------------------


def _apply_address(address: Address, values: dict, brand: Brand) -> None:
    merged = {name: getattr(address, name) for name in ADDRESS_FIELDS}
    merged.update(values)
    roles = merged.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    for role in roles:
        _choice("roles", role, ADDRESS_ROLES)
    address.roles = [role for role in ADDRESS_ROLES if role in roles]  # canonical order, each once
    address.street1 = text(merged, "street1", 200, required=True)
    address.street2 = text(merged, "street2", 200)
    address.postcode = text(merged, "postcode", 20, required=True)
    address.city = text(merged, "city", 100, required=True)
    address.state = text(merged, "state", 100)
    address.country = (merged.get("country") or brand.country).strip().upper()
    check("country", django_check(validate_country), address.country)


@transaction.atomic
def add_address(customer: Customer, *, actor: Actor, at: dt.datetime, street1: str, postcode: str, city: str,
                roles=("legal",), street2: str = "", state: str = "", country: str = "") -> Address:
    """An address with its roles (legal, billing, shipping, installation); country defaults to the brand's."""
    values = dict(roles=list(roles), street1=street1, street2=street2, postcode=postcode, city=city, state=state,
                  country=country)
    return _add_part(customer, Address, ADDRESS_FIELDS, _apply_address, values, actor=actor, at=at)


@transaction.atomic
def update_address(address: Address, *, actor: Actor, at: dt.datetime, **values) -> Address:
    """Correct an address in place; subscriptions and accounts pointing at it follow."""
    return _update_part(address, ADDRESS_FIELDS, _apply_address, values, "an address field", actor=actor, at=at)


@transaction.atomic
def remove_address(address: Address, *, actor: Actor, at: dt.datetime) -> None:
    """Only an address nothing points at can go; otherwise give its users another address first."""
    require(actor, address.brand)
    used = (BillingAccount.objects.filter(billing_address=address).exists()
            or Subscription.objects.filter(Q(billing_address=address) | Q(shipping_address=address)
                                           | Q(installation_address=address)).exists())
    if used:
        raise fail("address", "is used by a billing account or subscription; point those elsewhere first",
                   code="state")
    record_event(actor=actor, at=at, action="delete", obj=address, brand=address.brand,
                 old=snapshot(address, ADDRESS_FIELDS))
    address.delete()
