"""The seam between orders and the workflow engine: `run_order(order)` and `cancel_flow(order)`.

With `telora.workflows` installed, an order runs its standard (or the brand's own) BPMN flow: the
engine runs it until it waits at a desk, a timer or a message, and tells the order of every change
through the subject callback registered in `OrdersConfig.ready()`. Without the engine (an
installation that does not run it, or this branch before it merged), the direct runner carries out
the items one after the other in one transaction: all of them or none.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from django.apps import apps
from django.db import transaction

from telora.core.services.actors import Actor, ServiceError
from telora.orders import operations
from telora.orders.constants import SIGNUP_FLOWS, TYPE_FLOWS

FLOW_DIR = Path(__file__).resolve().parent / "flows"
SUBJECT = "orders.order"
# engine event -> order state
EVENT_STATES = {"step": "inProgress", "waiting": "inProgress", "completed": "completed", "failed": "failed",
                "cancelled": "cancelled"}
# The orders whose flow `run_order` is starting in this thread: `start_order` has just put them inProgress in
# the same transaction, so the flow's "waiting" need not check (one UPDATE matching nothing per start).
_STARTING = threading.local()


def engine_installed() -> bool:
    return apps.is_installed("telora.workflows")


def flow_key(order, first_item: dict) -> str:
    if order.order_type == "sign_up":
        service_type = (first_item.get("characteristics") or {}).get("service_type")
        return SIGNUP_FLOWS.get(service_type, "signup_mobile_postpaid")
    return TYPE_FLOWS.get(order.order_type, "")


def flow_data(order) -> dict:
    """What the flow starts with: the order, its customer and line, and the first item's values
    flattened (the standard flows map `plan`, `reason`, `service_type`… from here)."""
    items = list(order.items.order_by("position"))
    first = items[0] if items else None
    data = {"order_id": order.pk, "order_number": order.number, "order_type": order.order_type,
            "customer_id": order.customer_id, "subscription_id": order.subscription_id, "item": 1,
            "items": len(items)}
    if first is not None:
        data.update({k: v for k, v in first.characteristics.items() if isinstance(v, (str, int, bool, float))})
        data["product_offering"] = first.product_offering
    # what the standard flows' conditions and mappings read, when the order does not say
    if order.subscription_id is not None:
        data.setdefault("service_type", order.subscription.service_type)
    data.setdefault("service_type", "")
    data.setdefault("reason", "")
    data.setdefault("activation_fee", "")  # a fee product of the brand; empty: the plan's own one-time charge
    data.setdefault("starting_balance", "")  # prepaid: a top-up when the line is live
    data.setdefault("notice_days", 0)  # cancellation: days between the requested date and the line's end
    return data


def run_order(order, *, actor: Actor, at: dt.datetime) -> None:
    """Run the order's flow (engine) or its items (direct). Called inside start_order's transaction."""
    version = _published_version(order.flow_key, order.brand)
    if version is not None:
        from telora.workflows.services import start_instance

        starting = getattr(_STARTING, "orders", None)
        _STARTING.orders = {order.pk} if order.state == "inProgress" else set()
        try:
            instance = start_instance(order.flow_key, brand=order.brand, data=flow_data(order), subject_type=SUBJECT,
                                      subject_id=str(order.pk), actor=actor, at=at, version=version,
                                      subject_label=_label(order))  # the order is in hand: not read again
        finally:
            _STARTING.orders = starting
        type(order).objects.filter(pk=order.pk).update(flow_instance_id=instance.pk)
        return
    run_directly(order, actor=actor, at=at)


def flow_published(key: str, brand) -> bool:
    """Whether the engine has a published version of the flow for the brand (its own or the standard
    one). Until the standard flows are loaded (`telora flows load`), orders run directly."""
    return _published_version(key, brand) is not None


def _published_version(key: str, brand):
    """The flow version the order starts on (None: run directly), found once and handed to the engine."""
    if not key or not engine_installed():
        return None
    from telora.workflows.selectors import latest_version

    return latest_version(key, brand)


def run_directly(order, *, actor: Actor, at: dt.datetime) -> None:
    """Every item now, in order, in one savepoint: a refused item undoes the ones before it."""
    from telora.orders.services.orders import log

    with transaction.atomic():
        for item in order.items.select_related("subscription", "order__customer", "order__brand").order_by("position"):
            item.order = order
            result = operations.apply(item, actor=actor, at=at)
            item.state, item.result = "completed", result
            item.save(update_fields=["state", "result", "subscription"])
            log(order, "step", actor=actor, at=at, message=f"{item.operation.replace('_', ' ')} done",
                item=item.position, outputs=result)
            if order.subscription_id is None and item.subscription_id is not None:
                order.subscription_id = item.subscription_id
    order.state, order.completed_at, order.updated_at = "completed", at, at
    order.save(update_fields=["state", "completed_at", "updated_at", "subscription"])
    log(order, "completed", actor=actor, at=at)


def cancel_flow(order, *, actor: Actor, at: dt.datetime, reason: str) -> None:
    """Cancel the order's running flow instance; the flow's compensation undoes what it did."""
    if not engine_installed():
        raise ServiceError("state: the order's flow cannot be cancelled without the workflow engine", field="state",
                           code="state")
    from telora.workflows.models import FlowInstance
    from telora.workflows.services import cancel_instance

    instance = FlowInstance.objects.get(pk=order.flow_instance_id)
    if instance.state in ("running", "waiting"):
        cancel_instance(instance, reason=reason or f"order {order.number} cancelled", actor=actor, at=at)


def on_instance_change(instance, event: str) -> None:
    """The engine's callback (in the instance's transaction): the order follows its flow."""
    from telora.orders.models import Order
    from telora.orders.services.orders import log

    if event not in EVENT_STATES:
        return
    state = EVENT_STATES[event]
    if state == "inProgress":
        if int(instance.subject_id) in (getattr(_STARTING, "orders", None) or ()):
            return  # put inProgress by start_order in this transaction, just before its flow started
        # Every step says so: one conditional update (the order is inProgress since it started, so it
        # normally matches nothing) rather than locking and reading the order at each step.
        at = getattr(instance, "updated_at", None)
        changes = {"state": state, **({"updated_at": at} if at else {})}
        Order.objects.filter(pk=int(instance.subject_id), state__in=("acknowledged", "pending", "held")).update(
            **changes)
        return
    order = Order.objects.select_for_update().filter(pk=int(instance.subject_id)).first()
    if order is None:
        return
    at = getattr(instance, "updated_at", None) or order.updated_at
    if order.state == state or order.state in ("cancelled",) and state != "cancelled":
        return
    order.state, order.updated_at = state, at
    if state in ("completed", "failed", "cancelled"):
        order.completed_at = at
        order.items.filter(state__in=("acknowledged", "inProgress")).update(state=state)
        if state == "failed":  # an item whose effect the failure undid failed with its order
            order.items.filter(state="cancelled", result__has_key="undone").update(state="failed")
    if state == "failed":
        last = instance.step_log.exclude(error="").order_by("-id").first()
        order.state_reason = (last.error if last is not None else "the flow failed")[:500]
    order.save()
    if state != "inProgress":
        log(order, state, actor=None, at=at, message=order.state_reason if state == "failed" else "")


def label(instance) -> str:
    """A new desk task's subject label: the order and its customer (as `describe`'s title, without the
    URL, whose first reverse() in a worker loads every URL pattern)."""
    from telora.orders.models import Order

    order = Order.objects.select_related("customer").filter(pk=int(instance.subject_id)).first()
    return _label(order) if order is not None else f"order {instance.subject_id}"


def _label(order) -> str:
    return f"{order.number} {order.customer.name}"


def describe(instance):
    """For the desk's task page: the order and its customer beside the form."""
    from django.urls import reverse

    from telora.orders.models import Order

    order = Order.objects.select_related("customer", "subscription").filter(pk=int(instance.subject_id)).first()
    if order is None:
        return (f"order {instance.subject_id}", "", [])
    facts = [("Type", order.get_order_type_display()), ("State", order.state),
             ("Customer", f"{order.customer.number} {order.customer.name}")]
    if order.subscription_id:
        facts.append(("Subscription", order.subscription.identifier))
    return (f"{order.number} {order.customer.name}", reverse("orders:order_detail", args=[order.pk]), facts)


def standard_flows() -> dict[str, Path]:
    """The shipped flows: key (the file name) -> BPMN file."""
    return {path.stem: path for path in sorted(FLOW_DIR.glob("*.bpmn"))}
