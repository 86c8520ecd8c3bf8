"""Creating, starting and cancelling orders.

An order is numbered gap-free per brand in the transaction that creates it. It runs at once when it
is asked for now, else it waits (acknowledged) until `run_due_orders` starts it on its date. Running
is `orders.flows.run_order`: the order's flow in the workflow engine, or the direct runner.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from django.db import transaction

from telora.billperiods import bill_period
from telora.core import clock, rights
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import batched, record_event, snapshot
from telora.core.services.sequences import next_number
from telora.customers.models import Customer, CustomerFile, Subscription
from telora.orders.constants import (
    CANCELLABLE_STATES,
    CHANNELS,
    DATED_TYPES,
    ITEM_ACTIONS,
    ORDER_TYPES,
    REQUEST_MODES,
)
from telora.orders.models import Order, OrderEntry, OrderFile, OrderItem, OrderNote

ORDER_FIELDS = ["number", "order_type", "channel", "customer", "subscription", "state", "state_reason",
                "request_mode", "requested_at", "flow_key", "flow_instance_id", "started_at", "completed_at"]
MAX_ITEMS = 50
MAX_CHARACTERISTICS_BYTES = 4000
CLOCK_SKEW = dt.timedelta(minutes=5)


class NotWaiting(ServiceError):
    """The order was started (or cancelled) by someone else meanwhile."""


def require(actor: Actor, brand, perm: str) -> None:
    """People and API keys need `perm` in the brand; actors without a principal are platform jobs."""
    if actor.principal is None and actor.job:
        return
    if not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in brand {brand.code}.")


def log(order: Order, kind: str, *, actor: Actor | None, at: dt.datetime, message: str = "", **data) -> OrderEntry:
    return OrderEntry.objects.create(order=order, at=at, kind=kind, actor_label=(actor.label if actor else "system")[:200],
                                     message=message[:1000], data=data)


def next_period_start(subscription: Subscription, at: dt.datetime) -> dt.datetime:
    """The first moment of the subscription's next bill period (its account's cycle; without one, the
    first of next month), at midnight in the brand's time zone."""
    brand = subscription.brand
    cycle = subscription.billing_account.bill_cycle
    today = clock.localtime(at, brand).date()
    _start, end = bill_period(cycle.anchor_day if cycle else 1, today)
    return dt.datetime.combine(end, dt.time(), tzinfo=ZoneInfo(brand.timezone))


def _requested_at(order_type: str, mode: str, requested_for, subscription, brand, at: dt.datetime) -> dt.datetime:
    if mode not in REQUEST_MODES:
        raise ServiceError(f"request_mode: {mode!r} is not one of {', '.join(REQUEST_MODES)}", field="request_mode")
    if mode == "now":
        return at
    if order_type not in DATED_TYPES:
        raise ServiceError(f"request_mode: a {order_type.replace('_', ' ')} order happens now; only "
                           f"{', '.join(DATED_TYPES)} may wait for a date", field="request_mode")
    if mode == "next_period":
        if subscription is None:
            raise ServiceError("request_mode: the next bill period needs a subscription", field="request_mode")
        return next_period_start(subscription, at)
    if isinstance(requested_for, dt.datetime):
        if requested_for.tzinfo is None:
            raise ServiceError("requested_for: give a time zone offset (2026-03-01T00:00:00+01:00)",
                               field="requested_for")
        moment = requested_for
    elif isinstance(requested_for, dt.date):
        moment = dt.datetime.combine(requested_for, dt.time(), tzinfo=ZoneInfo(brand.timezone))
    else:
        raise ServiceError("requested_for: give the date the change should happen", field="requested_for")
    if moment < at - CLOCK_SKEW:
        raise ServiceError("requested_for: the date is past; a change in the past is entered on the account "
                           "as a back-dated change", field="requested_for")
    if moment - at > dt.timedelta(days=3 * 366):
        raise ServiceError("requested_for: at most three years ahead", field="requested_for")
    return max(moment, at)


def _items(order_type: str, items: list[dict], customer: Customer, subscription) -> list[dict]:
    if not items:
        items = [{}]
    if len(items) > MAX_ITEMS:
        raise ServiceError(f"items: at most {MAX_ITEMS} items", field="items")
    cleaned = []
    for position, raw in enumerate(items, start=1):
        field = f"items[{position - 1}]"
        operation = raw.get("operation") or order_type
        if operation not in ORDER_TYPES:
            raise ServiceError(f"{field}.operation: {operation!r} is not one of {', '.join(ORDER_TYPES)}",
                               field=f"{field}.operation")
        action = raw.get("action") or ORDER_TYPES[operation]
        if action not in ITEM_ACTIONS:
            raise ServiceError(f"{field}.action: {action!r} is not one of {', '.join(ITEM_ACTIONS)}",
                               field=f"{field}.action")
        characteristics = raw.get("characteristics") or {}
        if not isinstance(characteristics, dict):
            raise ServiceError(f"{field}.characteristics: give name/value pairs", field=f"{field}.characteristics")
        if len(json.dumps(characteristics, default=str)) > MAX_CHARACTERISTICS_BYTES:
            raise ServiceError(f"{field}.characteristics: at most {MAX_CHARACTERISTICS_BYTES} bytes",
                               field=f"{field}.characteristics")
        line = raw.get("subscription", subscription)
        if line is not None and not isinstance(line, Subscription):
            line = Subscription.objects.filter(customer=customer, pk=line if isinstance(line, int) else 0).first()
            if line is None:
                raise ServiceError(f"{field}.subscription: no such subscription of customer {customer.number}",
                                   field=f"{field}.subscription", code="not_found")
        if line is not None and line.customer_id != customer.pk:
            raise ServiceError(f"{field}.subscription: not a subscription of customer {customer.number}",
                               field=f"{field}.subscription")
        offering = raw.get("product_offering") or ""
        if not isinstance(offering, str) or len(offering) > 64:
            raise ServiceError(f"{field}.product_offering: a catalogue product code", field=f"{field}.product_offering")
        cleaned.append({"position": position, "operation": operation, "action": action, "subscription": line,
                        "product_offering": offering, "characteristics": characteristics})
    return cleaned


def create_order(customer: Customer, *, actor: Actor, at: dt.datetime, order_type: str, channel: str = "gui",
                 subscription: Subscription | None = None, items: list[dict] | None = None,
                 request_mode: str = "now", requested_for=None, external_id: str = "", description: str = "",
                 sales_channel=None, perm: str = "customers.change") -> Order:
    """Take an order and run it if it is due now.

    The order and its number commit first; running it happens in its own transaction, so an order
    refused by a check stays, failed, with the reason (`order.failure` holds the ServiceError), and
    its effects are never half-applied.
    """
    with transaction.atomic():
        order = _take(customer, actor=actor, at=at, order_type=order_type, channel=channel,
                      subscription=subscription, items=items or [], request_mode=request_mode,
                      requested_for=requested_for, external_id=external_id, description=description,
                      sales_channel=sales_channel, perm=perm)
    if order.requested_at <= at:
        order = start_order(order, actor=actor, at=at)
    return order


def _take(customer, *, actor, at, order_type, channel, subscription, items, request_mode, requested_for,
          external_id, description, sales_channel, perm) -> Order:
    brand = customer.brand
    require(actor, brand, perm)
    if order_type not in ORDER_TYPES:
        raise ServiceError(f"order_type: {order_type!r} is not one of {', '.join(ORDER_TYPES)}", field="order_type")
    if channel not in CHANNELS:
        raise ServiceError(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}", field="channel")
    if subscription is not None and subscription.customer_id != customer.pk:
        raise ServiceError(f"subscription: not a subscription of customer {customer.number}", field="subscription")
    if order_type != "sign_up" and order_type != "port_in" and subscription is None:
        raise ServiceError(f"subscription: a {order_type.replace('_', ' ')} order names the subscription",
                           field="subscription")
    cleaned = _items(order_type, items, customer, subscription)
    requested_at = _requested_at(order_type, request_mode, requested_for, subscription, brand, at)
    from telora.orders.flows import flow_key

    order = Order(brand=brand, number=next_number(brand, "order", at=at), order_type=order_type, channel=channel,
                  sales_channel=sales_channel, customer=customer, subscription=subscription, state="acknowledged",
                  request_mode=request_mode, requested_at=requested_at, external_id=str(external_id)[:100],
                  description=str(description)[:500], created_by=actor.label[:200], created_at=at, updated_at=at)
    order.flow_key = flow_key(order, cleaned[0])
    order.save()
    from telora.orders.hooks import prepare

    cleaned = prepare(order, cleaned, actor=actor, at=at)  # an app's own checks (porting), in this transaction
    OrderItem.objects.bulk_create([OrderItem(order=order, **item) for item in cleaned])
    log(order, "created", actor=actor, at=at, message=f"{order_type.replace('_', ' ')} via {channel}",
        requested_at=requested_at.isoformat())
    record_event(actor=actor, at=at, action="create", obj=order, brand=brand, new=snapshot(order, ORDER_FIELDS))
    return order


def start_order(order: Order, *, actor: Actor, at: dt.datetime) -> Order:
    """acknowledged → inProgress, then its flow runs until it ends or waits (a desk, a timer)."""
    from telora.orders import flows

    try:
        # the audit events of the start (its flow's steps up to the first wait included) go in one insert
        with transaction.atomic(), batched():
            order = Order.objects.select_for_update().select_related("brand", "customer").get(pk=order.pk)
            if order.state != "acknowledged":
                raise NotWaiting(f"state: order {order.number} is {order.state}, not waiting to start",
                                 field="state", code="state")
            old = snapshot(order, ORDER_FIELDS)
            order.state, order.started_at, order.updated_at = "inProgress", at, at
            order.save()
            log(order, "started", actor=actor, at=at, flow=order.flow_key)
            flows.run_order(order, actor=actor, at=at)
            brand = order.brand
            order.refresh_from_db()  # the flow may have moved it on (completed, failed)
            order.brand = brand  # the same row: not read again
            record_event(actor=actor, at=at, action="start", obj=order, brand=brand, old=old,
                         new=snapshot(order, ORDER_FIELDS))
    except NotWaiting:
        raise
    except ServiceError as exc:
        # A refusal fails the order (never left waiting for the due runner to retry it as the system).
        order = fail_order(order, exc, actor=actor, at=at)
        if exc.code == "forbidden":
            raise
    return order


def fail_order(order: Order, exc: ServiceError, *, actor: Actor, at: dt.datetime) -> Order:
    """The order stops with the reason; nothing of its run stays (its transaction rolled back)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        old = snapshot(order, ORDER_FIELDS)
        order.state, order.state_reason, order.updated_at = "failed", exc.message[:500], at
        order.started_at = order.started_at or at
        order.save()
        order.items.update(state="failed")
        log(order, "failed", actor=actor, at=at, message=exc.message, field=exc.field or "", code=exc.code)
        record_event(actor=actor, at=at, action="fail", obj=order, brand=order.brand, old=old,
                     new=snapshot(order, ORDER_FIELDS), message=exc.message)
    order.failure = exc
    return order


@transaction.atomic
def cancel_order(order: Order, *, actor: Actor, at: dt.datetime, reason: str = "") -> Order:
    """Cancel an order that has not finished. A waiting one simply stops; one whose flow runs is
    cancelled through the flow (its compensation steps undo what was done)."""
    from telora.orders import flows

    order = Order.objects.select_for_update().select_related("brand").get(pk=order.pk)
    require(actor, order.brand, "orders.change")
    if order.state not in CANCELLABLE_STATES:
        raise ServiceError(f"state: order {order.number} is {order.state} and cannot be cancelled", field="state",
                           code="state")
    reason = (reason or "").strip()[:500]
    old = snapshot(order, ORDER_FIELDS)
    if order.flow_instance_id is not None:
        flows.cancel_flow(order, actor=actor, at=at, reason=reason)
        order.refresh_from_db()
    order.state, order.state_reason, order.updated_at = "cancelled", reason, at
    order.completed_at = at
    order.save()
    order.items.exclude(state="completed").update(state="cancelled")
    log(order, "cancelled", actor=actor, at=at, message=reason)
    record_event(actor=actor, at=at, action="cancel", obj=order, brand=order.brand, old=old,
                 new=snapshot(order, ORDER_FIELDS), message=reason)
    return order


@transaction.atomic
def add_note(order: Order, *, actor: Actor, at: dt.datetime, text: str) -> OrderNote:
    require(actor, order.brand, "orders.change")
    text = (text or "").strip()
    if not text:
        raise ServiceError("text: write the note", field="text")
    if len(text) > 4000:
        raise ServiceError("text: at most 4000 characters", field="text")
    note = OrderNote.objects.create(order=order, at=at, author=actor.label[:200], text=text)
    log(order, "note", actor=actor, at=at, message=text[:200])
    return note


@transaction.atomic
def attach_file(order: Order, file: CustomerFile, *, actor: Actor, at: dt.datetime) -> OrderFile:
    require(actor, order.brand, "orders.change")
    if file.customer_id != order.customer_id:
        raise ServiceError("file: not a file of the order's customer", field="file")
    row, _created = OrderFile.objects.get_or_create(order=order, file=file, defaults={"added_at": at})
    log(order, "file", actor=actor, at=at, message=file.name[:200] if hasattr(file, "name") else str(file.pk))
    return row


def run_due_orders(*, at: dt.datetime, limit: int = 500) -> dict[str, int]:
    """Start the waiting orders whose date has come (brands running the orders module), one
    transaction each: one refused order fails alone with its reason."""
    from telora.core.models import Brand
    from telora.core.modules import running

    brands = running("orders", Brand.objects.all())
    due = list(Order.objects.filter(state="acknowledged", requested_at__lte=at, brand__in=brands)
               .order_by("requested_at", "id").values_list("pk", flat=True)[:limit])
    counts = {"started": 0, "failed": 0}
    actor = Actor.system("orders_due")
    for pk in due:
        try:
            order = start_order(Order.objects.get(pk=pk), actor=actor, at=at)
        except ServiceError:
            continue  # taken by another worker meanwhile
        counts["failed" if order.state == "failed" else "started"] += 1
    return counts
