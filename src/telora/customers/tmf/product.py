"""TMF637 Product Inventory v4: a customer's subscriptions and the products on them (list, get).

Each subscription is a TMF Product (`isBundle` true): `productSerialNumber` is its MSISDN or
circuit id, `productOffering` its current plan, `realizingResource` its SIM card and number,
`place` its addresses, `productTerm` its commitment. The product instances on it (plan, add-ons,
one-time products, current and past) are the nested `product` items, each with its own
`startDate`, `terminationDate` and status. Filter by customer with `relatedParty.id`.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from ninja import Field, Query, Router

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, TimePeriod, TmfSchema, key
from telora.catalog.tmf.common import offering_ref
from telora.core import clock
from telora.customers import documents
from telora.customers.models import ProductInstance, Subscription
from telora.customers.selectors import subscriptions_for_user
from telora.customers.tmf.common import (
    PRODUCT_BASE,
    Characteristic,
    Ref,
    account_ref,
    characteristic,
    characteristics,
    customer_ref,
    iso,
)
from telora.customers.validation import query_digits

router = Router(tags=["product"])

# Telora's subscription status -> TMF637 ProductStatusType
STATUS = {"pending": "pendingActive", "active": "active", "suspended": "suspended", "terminated": "terminated"}


class Quantity(TmfSchema):
    amount: float
    units: str


class ProductTerm(TmfSchema):
    name: str
    description: str | None = None
    duration: Quantity | None = None
    validFor: TimePeriod | None = None


class ProductItem(TmfSchema):
    id: str
    name: str
    status: str
    isBundle: bool = False
    startDate: str | None = None
    terminationDate: str | None = None
    productOffering: Ref
    productCharacteristic: list[Characteristic] = []
    type: str = Field("Product", alias="@type")


class ProductOut(TmfSchema):
    id: str
    href: str
    name: str
    description: str | None = None
    status: str
    isBundle: bool = True
    isCustomerVisible: bool = True
    productSerialNumber: str | None = None
    orderDate: str | None = None
    startDate: str | None = None
    terminationDate: str | None = None
    productOffering: Ref | None = None
    productCharacteristic: list[Characteristic] = []
    relatedParty: list[Ref] = []
    billingAccount: Ref | None = None
    realizingResource: list[Ref] = []
    place: list[Ref] = []
    productTerm: list[ProductTerm] = []
    product: list[ProductItem] = []
    type: str = Field("Product", alias="@type")


class ProductFilter(TmfSchema):
    relatedParty_id: str | None = Field(None, alias="relatedParty.id", description="The customer's id")
    customer: str | None = Field(None, description="Same as relatedParty.id")
    status: str | None = Field(None, description="pendingActive, active, suspended, terminated")
    productSerialNumber: str | None = Field(None, description="MSISDN (any spelling) or circuit id")


def _item(instance: ProductInstance, now) -> dict:
    product = instance.product
    on = instance.end_at is None or instance.end_at > now
    return {
        "id": str(instance.pk), "name": product.name, "@type": "Product",
        "status": "active" if on and instance.start_at <= now else ("pendingActive" if on else "terminated"),
        "startDate": iso(instance.start_at), "terminationDate": iso(instance.end_at),
        "productOffering": offering_ref(product),
        "productCharacteristic": characteristics(characteristic("kind", instance.kind),
                                                 characteristic("endReason", instance.end_reason)),
    }


def render(sub: Subscription) -> dict:
    now = clock.now()
    instances = sorted(sub.products.all(), key=lambda i: (i.start_at, i.pk))
    plan = next((i for i in reversed(instances) if i.kind == "plan" and (i.end_at is None or i.end_at > now)), None)
    plan = plan or next((i for i in reversed(instances) if i.kind == "plan"), None)
    resources = []
    if sub.sim_id:
        resources.append({"id": sub.sim.iccid, "name": "SIM card", "@referredType": "SimCard"})
    if sub.phone_number_id or (sub.identifier and sub.service_type in ("mobile_prepaid", "mobile_postpaid",
                                                                       "fixed_line", "voip")):
        resources.append({"id": sub.identifier, "name": f"+{sub.identifier}", "@referredType": "PhoneNumber"})
    places = [{"id": str(address.pk), "name": str(address), "role": role, "@referredType": "GeographicAddress"}
              for role, address in (("installation", sub.installation_address), ("billing", sub.billing_address),
                                    ("shipping", sub.shipping_address)) if address is not None]
    terms = []
    if sub.commitment_end:
        months = plan.product.commitment_months if plan else None
        terms.append({"name": "commitment", "duration": {"amount": months, "units": "month"} if months else None,
                      "validFor": {"startDateTime": iso(sub.activated_at), "endDateTime": iso(sub.commitment_end)}})
    return {
        "id": str(sub.pk), "href": f"{PRODUCT_BASE}/{sub.pk}", "@type": "Product",
        "name": plan.product.name if plan else sub.service_type,
        "description": f"{sub.service_type} {sub.identifier}".strip(),
        "status": STATUS[sub.status], "isBundle": True, "isCustomerVisible": True,
        "productSerialNumber": sub.identifier or None, "orderDate": iso(sub.created_at),
        "startDate": iso(sub.activated_at), "terminationDate": iso(sub.terminated_at),
        "productOffering": offering_ref(plan.product) if plan else None,
        "productCharacteristic": characteristics(
            characteristic("serviceType", sub.service_type), characteristic("identifier", sub.identifier),
            characteristic("iccid", sub.sim.iccid if sub.sim_id else None),
            characteristic("suspendedAt", iso(sub.suspended_at), "dateTime"),
            characteristic("statusReason", sub.status_reason), characteristic("brand", sub.brand.code)),
        "relatedParty": [customer_ref(sub.customer)],
        "billingAccount": account_ref(sub.billing_account),
        "realizingResource": resources, "place": places, "productTerm": terms,
        "product": [_item(i, now) for i in instances],
    }


@router.get("/product", response={200: list[ProductOut], **ERRORS}, **TMF)
def list_product(request, response: HttpResponse, paging: Query[Paging], filters: Query[ProductFilter]):
    """Subscriptions the caller may view; `relatedParty.id` narrows to one customer's."""
    brands = require_perm(request, "customers.view")
    rows = subscriptions_for_user(principal(request))
    customer = filters.relatedParty_id or filters.customer
    if customer is not None:
        rows = rows.filter(customer_id=key(customer))
    if filters.status:
        wanted = [ours for ours, theirs in STATUS.items() if theirs == filters.status]
        rows = rows.filter(status__in=wanted)
    if filters.productSerialNumber:
        digits = query_digits(filters.productSerialNumber)
        rows = rows.filter(identifier__in={filters.productSerialNumber.strip(), digits,
                                           digits[2:] if digits.startswith("00") else digits} - {""})
    ids = page(rows.order_by("id").values_list("pk", flat=True), paging, response)
    return [render(s) for s in documents.subscriptions(brands, ids)]


@router.get("/product/{id}", response={200: ProductOut, **ERRORS}, **TMF)
def retrieve_product(request, id: str):
    brands = require_perm(request, "customers.view")
    found = documents.subscriptions(brands, [key(id)])
    if not found:
        raise Http404("No such product.")
    return render(found[0])
