"""Changing a live subscription: plan changes, add-ons, one-time products, suspend, resume, terminate.

Every change happens at one moment `at`: what ends, ends at `at`; what starts, starts at `at`.
Nothing is deleted, so billing and rating can always ask what was on at any time.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from telora.core.services.actors import Actor
from telora.core.services.audit import record_event, snapshot
from telora.customers.constants import SUBSCRIPTION_TRANSITIONS
from telora.customers.models import ProductInstance, Subscription
from telora.customers.services.common import (
    SUBSCRIPTION_FIELDS,
    fail,
    for_inventory,
    require,
    sale_channel,
    subscription_facts,
)
from telora.customers.services.products import check_rules, product_for
from telora.customers.services.subscriptions import (
    check_time,
    commitment_after,
    end_instance,
    end_number_assignments,
    lock_subscription,
    start_instance,
)
from telora.events.services import emit
from telora.inventory import services as inventory


def _open_instances(subscription: Subscription) -> list[ProductInstance]:
    return list(subscription.products.filter(end_at__isnull=True).select_related("product").order_by("start_at", "id"))


def _begin(subscription: Subscription, at: dt.datetime) -> Subscription:
    subscription = lock_subscription(subscription)
    if subscription.status == "terminated":
        raise fail("status", "the subscription is terminated", code="state")
    check_time(subscription, at)
    return subscription


def _move(subscription: Subscription, target: str) -> None:
    if target not in SUBSCRIPTION_TRANSITIONS[subscription.status]:
        raise fail("status", f"the subscription is {subscription.status} and cannot become {target}", code="state")


def _touch(subscription: Subscription, at: dt.datetime, old: dict, *, actor: Actor, action: str,
           message: str = "", extra: dict | None = None) -> Subscription:
    subscription.updated_at = at
    subscription.save()
    record_event(actor=actor, at=at, action=action, obj=subscription, brand=subscription.brand,
                 old={**old, **(extra or {}).get("old", {})},
                 new={**snapshot(subscription, SUBSCRIPTION_FIELDS), **(extra or {}).get("new", {})},
                 message=message)
    return subscription


@transaction.atomic
def change_plan(subscription: Subscription, plan, *, actor: Actor, at: dt.datetime,
                channel=None, interface: str | None = None) -> ProductInstance:
    """End the current plan and start `plan` at the same moment; returns the new plan's instance.

    The add-ons stay; the catalogue's rules must hold for the new set. A plan with a commitment
    binds from now for its months (an existing, later commitment end is kept).
    """
    require(actor, subscription.brand)
    subscription = _begin(subscription, at)
    brand = subscription.brand
    new_plan = product_for(brand, plan, field="plan", kinds=("plan",), service_type=subscription.service_type, at=at)
    current = _open_instances(subscription)
    old_plan = next((i for i in current if i.kind == "plan"), None)
    if old_plan is not None and old_plan.product_id == new_plan.pk:
        raise fail("plan", f"{new_plan.code} is the current plan already")
    rest = [i.product for i in current if i is not old_plan]
    check_rules(brand, [new_plan, *rest], at)
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    if old_plan is not None:
        end_instance(old_plan, actor=actor, at=at, reason="plan_change")
    instance = start_instance(subscription, new_plan, actor=actor, at=at,
                              channel=sale_channel(brand, channel, interface, at))
    if subscription.status != "pending":
        subscription.commitment_end = commitment_after(subscription.commitment_end, new_plan, at, brand)
    _touch(subscription, at, old, actor=actor, action="change_plan",
           extra={"old": {"plan": old_plan.product.code if old_plan else None}, "new": {"plan": new_plan.code}})
    emit("subscription.plan_changed", brand=brand, subject=subscription, at=at, actor=actor, payload=subscription_facts(
        subscription, plan=new_plan.code, old_plan=old_plan.product.code if old_plan else None, instance_id=instance.pk))
    return instance


@transaction.atomic
def add_addon(subscription: Subscription, product, *, actor: Actor, at: dt.datetime,
              channel=None, interface: str | None = None) -> ProductInstance:
    """An add-on from `at` until removed; the catalogue's rules (requires, excludes, at most) must hold."""
    require(actor, subscription.brand)
    subscription = _begin(subscription, at)
    addon = product_for(subscription.brand, product, field="product", kinds=("addon",),
                        service_type=subscription.service_type, at=at)
    check_rules(subscription.brand, [*(i.product for i in _open_instances(subscription)), addon], at)
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    instance = start_instance(subscription, addon, actor=actor, at=at,
                              channel=sale_channel(subscription.brand, channel, interface, at))
    _touch(subscription, at, old, actor=actor, action="add_addon", extra={"new": {"addon": addon.code}})
    emit("subscription.addon_added", brand=subscription.brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, addon=addon.code, instance_id=instance.pk))
    return instance


@transaction.atomic
def add_one_time(subscription: Subscription, product, *, actor: Actor, at: dt.datetime,
                 channel=None, interface: str | None = None) -> ProductInstance:
    """A one-time product or device sold on the subscription at `at` (charged once)."""
    require(actor, subscription.brand)
    subscription = _begin(subscription, at)
    item = product_for(subscription.brand, product, field="product", kinds=("one_time", "device"),
                       service_type=subscription.service_type, at=at)
    check_rules(subscription.brand, [*(i.product for i in _open_instances(subscription)), item], at)
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    instance = start_instance(subscription, item, actor=actor, at=at,
                              channel=sale_channel(subscription.brand, channel, interface, at))
    _touch(subscription, at, old, actor=actor, action="add_one_time", extra={"new": {"product": item.code}})
    return instance


@transaction.atomic
def remove_addon(subscription: Subscription, instance, *, actor: Actor, at: dt.datetime) -> ProductInstance:
    """End an add-on at `at` (`instance`: the ProductInstance or its id); what remains must obey the rules."""
    require(actor, subscription.brand)
    subscription = _begin(subscription, at)
    instance_id = getattr(instance, "pk", instance)
    current = _open_instances(subscription)
    found = next((i for i in current if i.pk == instance_id), None)
    if found is None:
        raise fail("instance", f"no add-on {instance_id} is on this subscription now", code="not_found")
    if found.kind != "addon":
        raise fail("instance", f"{found.product.code} is a {found.kind}, not an add-on; change the plan instead")
    check_rules(subscription.brand, [i.product for i in current if i is not found], at)
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    end_instance(found, actor=actor, at=at, reason="removed")
    _touch(subscription, at, old, actor=actor, action="remove_addon", extra={"old": {"addon": found.product.code}})
    emit("subscription.addon_removed", brand=subscription.brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, addon=found.product.code, instance_id=found.pk))
    return found


@transaction.atomic
def suspend_subscription(subscription: Subscription, *, actor: Actor, at: dt.datetime, reason: str = "") -> Subscription:
    """active → suspended (unpaid bills, a lost phone): the line stays, its products stay."""
    require(actor, subscription.brand)
    subscription = _begin(subscription, at)
    _move(subscription, "suspended")
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    subscription.status = "suspended"
    subscription.suspended_at = at
    subscription.status_reason = reason[:200]
    _touch(subscription, at, old, actor=actor, action="suspend", message=reason)
    emit("subscription.suspended", brand=subscription.brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, reason=reason[:200]))
    return subscription


@transaction.atomic
def resume_subscription(subscription: Subscription, *, actor: Actor, at: dt.datetime, reason: str = "") -> Subscription:
    """suspended → active; `suspended_at` is cleared (the audit events keep every suspension)."""
    require(actor, subscription.brand)
    subscription = _begin(subscription, at)
    if subscription.status != "suspended":
        raise fail("status", f"the subscription is {subscription.status}, not suspended", code="state")
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    subscription.status = "active"
    subscription.suspended_at = None
    subscription.status_reason = reason[:200]
    _touch(subscription, at, old, actor=actor, action="resume", message=reason)
    emit("subscription.resumed", brand=subscription.brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, reason=reason[:200]))
    return subscription


@transaction.atomic
def terminate_subscription(subscription: Subscription, *, actor: Actor, at: dt.datetime,
                           reason: str = "") -> Subscription:
    """End everything at `at`: products, the number assignment; the number goes to quarantine.

    The SIM card is retired once it has served (an active subscription); a card of a subscription
    that never went live returns to stock.
    """
    require(actor, subscription.brand)
    subscription = _begin(subscription, at)
    _move(subscription, "terminated")
    brand, inventory_actor = subscription.brand, for_inventory(actor)
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    for instance in _open_instances(subscription):
        end_instance(instance, actor=actor, at=at, reason="terminated")
    end_number_assignments(subscription, brand=brand, actor=actor, at=at)
    if subscription.phone_number_id is not None:
        inventory.release_number(brand, subscription.phone_number, actor=inventory_actor, at=at)
    if subscription.sim_id is not None:
        sim = subscription.sim
        if subscription.activated_at is None and sim.status == "allocated":
            inventory.release_sim(brand, sim, actor=inventory_actor, at=at)
        elif sim.status != "retired":
            inventory.retire_sim(brand, sim, actor=inventory_actor, at=at,
                                 reason=f"subscription {subscription.pk} terminated")
    subscription.status = "terminated"
    subscription.terminated_at = at
    subscription.status_reason = reason[:200]
    _touch(subscription, at, old, actor=actor, action="terminate", message=reason)
    emit("subscription.terminated", brand=brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, reason=reason[:200]))
    return subscription
