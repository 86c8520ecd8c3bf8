"""TMF629 Customer Management v4: list, get, create and patch customers.

A Telora customer is a TMF Customer whose `engagedParty` is an Individual (private) or an
Organization (business). What TMF has no field for travels as `characteristic` entries (names in
CHARACTERISTICS); e-mail, phone and postal addresses are `contactMedium` entries, a postal
address's `contactType` listing its roles ("legal,billing"). A parent in a business hierarchy is a
`relatedParty` with role "parent". `id` is Telora's customer id; the customer number is the
`customerNumber` characteristic.
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, TimePeriod, TmfSchema, key
from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.customers import documents, services
from telora.customers.models import Customer
from telora.customers.selectors import customers_for_user
from telora.customers.tmf.common import (
    CUSTOMER_BASE,
    Characteristic,
    ContactMedium,
    Ref,
    account_ref,
    address_values,
    characteristic,
    characteristic_values,
    characteristics,
    customer_ref,
    iso,
    postal_medium,
)
from telora.customers.validation import normalise_text

router = Router(tags=["customer"])

CHARACTERISTICS = {
    "givenName": "first_name", "familyName": "last_name", "companyName": "company_name", "idType": "id_type",
    "idNumber": "id_number", "birthDate": "birth_date", "registrationNumber": "registration_number",
    "vatNumber": "vat_number", "language": "language", "customerGroup": "customer_group", "notes": "notes",
    "brand": "brand",
}
PARTY_TYPES = {"Individual": "private", "Organization": "business"}


class CustomerOut(TmfSchema):
    id: str
    href: str
    name: str
    status: str
    statusReason: str | None = None
    engagedParty: Ref
    contactMedium: list[ContactMedium] = []
    characteristic: list[Characteristic] = []
    account: list[Ref] = []
    relatedParty: list[Ref] = []
    validFor: TimePeriod | None = None
    type: str = Field("Customer", alias="@type")


class CustomerCreate(TmfSchema):
    name: str = Field(max_length=250, description="Person's full name, or the company name")
    engagedParty: Ref | None = Field(None, description='@referredType "Individual" (default) or "Organization"')
    status: str | None = Field(None, max_length=20)
    statusReason: str | None = Field(None, max_length=200)
    contactMedium: list[ContactMedium] = []
    characteristic: list[Characteristic] = Field([], description=f"names: {', '.join(CHARACTERISTICS)}")
    relatedParty: list[Ref] = Field([], description='role "parent": the business customer above this one')


class CustomerPatch(TmfSchema):
    name: str | None = Field(None, max_length=250)
    status: str | None = Field(None, max_length=20)
    statusReason: str | None = Field(None, max_length=200)
    contactMedium: list[ContactMedium] | None = None
    characteristic: list[Characteristic] | None = None
    relatedParty: list[Ref] | None = None


class CustomerFilter(TmfSchema):
    status: str | None = None
    name: str | None = Field(None, description="Every word occurs in the name")
    customerNumber: str | None = None
    brand: str | None = Field(None, description="Brand code")


def render(customer: Customer) -> dict:
    mediums = []
    if customer.email:
        mediums.append({"mediumType": "email", "preferred": True,
                        "characteristic": {"contactType": "email", "emailAddress": customer.email}})
    if customer.phone:
        mediums.append({"mediumType": "phone", "characteristic": {"contactType": "phone",
                                                                 "phoneNumber": f"+{customer.phone}"}})
    mediums += [postal_medium(address) for address in customer.addresses.all()]
    return {
        "id": str(customer.pk), "href": f"{CUSTOMER_BASE}/{customer.pk}", "name": customer.name,
        "status": customer.status, "statusReason": customer.status_reason or None, "@type": "Customer",
        "engagedParty": {"id": str(customer.pk), "name": customer.name,
                         "@referredType": "Organization" if customer.is_business else "Individual"},
        "contactMedium": mediums,
        "characteristic": characteristics(
            characteristic("customerNumber", customer.number), characteristic("customerKind", customer.kind),
            characteristic("brand", customer.brand.code), characteristic("givenName", customer.first_name),
            characteristic("familyName", customer.last_name), characteristic("companyName", customer.company_name),
            characteristic("idType", customer.id_type), characteristic("idNumber", customer.id_number),
            characteristic("birthDate", iso(customer.birth_date), "date"),
            characteristic("registrationNumber", customer.registration_number),
            characteristic("vatNumber", customer.vat_number), characteristic("language", customer.language),
            characteristic("customerGroup", customer.customer_group.code if customer.customer_group_id else None),
            characteristic("notes", customer.notes)),
        "account": [account_ref(account) for account in customer.accounts.all()],
        "relatedParty": [customer_ref(customer.parent, "parent")] if customer.parent_id else [],
        "validFor": {"startDateTime": iso(customer.created_at), "endDateTime": iso(customer.closed_at)},
    }


def _customers(request):
    return customers_for_user(principal(request)).prefetch_related("addresses", "accounts")


def _contact_values(mediums: list[ContactMedium]) -> tuple[dict, list[ContactMedium]]:
    values, postal = {}, []
    for index, medium in enumerate(mediums):
        kind = medium.mediumType
        if kind == "email":
            values["email"] = medium.characteristic.emailAddress or ""
        elif kind == "phone":
            values["phone"] = medium.characteristic.phoneNumber or ""
        elif kind == "postalAddress":
            postal.append(medium)
        else:
            raise ServiceError(f"contactMedium[{index}].mediumType: {kind!r} is not email, phone or postalAddress",
                               field=f"contactMedium[{index}].mediumType")
    return values, postal


def _parent(request, parties: list[Ref]) -> dict:
    parents = [p for p in parties if (p.role or "").lower() == "parent"]
    if not parents:
        return {"parent": None} if parties == [] else {}
    found = customers_for_user(principal(request)).filter(pk=key(parents[0].id))
    if not found.exists():
        raise ServiceError(f"relatedParty: no customer {parents[0].id} to be the parent", field="relatedParty")
    return {"parent": found.first()}


def _split_name(name: str, values: dict, kind: str) -> None:
    """A full name fills the name fields the characteristics left out."""
    name = name.strip()
    if kind == "business":
        values.setdefault("company_name", name)
    elif name and "first_name" not in values and "last_name" not in values:
        first, _, last = name.rpartition(" ")
        values["first_name"], values["last_name"] = first, last


def _brand_for_create(request, code: str | None) -> Brand:
    held = rights.brands_with(principal(request), "customers.change")
    brands = Brand.objects.all() if held is rights.ALL else Brand.objects.filter(pk__in=held)
    if code:
        brand = brands.filter(code=code).first()
        if brand is None:
            raise ServiceError(f"characteristic brand: you cannot create customers in {code!r}", field="characteristic")
        return brand
    if brands.count() != 1:
        raise ServiceError("characteristic brand: give the brand code (you work in several brands)",
                           field="characteristic")
    return brands.get()


@router.get("/customer", response={200: list[CustomerOut], **ERRORS}, **TMF)
def list_customer(request, response: HttpResponse, paging: Query[Paging], filters: Query[CustomerFilter]):
    """Customers the caller may view, by customer number."""
    brands = require_perm(request, "customers.view")
    rows = customers_for_user(principal(request))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.customerNumber:
        rows = rows.filter(number=filters.customerNumber)
    if filters.brand:
        rows = rows.filter(brand__code=filters.brand)
    for word in normalise_text(filters.name or "").split():
        rows = rows.filter(search_text__contains=word)
    ids = page(rows.order_by("brand_id", "number").values_list("pk", flat=True), paging, response)
    return [render(c) for c in documents.customers(brands, ids)]


@router.get("/customer/{id}", response={200: CustomerOut, **ERRORS}, **TMF)
def retrieve_customer(request, id: str):
    brands = require_perm(request, "customers.view")
    found = documents.customers(brands, [key(id)])
    if not found:
        raise Http404("No such customer.")
    return render(found[0])


@router.post("/customer", response={201: CustomerOut, **ERRORS}, **TMF)
def create_customer(request, response: HttpResponse, payload: CustomerCreate):
    """A new customer, numbered from the brand's sequence, with its postal addresses."""
    require_perm(request, "customers.change")
    party = payload.engagedParty.referredType if payload.engagedParty else "Individual"
    if party not in PARTY_TYPES:
        raise ServiceError(f"engagedParty.@referredType: {party!r} is not Individual or Organization",
                           field="engagedParty")
    kind = PARTY_TYPES[party]
    values = characteristic_values(payload.characteristic, CHARACTERISTICS, "characteristic")
    brand = _brand_for_create(request, values.pop("brand", None))
    _split_name(payload.name, values, kind)
    contact, postal = _contact_values(payload.contactMedium)
    values.update(contact)
    parent = _parent(request, payload.relatedParty)
    if parent.get("parent"):
        values["parent"] = parent["parent"]
    if payload.status:
        values["status"] = payload.status
    if payload.statusReason:
        values["status_reason"] = payload.statusReason
    actor, at = Actor.from_request(request), clock.now()
    with transaction.atomic():
        customer = services.create_customer(brand, actor=actor, at=at, kind=kind, **values)
        for medium in postal:
            services.add_address(customer, actor=actor, at=at, **address_values(medium, ["legal"]))
    response["Location"] = f"{CUSTOMER_BASE}/{customer.pk}"
    return Status(201, render(_customers(request).get(pk=customer.pk)))


@router.patch("/customer/{id}", response={200: CustomerOut, **ERRORS}, **TMF)
def patch_customer(request, id: str, payload: CustomerPatch):
    """Change name, status, e-mail and phone (contactMedium), characteristics, or the parent.

    Postal addresses are changed at /api/v1/customers/{id}/addresses.
    """
    require_perm(request, "customers.change")
    customer = get_object_or_404(_customers(request), pk=key(id))
    values = characteristic_values(payload.characteristic, CHARACTERISTICS, "characteristic")
    if "brand" in values:
        raise ServiceError("characteristic brand: a customer cannot move to another brand", field="characteristic")
    if payload.name is not None:
        _split_name(payload.name, values, customer.kind)
    if payload.contactMedium is not None:
        contact, postal = _contact_values(payload.contactMedium)
        if postal:
            raise ServiceError("contactMedium: change postal addresses at /api/v1/customers/{id}/addresses",
                               field="contactMedium")
        values.update(contact)
    if payload.relatedParty is not None:
        values.update(_parent(request, payload.relatedParty))
    if payload.status is not None:
        values["status"] = payload.status
    if payload.statusReason is not None:
        values["status_reason"] = payload.statusReason
    if values:
        services.update_customer(customer, actor=Actor.from_request(request), at=clock.now(), **values)
    return render(_customers(request).get(pk=customer.pk))
