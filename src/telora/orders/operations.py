"""What an order item does to the customer's services: one existing customers or inventory service per
operation. The direct runner and the flows' service tasks both call these, so a change is made one
way whether or not the workflow engine runs it.

Each operation takes the item's `characteristics` (plain JSON values) and returns a small dict of
what it made (ids, codes), kept as the item's result.
"""

from __future__ import annotations

import datetime as dt

from telora.core.services.actors import Actor, ServiceError
from telora.customers import services as customers
from telora.customers.models import BillingAccount, Subscription


def _subscription(item) -> Subscription:
    if item.subscription_id is None:
        raise ServiceError(f"items[{item.position}].subscription: this operation needs a subscription",
                           field="subscription")
    return item.subscription


def _text(values: dict, name: str, limit: int = 200) -> str:
    value = values.get(name) or ""
    if not isinstance(value, str):
        raise ServiceError(f"{name}: give text", field=name)
    return value[:limit]


def sign_up(item, *, actor: Actor, at: dt.datetime, activate: bool = True) -> dict:
    values = item.characteristics
    order = item.order
    account_id = values.get("billing_account")
    account = (BillingAccount.objects.filter(customer=order.customer, pk=account_id).first()
               if isinstance(account_id, int) else order.customer.accounts.filter(status="active").first())
    if account is None:
        raise ServiceError("billing_account: the customer has no such active billing account", field="billing_account")
    subscription = customers.create_subscription(
        order.customer, actor=actor, at=at, billing_account=account, service_type=_text(values, "service_type", 32),
        plan=item.product_offering, addons=list(values.get("addons") or []), one_time=list(values.get("one_time") or []),
        number=values.get("number") or None, sim=values.get("sim") or None, sim_type=values.get("sim_type") or None,
        number_group=values.get("number_group") or None, identifier=_text(values, "identifier", 64),
        billing_address=values.get("billing_address"), shipping_address=values.get("shipping_address"),
        installation_address=values.get("installation_address"),
        activate=activate and values.get("activate", True) is not False,
        channel=values.get("channel") or order.sales_channel, interface=order.channel)
    item.subscription = subscription
    return {"subscription": subscription.pk, "identifier": subscription.identifier}


def change_plan(item, *, actor, at) -> dict:
    subscription = _subscription(item)
    old = subscription.products.filter(kind="plan", end_at__isnull=True).select_related("product").first()
    instance = customers.change_plan(subscription, item.product_offering, actor=actor, at=at,
                                     channel=item.order.sales_channel, interface=item.order.channel)
    return {"instance": instance.pk, "plan": instance.product.code, "old_plan": old.product.code if old else ""}


def add_addon(item, *, actor, at) -> dict:
    instance = customers.add_addon(_subscription(item), item.product_offering, actor=actor, at=at,
                                   channel=item.order.sales_channel, interface=item.order.channel)
    return {"instance": instance.pk, "product": instance.product.code}


def add_one_time(item, *, actor, at) -> dict:
    instance = customers.add_one_time(_subscription(item), item.product_offering, actor=actor, at=at,
                                      channel=item.order.sales_channel, interface=item.order.channel)
    return {"instance": instance.pk, "product": instance.product.code}


def remove_addon(item, *, actor, at) -> dict:
    instance_id = item.characteristics.get("instance")
    if not isinstance(instance_id, int):
        raise ServiceError("instance: give the add-on's product instance id", field="instance")
    found = customers.remove_addon(_subscription(item), instance_id, actor=actor, at=at)
    return {"instance": found.pk, "product": found.product.code}


def swap_sim(item, *, actor, at) -> dict:
    values = item.characteristics
    subscription = customers.swap_sim(_subscription(item), actor=actor, at=at, sim=values.get("sim") or None,
                                      sim_type=values.get("sim_type") or None, reason=_text(values, "reason"))
    return {"sim": subscription.sim.iccid}


def number_change(item, *, actor, at) -> dict:
    """The line's new number: the one the CSR chose (`number`, reserved for the customer by the flow or
    free), else the next free one (of `number_group` if given); the old one goes to quarantine."""
    values = item.characteristics
    line = _subscription(item)
    old = line.identifier
    line = customers.change_number(line, actor=actor, at=at, number=values.get("number") or None,
                                   group=values.get("number_group") or None, reason=_text(values, "reason"))
    return {"number": line.identifier, "old_number": old}


def activate(item, *, actor, at) -> dict:
    subscription = customers.activate_subscription(_subscription(item), actor=actor, at=at)
    return {"activated_at": subscription.activated_at.isoformat()}


def suspend(item, *, actor, at) -> dict:
    customers.suspend_subscription(_subscription(item), actor=actor, at=at, reason=_text(item.characteristics, "reason"))
    return {"status": "suspended"}


def resume(item, *, actor, at) -> dict:
    customers.resume_subscription(_subscription(item), actor=actor, at=at, reason=_text(item.characteristics, "reason"))
    return {"status": "active"}


def terminate(item, *, actor, at) -> dict:
    customers.terminate_subscription(_subscription(item), actor=actor, at=at,
                                     reason=_text(item.characteristics, "reason"))
    return {"status": "terminated"}


OPERATIONS = {
    "sign_up": sign_up, "change_plan": change_plan, "add_addon": add_addon, "add_one_time": add_one_time,
    "remove_addon": remove_addon, "swap_sim": swap_sim, "number_change": number_change, "activate": activate, "suspend": suspend,
    "resume": resume, "terminate": terminate,
}
# Operations only a flow with desk steps carries out (no direct runner: people do them).
DESK_ONLY = ("port_in", "port_out")


def apply(item, *, actor: Actor, at: dt.datetime) -> dict:
    """Carry out one item now; raises ServiceError (naming the field) when a check refuses it."""
    operation = OPERATIONS.get(item.operation)
    if operation is None:
        raise ServiceError(f"{item.operation}: this order type needs the workflow engine (desk steps)",
                           field="order_type", code="state")
    return operation(item, actor=actor, at=at)
