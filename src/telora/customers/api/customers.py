"""A customer's addresses, contacts, files and price agreements (the customer itself is TMF629 at
/tmf-api/customerManagement/v4).

Reads need customers.view, writes customers.change (price agreements customers.price_agreement);
another brand's customer is a 404.
"""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.core import clock
from telora.core.services.actors import Actor
from telora.customers import services
from telora.customers.api.schemas import (
    AddressIn,
    AddressOut,
    AddressPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    FileOut,
    PriceAgreementEnd,
    PriceAgreementIn,
    PriceAgreementOut,
)
from telora.customers.selectors import (
    addresses_for_user,
    contacts_for_user,
    customers_for_user,
    files_for_user,
    open_customer_file,
    price_agreements_for_user,
)

router = Router(tags=["customers"])
logger = logging.getLogger("telora.api")


def _customer(request, customer_id: int, perm: str = "customers.view"):
    require_perm(request, perm)
    return get_object_or_404(customers_for_user(principal(request)), pk=customer_id)


def _context(request) -> dict:
    return {"actor": Actor.from_request(request), "at": clock.now()}


def _of_customer(request, customer_id: int, rows) -> list:
    """A customer's rows (brand-owned like the customer) in one query; when there are none, the
    customer itself is looked up, so one out of reach is a 404."""
    require_perm(request, "customers.view")
    found = list(rows.filter(customer_id=customer_id))
    if not found:
        _customer(request, customer_id)
    return found


@router.get("/{int:customer_id}/addresses", response={200: list[AddressOut], **ERRORS})
def list_addresses(request, customer_id: int):
    return _of_customer(request, customer_id, addresses_for_user(principal(request)).order_by("id"))


@router.post("/{int:customer_id}/addresses", response={201: AddressOut, **ERRORS})
def post_address(request, customer_id: int, payload: AddressIn):
    customer = _customer(request, customer_id, "customers.change")
    return Status(201, services.add_address(customer, **_context(request), **payload.model_dump()))


@router.patch("/{int:customer_id}/addresses/{int:address_id}", response={200: AddressOut, **ERRORS})
def patch_address(request, customer_id: int, address_id: int, payload: AddressPatch):
    customer = _customer(request, customer_id, "customers.change")
    address = get_object_or_404(customer.addresses, pk=address_id)
    return services.update_address(address, **_context(request), **payload.model_dump(exclude_unset=True))


@router.get("/{int:customer_id}/contacts", response={200: list[ContactOut], **ERRORS})
def list_contacts(request, customer_id: int):
    return _of_customer(request, customer_id, contacts_for_user(principal(request)).order_by("id"))


@router.post("/{int:customer_id}/contacts", response={201: ContactOut, **ERRORS})
def post_contact(request, customer_id: int, payload: ContactIn):
    customer = _customer(request, customer_id, "customers.change")
    return Status(201, services.add_contact(customer, **_context(request), **payload.model_dump()))


@router.patch("/{int:customer_id}/contacts/{int:contact_id}", response={200: ContactOut, **ERRORS})
def patch_contact(request, customer_id: int, contact_id: int, payload: ContactPatch):
    customer = _customer(request, customer_id, "customers.change")
    contact = get_object_or_404(customer.contacts, pk=contact_id)
    return services.update_contact(contact, **_context(request), **payload.model_dump(exclude_unset=True))


@router.get("/{int:customer_id}/files", response={200: list[FileOut], **ERRORS})
def list_files(request, customer_id: int):
    return _of_customer(request, customer_id, files_for_user(principal(request)).order_by("-uploaded_at", "-id"))


@router.post("/{int:customer_id}/files", response={201: FileOut, **ERRORS})
def post_file(request, customer_id: int, file: File[UploadedFile], description: Form[str] = ""):
    """Upload a document (multipart form field `file`); size and type limits apply."""
    customer = _customer(request, customer_id, "customers.change")
    return Status(201, services.upload_customer_file(customer, file, description=description, **_context(request)))


@router.get("/{int:customer_id}/files/{int:file_id}/content", response={200: None, **ERRORS})
def get_file_content(request, customer_id: int, file_id: int):
    """The document's bytes, with its content type, as an attachment."""
    row = get_object_or_404(_customer(request, customer_id).files, pk=file_id)
    try:
        content = open_customer_file(principal(request), row)
    except FileNotFoundError:
        logger.warning("The content of customer file %s (%s) is missing from storage", row.pk, row.file.name)
        raise Http404(f"The content of file {row.pk} is missing from storage.") from None
    return FileResponse(content, as_attachment=True, filename=row.name, content_type=row.content_type)


@router.get("/{int:customer_id}/price-agreements", response={200: list[PriceAgreementOut], **ERRORS})
def list_price_agreements(request, customer_id: int):
    """The customer's price agreements, ended ones too, the latest first."""
    return _of_customer(request, customer_id, price_agreements_for_user(principal(request)))


@router.post("/{int:customer_id}/price-agreements", response={201: PriceAgreementOut, **ERRORS})
def post_price_agreement(request, customer_id: int, payload: PriceAgreementIn):
    customer = _customer(request, customer_id, "customers.price_agreement")
    return Status(201, services.add_price_agreement(customer, **_context(request), **payload.model_dump()))


@router.post("/{int:customer_id}/price-agreements/{int:agreement_id}/end", response={200: PriceAgreementOut, **ERRORS})
def end_price_agreement(request, customer_id: int, agreement_id: int, payload: PriceAgreementEnd):
    customer = _customer(request, customer_id, "customers.price_agreement")
    agreement = get_object_or_404(customer.price_agreements, pk=agreement_id)
    return services.end_price_agreement(agreement, **_context(request), end_at=payload.end_at)
