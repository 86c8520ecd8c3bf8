"""Account actions as orders: the customers app's taker (registered in OrdersConfig.ready())."""

from __future__ import annotations

from telora.core.modules import area_enabled
from telora.core.services.actors import ServiceError
from telora.customers.actions import Outcome
from telora.customers.models import Customer, Subscription
from telora.orders.services import create_order

# The account screens' characteristic names -> what the order item holds.
PRODUCT_ACTIONS = ("change_plan", "add_addon", "add_one_time")


def take_action(action, target, values, *, actor, at, interface, when, run) -> Outcome:
    """One order per account action; it runs at once unless asked for a later date."""
    brand = target.brand
    if not area_enabled("orders", brand.pk):  # a brand without the orders module changes lines directly
        if when.get("mode", "now") != "now":
            raise ServiceError("when: a change for a later date needs the orders module", field="when")
        return Outcome(result=run(at))
    customer = target if isinstance(target, Customer) else target.customer
    subscription = target if isinstance(target, Subscription) else None
    values = dict(values)
    offering = values.pop("product", None) or values.pop("plan", None) or ""
    item = {"product_offering": getattr(offering, "code", offering), "characteristics": _plain(values)}
    order = create_order(customer, actor=actor, at=at, order_type=action, channel=interface,
                         subscription=subscription, items=[item], request_mode=when.get("mode", "now"),
                         requested_for=when.get("date"))
    failure = getattr(order, "failure", None)
    if failure is not None:
        raise failure  # shown on the form as before; the failed order keeps it in its log
    result = None
    if order.state == "completed":
        result = _result(order)
    return Outcome(result=result, order=order)


def _plain(values: dict) -> dict:
    """Model rows become their ids or codes: the characteristics are JSON."""
    plain = {}
    for key, value in values.items():
        if hasattr(value, "iccid"):
            value = value.iccid
        elif hasattr(value, "code") and hasattr(value, "_meta"):
            value = value.code
        elif hasattr(value, "_meta"):
            value = value.pk
        plain[key] = value
    return plain


def _result(order):
    """The row the customers screens show after the action (the new instance, the line)."""
    from telora.customers.models import ProductInstance

    item = order.items.order_by("position").first()
    if item is None:
        return None
    if "instance" in item.result:
        return ProductInstance.objects.select_related("product").get(pk=item.result["instance"])
    if item.subscription_id:
        return Subscription.objects.select_related("sim").get(pk=item.subscription_id)
    return None
