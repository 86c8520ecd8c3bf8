"""TMF666 Account Management v4: billing accounts (list, get, create).

Mapping: `relatedParty` role "customer" is the owner; `creditLimit` is Money in the brand's
currency; `defaultPaymentMethod` carries the payment method (`name`: invoice, direct_debit…) and
the provider's reference (`id`: a token or mandate id, never a card number); `billStructure`
names the bill cycle (`cycleSpecification.id` = its code) and the invoice delivery
(`presentationMedia[0].id` = "email" or "print"); `contact` holds the invoice e-mail and the
billing address. Telora adds `accountNumber` and `billingGroup` (extension attributes).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, ExactNumber, TimePeriod, TmfSchema, key
from telora.core import clock
from telora.core.services.actors import Actor, ServiceError
from telora.customers import services
from telora.customers.models import BillingAccount
from telora.customers.selectors import accounts_for_user, customers_for_user
from telora.customers.tmf.common import (
    ACCOUNT_BASE,
    ContactMedium,
    Ref,
    address_values,
    customer_ref,
    iso,
    postal_medium,
)

router = Router(tags=["billingAccount"])


class Money(TmfSchema):
    """TMF Money: `value` is a JSON number, read as a Decimal and written with exactly its digits
    by the API's ExactJSONRenderer (never through float)."""

    unit: str | None = None
    value: ExactNumber


class BillStructure(TmfSchema):
    cycleSpecification: Ref | None = None
    presentationMedia: list[Ref] = []


class Contact(TmfSchema):
    contactType: str
    contactName: str | None = None
    contactMedium: list[ContactMedium] = []
    validFor: TimePeriod | None = None


class BillingAccountOut(TmfSchema):
    id: str
    href: str
    name: str
    accountType: str
    state: str
    ratingType: str
    lastModified: str
    relatedParty: list[Ref]
    creditLimit: Money
    defaultPaymentMethod: Ref | None = None
    billStructure: BillStructure
    contact: list[Contact] = []
    accountNumber: str
    billingGroup: Ref | None = None
    type: str = Field("BillingAccount", alias="@type")


class BillingAccountCreate(TmfSchema):
    name: str = Field("", max_length=200)
    relatedParty: list[Ref] = Field(description='role "customer" (or @referredType "Customer"): the owner')
    creditLimit: Money | None = None
    defaultPaymentMethod: Ref | None = Field(None, description="name: invoice, direct_debit, card, bank_transfer, "
                                                               "other; id: the payment provider's reference")
    billStructure: BillStructure | None = None
    contact: list[Contact] = []
    billingGroup: Ref | None = Field(None, description="Telora extension: the billing group (id = its code)")


class AccountFilter(TmfSchema):
    state: str | None = None
    relatedParty_id: str | None = Field(None, alias="relatedParty.id", description="The customer's id")
    accountNumber: str | None = None


def render(account: BillingAccount) -> dict:
    mediums = [{"mediumType": "email", "characteristic": {"contactType": "invoice",
                                                          "emailAddress": account.invoice_email}}] \
        if account.invoice_email else []
    if account.billing_address_id:
        mediums.append(postal_medium(account.billing_address))
    cycle = account.bill_cycle
    return {
        "id": str(account.pk), "href": f"{ACCOUNT_BASE}/{account.pk}", "name": account.name, "@type": "BillingAccount",
        "accountType": account.customer.kind, "state": account.status, "ratingType": "postpaid",
        "lastModified": iso(account.updated_at), "accountNumber": account.number,
        "relatedParty": [customer_ref(account.customer)],
        "creditLimit": {"unit": account.currency, "value": account.credit_limit.normalize()},
        "defaultPaymentMethod": {"id": account.payment_method_ref or account.payment_method,
                                 "name": account.payment_method, "@referredType": "PaymentMethod"},
        "billStructure": {
            "cycleSpecification": {"id": cycle.code, "name": cycle.name, "@referredType": "BillingCycleSpecification"}
            if cycle else None,
            "presentationMedia": [{"id": account.invoice_delivery, "name": account.invoice_delivery,
                                   "@referredType": "BillPresentationMedia"}]},
        "contact": [{"contactType": "billing", "contactName": account.customer.name, "contactMedium": mediums,
                     "validFor": {"startDateTime": iso(account.created_at)}}],
        "billingGroup": {"id": account.billing_group.code, "name": account.billing_group.name}
        if account.billing_group_id else None,
    }


def _accounts(request):
    return accounts_for_user(principal(request)).select_related("customer")


@router.get("/billingAccount", response={200: list[BillingAccountOut], **ERRORS}, **TMF)
def list_billing_account(request, response: HttpResponse, paging: Query[Paging], filters: Query[AccountFilter]):
    require_perm(request, "customers.view")
    rows = _accounts(request)
    if filters.state:
        rows = rows.filter(status=filters.state)
    if filters.relatedParty_id:
        rows = rows.filter(customer_id=key(filters.relatedParty_id))
    if filters.accountNumber:
        rows = rows.filter(number=filters.accountNumber)
    return [render(a) for a in page(rows.order_by("id"), paging, response)]


@router.get("/billingAccount/{id}", response={200: BillingAccountOut, **ERRORS}, **TMF)
def retrieve_billing_account(request, id: str):
    require_perm(request, "customers.view")
    return render(get_object_or_404(_accounts(request), pk=key(id)))


def _owner(request, parties: list[Ref]):
    owners = [p for p in parties if (p.role or "").lower() == "customer" or p.referredType == "Customer"]
    if len(owners) != 1:
        raise ServiceError("relatedParty: name exactly one customer (role \"customer\")", field="relatedParty")
    return get_object_or_404(customers_for_user(principal(request)), pk=key(owners[0].id))


@router.post("/billingAccount", response={201: BillingAccountOut, **ERRORS}, **TMF)
def create_billing_account(request, response: HttpResponse, payload: BillingAccountCreate):
    """A billing account for the customer in `relatedParty`, in the brand's currency."""
    require_perm(request, "customers.change")
    customer = _owner(request, payload.relatedParty)
    values = {"name": payload.name}
    if payload.creditLimit is not None:
        if payload.creditLimit.unit and payload.creditLimit.unit != customer.brand.currency:
            raise ServiceError(f"creditLimit.unit: accounts of {customer.brand.code} are in {customer.brand.currency}",
                               field="creditLimit.unit")
        values["credit_limit"] = payload.creditLimit.value
    if payload.defaultPaymentMethod is not None:
        values["payment_method"] = payload.defaultPaymentMethod.name or "other"
        values["payment_method_ref"] = payload.defaultPaymentMethod.id
    structure = payload.billStructure
    if structure is not None and structure.cycleSpecification is not None:
        values["bill_cycle"] = structure.cycleSpecification.id
    if structure is not None and structure.presentationMedia:
        values["invoice_delivery"] = structure.presentationMedia[0].id
    if payload.billingGroup is not None:
        values["billing_group"] = payload.billingGroup.id
    postal = []
    for contact in payload.contact:
        for medium in contact.contactMedium:
            if medium.mediumType == "email":
                values["invoice_email"] = medium.characteristic.emailAddress or ""
            elif medium.mediumType == "postalAddress":
                postal.append(medium)
    actor, at = Actor.from_request(request), clock.now()
    with transaction.atomic():
        if postal:
            values["billing_address"] = services.add_address(customer, actor=actor, at=at,
                                                             **address_values(postal[0], ["billing"]))
        account = services.create_billing_account(customer, actor=actor, at=at, **values)
    response["Location"] = f"{ACCOUNT_BASE}/{account.pk}"
    return Status(201, render(_accounts(request).get(pk=account.pk)))
