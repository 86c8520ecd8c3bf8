"""TMF622 Product Ordering v4: Telora orders as `productOrder`, cancellation as `cancelProductOrder`.

A ProductOrder's `category` is the Telora order type (sign_up, change_plan, add_addon, remove_addon,
suspend, resume, terminate, swap_sim…); `relatedParty` with role customer names the customer;
each `productOrderItem` carries its `action`, the `productOffering` (catalogue product code) and the
`product` (id: the subscription; `productCharacteristic`: the operation's inputs, e.g. reason).
`requestedStartDate` in the future makes a dated order (it waits, acknowledged). Reading needs
orders.view; creating and cancelling orders.change (and the change itself customers.change).
Another brand's order or customer is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.main import make_api
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, Ref, TmfSchema, key
from telora.core import clock, rights
from telora.core.services.actors import Actor, ServiceError
from telora.customers.selectors import customers_for_user
from telora.orders import selectors
from telora.orders.constants import ORDER_TYPES, STATES
from telora.orders.models import Order
from telora.orders.services import cancel_order, create_order

router = Router(tags=["productOrder"])
BASE = "/tmf-api/productOrderingManagement/v4/productOrder"
CANCEL_BASE = "/tmf-api/productOrderingManagement/v4/cancelProductOrder"
CUSTOMER_BASE = "/tmf-api/customerManagement/v4/customer"
PRODUCT_BASE = "/tmf-api/productInventory/v4/product"
MAX_ITEMS = 50
MAX_CHARACTERISTICS = 30


class Characteristic(TmfSchema):
    name: str = Field(max_length=64)
    value: Any = None


class ProductRefOrValue(TmfSchema):
    id: str | None = Field(None, max_length=20, description="the subscription (Telora id)")
    productCharacteristic: list[Characteristic] = Field(default_factory=list, max_length=MAX_CHARACTERISTICS)


class OrderItemIn(TmfSchema):
    id: str = Field(max_length=20)
    action: str = Field(description="add, modify, delete or noChange")
    productOffering: Ref | None = None
    product: ProductRefOrValue | None = None


class OrderIn(TmfSchema):
    category: str = Field(description=f"the order type: {', '.join(ORDER_TYPES)}")
    description: str | None = Field(None, max_length=500)
    externalId: str | None = Field(None, max_length=100)
    requestedStartDate: dt.datetime | None = Field(None, description="later than now: the order waits until then")
    relatedParty: list[Ref] = Field(description="one with role customer (id: Telora's customer id)", max_length=10)
    productOrderItem: list[OrderItemIn] = Field(max_length=MAX_ITEMS)


class OrderItemOut(TmfSchema):
    id: str
    action: str
    state: str
    productOffering: Ref | None = None
    product: dict | None = None


class OrderOut(TmfSchema):
    id: str
    href: str
    externalId: str | None = None
    category: str
    description: str | None = None
    state: str
    orderDate: dt.datetime
    requestedStartDate: dt.datetime
    completionDate: dt.datetime | None = None
    cancellationReason: str | None = None
    channel: list[dict]
    relatedParty: list[Ref]
    productOrderItem: list[OrderItemOut]
    note: list[dict]
    type: str = Field("ProductOrder", alias="@type")


class OrderFilter(TmfSchema):
    state: str | None = None
    category: str | None = None
    customer: str | None = Field(None, alias="relatedParty.id", description="Telora customer id")
    externalId: str | None = None


class CancelIn(TmfSchema):
    productOrder: Ref
    cancellationReason: str | None = Field(None, max_length=500)


class CancelOut(TmfSchema):
    id: str
    href: str
    state: str
    productOrder: Ref
    cancellationReason: str | None = None
    effectiveCancellationDate: dt.datetime | None = None
    type: str = Field("CancelProductOrder", alias="@type")


def render(order: Order) -> dict:
    items = []
    for item in order.items.all():
        product = None
        if item.subscription_id:
            product = {"id": str(item.subscription_id), "href": f"{PRODUCT_BASE}/{item.subscription_id}",
                       "productCharacteristic": [{"name": k, "value": v} for k, v in item.characteristics.items()]}
        items.append({"id": str(item.position), "action": item.action, "state": item.state,
                      "productOffering": {"id": item.product_offering, "@referredType": "ProductOffering"}
                      if item.product_offering else None, "product": product})
    return {
        "id": str(order.pk), "href": f"{BASE}/{order.pk}", "externalId": order.external_id or None,
        "category": order.order_type, "description": order.description or order.number, "state": order.state,
        "orderDate": order.created_at, "requestedStartDate": order.requested_at, "completionDate": order.completed_at,
        "cancellationReason": order.state_reason if order.state == "cancelled" else None,
        "channel": [{"id": order.channel, "name": order.channel, "@referredType": "Channel"}],
        "relatedParty": [{"id": str(order.customer_id), "href": f"{CUSTOMER_BASE}/{order.customer_id}",
                          "name": order.customer.name, "role": "customer", "@referredType": "Customer"}],
        "productOrderItem": items,
        "note": [{"date": n.at, "author": n.author, "text": n.text} for n in order.notes.all()],
        "@type": "ProductOrder",
    }


def _orders(request):
    require_perm(request, "orders.view")
    return selectors.orders_for_user(principal(request)).prefetch_related("items", "notes")


@router.get("/productOrder", response={200: list[OrderOut], **ERRORS}, **TMF)
def list_orders(request, response: HttpResponse, paging: Query[Paging], filters: Query[OrderFilter]):
    """Orders the caller may see, newest first, narrowed by state, category, customer, externalId."""
    rows = _orders(request)
    if filters.state:
        if filters.state not in STATES:
            raise ServiceError(f"state: one of {', '.join(STATES)}", field="state")
        rows = rows.filter(state=filters.state)
    if filters.category:
        rows = rows.filter(order_type=filters.category)
    if filters.customer:
        rows = rows.filter(customer_id=key(filters.customer))
    if filters.externalId:
        rows = rows.filter(external_id=filters.externalId[:100])
    return [render(o) for o in page(rows.order_by("-created_at", "-id"), paging, response)]


@router.get("/productOrder/{id}", response={200: OrderOut, **ERRORS}, **TMF)
def retrieve_order(request, id: str):
    return render(get_object_or_404(_orders(request), pk=key(id)))


def _characteristics(item: OrderItemIn, index: int) -> dict:
    values = {}
    for c in (item.product.productCharacteristic if item.product else []):
        if not isinstance(c.value, (str, int, bool, float, type(None))) or (isinstance(c.value, str)
                                                                          and len(c.value) > 200):
            raise ServiceError(f"productOrderItem[{index}].product.productCharacteristic.{c.name}: a text (at most "
                               "200 characters), number or boolean", field=f"productOrderItem[{index}].product")
        values[c.name] = c.value
    return values


@router.post("/productOrder", response={201: OrderOut, **ERRORS}, **TMF)
def create(request, response: HttpResponse, payload: OrderIn):
    """Take an order; it runs at once unless `requestedStartDate` is later."""
    require_perm(request, "orders.change")
    who = principal(request)
    parties = [p for p in payload.relatedParty if (p.role or "customer").lower() == "customer"]
    if len(parties) != 1:
        raise ServiceError("relatedParty: give exactly one party with role customer", field="relatedParty")
    customer = get_object_or_404(customers_for_user(who), pk=key(parties[0].id))
    if not rights.has_perm(who, customer.brand, "orders.change"):
        raise ServiceError("relatedParty: you lack orders.change in the customer's brand", field="relatedParty",
                           code="forbidden")
    if not payload.productOrderItem:
        raise ServiceError("productOrderItem: give at least one item", field="productOrderItem")
    items, subscription = [], None
    for index, item in enumerate(payload.productOrderItem):
        line = None
        if item.product and item.product.id:
            line = customer.subscriptions.filter(pk=key(item.product.id)).first()
            if line is None:
                raise ServiceError(f"productOrderItem[{index}].product.id: no such subscription of the customer",
                                   field=f"productOrderItem[{index}].product.id", code="not_found")
            subscription = subscription or line
        items.append({"action": item.action, "subscription": line,
                      "product_offering": item.productOffering.id if item.productOffering else "",
                      "characteristics": _characteristics(item, index)})
    at = clock.now()
    start = payload.requestedStartDate
    dated = start is not None and start > at + dt.timedelta(minutes=5)
    order = create_order(customer, actor=Actor.from_request(request), at=at, order_type=payload.category,
                         channel="api", subscription=subscription, items=items,
                         request_mode="date" if dated else "now", requested_for=start if dated else None,
                         external_id=payload.externalId or "", description=payload.description or "",
                         perm="customers.change")
    response["Location"] = f"{BASE}/{order.pk}"
    return Status(201, render(Order.objects.select_related("customer").get(pk=order.pk)))


@router.post("/cancelProductOrder", response={201: CancelOut, **ERRORS}, **TMF)
def cancel(request, response: HttpResponse, payload: CancelIn):
    """Cancel an order that has not finished (a running flow is compensated)."""
    require_perm(request, "orders.change")
    order = get_object_or_404(selectors.orders_for_user(principal(request), "change"), pk=key(payload.productOrder.id))
    order = cancel_order(order, actor=Actor.from_request(request), at=clock.now(),
                         reason=payload.cancellationReason or "")
    response["Location"] = f"{CANCEL_BASE}/{order.pk}"
    return Status(201, {"id": str(order.pk), "href": f"{CANCEL_BASE}/{order.pk}", "state": "done",
                        "productOrder": {"id": str(order.pk), "href": f"{BASE}/{order.pk}",
                                         "@referredType": "ProductOrder"},
                        "cancellationReason": order.state_reason or None,
                        "effectiveCancellationDate": order.completed_at, "@type": "CancelProductOrder"})


ordering_api = make_api(title="Product Ordering (TMF622)", version="4.0.0", urls_namespace="tmf-ordering",
                        description="Telora orders in the TMF622 ProductOrder shape.")
ordering_api.add_router("", router)
